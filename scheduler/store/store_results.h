/* store_results — the small JSON results tasks write to $SLUICE_RESULT,
 * one per attempt (migration 15), for 'run show' and for the templates of
 * the tasks downstream.
 *
 * store_results.c. */
#ifndef SLUICE_STORE_RESULTS_H
#define SLUICE_STORE_RESULTS_H

#include <stdint.h>

#include "common/errbuf.h"
#include "scheduler/store/store.h"

/* Stores the result (JSON text, checked by the worker) of attempt
 * `attempt_id`; a result sent again replaces it. */
int store_results_put(store_t *self,
                      uint64_t attempt_id,
                      const char *json,
                      errbuf_t *err);

/* The result of attempt `attempt_id` into *out (owned; NULL when it left
 * none). */
int store_results_get(store_t *self,
                      uint64_t attempt_id,
                      char **out,
                      errbuf_t *err);

/* The result of the latest successful attempt of task `task_id` in run
 * `run_id` into *out (owned; NULL when no attempt succeeded or the one
 * that did left no result). */
int store_results_latest(store_t *self,
                         uint64_t run_id,
                         const char *task_id,
                         char **out,
                         errbuf_t *err);

#endif
