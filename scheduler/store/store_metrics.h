/* store_metrics — the metrics tasks report, the per-run cache and trigger
 * settings, the task cache, and the datasets that trigger DAGs.
 *
 * store_metrics.c. */
#ifndef SLUICE_STORE_METRICS_H
#define SLUICE_STORE_METRICS_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dag.h"
#include "scheduler/store/store.h"

/* Stores the metrics of attempt `attempt_id` (a repeated name replaces). */
int store_metrics_put(store_t *self,
                      uint64_t attempt_id,
                      const char *const *names,
                      const double *values,
                      size_t n,
                      errbuf_t *err);

/* One task instance of a run with the metrics of its latest attempt (for a
 * skipped_cached task: of the attempt it reused). */
typedef struct {
    uint64_t run_id;
    const char *task_id;
    const char *state;
    int64_t created_at; /* of the run */
    const char *logical_date;
    uint64_t attempt_id; /* 0 when none */
    size_t nparams;
    dag_kv_t *params;
    size_t nmetrics;
    const char **names;
    double *values;
} store_metrics_row_t;

typedef int(store_metrics_fn)(void *arg, const store_metrics_row_t *row);

/* run_id != 0: every task of that run, by task id. Else task `task_id` of
 * DAG `dag` in its latest `limit` runs (0 = 20), newest first. fn may call
 * the store; rows are borrowed for the call. */
int store_metrics_list(store_t *self,
                       const char *dag,
                       const char *task_id,
                       uint64_t run_id,
                       uint32_t limit,
                       store_metrics_fn *fn,
                       void *arg,
                       errbuf_t *err);

/* Records whether a run skips its cache and which dataset version
 * triggered it ("" = none). */
int store_run_extras_put(store_t *self,
                         uint64_t run_id,
                         bool no_cache,
                         const char *triggered_by,
                         errbuf_t *err);

/* Reads them back (false and "" for a run without a row); either output
 * may be NULL. */
int store_run_extras_get(store_t *self,
                         uint64_t run_id,
                         bool *no_cache,
                         char *triggered_by,
                         size_t size,
                         errbuf_t *err);

/* Remembers that attempt `attempt_id` (task `task_id` of run `run_id`)
 * succeeded under cache key `key` and wrote `outputs` (lines of
 * "URI<TAB>SIZE<TAB>HASH"). */
int store_cache_put(store_t *self,
                    const char *key,
                    uint64_t attempt_id,
                    uint64_t run_id,
                    const char *task_id,
                    const char *outputs,
                    int64_t now,
                    errbuf_t *err);

/* Called for the entries of a key, newest first; returns non-zero to take
 * that entry. */
typedef int(store_cache_fn)(void *arg,
                            uint64_t attempt_id,
                            uint64_t run_id,
                            const char *outputs);

/* 1 when fn took an entry of `key`, 0 when none, -1 with err set. */
int store_cache_find(store_t *self,
                     const char *key,
                     store_cache_fn *fn,
                     void *arg,
                     errbuf_t *err);

/* Replaces the dataset URIs whose new versions trigger DAG `dag`. */
int store_dag_triggers_set(store_t *self,
                           const char *dag,
                           const char *const *uris,
                           size_t n,
                           errbuf_t *err);

/* Appends (owned copies of) the DAGs triggered by `uri` to dags. */
int store_dag_triggers_for(store_t *self,
                           const char *uri,
                           zlistx_t *dags,
                           errbuf_t *err);

#endif
