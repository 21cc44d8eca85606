/* features — turns clean transactions into standardized numeric features.
 *
 * Features: log amount, age, night (hour < 6), merchant risk, log distance,
 * foreign. Without --apply it learns each feature's mean and standard
 * deviation from the input and saves them to --scaler; with --apply it
 * reuses saved ones, so hold-out data is scaled exactly like training data.
 * Output: "id,label,f1..f6".
 *
 * usage: features --in CLEAN.csv --out FEATURES.csv
 *                 (--scaler SAVE.txt | --apply SCALER.txt) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NF       6
#define LINE_LEN 1024
#define HEADER   "id,amount,age,hour,merchant_risk,distance_km,foreign,label"

static const char *const s_names[NF] = {
    "log_amount", "age", "night", "merchant_risk", "log_distance", "foreign"};

typedef struct {
    char id[64];
    int label;
    double x[NF];
} row_t;

typedef struct {
    row_t *rows; /* owned */
    size_t count, cap;
} table_t;

/* Parses "id,amount,age,hour,risk,distance,foreign,label"; -1 if short. */
static int
s_parse(const char *line, row_t *r)
{
    double amount, risk, distance;
    int age, hour, foreign;
    int n = sscanf(line, "%63[^,],%lf,%d,%d,%lf,%lf,%d,%d", r->id, &amount,
                   &age, &hour, &risk, &distance, &foreign, &r->label);
    if (n != 8) {
        return -1;
    }
    double x[NF] = {log1p(amount),   age,    hour < 6, risk,
                    log1p(distance), foreign};
    memcpy(r->x, x, sizeof x);
    return 0;
}

static int
s_read(const char *path, table_t *t)
{
    FILE *in = fopen(path, "r");
    char line[LINE_LEN];
    if (!in || !fgets(line, sizeof line, in) ||
        strncmp(line, HEADER, strlen(HEADER)) != 0) {
        fprintf(stderr, "features: '%s' is missing or has no '%s' header\n",
                path, HEADER);
        return -1;
    }
    while (fgets(line, sizeof line, in)) {
        if (t->count == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 1024;
            t->rows = realloc(t->rows, t->cap * sizeof *t->rows);
            if (!t->rows) {
                abort();
            }
        }
        if (s_parse(line, &t->rows[t->count]) == 0) {
            t->count++;
        }
    }
    fclose(in);
    return 0;
}

static void
s_fit(const table_t *t, double *mean, double *sd)
{
    for (int j = 0; j < NF; j++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < t->count; i++) {
            sum += t->rows[i].x[j];
        }
        mean[j] = sum / (double) t->count;
        for (size_t i = 0; i < t->count; i++) {
            double d = t->rows[i].x[j] - mean[j];
            sq += d * d;
        }
        sd[j] = sqrt(sq / (double) t->count);
        if (sd[j] < 1e-9) {
            sd[j] = 1; /* a constant column stays 0 rather than NaN */
        }
    }
}

static int
s_scaler_io(const char *path, double *mean, double *sd, int save)
{
    FILE *f = fopen(path, save ? "w" : "r");
    if (!f) {
        fprintf(stderr, "features: cannot open scaler '%s'\n", path);
        return -1;
    }
    int ok = 1;
    for (int j = 0; j < NF; j++) {
        if (save) {
            fprintf(f, "%s %.10g %.10g\n", s_names[j], mean[j], sd[j]);
        } else {
            ok &= fscanf(f, "%*s %lf %lf", &mean[j], &sd[j]) == 2;
        }
    }
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "features: scaler '%s' is malformed\n", path);
        return -1;
    }
    return 0;
}

static int
s_write(const char *path,
        const table_t *t,
        const double *mean,
        const double *sd)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        fprintf(stderr, "features: cannot write '%s'\n", path);
        return -1;
    }
    fprintf(out, "id,label");
    for (int j = 0; j < NF; j++) {
        fprintf(out, ",%s", s_names[j]);
    }
    fprintf(out, "\n");
    for (size_t i = 0; i < t->count; i++) {
        fprintf(out, "%s,%d", t->rows[i].id, t->rows[i].label);
        for (int j = 0; j < NF; j++) {
            fprintf(out, ",%.6f", (t->rows[i].x[j] - mean[j]) / sd[j]);
        }
        fprintf(out, "\n");
    }
    return fclose(out) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *save = NULL, *apply = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char **slot = strcmp(argv[i], "--in") == 0       ? &in
                            : strcmp(argv[i], "--out") == 0    ? &out
                            : strcmp(argv[i], "--scaler") == 0 ? &save
                            : strcmp(argv[i], "--apply") == 0  ? &apply
                                                               : NULL;
        if (slot) {
            *slot = argv[i + 1];
        }
    }
    if (!in || !out || !(save || apply)) {
        fprintf(stderr, "usage: features --in CLEAN.csv --out FEATURES.csv "
                        "(--scaler SAVE.txt | --apply SCALER.txt)\n");
        return 2;
    }
    table_t t = {0};
    double mean[NF], sd[NF];
    if (s_read(in, &t) != 0 || t.count == 0) {
        fprintf(stderr, "features: no usable rows in '%s'\n", in);
        return 1;
    }
    if (apply ? s_scaler_io(apply, mean, sd, 0) != 0
              : (s_fit(&t, mean, sd), s_scaler_io(save, mean, sd, 1) != 0)) {
        return 1;
    }
    if (s_write(out, &t, mean, sd) != 0) {
        return 1;
    }
    for (int j = 0; j < NF; j++) {
        printf("features: %-13s mean %9.4f  sd %8.4f\n", s_names[j], mean[j],
               sd[j]);
    }
    printf("features: wrote %zu rows x %d features to %s\n", t.count, NF, out);
    free(t.rows);
    return 0;
}
