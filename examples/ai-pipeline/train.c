/* train — logistic regression by full-batch gradient descent.
 *
 * Reads "id,label,f1..fN" features, keeps every fifth row for validation,
 * and trains on the rest. Each epoch prints the training loss and the
 * validation accuracy. At the end it prints the validation accuracy beside
 * the majority-class baseline, writes the model (bias and weights, one per
 * line) and a metrics JSON, and exits 1 when the model does not beat the
 * baseline by --min-gain (default 0.02): a model no better than guessing
 * must not reach inference. Under sluice, $SLUICE_METRICS names a file for
 * the run's metrics: train writes accuracy, loss and the baseline there as
 * one JSON object, so `sluice metrics` can compare runs.
 *
 * usage: train --in FEATURES.csv --model MODEL.txt --metrics METRICS.json
 *              [--epochs N] [--lr RATE] [--min-gain FRACTION] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF     32
#define LINE_LEN 2048

typedef struct {
    double *x; /* count * nf values, owned */
    int *y;    /* count labels, owned */
    size_t count, cap;
    int nf;
    char names[LINE_LEN]; /* header after "id,label," */
} data_t;

static int
s_read_row(data_t *d, char *line)
{
    char *p = strchr(line, ',');
    if (!p) {
        return -1;
    }
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->x = realloc(d->x, d->cap * (size_t) d->nf * sizeof *d->x);
        d->y = realloc(d->y, d->cap * sizeof *d->y);
        if (!d->x || !d->y) {
            abort();
        }
    }
    d->y[d->count] = (int) strtol(p + 1, &p, 10);
    for (int j = 0; j < d->nf; j++) {
        if (*p != ',') {
            return -1;
        }
        d->x[d->count * (size_t) d->nf + (size_t) j] = strtod(p + 1, &p);
    }
    d->count++;
    return 0;
}

static int
s_read(const char *path, data_t *d)
{
    char line[LINE_LEN];
    FILE *in = fopen(path, "r");
    if (!in || !fgets(line, sizeof line, in) ||
        strncmp(line, "id,label,", 9) != 0) {
        fprintf(stderr, "train: '%s' is missing or not 'id,label,...'\n", path);
        return -1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    snprintf(d->names, sizeof d->names, "%s", line + 9);
    d->nf = 1;
    for (char *p = d->names; *p; p++) {
        d->nf += *p == ',';
    }
    if (d->nf > MAXF) {
        fprintf(stderr, "train: more than %d features\n", MAXF);
        return -1;
    }
    while (fgets(line, sizeof line, in)) {
        s_read_row(d, line);
    }
    fclose(in);
    return 0;
}

static double
s_score(const double *w, const double *x, int nf)
{
    double z = w[0];
    for (int j = 0; j < nf; j++) {
        z += w[j + 1] * x[j];
    }
    return 1.0 / (1.0 + exp(-z));
}

static int
s_is_val(size_t i)
{
    return i % 5 == 4;
}

/* Accuracy over the validation rows (train = 0) or the training rows. */
static double
s_accuracy(const data_t *d, const double *w, int val)
{
    size_t right = 0, n = 0;
    for (size_t i = 0; i < d->count; i++) {
        if (s_is_val(i) == val) {
            double p = s_score(w, d->x + i * (size_t) d->nf, d->nf);
            right += (p >= 0.5) == d->y[i];
            n++;
        }
    }
    return n ? (double) right / (double) n : 0;
}

/* One gradient step on the training rows; returns the log loss before it. */
static double
s_step(const data_t *d, double *w, double lr)
{
    double grad[MAXF + 1] = {0}, loss = 0;
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++) {
        if (s_is_val(i)) {
            continue;
        }
        const double *x = d->x + i * (size_t) d->nf;
        double p = s_score(w, x, d->nf), e = p - d->y[i];
        loss -= d->y[i] ? log(p + 1e-12) : log(1 - p + 1e-12);
        grad[0] += e;
        for (int j = 0; j < d->nf; j++) {
            grad[j + 1] += e * x[j];
        }
        n++;
    }
    for (int j = 0; j <= d->nf; j++) {
        w[j] -= lr * grad[j] / (double) n;
    }
    return loss / (double) n;
}

static double
s_baseline(const data_t *d)
{
    size_t pos = 0, n = 0;
    for (size_t i = 0; i < d->count; i++) {
        if (s_is_val(i)) {
            pos += d->y[i];
            n++;
        }
    }
    double share = n ? (double) pos / (double) n : 0;
    return share > 0.5 ? share : 1 - share;
}

static int
s_save(const char *model,
       const char *metrics,
       const data_t *d,
       const double *w,
       double loss,
       double acc,
       double base,
       int epochs)
{
    FILE *m = fopen(model, "w");
    FILE *j = fopen(metrics, "w");
    if (!m || !j) {
        fprintf(stderr, "train: cannot write '%s'\n", m ? metrics : model);
        return -1;
    }
    fprintf(m,
            "# logistic regression: bias, then one weight per feature "
            "(%s)\n%d\n",
            d->names, d->nf);
    for (int k = 0; k <= d->nf; k++) {
        fprintf(m, "%.10g\n", w[k]);
    }
    fprintf(j,
            "{\"rows\": %zu, \"features\": %d, \"epochs\": %d, "
            "\"loss\": %.6f, \"val_accuracy\": %.4f, "
            "\"baseline_accuracy\": %.4f}\n",
            d->count, d->nf, epochs, loss, acc, base);
    return (fclose(m) == 0) & (fclose(j) == 0) ? 0 : -1;
}

/* The metrics sluice stores for this attempt, when it asks for them. */
static int
s_sluice_metrics(double loss, double acc, double base, size_t rows)
{
    const char *path = getenv("SLUICE_METRICS");
    if (!path || !*path) {
        return 0;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "train: cannot write $SLUICE_METRICS '%s'\n", path);
        return -1;
    }
    fprintf(f,
            "{\"accuracy\": %.4f, \"loss\": %.6f, "
            "\"baseline_accuracy\": %.4f, \"rows\": %zu}\n",
            acc, loss, base, rows);
    return fclose(f) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    const char *in = NULL, *model = NULL, *metrics = NULL;
    int epochs = 40;
    double lr = 1.0, min_gain = 0.02;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--in") == 0) {
            in = argv[i + 1];
        } else if (strcmp(argv[i], "--model") == 0) {
            model = argv[i + 1];
        } else if (strcmp(argv[i], "--metrics") == 0) {
            metrics = argv[i + 1];
        } else if (strcmp(argv[i], "--epochs") == 0) {
            epochs = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--lr") == 0) {
            lr = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--min-gain") == 0) {
            min_gain = atof(argv[i + 1]);
        }
    }
    if (!in || !model || !metrics || epochs < 1) {
        fprintf(stderr, "usage: train --in FEATURES.csv --model MODEL.txt "
                        "--metrics METRICS.json [--epochs N] [--lr RATE] "
                        "[--min-gain FRACTION]\n");
        return 2;
    }
    data_t d = {0};
    if (s_read(in, &d) != 0 || d.count < 10) {
        fprintf(stderr, "train: too few rows in '%s'\n", in);
        free(d.x);
        free(d.y);
        return 1;
    }
    printf("train: %zu rows, %d features, %d epochs, learning rate %g\n",
           d.count, d.nf, epochs, lr);
    double w[MAXF + 1] = {0}, loss = 0;
    for (int e = 1; e <= epochs; e++) {
        loss = s_step(&d, w, lr);
        printf("epoch %3d  loss %.4f  train_acc %.4f  val_acc %.4f\n", e, loss,
               s_accuracy(&d, w, 0), s_accuracy(&d, w, 1));
        fflush(stdout); /* so `sluice logs -f` shows progress as it comes */
    }
    double acc = s_accuracy(&d, w, 1), base = s_baseline(&d);
    printf("train: validation accuracy %.4f, majority-class baseline %.4f "
           "(+%.1f points)\n",
           acc, base, 100 * (acc - base));
    int rc = 0;
    if (s_save(model, metrics, &d, w, loss, acc, base, epochs) != 0 ||
        s_sluice_metrics(loss, acc, base, d.count) != 0) {
        rc = 1;
    } else if (acc < base + min_gain) {
        fprintf(stderr,
                "train: accuracy %.4f does not beat the baseline "
                "%.4f by %.2f; check the features\n",
                acc, base, min_gain);
        rc = 1;
    }
    free(d.x);
    free(d.y);
    if (rc == 0) {
        printf("train: wrote %s and %s\n", model, metrics);
    }
    return rc;
}
