/* cache — task caching (issue 5, part G): the cache key of a task
 * instance and whether a cached attempt's outputs are still there.
 *
 * The key is BLAKE2b-256 over the rendered command, a canonical
 * serialization of the task's definition (id, kind, run, env, inputs,
 * outputs, validate) and a fingerprint of each declared input. The
 * fingerprint is (uri, size, mtime) taken on the scheduler host: inputs
 * must be on a file system the scheduler sees (the fallback until input
 * hashes recorded by lineage can be used). A missing input gives a
 * fingerprint of its own, so the key still changes when it appears. */
#ifndef SLUICE_CACHE_H
#define SLUICE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/dag.h"

#define CACHE_KEY_HEX 65 /* 64 hex digits and a NUL */

/* The local path of a declared input or output: "file:///x" and "/x" give
 * "/x"; anything else (another scheme) gives NULL. Borrowed from uri. */
const char *cache_local_path(const char *uri);

/* Computes the key of task `def` rendered as `command` with the rendered
 * input uris into key (CACHE_KEY_HEX bytes). */
void cache_key(const dag_task_t *def,
               const char *command,
               char *const *inputs,
               size_t ninputs,
               char *key);

/* The outputs of a successful attempt as stored with its cache entry:
 * one "URI\tSIZE" line per output (SIZE -1 when it cannot be seen from
 * here). Caller owns the text. */
char *cache_outputs_describe(char *const *outputs, size_t noutputs);

/* True when every output line of `described` still exists with its size
 * (a size of -1: exists). */
bool cache_outputs_ok(const char *described);

#endif
