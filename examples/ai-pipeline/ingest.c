/* ingest — generates one day of synthetic card transactions.
 *
 * The label follows a fixed, learnable rule (amount, merchant risk, foreign,
 * night hour, distance, age) plus logistic noise, so a linear model can beat
 * the majority class. The raw file carries the flaws real feeds have: missing
 * ids, impossible ages and duplicated rows; the hold-out file is clean and is
 * what `evaluate` scores, and the batch file is the day's traffic that
 * `infer` scores. The seed is the logical date, so a rerun of the same day
 * writes the same bytes. --shift S (0 to 1) moves the feed the way a new
 * market would: larger amounts, longer distances, more foreign cards and
 * night hours; the fraud rule stays the same, so the drift is in the inputs.
 *
 * usage: ingest --date YYYY-MM-DD --out RAW.csv [--rows N] [--shift S]
 *               [--holdout FILE --holdout-rows N]
 *               [--batch FILE --batch-rows N] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER "id,amount,age,hour,merchant_risk,distance_km,foreign,label"

typedef struct {
    uint64_t state; /* splitmix64 state */
} rng_t;

static uint64_t
s_next(rng_t *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double
s_unit(rng_t *rng)
{
    return ((double) (s_next(rng) >> 11) + 0.5) / 9007199254740992.0;
}

static double
s_normal(rng_t *rng)
{
    return sqrt(-2.0 * log(s_unit(rng))) * cos(2.0 * M_PI * s_unit(rng));
}

/* FNV-1a of the date text: the seed. */
static uint64_t
s_seed(const char *text)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = text; *p; p++) {
        h = (h ^ (uint8_t) *p) * 1099511628211ULL;
    }
    return h;
}

typedef struct {
    double amount, merchant_risk, distance_km;
    int age, hour, foreign, label;
} txn_t;

/* How far the feed has moved from the training distribution, 0 to 1. */
static double s_shift;

static txn_t
s_txn(rng_t *rng)
{
    txn_t t;
    t.amount = exp(3.8 + 0.9 * s_shift + 1.1 * s_normal(rng));
    t.age = 18 + (int) (s_unit(rng) * 70);
    t.hour = (int) (s_unit(rng) * 24);
    if (s_shift > 0 && s_unit(rng) < 0.25 * s_shift) {
        t.hour = (int) (s_unit(rng) * 6); /* more night traffic */
    }
    t.merchant_risk = s_unit(rng);
    t.distance_km = exp(2.0 + 1.2 * s_shift + 1.3 * s_normal(rng));
    t.foreign = s_unit(rng) < 0.15 + 0.35 * s_shift;
    double night = t.hour < 6;
    double z = 1.6 * (log1p(t.amount) - 3.8) + 4.0 * (t.merchant_risk - 0.5) +
               1.8 * t.foreign + 1.5 * night +
               0.6 * (log1p(t.distance_km) - 2.1) - 0.03 * (t.age - 50) - 2.3;
    double u = s_unit(rng);
    double noise = 0.6 * log(u / (1.0 - u)); /* logistic, scale 0.6 */
    t.label = z + noise > 0;
    return t;
}

static void
s_write_row(FILE *out, const char *id, const txn_t *t)
{
    fprintf(out, "%s,%.2f,%d,%d,%.4f,%.2f,%d,%d\n", id, t->amount, t->age,
            t->hour, t->merchant_risk, t->distance_km, t->foreign, t->label);
}

/* Writes rows; with flaws, about 1% lack an id, 1% have an impossible age
 * and 1.5% repeat an earlier row. Returns the number of positives. */
static long
s_generate(FILE *out, rng_t *rng, long rows, const char *prefix, int flaws)
{
    char id[64], prev_id[64] = "";
    txn_t prev = {0};
    long positives = 0;
    fprintf(out, "%s\n", HEADER);
    for (long i = 0; i < rows; i++) {
        double roll = s_unit(rng);
        if (flaws && i > 0 && roll < 0.015) {
            s_write_row(out, prev_id, &prev); /* duplicate */
            continue;
        }
        txn_t t = s_txn(rng);
        snprintf(id, sizeof id, "%s%06ld", prefix, i);
        if (flaws && roll < 0.025) {
            t.age = s_unit(rng) < 0.5 ? -1 : 140 + (int) (s_unit(rng) * 60);
        }
        s_write_row(out, flaws && roll >= 0.025 && roll < 0.035 ? "" : id, &t);
        positives += t.label;
        prev = t;
        memcpy(prev_id, id, sizeof id);
    }
    return positives;
}

static int
s_write_file(
    const char *path, rng_t *rng, long rows, const char *prefix, int flaws)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        fprintf(stderr, "ingest: cannot write '%s'\n", path);
        return -1;
    }
    long positives = s_generate(out, rng, rows, prefix, flaws);
    if (fclose(out) != 0) {
        fprintf(stderr, "ingest: cannot write '%s'\n", path);
        return -1;
    }
    printf("ingest: wrote %ld rows to %s (%.1f%% fraud)\n", rows, path,
           100.0 * (double) positives / (double) rows);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *date = NULL, *out = NULL, *holdout = NULL, *batch = NULL;
    long rows = 5000, holdout_rows = 1000, batch_rows = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--date") == 0) {
            date = argv[i + 1];
        } else if (strcmp(argv[i], "--out") == 0) {
            out = argv[i + 1];
        } else if (strcmp(argv[i], "--rows") == 0) {
            rows = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "--holdout") == 0) {
            holdout = argv[i + 1];
        } else if (strcmp(argv[i], "--holdout-rows") == 0) {
            holdout_rows = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "--batch") == 0) {
            batch = argv[i + 1];
        } else if (strcmp(argv[i], "--batch-rows") == 0) {
            batch_rows = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "--shift") == 0) {
            s_shift = atof(argv[i + 1]);
        }
    }
    if (!date || !out || rows < 1 || holdout_rows < 1 || batch_rows < 1 ||
        s_shift < 0 || s_shift > 1) {
        fprintf(stderr, "usage: ingest --date YYYY-MM-DD --out FILE "
                        "[--rows N] [--shift 0..1] [--holdout FILE "
                        "--holdout-rows N] [--batch FILE --batch-rows N]\n");
        return 2;
    }
    rng_t rng = {s_seed(date)};
    printf("ingest: logical date %s, seed %016llx, shift %.2f\n", date,
           (unsigned long long) rng.state, s_shift);
    if (s_write_file(out, &rng, rows, "t", 1) != 0) {
        return 1;
    }
    if (holdout && s_write_file(holdout, &rng, holdout_rows, "h", 0) != 0) {
        return 1;
    }
    if (batch && s_write_file(batch, &rng, batch_rows, "b", 0) != 0) {
        return 1;
    }
    return 0;
}
