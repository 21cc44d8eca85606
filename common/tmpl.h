/* tmpl — the "{{ name }}" templating used in DAG strings.
 *
 * Names: run_id, ds, task_id, attempt, params.NAME. Whitespace inside the
 * braces is optional. Text outside braces is copied unchanged. */
#ifndef SLUICE_TMPL_H
#define SLUICE_TMPL_H

#include <stddef.h>

#include "common/errbuf.h"

/* Returns the value for a name ("ds", "params.greeting"), borrowed, or NULL
 * when the name is unknown. */
typedef const char *(tmpl_lookup_fn) (void *arg, const char *name);

/* Renders text. Caller owns the result. NULL with err set ("unknown
 * template name 'params.x'") when a name does not resolve or braces are
 * unbalanced. */
char *
tmpl_render(const char *text, tmpl_lookup_fn *lookup, void *arg, errbuf_t *err);

/* Calls fn for each "{{ name }}" in text with the name and its byte offset,
 * for validation. Returns -1 (err set) on an unterminated "{{". */
typedef void(tmpl_name_fn)(void *arg, const char *name, size_t offset);

int tmpl_scan(const char *text, tmpl_name_fn *fn, void *arg, errbuf_t *err);

#endif
