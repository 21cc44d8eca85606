/* validate — the built-in validator of `kind: validate` tasks. */
#include "worker/validate.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/clock.h"
#include "common/csvread.h"
#include "common/errbuf.h"
#include "common/json.h"
#include "common/vspec.h"
#include "common/xalloc.h"

#define SAMPLES_MAX 5    /* bad rows kept per check */
#define RESERVOIR   8192 /* values kept per drift column */
#define BINS        10   /* drift bins (deciles of the sample) */
#define EPS         1e-4 /* floor for empty bins in the PSI */

/* ---- a set of 8-byte key hashes (0 marks a free slot) ---- */

typedef struct {
    uint64_t *slots;
    size_t cap, count;
    bool full; /* VALIDATE_MAX_KEYS reached */
} hset_t;

static uint64_t
s_hash(const char *text)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        h = (h ^ *p) * 1099511628211ULL;
    }
    h ^= h >> 33; /* finalize, so the low bits index well */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static bool s_hset_add(hset_t *set, uint64_t h);

static void
s_hset_grow(hset_t *set)
{
    hset_t bigger = {.cap = set->cap ? set->cap * 2 : 1024};
    bigger.slots = xcalloc(bigger.cap, sizeof *bigger.slots);
    for (size_t i = 0; i < set->cap; i++) {
        if (set->slots[i]) {
            s_hset_add(&bigger, set->slots[i]);
        }
    }
    free(set->slots);
    *set = bigger;
}

/* Adds h; false when it was there already. */
static bool
s_hset_add(hset_t *set, uint64_t h)
{
    if ((set->count + 1) * 2 > set->cap) {
        if (set->count >= VALIDATE_MAX_KEYS) {
            set->full = true;
            return true;
        }
        s_hset_grow(set);
    }
    for (size_t i = h & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (set->slots[i] == h) {
            return false;
        }
        if (!set->slots[i]) {
            set->slots[i] = h;
            set->count++;
            return true;
        }
    }
}

static bool
s_hset_has(const hset_t *set, uint64_t h)
{
    for (size_t i = set->cap ? h & (set->cap - 1) : 0; set->cap;
         i = (i + 1) & (set->cap - 1)) {
        if (set->slots[i] == h) {
            return true;
        }
        if (!set->slots[i]) {
            return false;
        }
    }
    return false;
}

/* ---- checks and their counts ---- */

enum {
    CK_SCHEMA,
    CK_REQUIRED,
    CK_RANGE,
    CK_ALLOWED,
    CK_UNIQUE,
    CK_REFS,
    CK_N
};

static const char *const s_check_names[CK_N] = {
    "schema", "required", "range", "allowed", "unique", "references"};

typedef struct {
    size_t line;
    char column[64];
    char value[96];
    char why[96];
} sample_t;

typedef struct {
    bool used;
    uint64_t failed;
    size_t nsamples;
    sample_t samples[SAMPLES_MAX];
} check_t;

/* Per spec column: where it is and what we gathered. */
typedef struct {
    const vspec_column_t *spec;
    long index; /* CSV: field index; -1 = not in the header */
    hset_t unique;
    hset_t refs;
    /* drift */
    uint64_t n;
    double mean, m2;
    double *sample;
    size_t nsample;
    uint64_t seen;
    bool has_prev;
    double prev_edges[BINS + 1], prev_p[BINS];
    uint64_t prev_counts[BINS];
    uint64_t prev_n;
    double prev_mean, prev_m2, psi, z;
    bool drift_bad;
} colstate_t;

typedef struct {
    const validate_args_t *args;
    vspec_t *spec;
    bool jsonl;
    colstate_t *cols;
    check_t checks[CK_N];
    uint64_t rows, bad;
    FILE *out, *quarantine;
    char *quarantine_path;
    int64_t fresh_max; /* newest freshness value, epoch ms */
    bool fresh_seen;
    uint64_t rng;
    char error[512];
    bool fatal;
} run_t;

static void s_fatal(run_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
s_fatal(run_t *r, const char *fmt, ...)
{
    if (r->fatal) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    r->fatal = true;
}

/* ---- values ---- */

static bool
s_int(const char *v, double *out)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    *out = (double) n;
    return *v && !*end && !errno;
}

static bool
s_float(const char *v, double *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtod(v, &end);
    return *v && !*end && !errno && isfinite(*out);
}

/* YYYY-MM-DD or RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)). */
static bool
s_date(const char *v, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    if (sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 || mo < 1 ||
        mo > 12 || d < 1 || d > 31) {
        return false;
    }
    const char *p = v + 10;
    long off = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &s, &n) != 3 || n != 8 ||
            h > 23 || mi > 59 || s > 60) {
            return false;
        }
        p += 9;
        if (*p == '.') {
            for (p++; *p >= '0' && *p <= '9'; p++) {
            }
        }
        int oh, om;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if ((*p == '+' || *p == '-') &&
                   sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5) {
            off = (*p == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
            p += 6;
        } else {
            return false;
        }
    }
    if (*p) {
        return false;
    }
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    *ms = ((int64_t) timegm(&tm) - off) * 1000;
    return true;
}

static bool
s_bool(const char *v)
{
    static const char *const ok[] = {"true", "false", "1", "0", "yes", "no"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!strcasecmp(v, ok[i])) {
            return true;
        }
    }
    return false;
}

static bool
s_typed(vspec_type_t type, const char *v)
{
    double x;
    int64_t ms;
    switch (type) {
        case VSPEC_INT:
            return s_int(v, &x);
        case VSPEC_FLOAT:
            return s_float(v, &x);
        case VSPEC_BOOL:
            return s_bool(v);
        case VSPEC_DATE:
            return s_date(v, &ms);
        default:
            return true;
    }
}

/* ---- failures ---- */

static void s_fail(run_t *r,
                   int check,
                   size_t line,
                   const char *column,
                   const char *value,
                   const char *fmt,
                   ...) __attribute__((format(printf, 6, 7)));

static void
s_fail(run_t *r,
       int check,
       size_t line,
       const char *column,
       const char *value,
       const char *fmt,
       ...)
{
    check_t *c = &r->checks[check];
    c->failed++;
    if (c->nsamples == SAMPLES_MAX) {
        return;
    }
    sample_t *s = &c->samples[c->nsamples++];
    s->line = line;
    snprintf(s->column, sizeof s->column, "%s", column ? column : "");
    snprintf(s->value, sizeof s->value, "%s", value ? value : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
}

/* ---- drift ---- */

static double
s_rand01(run_t *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return (double) (r->rng >> 11) / 9007199254740992.0;
}

static size_t
s_bin(const double *edges, double x)
{
    size_t b = 0;
    while (b + 1 < BINS && x >= edges[b + 1]) {
        b++;
    }
    return b;
}

static void
s_drift_add(run_t *r, colstate_t *c, double x)
{
    c->n++;
    double delta = x - c->mean;
    c->mean += delta / (double) c->n;
    c->m2 += delta * (x - c->mean);
    if (c->has_prev) {
        c->prev_counts[s_bin(c->prev_edges, x)]++;
    }
    c->seen++;
    if (c->nsample < RESERVOIR) {
        c->sample[c->nsample++] = x;
    } else {
        uint64_t k = (uint64_t) (s_rand01(r) * (double) c->seen);
        if (k < RESERVOIR) {
            c->sample[k] = x;
        }
    }
}

/* ---- one record ---- */

static const char *
s_value(run_t *r, csvread_t *in, colstate_t *c)
{
    if (!r->jsonl) {
        return c->index >= 0 ? csvread_field(in, (size_t) c->index) : NULL;
    }
    for (size_t i = 0; i < csvread_count(in); i++) {
        if (!strcmp(csvread_key(in, i), c->spec->name)) {
            return csvread_field(in, i);
        }
    }
    return NULL;
}

static bool
s_check_value(run_t *r, colstate_t *c, const char *v, size_t line)
{
    const vspec_column_t *s = c->spec;
    bool ok = true;
    if (!v || !*v) {
        if (s->required) {
            s_fail(r, CK_REQUIRED, line, s->name, "", "missing");
            ok = false;
        }
        return ok;
    }
    if (s->in_schema && !s_typed(s->type, v)) {
        s_fail(r, CK_SCHEMA, line, s->name, v, "not %s %s",
               s->type == VSPEC_INT ? "an" : "a", vspec_type_name(s->type));
        return false;
    }
    double x = 0;
    bool num = s_float(v, &x);
    if (s->has_range && (!num || x < s->min || x > s->max)) {
        s_fail(r, CK_RANGE, line, s->name, v, "outside [%g, %g]", s->min,
               s->max);
        ok = false;
    }
    if (s->nallowed) {
        bool found = false;
        for (size_t i = 0; i < s->nallowed && !found; i++) {
            found = !strcmp(s->allowed[i], v);
        }
        if (!found) {
            s_fail(r, CK_ALLOWED, line, s->name, v, "not an allowed value");
            ok = false;
        }
    }
    if (s->unique && !s_hset_add(&c->unique, s_hash(v))) {
        s_fail(r, CK_UNIQUE, line, s->name, v, "repeats an earlier row");
        ok = false;
    }
    if (s->ref_dataset && !s_hset_has(&c->refs, s_hash(v))) {
        s_fail(r, CK_REFS, line, s->name, v, "not in %s column '%s'",
               s->ref_dataset, s->ref_column);
        ok = false;
    }
    if (ok && s->drift && num) {
        s_drift_add(r, c, x);
    }
    int64_t ms;
    if (r->spec->fresh_column && !strcmp(r->spec->fresh_column, s->name) &&
        s_date(v, &ms) && (!r->fresh_seen || ms > r->fresh_max)) {
        r->fresh_max = ms;
        r->fresh_seen = true;
    }
    return ok;
}

static void
s_record(run_t *r, csvread_t *in, size_t nheader, int rc)
{
    size_t line = csvread_line(in);
    bool ok = true;
    r->rows++;
    if (rc == CSVREAD_MALFORMED) {
        s_fail(r, CK_SCHEMA, line, "", "", "malformed record");
        ok = false;
    } else if (!r->jsonl && csvread_count(in) != nheader) {
        s_fail(r, CK_SCHEMA, line, "", "", "%zu fields, the header has %zu",
               csvread_count(in), nheader);
        ok = false;
    } else {
        for (size_t i = 0; i < r->spec->ncolumns; i++) {
            colstate_t *c = &r->cols[i];
            ok = s_check_value(r, c, s_value(r, in, c), line) && ok;
        }
    }
    r->bad += ok ? 0 : 1;
    FILE *to = ok ? r->out : r->quarantine;
    if (to) {
        size_t size = 0;
        const char *raw = csvread_raw(in, &size);
        fwrite(raw, 1, size, to);
        if (size && raw[size - 1] != '\n') {
            fputc('\n', to);
        }
    }
}

/* ---- setup ---- */

static bool
s_is_jsonl(const vspec_t *spec, const char *path)
{
    if (spec->format) {
        return !strcmp(spec->format, "jsonl");
    }
    size_t len = strlen(path);
    return (len > 6 && !strcmp(path + len - 6, ".jsonl")) ||
           (len > 7 && !strcmp(path + len - 7, ".ndjson"));
}

/* "file://x" names the file x. */
static const char *
s_path(const char *uri)
{
    return strncmp(uri, "file://", 7) ? uri : uri + 7;
}

/* Loads the referenced column of another dataset into c->refs. */
static void
s_load_refs(run_t *r, colstate_t *c)
{
    const char *path = s_path(c->spec->ref_dataset);
    errbuf_t err;
    bool jsonl = s_is_jsonl(&(vspec_t){0}, path);
    csvread_t *in = csvread_open(path, jsonl, &err);
    if (!in) {
        s_fatal(r, "references of '%s': %s", c->spec->name, errbuf_msg(&err));
        return;
    }
    long index = -1;
    int rc;
    bool header = !jsonl;
    while ((rc = csvread_next(in, &err)) > 0) {
        for (size_t i = 0; rc == CSVREAD_RECORD && i < csvread_count(in); i++) {
            const char *name = jsonl ? csvread_key(in, i) : NULL;
            if (header && !strcmp(csvread_field(in, i), c->spec->ref_column)) {
                index = (long) i;
            } else if (!header &&
                       ((jsonl && !strcmp(name, c->spec->ref_column)) ||
                        (!jsonl && (long) i == index))) {
                s_hset_add(&c->refs, s_hash(csvread_field(in, i)));
            }
        }
        if (header && index < 0) {
            s_fatal(r, "'%s' has no column '%s' for the references of '%s'",
                    path, c->spec->ref_column, c->spec->name);
            break;
        }
        header = false;
    }
    if (rc < 0) {
        s_fatal(r, "'%s': %s", path, errbuf_msg(&err));
    }
    csvread_destroy(&in);
}

/* Reads the previous profile's line for each drift column. */
static void
s_load_profile(run_t *r, const char *profile)
{
    char *copy = xstrdup(profile ? profile : "");
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char name[256];
        int n = 0;
        if (sscanf(line, "col %255s%n", name, &n) != 1) {
            continue;
        }
        for (size_t i = 0; i < r->spec->ncolumns; i++) {
            colstate_t *c = &r->cols[i];
            if (!c->spec->drift || strcmp(c->spec->name, name)) {
                continue;
            }
            char *p = line + n, *end = NULL;
            double v[3 + BINS + 1 + BINS];
            size_t k = 0;
            for (; k < sizeof v / sizeof v[0]; k++, p = end) {
                v[k] = strtod(p, &end);
                if (end == p) {
                    break;
                }
            }
            if (k != sizeof v / sizeof v[0]) {
                continue; /* not ours, or damaged: no comparison */
            }
            c->has_prev = true;
            c->prev_n = (uint64_t) v[0];
            c->prev_mean = v[1];
            c->prev_m2 = v[2];
            memcpy(c->prev_edges, v + 3, sizeof c->prev_edges);
            memcpy(c->prev_p, v + 3 + BINS + 1, sizeof c->prev_p);
        }
    }
    free(copy);
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* PSI against the previous bins, and Welch's z on the means. */
static void
s_drift_finish(run_t *r, colstate_t *c)
{
    qsort(c->sample, c->nsample, sizeof *c->sample, s_cmp_double);
    if (!c->has_prev || c->n == 0) {
        return;
    }
    c->psi = 0;
    for (size_t b = 0; b < BINS; b++) {
        double e = fmax(c->prev_p[b], EPS);
        double a = fmax((double) c->prev_counts[b] / (double) c->n, EPS);
        c->psi += (a - e) * log(a / e);
    }
    double v1 = c->n > 1 ? c->m2 / (double) (c->n - 1) : 0;
    double v0 = c->prev_n > 1 ? c->prev_m2 / (double) (c->prev_n - 1) : 0;
    double se = sqrt(v1 / (double) c->n + v0 / (double) fmax(1, c->prev_n));
    double diff = fabs(c->mean - c->prev_mean);
    c->z = se > 0 ? diff / se : (diff > 0 ? INFINITY : 0);
    c->drift_bad = c->psi > r->spec->psi_max || c->z > r->spec->mean_shift_max;
}

static void
s_profile_line(FILE *out, const colstate_t *c)
{
    double edges[BINS + 1] = {0};
    double p[BINS] = {0};
    for (size_t b = 0; c->nsample && b <= BINS; b++) {
        edges[b] = c->sample[b * (c->nsample - 1) / BINS];
    }
    for (size_t i = 0; i < c->nsample; i++) {
        p[s_bin(edges, c->sample[i])] += 1.0 / (double) c->nsample;
    }
    fprintf(out, "col %s %" PRIu64 " %.17g %.17g", c->spec->name, c->n, c->mean,
            c->m2);
    for (size_t b = 0; b <= BINS; b++) {
        fprintf(out, " %.17g", edges[b]);
    }
    for (size_t b = 0; b < BINS; b++) {
        fprintf(out, " %.17g", p[b]);
    }
    fputc('\n', out);
}

/* The header of a CSV file: where each spec column is. */
static bool
s_header(run_t *r, csvread_t *in, size_t *nheader)
{
    errbuf_t err;
    int rc = csvread_next(in, &err);
    if (rc != CSVREAD_RECORD) {
        s_fatal(r, "'%s' has no header line%s%s", r->args->input,
                rc < 0 || rc == CSVREAD_MALFORMED ? ": " : "",
                rc < 0 || rc == CSVREAD_MALFORMED ? errbuf_msg(&err) : "");
        return false;
    }
    *nheader = csvread_count(in);
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        colstate_t *c = &r->cols[i];
        for (size_t k = 0; k < *nheader && c->index < 0; k++) {
            if (!strcmp(csvread_field(in, k), c->spec->name)) {
                c->index = (long) k;
            }
        }
        if (c->index < 0 && (c->spec->in_schema || c->spec->required)) {
            s_fatal(r, "column '%s' is not in the header of '%s'",
                    c->spec->name, r->args->input);
            return false;
        }
    }
    size_t size = 0;
    const char *raw = csvread_raw(in, &size);
    for (FILE *f = r->out; f; f = f == r->out ? r->quarantine : NULL) {
        fwrite(raw, 1, size, f);
    }
    return true;
}

static bool
s_open_outputs(run_t *r)
{
    if (!r->args->output || !*r->args->output) {
        return true;
    }
    const char *out = s_path(r->args->output);
    r->quarantine_path =
        xasprintf("%s.quarantine.%s", out, r->jsonl ? "jsonl" : "csv");
    r->out = fopen(out, "wb");
    r->quarantine = r->out ? fopen(r->quarantine_path, "wb") : NULL;
    if (!r->out || !r->quarantine) {
        s_fatal(r, "cannot write '%s': %s", r->out ? r->quarantine_path : out,
                strerror(errno));
        return false;
    }
    return true;
}

static void
s_stream(run_t *r)
{
    errbuf_t err;
    const char *path = s_path(r->args->input);
    csvread_t *in = csvread_open(path, r->jsonl, &err);
    if (!in) {
        s_fatal(r, "%s", errbuf_msg(&err));
        return;
    }
    size_t nheader = 0;
    if (s_open_outputs(r) && (r->jsonl || s_header(r, in, &nheader))) {
        int rc;
        while ((rc = csvread_next(in, &err)) > 0) {
            s_record(r, in, nheader, rc);
        }
        if (rc < 0) {
            s_fatal(r, "'%s': %s", path, errbuf_msg(&err));
        }
    }
    csvread_destroy(&in);
}

/* ---- the report ---- */

static void
s_thousands(uint64_t n, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%" PRIu64, n);
    size_t len = strlen(digits), o = 0;
    for (size_t i = 0; i < len && o + 2 < size; i++) {
        if (i && (len - i) % 3 == 0) {
            buf[o++] = ',';
        }
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static char *
s_summary(const run_t *r)
{
    char rows[32], bad[32];
    s_thousands(r->rows, rows, sizeof rows);
    s_thousands(r->bad, bad, sizeof bad);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    fprintf(out, "%s rows, %s bad (%.1f%%)", rows, bad,
            r->rows ? 100.0 * (double) r->bad / (double) r->rows : 0.0);
    const char *sep = ": ";
    for (int k = 0; k < CK_N; k++) {
        if (r->checks[k].failed) {
            fprintf(out, "%s%s %" PRIu64, sep, s_check_names[k],
                    r->checks[k].failed);
            sep = ", ";
        }
    }
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        if (r->cols[i].drift_bad) {
            fprintf(out, "%sdrift %s", sep, r->cols[i].spec->name);
            sep = ", ";
        }
    }
    if (r->fatal) {
        fprintf(out, "; FAILED");
    }
    fclose(out);
    return text;
}

/* The drifting columns' names, one a line (for the Result, so that the
 * scheduler need not read the summary's text). Caller owns. */
static char *
s_drift_columns(const run_t *r)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        if (r->cols[i].drift_bad) {
            fprintf(out, "%s\n", r->cols[i].spec->name);
        }
    }
    fclose(out);
    return text;
}

static void
s_json_checks(const run_t *r, json_t *j)
{
    json_key(j, "checks");
    json_array_begin(j);
    for (int k = 0; k < CK_N; k++) {
        const check_t *c = &r->checks[k];
        if (!c->used) {
            continue;
        }
        json_object_begin(j);
        json_kv_string(j, "check", s_check_names[k]);
        json_kv_uint(j, "passed", r->rows - c->failed);
        json_kv_uint(j, "failed", c->failed);
        json_key(j, "bad_rows");
        json_array_begin(j);
        for (size_t i = 0; i < c->nsamples; i++) {
            json_object_begin(j);
            json_kv_uint(j, "line", c->samples[i].line);
            json_kv_string(j, "column", c->samples[i].column);
            json_kv_string(j, "value", c->samples[i].value);
            json_kv_string(j, "why", c->samples[i].why);
            json_object_end(j);
        }
        json_array_end(j);
        json_object_end(j);
    }
    json_array_end(j);
}

static void
s_json_drift(const run_t *r, json_t *j)
{
    json_key(j, "drift");
    json_array_begin(j);
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        const colstate_t *c = &r->cols[i];
        if (!c->spec->drift) {
            continue;
        }
        json_object_begin(j);
        json_kv_string(j, "column", c->spec->name);
        json_kv_bool(j, "compared", c->has_prev);
        json_key(j, "mean");
        json_double(j, c->mean);
        if (c->has_prev) {
            json_key(j, "previous_mean");
            json_double(j, c->prev_mean);
            json_key(j, "psi");
            json_double(j, c->psi);
            json_key(j, "mean_z");
            json_double(j, c->z);
        }
        json_kv_bool(j, "passed", !c->drift_bad);
        json_object_end(j);
    }
    json_array_end(j);
}

static char *
s_report_json(const run_t *r, bool passed)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    json_t *j = json_new(out, false);
    json_object_begin(j);
    json_kv_string(j, "dataset", r->args->input);
    json_kv_string(j, "format", r->jsonl ? "jsonl" : "csv");
    json_kv_bool(j, "passed", passed);
    json_kv_uint(j, "rows", r->rows);
    json_kv_uint(j, "bad", r->bad);
    json_key(j, "max_bad_ratio");
    json_double(j, r->spec->max_bad_ratio);
    if (r->quarantine_path) {
        json_kv_string(j, "quarantine", r->quarantine_path);
    }
    s_json_checks(r, j);
    if (r->spec->fresh_column) {
        json_key(j, "freshness");
        json_object_begin(j);
        json_kv_string(j, "column", r->spec->fresh_column);
        json_kv_int(j, "newest_ms", r->fresh_seen ? r->fresh_max : 0);
        json_kv_uint(j, "max_age_ms", r->spec->fresh_max_age_ms);
        json_object_end(j);
    }
    s_json_drift(r, j);
    json_kv_string(j, "error", r->error);
    json_object_end(j);
    json_destroy(&j);
    fclose(out);
    return text;
}

static char *
s_report_text(const run_t *r, const char *summary)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    fprintf(out, "validation of %s (%s): %s\n", r->args->input,
            r->jsonl ? "JSON lines" : "CSV", summary);
    for (int k = 0; k < CK_N; k++) {
        const check_t *c = &r->checks[k];
        if (!c->used) {
            continue;
        }
        fprintf(out, "  %-10s passed %" PRIu64 ", failed %" PRIu64 "\n",
                s_check_names[k], r->rows - c->failed, c->failed);
        for (size_t i = 0; i < c->nsamples; i++) {
            const sample_t *s = &c->samples[i];
            fprintf(out, "    line %zu%s%s%s: %s%s%s%s\n", s->line,
                    *s->column ? " column '" : "", s->column,
                    *s->column ? "'" : "", *s->value ? "'" : "", s->value,
                    *s->value ? "' " : "", s->why);
        }
    }
    if (r->spec->fresh_column && r->fresh_seen) {
        char when[64];
        clock_fmt_iso(r->fresh_max, when, sizeof when);
        fprintf(out, "  freshness  newest '%s' is %s\n", r->spec->fresh_column,
                when);
    }
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        const colstate_t *c = &r->cols[i];
        if (c->spec->drift && c->has_prev) {
            fprintf(out,
                    "  drift      '%s': PSI %.3f (max %.3f), mean %.4g vs "
                    "%.4g, z %.2f (max %.2f)%s\n",
                    c->spec->name, c->psi, r->spec->psi_max, c->mean,
                    c->prev_mean, c->z, r->spec->mean_shift_max,
                    c->drift_bad ? "  FAILED" : "");
        } else if (c->spec->drift) {
            fprintf(out,
                    "  drift      '%s': no previous version; profile "
                    "recorded\n",
                    c->spec->name);
        }
    }
    if (r->quarantine_path && r->bad) {
        fprintf(out, "  quarantine %s\n", r->quarantine_path);
    }
    if (*r->error) {
        fprintf(out, "  error: %s\n", r->error);
    }
    fclose(out);
    return text;
}

static char *
s_profile(const run_t *r)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    fprintf(out, "dataset %s\n", r->args->input);
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        if (r->cols[i].spec->drift) {
            s_profile_line(out, &r->cols[i]);
        }
    }
    fclose(out);
    return text;
}

/* ---- the run ---- */

static void
s_finish(run_t *r)
{
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        if (r->cols[i].spec->drift) {
            s_drift_finish(r, &r->cols[i]);
        }
    }
    if (r->fatal) {
        return;
    }
    double ratio = r->rows ? (double) r->bad / (double) r->rows : 0;
    if (ratio > r->spec->max_bad_ratio) {
        s_fatal(r,
                "%" PRIu64 " of %" PRIu64 " rows are bad (%.2f%%), over "
                "max_bad_ratio %g",
                r->bad, r->rows, 100.0 * ratio, r->spec->max_bad_ratio);
        return;
    }
    if (r->spec->fresh_column &&
        (!r->fresh_seen ||
         r->fresh_max <
             r->args->now_ms - (int64_t) r->spec->fresh_max_age_ms)) {
        s_fatal(r, "no '%s' within the last %" PRIu64 " s: the data is stale",
                r->spec->fresh_column, r->spec->fresh_max_age_ms / 1000);
        return;
    }
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        const colstate_t *c = &r->cols[i];
        if (c->drift_bad) {
            s_fatal(r,
                    "column '%s' drifted from the previous version: PSI "
                    "%.3f (max %g), mean z %.2f (max %g)",
                    c->spec->name, c->psi, r->spec->psi_max, c->z,
                    r->spec->mean_shift_max);
            return;
        }
    }
}

static void
s_setup(run_t *r)
{
    r->cols = xcalloc(r->spec->ncolumns + 1, sizeof *r->cols);
    r->rng = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < r->spec->ncolumns; i++) {
        colstate_t *c = &r->cols[i];
        const vspec_column_t *s = &r->spec->columns[i];
        c->spec = s;
        c->index = -1;
        r->checks[CK_SCHEMA].used |= s->in_schema;
        r->checks[CK_REQUIRED].used |= s->required;
        r->checks[CK_RANGE].used |= s->has_range;
        r->checks[CK_ALLOWED].used |= s->nallowed > 0;
        r->checks[CK_UNIQUE].used |= s->unique;
        r->checks[CK_REFS].used |= s->ref_dataset != NULL;
        if (s->drift) {
            c->sample = xcalloc(RESERVOIR, sizeof *c->sample);
        }
        if (s->ref_dataset) {
            s_load_refs(r, c);
        }
    }
    r->checks[CK_SCHEMA].used = true; /* malformed records count here */
    s_load_profile(r, r->args->profile);
}

static void
s_teardown(run_t *r)
{
    for (size_t i = 0; r->cols && i < r->spec->ncolumns; i++) {
        free(r->cols[i].unique.slots);
        free(r->cols[i].refs.slots);
        free(r->cols[i].sample);
    }
    free(r->cols);
    if (r->out && fclose(r->out) != 0) {
        s_fatal(r, "cannot write '%s': %s", r->args->output, strerror(errno));
    }
    if (r->quarantine) {
        fclose(r->quarantine);
    }
    free(r->quarantine_path);
    vspec_destroy(&r->spec);
}

int
validate_run(const validate_args_t *args, validate_result_t *out)
{
    memset(out, 0, sizeof *out);
    errbuf_t err;
    run_t r = {.args = args};
    r.spec = vspec_parse(args->spec ? args->spec : "", &err);
    if (!r.spec) {
        snprintf(out->error, sizeof out->error, "%s", errbuf_msg(&err));
        r.spec = xcalloc(1, sizeof *r.spec);
        r.fatal = true;
        snprintf(r.error, sizeof r.error, "%s", out->error);
    } else {
        r.jsonl = s_is_jsonl(r.spec, args->input);
        s_setup(&r);
        if (!r.fatal) {
            s_stream(&r);
        }
        s_finish(&r);
    }
    out->passed = !r.fatal;
    out->summary = s_summary(&r);
    out->drift = s_drift_columns(&r);
    out->report = s_report_json(&r, out->passed);
    out->text = s_report_text(&r, out->summary);
    out->profile = out->passed ? s_profile(&r) : NULL;
    snprintf(out->error, sizeof out->error, "%s", r.error);
    s_teardown(&r);
    return out->passed ? 0 : 1;
}

void
validate_result_clear(validate_result_t *out)
{
    free(out->report);
    free(out->summary);
    free(out->text);
    free(out->profile);
    free(out->drift);
    memset(out, 0, sizeof *out);
}

static void
s_write(const char *name, const char *text)
{
    FILE *f = fopen(name, "wb");
    if (f) {
        fputs(text ? text : "", f);
        fclose(f);
    }
}

int
validate_main(int argc, char **argv)
{
    (void) argc;
    (void) argv;
    validate_args_t args = {.spec = getenv("SLUICE_VALIDATE_SPEC"),
                            .input = getenv("SLUICE_VALIDATE_INPUT"),
                            .output = getenv("SLUICE_VALIDATE_OUTPUT"),
                            .profile = getenv("SLUICE_VALIDATE_PROFILE"),
                            .now_ms = clock_wall_ms()};
    if (!args.spec || !args.input) {
        fprintf(stderr, "sluice __validate: run by the worker for validate "
                        "tasks; SLUICE_VALIDATE_SPEC and "
                        "SLUICE_VALIDATE_INPUT must be set\n");
        return 2;
    }
    validate_result_t res;
    int rc = validate_run(&args, &res);
    s_write(VALIDATE_FILE_REPORT, res.report);
    s_write(VALIDATE_FILE_SUMMARY, res.summary);
    s_write(VALIDATE_FILE_TEXT, res.text);
    s_write(VALIDATE_FILE_ERROR, res.error);
    s_write(VALIDATE_FILE_DRIFT, res.drift);
    if (res.profile) {
        s_write(VALIDATE_FILE_PROFILE, res.profile);
    }
    fputs(res.text, stdout);
    if (rc == 0 && strstr(res.summary, " 0 bad") == NULL) {
        printf("warning: bad rows were quarantined; the task succeeds\n");
    }
    if (rc != 0) {
        fprintf(stderr, "validation failed: %s\n", res.error);
    }
    validate_result_clear(&res);
    return rc;
}
