/* store_alerts — the routes of applied DAGs and the alert delivery queue
 * (migration 12).
 *
 * An alert is queued in the transaction of the state change that causes it,
 * once per (run, task, kind, target): a second insert is ignored. The
 * delivery thread never sees the store; the loop reads what is due and
 * writes each outcome back. store_alerts.c. */
#ifndef SLUICE_STORE_ALERTS_H
#define SLUICE_STORE_ALERTS_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/dag.h"
#include "scheduler/store/store.h"

/* Replaces what dag's applied file says about alerts: its routes, its
 * expect (both: the current version's), its tasks' sla and its deadline
 * (kept per version: a run keeps its version's). */
int store_alert_dag_put(store_t *self,
                        const char *dag,
                        const dag_t *file,
                        errbuf_t *err);

/* Appends to targets (owned strings) the targets of dag's routes whose
 * events include kind_bit; *has_routes: the DAG has any route at all. */
int store_alert_routes_get(store_t *self,
                           const char *dag,
                           unsigned kind_bit,
                           zlistx_t *targets,
                           bool *has_routes,
                           errbuf_t *err);

/* A time rule missed, found by store_alert_sla_misses (strings valid
 * during the call). */
typedef struct {
    uint64_t run_id;
    const char *dag;
    const char *task_id; /* "" for the run */
    const char *logical_date;
    uint64_t limit_ms; /* the sla or deadline */
} store_miss_t;

typedef int(store_miss_fn)(void *arg, const store_miss_t *miss);

/* Tasks of running runs that are not done (pending, queued, running,
 * up_for_retry) `sla` after their run started, at `now`, and not yet
 * recorded as missed. */
int store_alert_sla_misses(
    store_t *self, int64_t now, store_miss_fn *fn, void *arg, errbuf_t *err);

/* Runs past their `deadline`: with run_id 0, the queued and running runs
 * whose interval ended `deadline` before now; else that run, when it
 * ended after its deadline. Not yet recorded ones only; task_id is "". */
int store_alert_deadline_misses(store_t *self,
                                int64_t now,
                                uint64_t run_id,
                                store_miss_fn *fn,
                                void *arg,
                                errbuf_t *err);

/* *has: some version of dag has a `deadline`. */
int store_alert_has_deadline(store_t *self,
                             const char *dag,
                             bool *has,
                             errbuf_t *err);

/* Every DAG with `expect: {success_by}`. */
typedef int(store_expect_fn)(void *arg,
                             const char *dag,
                             const char *success_by);

int store_alert_expects(store_t *self,
                        store_expect_fn *fn,
                        void *arg,
                        errbuf_t *err);

/* True in *seen when a miss is recorded under `dedupe`. */
int store_alert_missed(store_t *self,
                       const char *dedupe,
                       bool *seen,
                       errbuf_t *err);

/* Records a miss under `dedupe`; *first: this is the first time. */
int store_alert_miss(
    store_t *self, const char *dedupe, int64_t now, bool *first, errbuf_t *err);

/* One queued alert. Strings borrowed from the caller (add) or from the
 * statement (the callbacks: valid during the call). */
typedef struct {
    uint64_t id; /* row id; set by the store */
    const char *uid;
    const char *dag;
    uint64_t run_id;
    const char *task_id;
    const char *kind;
    const char *target;
    const char *body;                     /* what is sent, as is */
    const char *state;                    /* pending, sent, failed */
    uint32_t tries;                       /* failed deliveries so far */
    int64_t created_at, next_at, sent_at; /* wall ms */
    const char *error;                    /* the last delivery error */
    const char *dedupe; /* add: one alert per key and target; NULL =
                           "RUN/TASK/KIND" */
} store_alert_t;

typedef int(store_alert_fn)(void *arg, const store_alert_t *alert);

/* Queues an alert due now; *added false when (dedupe key, target) already
 * had one. */
int store_alert_add(store_t *self,
                    const store_alert_t *alert,
                    int64_t now,
                    bool *added,
                    errbuf_t *err);

/* Pending alerts due at `now`, oldest first, at most `max`. */
int store_alerts_due(store_t *self,
                     int64_t now,
                     size_t max,
                     store_alert_fn *fn,
                     void *arg,
                     errbuf_t *err);

/* The earliest next_at of a pending alert, or -1 when none. */
int store_alerts_next(store_t *self, int64_t *next_at, errbuf_t *err);

/* Records a delivery: sent; or failed again with `error`, retried at
 * next_at (0: given up, state failed). */
int store_alert_outcome(store_t *self,
                        uint64_t id,
                        bool sent,
                        const char *error,
                        int64_t next_at,
                        int64_t now,
                        errbuf_t *err);

/* Puts an alert off to next_at without counting a try (rate limit). */
int
store_alert_defer(store_t *self, uint64_t id, int64_t next_at, errbuf_t *err);

/* The newest alerts first, at most max; failed_only: those whose last
 * delivery failed (still retried or given up). */
int store_alerts_list(store_t *self,
                      bool failed_only,
                      size_t max,
                      store_alert_fn *fn,
                      void *arg,
                      errbuf_t *err);

/* What an event says about an attempt; strings owned (free with
 * store_alert_ctx_clear). */
typedef struct {
    uint64_t run_id;
    char *task_id;
    uint32_t number;  /* attempt, 1-based */
    char *task_state; /* after the result was applied */
    char *run_state;
    char *logical_date;
    char *cause; /* exit, oom, timeout, ...; "" on success */
    char *error; /* the attempt's error text */
    int32_t exit_code;
} store_alert_ctx_t;

int store_alert_ctx(store_t *self,
                    uint64_t attempt_id,
                    store_alert_ctx_t *ctx,
                    errbuf_t *err);

void store_alert_ctx_clear(store_alert_ctx_t *ctx);

/* The last ALERT_LOG_LINES lines of an attempt's log (owned, "" when
 * none). */
int store_alert_log_tail(store_t *self,
                         uint64_t attempt_id,
                         char **log,
                         errbuf_t *err);

#endif
