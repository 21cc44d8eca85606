/* tmpl — the "{{ name }}" templating used in DAG strings.
 *
 * Names: run_id, ds, task_id, attempt, params.NAME, ... (the caller's
 * lookup decides which exist). Whitespace inside the braces is optional.
 * A reference may carry one filter, "{{ params.x | raw }}": the value goes
 * into a shell command as it is, unquoted (scheduler/render.c); elsewhere
 * values are always inserted as they are. Text outside braces is copied
 * unchanged. */
#ifndef SLUICE_TMPL_H
#define SLUICE_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errbuf.h"

/* One "{{ name }}" in a text. */
typedef struct {
    const char *name; /* "params.greeting"; borrowed for the callback */
    bool raw;         /* written "{{ name | raw }}" */
    size_t offset;    /* byte offset of its "{{" in the text */
} tmpl_ref_t;

/* Returns the value for a name ("ds", "params.greeting"), borrowed, or NULL
 * when the name is unknown. */
typedef const char *(tmpl_lookup_fn) (void *arg, const char *name);

/* Renders text. Caller owns the result. NULL with err set ("unknown
 * template name 'params.x'") when a name does not resolve or braces are
 * unbalanced. */
char *
tmpl_render(const char *text, tmpl_lookup_fn *lookup, void *arg, errbuf_t *err);

/* Walks text in order: fn gets each run of literal text (len may be 0)
 * followed by the reference after it, and a last call with ref NULL for the
 * text after the last reference. A non-zero return from fn stops the walk
 * and is returned; -1 with err set when the text is malformed. */
typedef int(tmpl_piece_fn)(void *arg,
                           const char *text,
                           size_t len,
                           const tmpl_ref_t *ref,
                           errbuf_t *err);

int tmpl_walk(const char *text, tmpl_piece_fn *fn, void *arg, errbuf_t *err);

/* Calls fn for each reference in text, for validation. Returns -1 (err
 * set) when the text is malformed. */
typedef void(tmpl_ref_fn)(void *arg, const tmpl_ref_t *ref);

int tmpl_scan(const char *text, tmpl_ref_fn *fn, void *arg, errbuf_t *err);

#endif
