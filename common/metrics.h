/* metrics — the numbers a task reports about itself.
 *
 * A task writes one flat JSON object to the file named by $SLUICE_METRICS,
 * e.g. {"accuracy": 0.93, "loss": 0.21}. The worker reads it after the task
 * ends, keeps the members whose values are finite numbers and sends them in
 * its Result. Everything here is bounded: the file, the names, the count. */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>

#include "common/errbuf.h"

#define METRICS_FILE      "metrics.json" /* in the attempt's work dir */
#define METRICS_MAX_BYTES (64 * 1024)    /* a larger file is ignored */
#define METRICS_MAX_COUNT 256            /* members kept at most */
#define METRICS_NAME_MAX  128            /* bytes of a name, longer: skipped */

typedef struct {
    char name[METRICS_NAME_MAX + 1];
    double value;
} metric_t;

/* Parses a JSON object of text[0..size) into out (room for max entries):
 * members whose values are numbers are kept in file order (a repeated name
 * keeps its last value); strings, booleans, null, arrays and objects are
 * skipped. Returns the count kept, or -1 with err set when the text is not
 * one JSON object. */
int metrics_parse(
    const char *text, size_t size, metric_t *out, size_t max, errbuf_t *err);

/* Reads and parses the metrics file at path without following a symlink
 * (a task must not make the worker read another file) and only when it is
 * a regular file of at most METRICS_MAX_BYTES. Returns the count (0 when
 * there is no file), or -1 with err set. */
int
metrics_read_file(const char *path, metric_t *out, size_t max, errbuf_t *err);

#endif
