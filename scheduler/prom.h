/* prom — the scheduler's Prometheus metrics: a registry the loop updates
 * and the HTTP server's threads read at the same time, and its text
 * exposition (format 0.0.4).
 *
 * Every value is a C11 atomic updated with relaxed order, so the loop never
 * waits for a scrape and a scrape never takes a lock: a scrape may see one
 * metric a moment before another (as any scrape of a live process does),
 * never a torn value. Label sets are bounded: states, causes and drop
 * reasons are enums of the code; pools are names, kept in a table of
 * PROM_POOLS_MAX whose registration alone takes a mutex.
 *
 * All update calls accept a NULL registry and do nothing, so that a plan or
 * limits built without one (tests, tools) need no checks. */
#ifndef SLUICE_PROM_H
#define SLUICE_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/state.h"

typedef struct prom_t prom_t;

/* Counters and gauges; the label each one has is in prom.c's table. */
typedef enum {
    PROM_TASKS_FINISHED,      /* counter {state}: task_state_t, final ones */
    PROM_ATTEMPTS_FAILED,     /* counter {cause}: prom_cause_t */
    PROM_RUNS_FINISHED,       /* counter {state}: run_state_t, final ones */
    PROM_MESSAGES_DROPPED,    /* counter {reason}: -ENV_E* code, 0 = other */
    PROM_AUTOSCALER_LAUNCHES, /* counter */
    PROM_AUTOSCALER_LAUNCH_FAILURES, /* counter */
    PROM_ALERTS_SENT,                /* counter */
    PROM_ALERTS_FAILED,              /* counter: tries that failed */
    PROM_RUNS,              /* gauge {state}: RUN_QUEUED, RUN_RUNNING */
    PROM_TASKS_QUEUED,      /* gauge */
    PROM_TASKS_RUNNING,     /* gauge: dispatched or running */
    PROM_WORKERS,           /* gauge {state}: fleet_state_t */
    PROM_WORKER_SLOTS,      /* gauge: slots of connected workers */
    PROM_WORKER_SLOTS_FREE, /* gauge: ... free as last reported */
    PROM_METRIC_COUNT
} prom_metric_t;

/* Why an attempt failed: the causes retry_on names, and the two a lost
 * attempt has. */
typedef enum {
    PROM_CAUSE_EXIT = 0,
    PROM_CAUSE_SIGNAL,
    PROM_CAUSE_OOM,
    PROM_CAUSE_TIMEOUT,
    PROM_CAUSE_SPAWN,
    PROM_CAUSE_CANCELLED,
    PROM_CAUSE_LOST,
    PROM_CAUSE_REFUSED,
    PROM_CAUSE_OTHER,
    PROM_CAUSE_COUNT
} prom_cause_t;

/* Drop reasons past the ENV_E* codes (prom_drop): a message of an
 * admitted worker that tried to act for another worker (sched_identity). */
#define PROM_DROP_NOT_OWN      8 /* about another worker's attempt */
#define PROM_DROP_NAME_REFUSED 9 /* a Register under a name not its own */

/* Histograms, observed in microseconds and shown in seconds. */
typedef enum {
    PROM_H_DISPATCH_LATENCY, /* a task queued (ready) -> sent to a worker */
    PROM_H_TASK_DURATION,    /* an attempt's run time, as its worker says */
    PROM_H_STORE_COMMIT,     /* one turn's commit */
    PROM_HIST_COUNT
} prom_hist_t;

/* Label values per labelled metric, at most; pools at most. */
#define PROM_LABELS_MAX 16
#define PROM_POOLS_MAX  64
#define PROM_POOL_NAME  128 /* longer pool names are not shown */

prom_t *prom_new(void);

void prom_destroy(prom_t **self_p);

/* Adds n to a counter (or a gauge); label is the metric's enum value, 0
 * for a metric without a label. An out-of-range label is counted as 0. */
void prom_add(prom_t *self, prom_metric_t metric, size_t label, int64_t n);

/* Sets a gauge, or a counter mirrored from a module that counts itself
 * (the autoscaler's launches). */
void prom_set(prom_t *self, prom_metric_t metric, size_t label, int64_t v);

/* The value now (tests, and the HTTP side). */
int64_t prom_get(const prom_t *self, prom_metric_t metric, size_t label);

/* A task moved from -> to: entering a final state counts it finished. */
void prom_task_moved(prom_t *self, task_state_t from, task_state_t to);

/* The same for a run. */
void prom_run_moved(prom_t *self, run_state_t from, run_state_t to);

/* An attempt failed with `cause` as stored ("exit", "lost"; NULL or an
 * unknown one counts as other). */
void prom_attempt_failed(prom_t *self, const char *cause);

/* A message was dropped with ENV_E* `code` (0 or unknown: other). */
void prom_drop(prom_t *self, int code);

/* Records one observation of `us` microseconds. */
void prom_observe(prom_t *self, prom_hist_t hist, uint64_t us);

/* Observations so far (tests). */
uint64_t prom_hist_count(const prom_t *self, prom_hist_t hist);

/* Monotonic microseconds, for timing an observation. */
uint64_t prom_clock_us(void);

/* Pools, published as a whole: begin, one prom_pool_set per pool that
 * exists now, end; a pool not set since the last begin is no longer
 * shown. prom_pool_set returns -1 (pool not shown) when the table is full
 * or the name longer than PROM_POOL_NAME - 1. Loop only. */
void prom_pools_begin(prom_t *self);

int
prom_pool_set(prom_t *self, const char *pool, uint32_t used, uint32_t slots);

void prom_pools_end(prom_t *self);

/* The whole registry as Prometheus text exposition format 0.0.4; caller
 * owns *text_out (NUL-terminated). Safe on any thread, at any time. Returns
 * its length. */
size_t prom_render(const prom_t *self, char **text_out);

/* Content type of prom_render's text, for the HTTP reply. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
