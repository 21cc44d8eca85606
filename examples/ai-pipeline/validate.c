/* validate — checks a transactions CSV and writes the rows that pass.
 *
 * Checks: the header (schema), completeness (every field present and
 * non-empty), ranges (age 18..100, hour 0..23, risk 0..1, amounts and
 * distances not negative, flags 0/1) and uniqueness of the id. Writes the
 * clean rows and a JSON report, and exits 1 when the share of bad rows is
 * over --max-bad (default 0.05), so a broken feed stops the pipeline.
 *
 * usage: validate --in RAW.csv --out CLEAN.csv [--report FILE.json]
 *                 [--max-bad FRACTION] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER       "id,amount,age,hour,merchant_risk,distance_km,foreign,label"
#define NFIELDS      8
#define LINE_MAX_LEN 1024
#define ID_TABLE     (1 << 20) /* open addressing; more rows than this fail */

typedef struct {
    long rows, bad, schema, missing, range, duplicate;
} report_t;

typedef struct {
    char **slots; /* ID_TABLE owned strings or NULL */
    long used;
} idset_t;

static unsigned long
s_hash(const char *text)
{
    unsigned long h = 5381;
    for (const char *p = text; *p; p++) {
        h = h * 33 + (unsigned char) *p;
    }
    return h;
}

/* Adds id; returns 1 when it was already there, -1 when the table is full. */
static int
s_idset_add(idset_t *set, const char *id)
{
    if (set->used >= ID_TABLE / 2) {
        return -1;
    }
    unsigned long i = s_hash(id) & (ID_TABLE - 1);
    while (set->slots[i]) {
        if (strcmp(set->slots[i], id) == 0) {
            return 1;
        }
        i = (i + 1) & (ID_TABLE - 1);
    }
    set->slots[i] = strdup(id);
    set->used++;
    return 0;
}

/* Splits line in place at commas; returns the number of fields. */
static int
s_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        p = strchr(p, ',');
        if (!p) {
            break;
        }
        *p++ = '\0';
    }
    return p ? max + 1 : n;
}

static int
s_number(const char *text, double lo, double hi)
{
    char *end;
    double v = strtod(text, &end);
    return *text && *end == '\0' && v >= lo && v <= hi;
}

/* Classifies one data row: 0 good, else the counter to bump. */
static long *
s_check_row(char *line, report_t *rep, idset_t *ids)
{
    char *f[NFIELDS + 1];
    if (s_split(line, f, NFIELDS) != NFIELDS) {
        return &rep->schema;
    }
    for (int i = 0; i < NFIELDS; i++) {
        if (f[i][0] == '\0') {
            return &rep->missing;
        }
    }
    if (!s_number(f[1], 0, 1e7) || !s_number(f[2], 18, 100) ||
        !s_number(f[3], 0, 23) || !s_number(f[4], 0, 1) ||
        !s_number(f[5], 0, 40000) || !s_number(f[6], 0, 1) ||
        !s_number(f[7], 0, 1)) {
        return &rep->range;
    }
    int seen = s_idset_add(ids, f[0]);
    if (seen != 0) {
        return &rep->duplicate; /* -1 (too many rows) counts as bad too */
    }
    return NULL;
}

static void
s_write_report(const char *path,
               const report_t *rep,
               double share,
               double max_bad)
{
    FILE *out = path ? fopen(path, "w") : NULL;
    if (!out) {
        return;
    }
    fprintf(out,
            "{\"rows\": %ld, \"bad\": %ld, \"bad_share\": %.4f, "
            "\"max_bad\": %.4f, \"schema\": %ld, \"missing\": %ld, "
            "\"range\": %ld, \"duplicate\": %ld, \"passed\": %s}\n",
            rep->rows, rep->bad, share, max_bad, rep->schema, rep->missing,
            rep->range, rep->duplicate, share <= max_bad ? "true" : "false");
    fclose(out);
}

static int
s_validate(FILE *in, FILE *out, report_t *rep, idset_t *ids)
{
    char line[LINE_MAX_LEN], copy[LINE_MAX_LEN];
    if (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = '\0';
    } else {
        line[0] = '\0';
    }
    if (strcmp(line, HEADER) != 0) {
        fprintf(stderr, "validate: header is not '%s'\n", HEADER);
        return -1;
    }
    fprintf(out, "%s\n", HEADER);
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0') {
            continue;
        }
        rep->rows++;
        memcpy(copy, line, sizeof line);
        long *counter = s_check_row(line, rep, ids);
        if (counter) {
            (*counter)++;
            rep->bad++;
        } else {
            fprintf(out, "%s\n", copy);
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL, *report_path = NULL;
    double max_bad = 0.05;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--in") == 0) {
            in_path = argv[i + 1];
        } else if (strcmp(argv[i], "--out") == 0) {
            out_path = argv[i + 1];
        } else if (strcmp(argv[i], "--report") == 0) {
            report_path = argv[i + 1];
        } else if (strcmp(argv[i], "--max-bad") == 0) {
            max_bad = atof(argv[i + 1]);
        }
    }
    if (!in_path || !out_path) {
        fprintf(stderr, "usage: validate --in RAW.csv --out CLEAN.csv "
                        "[--report FILE.json] [--max-bad FRACTION]\n");
        return 2;
    }
    FILE *in = fopen(in_path, "r");
    FILE *out = fopen(out_path, "w");
    if (!in || !out) {
        fprintf(stderr, "validate: cannot open '%s'\n",
                in ? out_path : in_path);
        return 1;
    }
    report_t rep = {0};
    idset_t ids = {calloc(ID_TABLE, sizeof(char *)), 0};
    int rc = s_validate(in, out, &rep, &ids);
    fclose(in);
    if (fclose(out) != 0 || rc != 0 || !ids.slots) {
        return 1;
    }
    double share = rep.rows ? (double) rep.bad / (double) rep.rows : 1.0;
    printf("validate: %ld rows, %ld bad (%.2f%%): %ld schema, %ld missing, "
           "%ld out of range, %ld duplicate ids\n",
           rep.rows, rep.bad, 100.0 * share, rep.schema, rep.missing, rep.range,
           rep.duplicate);
    s_write_report(report_path, &rep, share, max_bad);
    if (share > max_bad) {
        fprintf(stderr,
                "validate: %.2f%% of rows are bad, over the %.2f%% "
                "limit; fix the feed or raise --max-bad\n",
                100.0 * share, 100.0 * max_bad);
        return 1;
    }
    printf("validate: wrote %ld clean rows to %s\n", rep.rows - rep.bad,
           out_path);
    return 0;
}
