#include "common/cron.h"

#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/duration.h"
#include "common/xalloc.h"

#define S_HOW                                                                  \
    "write 5 fields (minute hour day-of-month month day-of-week), "            \
    "like '0 2 * * *', or a macro like '@daily' or '@every 15m'"
/* cron_next and cron_prev look this far (5 years and a leap day). */
#define S_HORIZON_MS ((int64_t) (5 * 365 + 2) * 86400 * 1000)
/* Instants whose wall clock reads the same as a given one lie within
 * this distance of it (offsets are at most 26 h apart, plus slack). */
#define S_WINDOW_MS ((int64_t) 27 * 3600 * 1000)

struct cron_t {
    char *text;        /* the expression as written, trimmed; owned */
    uint64_t every_ms; /* > 0 for "@every": the fields below are unused */
    uint64_t minutes;  /* bit i set: minute i fires (0-59) */
    uint64_t hours;    /* bits 0-23 */
    uint64_t mdays;    /* bits 1-31 */
    uint64_t months;   /* bits 1-12 */
    uint64_t wdays;    /* bits 0-6, Sunday 0 (a written 7 lands on 0) */
    bool day_or;       /* both day fields restricted: a day matching either
                          one fires; otherwise both must match */
};

/* --- parsing --- */

static const char *const s_month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY",
                                            "JUN", "JUL", "AUG", "SEP", "OCT",
                                            "NOV", "DEC", NULL};
static const char *const s_day_names[] = {"SUN", "MON", "TUE", "WED",
                                          "THU", "FRI", "SAT", NULL};

/* One of the five fields: its name in messages, its range, the names it
 * takes (names[0] is value lo) and how to write it. */
typedef struct {
    const char *name;
    int lo, hi;
    const char *const *names;
    const char *how;
} s_field_t;

static const s_field_t s_fields[5] = {
    {"minute", 0, 59, NULL, "0-59"},
    {"hour", 0, 23, NULL, "0-23"},
    {"day-of-month", 1, 31, NULL, "1-31"},
    {"month", 1, 12, s_month_names, "1-12 or JAN-DEC"},
    {"day-of-week", 0, 7, s_day_names, "0-7 or SUN-SAT (0 and 7 are Sunday)"},
};

static const struct {
    const char *name;
    const char *expr;
} s_macros[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

/* Reads one value (digits or a name) of field f from [s, end); -1 with
 * err set if it is neither or out of range. */
static int
s_value(const s_field_t *f, const char *s, size_t len, int *v, errbuf_t *err)
{
    *v = 0;
    bool digits = len > 0;
    for (size_t i = 0; i < len && digits; i++) {
        digits = isdigit((unsigned char) s[i]);
        *v = *v > 9999 ? *v : *v * 10 + (s[i] - '0');
    }
    for (int i = 0; !digits && f->names && f->names[i]; i++) {
        if (len == 3 && strncasecmp(s, f->names[i], 3) == 0) {
            *v = f->lo + i;
            return 0;
        }
    }
    if (!digits) {
        errbuf_set(err, "%s '%.*s' is not a number%s; write %s", f->name,
                   (int) len, s, f->names ? " or a name" : "", f->how);
        return -1;
    }
    if (*v < f->lo || *v > f->hi) {
        errbuf_set(err, "%s '%.*s' is out of range %d-%d", f->name, (int) len,
                   s, f->lo, f->hi);
        return -1;
    }
    return 0;
}

/* Reads "[/step]" at the end of an item. */
static int
s_step(const s_field_t *f,
       const char *item,
       const char *slash,
       size_t len,
       int *step,
       errbuf_t *err)
{
    *step = 1;
    if (!slash) {
        return 0;
    }
    const char *s = slash + 1;
    size_t n = len - (size_t) (s - item);
    *step = 0;
    for (size_t i = 0; i < n && *step <= 1000; i++) {
        *step = isdigit((unsigned char) s[i]) ? *step * 10 + (s[i] - '0') : -1;
        if (*step < 0) {
            break;
        }
    }
    if (n == 0 || *step < 1 || *step > f->hi) {
        errbuf_set(err,
                   "%s step in '%.*s' must be a number from 1 to %d, like "
                   "'*/5'",
                   f->name, (int) len, item, f->hi);
        return -1;
    }
    return 0;
}

/* One list item: "*", "V", "A-B", each with an optional "/STEP" ("V/STEP"
 * runs from V to the field's end). Sets its bits in *bits. */
static int
s_item(const s_field_t *f,
       const char *item,
       size_t len,
       uint64_t *bits,
       errbuf_t *err)
{
    const char *slash = memchr(item, '/', len);
    size_t range_len = slash ? (size_t) (slash - item) : len;
    int lo = f->lo, hi = f->hi, step;
    if (s_step(f, item, slash, len, &step, err) != 0) {
        return -1;
    }
    if (!(range_len == 1 && item[0] == '*')) {
        const char *dash = memchr(item, '-', range_len);
        size_t first_len = dash ? (size_t) (dash - item) : range_len;
        if (s_value(f, item, first_len, &lo, err) != 0) {
            return -1;
        }
        hi = slash ? f->hi : lo;
        if (dash &&
            s_value(f, dash + 1, range_len - first_len - 1, &hi, err) != 0) {
            return -1;
        }
        if (hi < lo) {
            errbuf_set(err,
                       "%s range '%.*s' runs backwards; write it low to high, "
                       "or as two ranges joined by a comma ('%.*s-%d,%d-%.*s')",
                       f->name, (int) range_len, item, (int) first_len, item,
                       f->hi, f->lo, (int) (range_len - first_len - 1),
                       dash + 1);
            return -1;
        }
    }
    for (int v = lo; v <= hi; v += step) {
        *bits |= 1ULL << v;
    }
    return 0;
}

/* A whole field: items separated by commas. */
static int
s_field(const s_field_t *f,
        const char *text,
        size_t len,
        uint64_t *bits,
        errbuf_t *err)
{
    *bits = 0;
    const char *item = text, *end = text + len;
    while (item <= end) {
        const char *comma = memchr(item, ',', (size_t) (end - item));
        const char *stop = comma ? comma : end;
        if (stop == item) {
            errbuf_set(err,
                       "%s '%.*s' has an empty list item; separate values "
                       "with single commas, like '1,15'",
                       f->name, (int) len, text);
            return -1;
        }
        if (s_item(f, item, (size_t) (stop - item), bits, err) != 0) {
            return -1;
        }
        item = stop + 1;
    }
    return 0;
}

static int
s_parse_fields(cron_t *self, const char *expr, errbuf_t *err)
{
    const char *start[6];
    size_t len[6];
    int n = 0;
    for (const char *c = expr; *c;) {
        while (isspace((unsigned char) *c)) {
            c++;
        }
        if (!*c) {
            break;
        }
        const char *s = c;
        while (*c && !isspace((unsigned char) *c)) {
            c++;
        }
        if (n < 6) {
            start[n] = s, len[n] = (size_t) (c - s);
        }
        n++;
    }
    if (n != 5) {
        errbuf_set(err, "cron expression '%s' has %d field%s; %s", expr, n,
                   n == 1 ? "" : "s", S_HOW);
        return -1;
    }
    uint64_t *bits[5] = {&self->minutes, &self->hours, &self->mdays,
                         &self->months, &self->wdays};
    for (int i = 0; i < 5; i++) {
        if (s_field(&s_fields[i], start[i], len[i], bits[i], err) != 0) {
            return -1;
        }
    }
    if (self->wdays & (1ULL << 7)) {
        self->wdays = (self->wdays & ~(1ULL << 7)) | 1ULL;
    }
    /* As in Vixie cron: a day field written starting with '*', stepped
     * or not, does not count as restricted. */
    self->day_or = start[2][0] != '*' && start[4][0] != '*';
    return 0;
}

static int
s_parse_every(cron_t *self, const char *arg, errbuf_t *err)
{
    while (isspace((unsigned char) *arg)) {
        arg++;
    }
    if (!*arg) {
        errbuf_set(err, "'@every' needs a duration; write it like "
                        "'@every 15m'");
        return -1;
    }
    if (duration_parse(arg, &self->every_ms) != 0) {
        errbuf_set(err, "'@every %s': '%s' is not a duration; %s", arg, arg,
                   DURATION_HINT);
        return -1;
    }
    if (self->every_ms == 0 || self->every_ms > (uint64_t) S_HORIZON_MS) {
        errbuf_set(err,
                   "'@every %s' is %s; write a duration longer than 0 and "
                   "at most 5 years, like '@every 15m'",
                   arg, self->every_ms == 0 ? "zero" : "too long");
        return -1;
    }
    return 0;
}

static int
s_parse_macro(cron_t *self, const char *expr, errbuf_t *err)
{
    size_t word = strcspn(expr, " \t");
    if (word == 6 && strncasecmp(expr, "@every", 6) == 0) {
        return s_parse_every(self, expr + 6, err);
    }
    for (size_t i = 0; i < sizeof s_macros / sizeof s_macros[0]; i++) {
        if (strcasecmp(expr, s_macros[i].name) == 0) {
            return s_parse_fields(self, s_macros[i].expr, err);
        }
    }
    errbuf_set(err,
               "unknown schedule macro '%s'; use @hourly, @daily, @weekly, "
               "@monthly, @yearly or '@every DURATION' (like '@every 15m')",
               expr);
    return -1;
}

cron_t *
cron_parse(const char *expr, errbuf_t *err)
{
    const char *s = expr ? expr : "";
    while (isspace((unsigned char) *s)) {
        s++;
    }
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char) s[len - 1])) {
        len--;
    }
    cron_t *self = xcalloc(1, sizeof *self);
    self->text = xstrndup(s, len);
    if (len == 0) {
        errbuf_set(err, "the schedule is empty; %s", S_HOW);
        cron_destroy(&self);
        return NULL;
    }
    int rc = self->text[0] == '@' ? s_parse_macro(self, self->text, err)
                                  : s_parse_fields(self, self->text, err);
    if (rc != 0) {
        cron_destroy(&self);
    }
    return self;
}

void
cron_destroy(cron_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    free((*self_p)->text);
    free(*self_p);
    *self_p = NULL;
}

const char *
cron_text(const cron_t *self)
{
    assert(self);
    return self->text;
}

uint64_t
cron_every_ms(const cron_t *self)
{
    assert(self);
    return self->every_ms;
}

/* --- stepping through wall-clock minutes --- */

static bool
s_has(uint64_t bits, int v)
{
    return (bits >> v) & 1;
}

/* The lowest set bit >= v, -1 if none. */
static int
s_bit_at_or_after(uint64_t bits, int v)
{
    uint64_t rest = v >= 64 ? 0 : bits >> v << v;
    return rest ? __builtin_ctzll(rest) : -1;
}

/* The highest set bit <= v, -1 if none. */
static int
s_bit_at_or_before(uint64_t bits, int v)
{
    uint64_t rest = v < 0 ? 0 : v >= 63 ? bits : bits & ((2ULL << v) - 1);
    return rest ? 63 - __builtin_clzll(rest) : -1;
}

static bool
s_day_ok(const cron_t *self, const tz_civil_t *c)
{
    bool mday = s_has(self->mdays, c->mday);
    bool wday = s_has(self->wdays, tz_weekday(c->year, c->month, c->mday));
    return self->day_or ? mday || wday : mday && wday;
}

static void
s_next_day(tz_civil_t *c)
{
    c->hour = 0, c->min = 0;
    if (++c->mday > tz_days_in_month(c->year, c->month)) {
        c->mday = 1;
        if (++c->month > 12) {
            c->month = 1, c->year++;
        }
    }
}

static void
s_prev_day(tz_civil_t *c)
{
    c->hour = 23, c->min = 59;
    if (--c->mday < 1) {
        if (--c->month < 1) {
            c->month = 12, c->year--;
        }
        c->mday = tz_days_in_month(c->year, c->month);
    }
}

/* Moves c to the first matching minute at or after it, a field at a
 * time (month, day, hour, minute); false past the year `last`. */
static bool
s_next_match(const cron_t *self, tz_civil_t *c, int last)
{
    while (c->year <= last) {
        int v;
        if (!s_has(self->months, c->month)) {
            v = s_bit_at_or_after(self->months, c->month);
            if (v < 0) {
                c->year++;
                v = s_bit_at_or_after(self->months, 1);
            }
            c->month = v, c->mday = 1, c->hour = 0, c->min = 0;
        } else if (!s_day_ok(self, c)) {
            s_next_day(c);
        } else if ((v = s_bit_at_or_after(self->hours, c->hour)) < 0) {
            s_next_day(c);
        } else if (v != c->hour) {
            c->hour = v, c->min = 0;
        } else if ((v = s_bit_at_or_after(self->minutes, c->min)) < 0) {
            c->min = 0;
            if (++c->hour > 23) {
                s_next_day(c);
            }
        } else {
            c->min = v;
            return true;
        }
    }
    return false;
}

/* Moves c to the last matching minute at or before it; false before the
 * year `first`. */
static bool
s_prev_match(const cron_t *self, tz_civil_t *c, int first)
{
    while (c->year >= first) {
        int v;
        if (!s_has(self->months, c->month)) {
            v = s_bit_at_or_before(self->months, c->month);
            if (v < 0) {
                c->year--;
                v = s_bit_at_or_before(self->months, 12);
            }
            c->month = v, c->hour = 23, c->min = 59;
            c->mday = tz_days_in_month(c->year, c->month);
        } else if (!s_day_ok(self, c)) {
            s_prev_day(c);
        } else if ((v = s_bit_at_or_before(self->hours, c->hour)) < 0) {
            s_prev_day(c);
        } else if (v != c->hour) {
            c->hour = v, c->min = 59;
        } else if ((v = s_bit_at_or_before(self->minutes, c->min)) < 0) {
            c->min = 59;
            if (--c->hour < 0) {
                s_prev_day(c);
            }
        } else {
            c->min = v;
            return true;
        }
    }
    return false;
}

/* The instant before before_ms (within a day) whose wall clock reads
 * latest. Clocks that fell back read later just before the change than
 * at before_ms, so wall-clock minutes up to that reading have already
 * happened by before_ms. */
static int64_t
s_latest_reading(const tz_t *tz, int64_t before_ms)
{
    int64_t best = before_ms - 1;
    int64_t best_clock = best + (int64_t) tz_offset(tz, best) * 1000;
    int64_t t = before_ms - S_WINDOW_MS;
    for (int guard = 0; guard < 16; guard++) {
        int64_t change = tz_next_change(tz, t);
        if (change < 0 || change >= before_ms) {
            break;
        }
        int64_t u = change - 1;
        int64_t clock = u + (int64_t) tz_offset(tz, u) * 1000;
        if (clock > best_clock) {
            best = u, best_clock = clock;
        }
        t = change;
    }
    return best;
}

static void
s_add_minute(tz_civil_t *c)
{
    if (++c->min > 59) {
        c->min = 0;
        if (++c->hour > 23) {
            s_next_day(c);
        }
    }
}

static void
s_sub_minute(tz_civil_t *c)
{
    if (--c->min < 0) {
        c->min = 59;
        if (--c->hour < 0) {
            s_prev_day(c);
        }
    }
}

/* --- the public searches --- */

/* Each matching wall-clock minute fires at tz_first_instant: the instant
 * it is, the first of two, or the end of a gap that swallowed it. That
 * map never runs backwards, so the first matching minute whose instant
 * lies after after_ms is the answer; minutes whose wall-clock time was
 * already reached by after_ms are skipped up front. */
static int64_t
s_fields_next(const cron_t *self, const tz_t *tz, int64_t after_ms)
{
    tz_civil_t c = tz_civil(tz, s_latest_reading(tz, after_ms + 1));
    c.sec = 0;
    int last = c.year + 6;
    for (int guard = 0; guard < 4096; guard++) {
        if (!s_next_match(self, &c, last)) {
            return -1;
        }
        int64_t at = tz_first_instant(tz, &c);
        if (at > after_ms) {
            return at - after_ms > S_HORIZON_MS ? -1 : at;
        }
        s_add_minute(&c);
    }
    return -1;
}

static int64_t
s_fields_prev(const cron_t *self, const tz_t *tz, int64_t before_ms)
{
    tz_civil_t c = tz_civil(tz, s_latest_reading(tz, before_ms));
    c.sec = 0;
    int first = c.year - 6;
    for (int guard = 0; guard < 4096; guard++) {
        if (!s_prev_match(self, &c, first)) {
            return -1;
        }
        int64_t at = tz_first_instant(tz, &c);
        if (at < before_ms) {
            return before_ms - at > S_HORIZON_MS ? -1 : at;
        }
        s_sub_minute(&c);
    }
    return -1;
}

int64_t
cron_next(const cron_t *self,
          const tz_t *tz,
          int64_t anchor_ms,
          int64_t after_ms)
{
    assert(self && tz);
    if (self->every_ms == 0) {
        return s_fields_next(self, tz, after_ms);
    }
    int64_t at = anchor_ms;
    if (after_ms >= anchor_ms) {
        int64_t every = (int64_t) self->every_ms;
        at += ((after_ms - anchor_ms) / every + 1) * every;
    }
    return at - after_ms > S_HORIZON_MS ? -1 : at;
}

int64_t
cron_prev(const cron_t *self,
          const tz_t *tz,
          int64_t anchor_ms,
          int64_t before_ms)
{
    assert(self && tz);
    if (self->every_ms == 0) {
        return s_fields_prev(self, tz, before_ms);
    }
    if (before_ms <= anchor_ms) {
        return -1;
    }
    int64_t every = (int64_t) self->every_ms;
    int64_t k = (before_ms - 1 - anchor_ms) / every;
    int64_t at = anchor_ms + k * every;
    return before_ms - at > S_HORIZON_MS ? -1 : at;
}
