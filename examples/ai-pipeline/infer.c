/* infer — scores a features file with a trained model.
 *
 * Writes predictions.csv ("id,score,prediction,label") and a summary JSON
 * with the number scored, the predicted fraud share and, since the hold-out
 * set carries labels, the accuracy on it.
 *
 * usage: infer --model MODEL.txt --in FEATURES.csv --out PREDICTIONS.csv
 *              [--summary SUMMARY.json] [--threshold P] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF     32
#define LINE_LEN 2048

typedef struct {
    long rows, flagged, labelled, right;
} tally_t;

static int
s_load_model(const char *path, double *w, int *nf)
{
    FILE *f = fopen(path, "r");
    char line[LINE_LEN];
    if (!f || !fgets(line, sizeof line, f) || fscanf(f, "%d", nf) != 1 ||
        *nf < 1 || *nf > MAXF) {
        fprintf(stderr, "infer: model '%s' is missing or malformed\n", path);
        return -1;
    }
    for (int j = 0; j <= *nf; j++) {
        if (fscanf(f, "%lf", &w[j]) != 1) {
            fprintf(stderr, "infer: model '%s' is truncated\n", path);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* Scores one "id,label,f1..fN" line into out; -1 when malformed. */
static int
s_score_line(char *line,
             const double *w,
             int nf,
             double threshold,
             FILE *out,
             tally_t *t)
{
    char *p = strchr(line, ',');
    if (!p) {
        return -1;
    }
    *p = '\0';
    long label = strtol(p + 1, &p, 10);
    double z = w[0];
    for (int j = 0; j < nf; j++) {
        if (*p != ',') {
            return -1;
        }
        z += w[j + 1] * strtod(p + 1, &p);
    }
    double score = 1.0 / (1.0 + exp(-z));
    int pred = score >= threshold;
    fprintf(out, "%s,%.4f,%d,%ld\n", line, score, pred, label);
    t->rows++;
    t->flagged += pred;
    t->labelled++;
    t->right += pred == label;
    return 0;
}

static int
s_run(const char *in_path,
      const char *out_path,
      const double *w,
      int nf,
      double threshold,
      tally_t *t)
{
    char line[LINE_LEN];
    FILE *in = fopen(in_path, "r");
    if (!in || !fgets(line, sizeof line, in)) {
        fprintf(stderr, "infer: cannot read '%s'\n", in_path);
        return -1;
    }
    FILE *out = fopen(out_path, "w");
    if (!out) {
        fprintf(stderr, "infer: cannot write '%s'\n", out_path);
        fclose(in);
        return -1;
    }
    fprintf(out, "id,score,prediction,label\n");
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = '\0';
        s_score_line(line, w, nf, threshold, out, t);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    const char *model = NULL, *in = NULL, *out = NULL, *summary = NULL;
    double threshold = 0.5, w[MAXF + 1];
    int nf = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char **slot = strcmp(argv[i], "--model") == 0     ? &model
                            : strcmp(argv[i], "--in") == 0      ? &in
                            : strcmp(argv[i], "--out") == 0     ? &out
                            : strcmp(argv[i], "--summary") == 0 ? &summary
                                                                : NULL;
        if (slot) {
            *slot = argv[i + 1];
        } else if (strcmp(argv[i], "--threshold") == 0) {
            threshold = atof(argv[i + 1]);
        }
    }
    if (!model || !in || !out) {
        fprintf(stderr, "usage: infer --model MODEL.txt --in FEATURES.csv "
                        "--out PREDICTIONS.csv [--summary FILE.json] "
                        "[--threshold P]\n");
        return 2;
    }
    tally_t t = {0};
    if (s_load_model(model, w, &nf) != 0 ||
        s_run(in, out, w, nf, threshold, &t) != 0 || t.rows == 0) {
        return 1;
    }
    double acc = t.labelled ? (double) t.right / (double) t.labelled : 0;
    printf("infer: scored %ld rows, flagged %ld as fraud (%.1f%%), "
           "hold-out accuracy %.4f; wrote %s\n",
           t.rows, t.flagged, 100.0 * (double) t.flagged / (double) t.rows, acc,
           out);
    FILE *s = summary ? fopen(summary, "w") : NULL;
    if (s) {
        fprintf(s, "{\"rows\": %ld, \"flagged\": %ld, \"accuracy\": %.4f}\n",
                t.rows, t.flagged, acc);
        fclose(s);
    }
    return 0;
}
