/* evaluate — scores a labelled hold-out set and gates the model on it.
 *
 * Reads a model written by `train` and "id,label,f1..fN" features of rows
 * the model never saw, and reports accuracy, precision, recall, log loss and
 * the majority-class baseline. Writes them to --metrics and, under sluice,
 * to the file $SLUICE_METRICS names, as one JSON object. Exits 1 when the
 * accuracy is under --min-accuracy (default 0.80): a model that fails its
 * exam does not reach batch inference.
 *
 * usage: evaluate --model MODEL.txt --in FEATURES.csv
 *                 [--metrics FILE.json] [--min-accuracy FRACTION] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF     32
#define LINE_LEN 2048

typedef struct {
    long rows, positives, tp, fp, fn, right;
    double log_loss;
} score_t;

static int
s_load_model(const char *path, double *w, int *nf)
{
    char line[LINE_LEN];
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "evaluate: cannot read model '%s'\n", path);
        return -1;
    }
    int ok = fgets(line, sizeof line, f) && fscanf(f, "%d", nf) == 1 &&
             *nf >= 1 && *nf <= MAXF;
    for (int j = 0; ok && j <= *nf; j++) {
        ok = fscanf(f, "%lf", &w[j]) == 1;
    }
    fclose(f);
    if (!ok) {
        fprintf(stderr, "evaluate: model '%s' is malformed\n", path);
        return -1;
    }
    return 0;
}

/* Adds one "id,label,f1..fN" line to the tally; -1 when malformed. */
static int
s_score_line(const char *line, const double *w, int nf, score_t *s)
{
    const char *c = strchr(line, ',');
    if (!c) {
        return -1;
    }
    char *p;
    long label = strtol(c + 1, &p, 10);
    double z = w[0];
    for (int j = 0; j < nf; j++) {
        if (*p != ',') {
            return -1;
        }
        z += w[j + 1] * strtod(p + 1, &p);
    }
    double prob = 1.0 / (1.0 + exp(-z));
    int pred = prob >= 0.5;
    s->rows++;
    s->positives += label == 1;
    s->right += pred == label;
    s->tp += pred && label == 1;
    s->fp += pred && label != 1;
    s->fn += !pred && label == 1;
    s->log_loss -= label == 1 ? log(prob + 1e-12) : log(1 - prob + 1e-12);
    return 0;
}

static int
s_score_file(const char *path, const double *w, int nf, score_t *s)
{
    char line[LINE_LEN];
    FILE *in = fopen(path, "r");
    if (!in || !fgets(line, sizeof line, in) ||
        strncmp(line, "id,label,", 9) != 0) {
        fprintf(stderr, "evaluate: '%s' is missing or not 'id,label,...'\n",
                path);
        if (in) {
            fclose(in);
        }
        return -1;
    }
    long bad = 0;
    while (fgets(line, sizeof line, in)) {
        bad += s_score_line(line, w, nf, s) != 0;
    }
    fclose(in);
    if (bad) {
        fprintf(stderr, "evaluate: skipped %ld malformed lines\n", bad);
    }
    return 0;
}

static int
s_write_json(const char *path, const score_t *s)
{
    double n = (double) s->rows;
    double pos = (double) s->positives;
    double base = pos > n / 2 ? pos / n : 1 - pos / n;
    double precision = s->tp + s->fp ? (double) s->tp / (s->tp + s->fp) : 0;
    double recall = s->tp + s->fn ? (double) s->tp / (s->tp + s->fn) : 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "evaluate: cannot write '%s'\n", path);
        return -1;
    }
    fprintf(f,
            "{\"accuracy\": %.4f, \"precision\": %.4f, \"recall\": %.4f, "
            "\"log_loss\": %.6f, \"baseline_accuracy\": %.4f, "
            "\"rows\": %ld}\n",
            (double) s->right / n, precision, recall, s->log_loss / n, base,
            s->rows);
    return fclose(f) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    const char *model = NULL, *in = NULL, *metrics = NULL;
    double min_accuracy = 0.80, w[MAXF + 1];
    int nf = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--model") == 0) {
            model = argv[i + 1];
        } else if (strcmp(argv[i], "--in") == 0) {
            in = argv[i + 1];
        } else if (strcmp(argv[i], "--metrics") == 0) {
            metrics = argv[i + 1];
        } else if (strcmp(argv[i], "--min-accuracy") == 0) {
            min_accuracy = atof(argv[i + 1]);
        }
    }
    if (!model || !in) {
        fprintf(stderr, "usage: evaluate --model MODEL.txt --in FEATURES.csv "
                        "[--metrics FILE.json] [--min-accuracy FRACTION]\n");
        return 2;
    }
    score_t s = {0};
    if (s_load_model(model, w, &nf) != 0 || s_score_file(in, w, nf, &s) != 0) {
        return 1;
    }
    if (s.rows == 0) {
        fprintf(stderr, "evaluate: no rows in '%s'\n", in);
        return 1;
    }
    const char *sluice = getenv("SLUICE_METRICS");
    if ((metrics && s_write_json(metrics, &s) != 0) ||
        (sluice && *sluice && s_write_json(sluice, &s) != 0)) {
        return 1;
    }
    double acc = (double) s.right / (double) s.rows;
    printf("evaluate: %ld hold-out rows, accuracy %.4f (minimum %.2f), "
           "log loss %.4f, %ld true and %ld false alarms, %ld missed\n",
           s.rows, acc, min_accuracy, s.log_loss / (double) s.rows, s.tp, s.fp,
           s.fn);
    if (acc < min_accuracy) {
        fprintf(stderr,
                "evaluate: accuracy %.4f is under the minimum %.2f; the "
                "model does not go to inference\n",
                acc, min_accuracy);
        return 1;
    }
    return 0;
}
