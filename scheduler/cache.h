/* cache — task caching: the cache key of a task
 * instance and whether a cached attempt's outputs are still there.
 *
 * The key is BLAKE2b-256 over the rendered command, a canonical
 * serialization of the task's definition (id, kind, run, env, inputs,
 * outputs, validate) and the content hash of each declared input
 * (common/datahash: the same BLAKE2b-256 the workers record as lineage),
 * read on the scheduler host: inputs must be on a file system the
 * scheduler sees, and hashing costs about 1 s per GB in the scheduler's
 * loop. A missing input hashes as "missing", so the key changes when it
 * appears. A cached attempt is reused only while its outputs still have
 * the hashes they had when it succeeded. */
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
 * one "URI\tHASH" line per output ("missing", or "remote" when it cannot
 * be read from here). Caller owns the text. */
char *cache_outputs_describe(char *const *outputs, size_t noutputs);

/* True when every output of `described` still has its recorded hash
 * (a remote one is trusted). */
bool cache_outputs_ok(const char *described);

#endif
