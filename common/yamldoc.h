/* yamldoc — a small YAML document tree that remembers where each node was.
 *
 * Built from libyaml's event API so that hostile input stays bounded: aliases
 * are refused outright, nesting is capped, and only one document is read.
 * DAG files and config.yaml both go through here, so their errors point at
 * the same line and column. */
#ifndef SLUICE_YAMLDOC_H
#define SLUICE_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errbuf.h"

typedef enum {
    YAMLDOC_SCALAR,
    YAMLDOC_MAP,
    YAMLDOC_SEQ,
} yamldoc_type_t;

typedef struct yamldoc_node_t yamldoc_node_t;

/* A node; the tree owns every field. Plain data, read directly. */
struct yamldoc_node_t {
    yamldoc_type_t type;
    size_t line;            /* 1-based */
    size_t col;             /* 1-based */
    char *value;            /* scalar text, NUL-terminated; NULL otherwise */
    bool plain;             /* scalar written without quotes */
    size_t count;           /* seq: items; map: key/value pairs */
    yamldoc_node_t **items; /* seq: count nodes; map: 2*count, key then value */
};

/* Parses text into a tree. Returns 0 with *root set (NULL for an empty
 * document), or -1 with err set to "what is wrong; what to do" and
 * line and col (1-based) naming the spot. */
int yamldoc_parse(const char *text,
                  size_t size,
                  size_t max_depth,
                  yamldoc_node_t **root,
                  size_t *line,
                  size_t *col,
                  errbuf_t *err);

void yamldoc_destroy(yamldoc_node_t **self_p);

/* True for a plain "", "~", "null" or "Null" scalar: YAML's null. */
bool yamldoc_is_null(const yamldoc_node_t *node);

/* "a string", "a mapping", "a sequence" or "empty", for messages. */
const char *yamldoc_type_name(const yamldoc_node_t *node);

/* The candidate closest to word by edit distance, or NULL when none is
 * close enough to be a likely typo. Borrowed from candidates. */
const char *
yamldoc_suggest(const char *word, const char *const *candidates, size_t n);

#endif
