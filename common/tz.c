#include "common/tz.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"

#define S_DEFAULT_DIR "/usr/share/zoneinfo"
#define S_HINT        "use an IANA name like 'Europe/Berlin'"
/* The largest zone file we read; real ones are under 4 KiB. */
#define S_MAX_FILE (1024 * 1024)
/* Offsets beyond +-26 h are damage, not geography. */
#define S_MAX_OFF (26 * 3600)
/* Instants whose wall clock may read a given local time lie within this
 * many seconds of it. */
#define S_WINDOW (S_MAX_OFF + 3600)

/* One date of a POSIX TZ rule ("M3.5.0/3", "J60", "59"). */
typedef struct {
    char kind;    /* 'J' (1-365, no Feb 29), 'D' (0-365) or 'M' */
    int n;        /* day for 'J' and 'D' */
    int m, w, d;  /* month, week 1-5 (5 = last), weekday for 'M' */
    int32_t time; /* seconds after local midnight; may be <0 or >24 h */
} s_rdate_t;

/* The footer's POSIX TZ string: the zone's rule after its last listed
 * transition ("CET-1CEST,M3.5.0,M10.5.0/3"). */
typedef struct {
    int32_t std_off; /* seconds east of UTC outside DST */
    int32_t dst_off; /* seconds east during DST */
    bool has_dst;    /* false: std_off all year */
    s_rdate_t start; /* DST starts (time read in std local time) */
    s_rdate_t end;   /* DST ends (time read in DST local time) */
} s_posix_t;

struct tz_t {
    char *name;        /* as loaded; owned */
    size_t count;      /* entries in at and off */
    int64_t *at;       /* UTC seconds where the offset changes; owned */
    int32_t *off;      /* offset in effect from at[i] on; owned */
    int32_t off_first; /* offset before at[0] (time type 0) */
    bool has_rule;     /* rule applies from rule_from on */
    int64_t rule_from; /* the file's last transition (INT64_MIN if none) */
    s_posix_t rule;    /* valid when has_rule */
};

/* --- calendar arithmetic (proleptic Gregorian, no time zone) --- */

static int64_t
s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 (H. Hinnant's days_from_civil). */
static int64_t
s_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = s_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
s_civil_from_days(int64_t z, tz_civil_t *c)
{
    z += 719468;
    int64_t era = s_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c->mday = (int) (doy - (153 * mp + 2) / 5 + 1);
    c->month = (int) (mp < 10 ? mp + 3 : mp - 9);
    c->year = (int) (yoe + era * 400 + (c->month <= 2));
}

static bool
s_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
tz_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    assert(month >= 1 && month <= 12);
    return days[month - 1] + (month == 2 && s_leap(year));
}

int
tz_weekday(int year, int month, int mday)
{
    return (int) (((s_days_from_civil(year, month, mday) % 7) + 11) % 7);
}

/* Seconds since the epoch of a wall-clock reading taken as if in UTC. */
static int64_t
s_local_secs(const tz_civil_t *c)
{
    return s_days_from_civil(c->year, c->month, c->mday) * 86400 +
           c->hour * 3600 + c->min * 60 + c->sec;
}

/* --- the POSIX TZ rule --- */

/* Days since the epoch of a rule date in year y. */
static int64_t
s_rdate_day(const s_rdate_t *r, int64_t y)
{
    int64_t jan1 = s_days_from_civil(y, 1, 1);
    if (r->kind == 'J') {
        return jan1 + r->n - 1 + (s_leap(y) && r->n >= 60);
    }
    if (r->kind == 'D') {
        return jan1 + r->n;
    }
    int64_t first = s_days_from_civil(y, r->m, 1);
    int wd1 = (int) (((first % 7) + 11) % 7);
    int mday = 1 + (r->d - wd1 + 7) % 7 + 7 * (r->w - 1);
    int dim = tz_days_in_month((int) y, r->m);
    while (mday > dim) {
        mday -= 7;
    }
    return first + mday - 1;
}

/* The rule's two changes in year y, as UTC seconds, with the offset that
 * each one starts. */
static void
s_rule_changes(const s_posix_t *p, int64_t y, int64_t at[2], int32_t off[2])
{
    at[0] = s_rdate_day(&p->start, y) * 86400 + p->start.time - p->std_off;
    off[0] = p->dst_off;
    at[1] = s_rdate_day(&p->end, y) * 86400 + p->end.time - p->dst_off;
    off[1] = p->std_off;
}

static int64_t
s_year_of(int64_t t)
{
    tz_civil_t c;
    s_civil_from_days(s_floor_div(t, 86400), &c);
    return c.year;
}

static int32_t
s_rule_offset(const s_posix_t *p, int64_t t)
{
    if (!p->has_dst) {
        return p->std_off;
    }
    /* The latest change at or before t, among those of the years around
     * it; the year before always has one. */
    int64_t y = s_year_of(t), best_at = INT64_MIN;
    int32_t best = p->std_off;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t at[2];
        int32_t off[2];
        s_rule_changes(p, yy, at, off);
        for (int i = 0; i < 2; i++) {
            if (at[i] <= t && at[i] > best_at) {
                best_at = at[i], best = off[i];
            }
        }
    }
    return best;
}

/* The first change of the rule strictly after t; INT64_MAX if none. */
static int64_t
s_rule_next(const s_posix_t *p, int64_t t)
{
    if (!p->has_dst || p->std_off == p->dst_off) {
        return INT64_MAX;
    }
    int64_t y = s_year_of(t), best = INT64_MAX;
    for (int64_t yy = y - 1; yy <= y + 2; yy++) {
        int64_t at[2];
        int32_t off[2];
        s_rule_changes(p, yy, at, off);
        for (int i = 0; i < 2; i++) {
            if (at[i] > t && at[i] < best) {
                best = at[i];
            }
        }
    }
    return best;
}

/* --- parsing the POSIX TZ string --- */

static const char *
s_posix_name(const char *c)
{
    if (*c == '<') {
        const char *end = strchr(c, '>');
        return end && end - c >= 4 ? end + 1 : NULL;
    }
    const char *start = c;
    while ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')) {
        c++;
    }
    return c - start >= 3 ? c : NULL;
}

/* "[+-]hh[:mm[:ss]]" with hh up to max_h, into signed seconds. */
static const char *
s_posix_hms(const char *c, int max_h, int32_t *secs)
{
    int sign = 1, part[3] = {0, 0, 0};
    if (*c == '+' || *c == '-') {
        sign = *c++ == '-' ? -1 : 1;
    }
    for (int i = 0; i < 3; i++) {
        if (i > 0 && *c != ':') {
            break;
        }
        c += i > 0;
        if (*c < '0' || *c > '9') {
            return NULL;
        }
        for (int digits = 0; *c >= '0' && *c <= '9'; c++, digits++) {
            if (digits == 3) {
                return NULL;
            }
            part[i] = part[i] * 10 + (*c - '0');
        }
    }
    if (part[0] > max_h || part[1] > 59 || part[2] > 59) {
        return NULL;
    }
    *secs = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return c;
}

static const char *
s_posix_int(const char *c, int lo, int hi, int *v)
{
    if (*c < '0' || *c > '9') {
        return NULL;
    }
    for (*v = 0; *c >= '0' && *c <= '9'; c++) {
        *v = *v * 10 + (*c - '0');
        if (*v > hi) {
            return NULL;
        }
    }
    return *v >= lo ? c : NULL;
}

static const char *
s_posix_rdate(const char *c, s_rdate_t *r)
{
    r->time = 2 * 3600;
    if (*c == 'M') {
        r->kind = 'M';
        if (!(c = s_posix_int(c + 1, 1, 12, &r->m)) || *c++ != '.' ||
            !(c = s_posix_int(c, 1, 5, &r->w)) || *c++ != '.' ||
            !(c = s_posix_int(c, 0, 6, &r->d))) {
            return NULL;
        }
    } else if (*c == 'J') {
        r->kind = 'J';
        c = s_posix_int(c + 1, 1, 365, &r->n);
    } else {
        r->kind = 'D';
        c = s_posix_int(c, 0, 365, &r->n);
    }
    if (c && *c == '/') {
        c = s_posix_hms(c + 1, 167, &r->time);
    }
    return c;
}

/* Parses a POSIX TZ string (RFC 8536 section 3.3). -1 if malformed. */
static int
s_posix_parse(const char *c, s_posix_t *p)
{
    static const s_rdate_t us_start = {'M', 0, 3, 2, 0, 7200};
    static const s_rdate_t us_end = {'M', 0, 11, 1, 0, 7200};
    int32_t west;
    memset(p, 0, sizeof *p);
    if (!(c = s_posix_name(c)) || !(c = s_posix_hms(c, 24, &west))) {
        return -1;
    }
    p->std_off = -west;
    if (*c == '\0') {
        return 0;
    }
    if (!(c = s_posix_name(c))) {
        return -1;
    }
    p->has_dst = true;
    p->dst_off = p->std_off + 3600;
    if (*c != ',' && *c != '\0') {
        if (!(c = s_posix_hms(c, 24, &west))) {
            return -1;
        }
        p->dst_off = -west;
    }
    p->start = us_start, p->end = us_end;
    if (*c == ',') {
        if (!(c = s_posix_rdate(c + 1, &p->start)) || *c++ != ',' ||
            !(c = s_posix_rdate(c, &p->end))) {
            return -1;
        }
    }
    return *c == '\0' ? 0 : -1;
}

/* --- reading a TZif file (RFC 8536) --- */

typedef struct {
    const uint8_t *p;   /* next unread byte */
    const uint8_t *end; /* one past the data */
} s_reader_t;

static bool
s_take(s_reader_t *r, size_t n, const uint8_t **out)
{
    if ((size_t) (r->end - r->p) < n) {
        return false;
    }
    *out = r->p;
    r->p += n;
    return true;
}

static uint32_t
s_be32(const uint8_t *b)
{
    return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 |
           (uint32_t) b[2] << 8 | b[3];
}

static int64_t
s_be64(const uint8_t *b)
{
    return (int64_t) ((uint64_t) s_be32(b) << 32 | s_be32(b + 4));
}

/* The header's six counts: isutcnt isstdcnt leapcnt timecnt typecnt
 * charcnt. */
typedef struct {
    char version;
    uint32_t isut, isstd, leap, time, type, chars;
} s_header_t;

static const char *
s_header(s_reader_t *r, s_header_t *h)
{
    const uint8_t *b;
    if (!s_take(r, 44, &b) || memcmp(b, "TZif", 4) != 0) {
        return "no TZif header";
    }
    h->version = (char) b[4];
    h->isut = s_be32(b + 20), h->isstd = s_be32(b + 24);
    h->leap = s_be32(b + 28), h->time = s_be32(b + 32);
    h->type = s_be32(b + 36), h->chars = s_be32(b + 40);
    if (h->type == 0 || h->type > 256 || h->time > 100000 ||
        h->chars > 100000 || h->leap > 100000 ||
        (h->isut != 0 && h->isut != h->type) ||
        (h->isstd != 0 && h->isstd != h->type)) {
        return "impossible counts in the header";
    }
    return NULL;
}

static size_t
s_block_size(const s_header_t *h, size_t tsize)
{
    return h->time * tsize + h->time + h->type * 6 + h->chars +
           h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* Reads one data block (tsize 4 for version 1, 8 after) into self. */
static const char *
s_block(tz_t *self, s_reader_t *r, const s_header_t *h, size_t tsize)
{
    const uint8_t *times, *idx, *types, *rest;
    size_t rest_size =
        s_block_size(h, tsize) - h->time * (tsize + 1) - h->type * 6;
    if (!s_take(r, h->time * tsize, &times) || !s_take(r, h->time, &idx) ||
        !s_take(r, h->type * 6, &types) || !s_take(r, rest_size, &rest)) {
        return "the data block is cut short";
    }
    for (uint32_t i = 0; i < h->type; i++) {
        int32_t off = (int32_t) s_be32(types + 6 * i);
        if (off < -S_MAX_OFF || off > S_MAX_OFF) {
            return "a UTC offset beyond 26 hours";
        }
    }
    self->off_first = (int32_t) s_be32(types);
    self->at = xcalloc(h->time + 1, sizeof *self->at);
    self->off = xcalloc(h->time + 1, sizeof *self->off);
    int32_t prev = self->off_first;
    for (uint32_t i = 0; i < h->time; i++) {
        const uint8_t *b = times + i * tsize;
        int64_t at = tsize == 8 ? s_be64(b) : (int32_t) s_be32(b);
        if (idx[i] >= h->type || (i > 0 && at <= self->rule_from)) {
            return "transitions out of order";
        }
        self->rule_from = at;
        int32_t off = (int32_t) s_be32(types + 6 * idx[i]);
        if (off != prev) { /* keep only changes of offset */
            self->at[self->count] = at, self->off[self->count++] = off;
            prev = off;
        }
    }
    return NULL;
}

/* The footer: "\n" TZ-string "\n". */
static const char *
s_footer(tz_t *self, s_reader_t *r)
{
    const uint8_t *nl;
    if (!s_take(r, 1, &nl) || *nl != '\n') {
        return "no footer after the data";
    }
    const uint8_t *end = memchr(r->p, '\n', (size_t) (r->end - r->p));
    if (!end || end - r->p > 255) {
        return "an unterminated footer";
    }
    char text[256];
    memcpy(text, r->p, (size_t) (end - r->p));
    text[end - r->p] = '\0';
    if (text[0] == '\0') {
        return NULL;
    }
    if (s_posix_parse(text, &self->rule) != 0) {
        return "a footer rule it cannot read";
    }
    self->has_rule = true;
    return NULL;
}

static const char *
s_parse(tz_t *self, const uint8_t *data, size_t size)
{
    s_reader_t r = {data, data + size};
    s_header_t h;
    const uint8_t *skip;
    const char *why = s_header(&r, &h);
    self->rule_from = INT64_MIN;
    if (why || h.version == '\0') {
        return why ? why : s_block(self, &r, &h, 4);
    }
    if (!s_take(&r, s_block_size(&h, 4), &skip)) {
        return "the version 1 data block is cut short";
    }
    if ((why = s_header(&r, &h)) || (why = s_block(self, &r, &h, 8))) {
        return why;
    }
    return s_footer(self, &r);
}

/* --- loading --- */

/* IANA names: letters, digits and "/_-+.", no empty, "." or ".."
 * component, not absolute. */
static bool
s_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 255 || name[0] == '/' || name[len - 1] == '/') {
        return false;
    }
    for (const char *c = name; *c; c++) {
        bool plain = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                     (*c >= '0' && *c <= '9') || strchr("/_-+.", *c);
        if (!plain || (*c == '/' && c[1] == '/')) {
            return false;
        }
        bool at_start = c == name || c[-1] == '/';
        if (at_start && c[0] == '.' &&
            (c[1] == '/' || c[1] == '\0' || c[1] == '.')) {
            return false;
        }
    }
    return true;
}

static tz_t *
s_new(const char *name)
{
    tz_t *self = xcalloc(1, sizeof *self);
    self->name = xstrdup(name);
    self->rule_from = INT64_MIN;
    return self;
}

static bool
s_builtin_utc(const char *name)
{
    static const char *const names[] = {"UTC", "Etc/UTC", "GMT", "Etc/GMT"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Reads the whole file at path into a new buffer; NULL with errno set,
 * or with *is_dir set for a folder. Anything else that is not a plain
 * file of plausible size reads as empty, which is not TZif. */
static uint8_t *
s_slurp(const char *path, size_t *size, bool *is_dir)
{
    struct stat st = {0};
    /* O_NONBLOCK: a FIFO planted under the name must not hang us. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    *is_dir = false, *size = 0;
    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int saved = errno;
        *is_dir = S_ISDIR(st.st_mode);
        close(fd);
        errno = saved;
        return NULL;
    }
    size_t want = S_ISREG(st.st_mode) && st.st_size <= S_MAX_FILE
                      ? (size_t) st.st_size
                      : 0;
    uint8_t *buf = xmalloc(want + 1);
    while (*size < want) {
        ssize_t n = read(fd, buf + *size, want - *size);
        if (n <= 0) {
            break;
        }
        *size += (size_t) n;
    }
    close(fd);
    return buf;
}

/* Whether folder dir exists and holds anything: without tzdata it is
 * missing or empty. */
static bool
s_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    bool any = false;
    for (struct dirent *e; d && !any && (e = readdir(d));) {
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    if (d) {
        closedir(d);
    }
    return any;
}

/* Edit distance between a and b, where a difference of case alone costs
 * 1 and any other edit 2, so "Berln" is nearer "Berlin" than "Bern". */
static int
s_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) {
        return 99;
    }
    int row[64];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = (int) j * 2;
    }
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int) i * 2;
        for (size_t j = 1; j <= lb; j++) {
            int sub = a[i - 1] == b[j - 1] ? 0
                      : tolower((unsigned char) a[i - 1]) ==
                              tolower((unsigned char) b[j - 1])
                          ? 1
                          : 2;
            int best = diag + sub;
            best = row[j] + 2 < best ? row[j] + 2 : best;
            best = row[j - 1] + 2 < best ? row[j - 1] + 2 : best;
            diag = row[j], row[j] = best;
        }
    }
    return row[lb];
}

/* The entry of folder `dir` nearest `want` (at most two edits) into
 * best; false if none is near. */
static bool
s_nearest_entry(const char *dir, const char *want, char *best, size_t size)
{
    DIR *d = opendir(dir);
    int best_cost = strlen(want) <= 3 ? 3 : 5;
    bool found = false;
    for (struct dirent *e; d && (e = readdir(d));) {
        int cost = e->d_name[0] == '.' ? 99 : s_distance(want, e->d_name);
        if (cost < best_cost && strlen(e->d_name) < size) {
            best_cost = cost, found = true;
            strcpy(best, e->d_name);
        }
    }
    if (d) {
        closedir(d);
    }
    return found;
}

/* A zone file under dir whose name is near `name`, component by
 * component ("europe/berln" -> "Europe/Berlin"), into out. */
static bool
s_suggest(const char *dir, const char *name, char *out, size_t size)
{
    char path[1024], part[256], best[256];
    size_t used = 0;
    snprintf(path, sizeof path, "%s", dir);
    out[0] = '\0';
    for (const char *c = name; *c;) {
        size_t len = strcspn(c, "/");
        snprintf(part, sizeof part, "%.*s", (int) len, c);
        if (!s_nearest_entry(path, part, best, sizeof best) ||
            strlen(path) + strlen(best) + 2 > sizeof path ||
            used + strlen(best) + 2 > size) {
            return false;
        }
        used += (size_t) snprintf(out + used, size - used, "%s%s",
                                  used ? "/" : "", best);
        strcat(strcat(path, "/"), best);
        c += len + (c[len] == '/');
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           strcmp(out, name) != 0;
}

/* For a bare city ("Tokyo"), the area that has it ("Asia/Tokyo"). */
static bool
s_find_area(const char *dir, const char *name, char *out, size_t size)
{
    DIR *d = strchr(name, '/') ? NULL : opendir(dir);
    bool found = false;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/%s", dir, e->d_name, name);
        found = e->d_name[0] != '.' && stat(path, &st) == 0 &&
                S_ISREG(st.st_mode) &&
                (size_t) snprintf(out, size, "%s/%s", e->d_name, name) < size;
    }
    if (d) {
        closedir(d);
    }
    return found;
}

static void
s_explain_missing(const char *name, const char *dir, errbuf_t *err)
{
    char near[512];
    if (!s_has_entries(dir)) {
        errbuf_set(err,
                   "unknown time zone '%s': there is no time zone data in "
                   "'%s'; install the 'tzdata' package or point TZDIR at "
                   "the zoneinfo folder",
                   name, dir);
        return;
    }
    if (s_find_area(dir, name, near, sizeof near) ||
        s_suggest(dir, name, near, sizeof near)) {
        errbuf_set(err,
                   "unknown time zone '%s'; did you mean '%s'? (IANA names, "
                   "see %s)",
                   name, near, dir);
        return;
    }
    errbuf_set(err, "unknown time zone '%s'; %s (see %s)", name, S_HINT, dir);
}

/* The zone in a file's bytes; NULL with err set when they are not TZif
 * or are damaged. */
static tz_t *
s_from_file(const char *name,
            const char *path,
            const uint8_t *data,
            size_t size,
            errbuf_t *err)
{
    tz_t *self = s_new(name);
    const char *why = s_parse(self, data, size);
    if (!why) {
        return self;
    }
    if (size >= 4 && memcmp(data, "TZif", 4) == 0) {
        errbuf_set(err,
                   "time zone file '%s' is damaged (%s); reinstall the "
                   "'tzdata' package",
                   path, why);
    } else {
        errbuf_set(err,
                   "unknown time zone '%s': '%s' is not a TZif time zone "
                   "file; %s",
                   name, path, S_HINT);
    }
    tz_destroy(&self);
    return NULL;
}

tz_t *
tz_load(const char *name, errbuf_t *err)
{
    if (!name || !s_name_ok(name)) {
        errbuf_set(err,
                   "time zone '%s' is not an IANA name (letters, digits and "
                   "'/_-+.', no '..', not an absolute path); %s",
                   name ? name : "", S_HINT);
        return NULL;
    }
    if (s_builtin_utc(name)) {
        return s_new(name);
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) {
        dir = S_DEFAULT_DIR;
    }
    char *path = xasprintf("%s/%s", dir, name);
    size_t size = 0;
    bool is_dir;
    uint8_t *data = s_slurp(path, &size, &is_dir);
    tz_t *self = NULL;
    if (data) {
        self = s_from_file(name, path, data, size, err);
    } else if (is_dir) {
        errbuf_set(err, "time zone '%s' is a folder of zones, not a zone; %s",
                   name, S_HINT);
    } else if (errno == ENOENT) {
        s_explain_missing(name, dir, err);
    } else {
        errbuf_set(err, "time zone '%s': cannot read '%s' (%s); %s", name, path,
                   strerror(errno), S_HINT);
    }
    free(data);
    free(path);
    return self;
}

void
tz_destroy(tz_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    tz_t *self = *self_p;
    free(self->name);
    free(self->at);
    free(self->off);
    free(self);
    *self_p = NULL;
}

const char *
tz_name(const tz_t *self)
{
    assert(self);
    return self->name;
}

/* --- offsets and conversions --- */

/* Offset at UTC second t. */
static int32_t
s_offset(const tz_t *self, int64_t t)
{
    if (self->has_rule && t >= self->rule_from) {
        return s_rule_offset(&self->rule, t);
    }
    if (self->count == 0 || t < self->at[0]) {
        return self->off_first;
    }
    size_t lo = 0, hi = self->count; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->at[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return self->off[lo];
}

/* The first listed change strictly after t; INT64_MAX if none. */
static int64_t
s_table_next(const tz_t *self, int64_t t)
{
    size_t lo = 0, hi = self->count; /* first at[i] > t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->at[mid] <= t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < self->count ? self->at[lo] : INT64_MAX;
}

/* The first UTC second after t at which the offset changes; INT64_MAX
 * if it never does. Where the table ends the rule takes over, which may
 * itself change the offset (a slim file's last transition can differ
 * from the rule only in its DST flag). */
static int64_t
s_next_change(const tz_t *self, int64_t t)
{
    if (self->has_rule && t >= self->rule_from) {
        return s_rule_next(&self->rule, t);
    }
    int64_t next = s_table_next(self, t);
    if (!self->has_rule || next < self->rule_from) {
        return next;
    }
    int64_t from = self->rule_from;
    if (s_offset(self, from) != s_offset(self, from - 1)) {
        return from;
    }
    return s_rule_next(&self->rule, from);
}

int32_t
tz_offset(const tz_t *self, int64_t utc_ms)
{
    assert(self);
    return s_offset(self, s_floor_div(utc_ms, 1000));
}

tz_civil_t
tz_civil(const tz_t *self, int64_t utc_ms)
{
    assert(self);
    int64_t t = s_floor_div(utc_ms, 1000);
    int64_t local = t + s_offset(self, t);
    int64_t days = s_floor_div(local, 86400), secs = local - days * 86400;
    tz_civil_t c;
    s_civil_from_days(days, &c);
    c.hour = (int) (secs / 3600);
    c.min = (int) (secs / 60 % 60);
    c.sec = (int) (secs % 60);
    c.wday = (int) (((days % 7) + 11) % 7);
    return c;
}

int
tz_instants(const tz_t *self, const tz_civil_t *local, int64_t first[2])
{
    assert(self && local);
    /* Every offset in effect within a day of the wall-clock reading is a
     * candidate; an instant counts when its own offset is the one that
     * produced it. */
    int64_t l = s_local_secs(local), t = l - S_WINDOW;
    int n = 0;
    for (int guard = 0; t <= l + S_WINDOW && guard < 64; guard++) {
        int32_t off = s_offset(self, t);
        int64_t u = (l - off) * 1000;
        bool seen = (n > 0 && first[0] == u) || (n > 1 && first[1] == u);
        if (!seen && n < 2 && s_offset(self, l - off) == off) {
            first[n++] = u;
        }
        t = s_next_change(self, t);
        if (t == INT64_MAX) {
            break;
        }
    }
    if (n == 2 && first[0] > first[1]) {
        int64_t swap = first[0];
        first[0] = first[1], first[1] = swap;
    }
    return n;
}

int64_t
tz_first_instant(const tz_t *self, const tz_civil_t *local)
{
    int64_t at[2];
    if (tz_instants(self, local, at) > 0) {
        return at[0];
    }
    /* Skipped by a gap: the change of offset whose gap holds the reading,
     * i.e. where the wall clock jumps from before it to after it. */
    int64_t l = s_local_secs(local), t = l - S_WINDOW;
    for (int guard = 0; guard < 64; guard++) {
        int64_t change = s_next_change(self, t);
        if (change == INT64_MAX || change > l + S_WINDOW) {
            break;
        }
        if (change + s_offset(self, change - 1) <= l &&
            l < change + s_offset(self, change)) {
            return change * 1000;
        }
        t = change;
    }
    return (l - s_offset(self, l)) * 1000; /* not reached for real zones */
}

int64_t
tz_next_change(const tz_t *self, int64_t utc_ms)
{
    assert(self);
    int64_t t = s_next_change(self, s_floor_div(utc_ms, 1000));
    return t == INT64_MAX ? -1 : t * 1000;
}

char *
tz_format(const tz_t *self, int64_t utc_ms, char *buf, size_t size)
{
    tz_civil_t c = tz_civil(self, utc_ms);
    int32_t off = tz_offset(self, utc_ms);
    int ms = (int) (utc_ms - s_floor_div(utc_ms, 1000) * 1000);
    char frac[8] = "";
    if (ms != 0) {
        snprintf(frac, sizeof frac, ".%03d", ms);
    }
    int32_t a = off < 0 ? -off : off;
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%c%02d:%02d", c.year,
             c.month, c.mday, c.hour, c.min, c.sec, frac, off < 0 ? '-' : '+',
             (int) (a / 3600), (int) (a / 60 % 60));
    return buf;
}

char *
tz_format_date(const tz_t *self, int64_t utc_ms, char *buf, size_t size)
{
    tz_civil_t c = tz_civil(self, utc_ms);
    snprintf(buf, size, "%04d-%02d-%02d", c.year, c.month, c.mday);
    return buf;
}

/* --- reading dates and times --- */

/* Exactly n digits at *c into *v. */
static bool
s_digits(const char **c, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*c)++) {
        if (**c < '0' || **c > '9') {
            return false;
        }
        *v = *v * 10 + (**c - '0');
    }
    return true;
}

/* "HH:MM[:SS[.fff]]" after 'T' or ' ', if there is one. */
static bool
s_time_part(const char **c, tz_civil_t *t, int *ms)
{
    if ((**c != 'T' && **c != 't' && **c != ' ') || !(*c)[1]) {
        return true;
    }
    (*c)++;
    if (!s_digits(c, 2, &t->hour) || *(*c)++ != ':' ||
        !s_digits(c, 2, &t->min)) {
        return false;
    }
    if (**c == ':') {
        (*c)++;
        if (!s_digits(c, 2, &t->sec)) {
            return false;
        }
    }
    if (**c == '.' && (*c)[1] >= '0' && (*c)[1] <= '9') {
        int scale = 100;
        for ((*c)++; **c >= '0' && **c <= '9'; (*c)++, scale /= 10) {
            *ms += (**c - '0') * scale;
        }
    }
    return t->hour <= 23 && t->min <= 59 && t->sec <= 59;
}

/* "Z", "+HH:MM", "+HHMM" or "+HH" (or '-'), if there is one. */
static bool
s_offset_part(const char **c, int32_t *off, bool *has)
{
    *has = **c != '\0';
    if (**c == 'Z' || **c == 'z') {
        (*c)++;
        return true;
    }
    if (**c != '+' && **c != '-') {
        return !*has;
    }
    int sign = *(*c)++ == '-' ? -1 : 1, h, m = 0;
    if (!s_digits(c, 2, &h)) {
        return false;
    }
    if (**c == ':') {
        (*c)++;
    }
    if (**c && !s_digits(c, 2, &m)) {
        return false;
    }
    *off = sign * (h * 3600 + m * 60);
    return h <= 26 && m <= 59;
}

int
tz_parse(const tz_t *self, const char *text, int64_t *utc_ms, errbuf_t *err)
{
    assert(self && utc_ms);
    const char *c = text ? text : "";
    tz_civil_t t = {0};
    int ms = 0;
    int32_t off = 0;
    bool has_off = false;
    bool ok = s_digits(&c, 4, &t.year) && *c++ == '-' &&
              s_digits(&c, 2, &t.month) && *c++ == '-' &&
              s_digits(&c, 2, &t.mday) && t.month >= 1 && t.month <= 12 &&
              t.mday >= 1 && t.mday <= tz_days_in_month(t.year, t.month) &&
              s_time_part(&c, &t, &ms) && s_offset_part(&c, &off, &has_off) &&
              *c == '\0';
    if (!ok) {
        errbuf_set(err,
                   "'%s' is not a date or time; write YYYY-MM-DD, or "
                   "YYYY-MM-DDTHH:MM[:SS] with an optional Z or +HH:MM "
                   "(without one it is wall-clock time in %s)",
                   text ? text : "", self->name);
        return -1;
    }
    *utc_ms = has_off ? (s_local_secs(&t) - off) * 1000 + ms
                      : tz_first_instant(self, &t) + ms;
    return 0;
}
