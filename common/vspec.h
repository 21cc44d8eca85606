/* vspec — the checks of a `validate:` task.
 *
 * The scheduler parses the block when it reads the DAG file and sends it to
 * the worker as canonical JSON text (after templating); the worker parses
 * that text again with the same code, so both sides agree on what is valid.
 * A parsed vspec_t is plain data, read directly by the validator. */
#ifndef SLUICE_VSPEC_H
#define SLUICE_VSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "common/yamldoc.h"

typedef enum {
    VSPEC_ANY = 0, /* not in the schema */
    VSPEC_STRING,
    VSPEC_INT,
    VSPEC_FLOAT,
    VSPEC_BOOL,
    VSPEC_DATE, /* YYYY-MM-DD or an RFC 3339 timestamp */
} vspec_type_t;

/* Everything asked of one column; every string owned by the spec. */
typedef struct {
    char *name;
    vspec_type_t type;
    bool in_schema;
    bool required; /* must be present and non-empty */
    bool has_range;
    double min, max; /* inclusive, when has_range */
    size_t nallowed;
    char **allowed;
    bool unique;
    char *ref_dataset; /* references: another dataset's file; NULL = none */
    char *ref_column;
    bool drift; /* numeric column compared with the previous version */
} vspec_column_t;

typedef struct {
    char *format; /* "csv" or "jsonl"; NULL: from the file name */
    bool has_schema;
    size_t ncolumns;
    vspec_column_t *columns; /* owned; every column named anywhere */
    char *fresh_column;      /* freshness: NULL = no check */
    uint64_t fresh_max_age_ms;
    double psi_max;        /* drift: PSI above this fails (default 0.2) */
    double mean_shift_max; /* drift: |Welch z| of the mean above this
                              fails (default 3.0) */
    double max_bad_ratio;  /* share of bad rows tolerated (default 0) */
} vspec_t;

/* Checks a `validate:` node and returns its canonical JSON text (caller
 * owns it), or NULL with err and *line, *col naming the spot. */
char *vspec_canonical(const yamldoc_node_t *node,
                      size_t *line,
                      size_t *col,
                      errbuf_t *err);

/* Parses canonical (or any YAML/JSON) text of a block. NULL with err. */
vspec_t *vspec_parse(const char *text, errbuf_t *err);

void vspec_destroy(vspec_t **self_p);

/* The column named `name`, or NULL. */
const vspec_column_t *vspec_column(const vspec_t *self, const char *name);

/* "int", "float", ... */
const char *vspec_type_name(vspec_type_t type);

#endif
