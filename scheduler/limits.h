/* limits — what holds a ready task back besides a worker: the DAG's
 * max_active_runs and max_active_tasks, a task's max_active, pools; and
 * the order ready tasks are offered to workers in (priority with aging).
 *
 * The planner tells limits what starts and stops (limits_run_moved,
 * limits_task_moved) and asks, for each ready task, whether it may start
 * now (limits_admit). Counts are of what the planner has in memory: a
 * task holds its slots while it is running, and plan_restore loads the
 * running tasks after a restart, so the counts come back with them. Pool
 * definitions are stored (store_pools.h) and cached here. */
#ifndef SLUICE_LIMITS_H
#define SLUICE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dag.h"
#include "common/errbuf.h"
#include "scheduler/state.h"
#include "scheduler/store/store.h"

typedef struct limits_t limits_t;
typedef struct prom_t prom_t;

/* Waiting this long raises a ready task's priority by one. */
#define LIMITS_AGING_MS 60000

/* One entry of the planner's ready queue. */
typedef struct {
    uint64_t run_id;
    size_t task;
    int32_t priority;    /* the task's own */
    bool backfill;       /* of a backfill run: after every other run's */
    int64_t queued_mono; /* when it was queued (monotonic ms) */
    uint64_t seq;        /* order of queueing, for ties */
    int64_t effective;   /* scratch for limits_order */
} limits_ready_t;

/* store is borrowed and must outlive the limits. */
limits_t *limits_new(store_t *store);

void limits_destroy(limits_t **self_p);

/* Reads the stored pools. */
int limits_pools_load(limits_t *self, errbuf_t *err);

/* Creates or changes a pool (stored and cached); a NULL description keeps
 * the stored one. */
int limits_pool_set(limits_t *self,
                    const char *name,
                    uint32_t slots,
                    const char *description,
                    int64_t now,
                    errbuf_t *err);

/* Removes a pool. Refused (-1 with err) while some of its slots are in
 * use, or when there is no such pool. */
int limits_pool_rm(limits_t *self, const char *name, errbuf_t *err);

/* True when the pool exists; its slots and the slots in use now. */
bool limits_pool_get(limits_t *self,
                     const char *name,
                     uint32_t *slots,
                     uint32_t *used);

/* Slots in use of `pool`, whether or not it exists (0 when none). */
uint32_t limits_pool_used(limits_t *self, const char *pool);

/* Calls fn for every pool defined: its slots and the slots in use. */
typedef void(limits_pool_fn)(void *arg,
                             const char *pool,
                             uint32_t slots,
                             uint32_t used);

void limits_pool_each(limits_t *self, limits_pool_fn *fn, void *arg);

/* A run of `dag` appeared in memory in `state` (created, or loaded).
 * Queued runs start in order of creation, backfill runs after the others. */
void limits_run_added(limits_t *self,
                      const char *dag,
                      uint64_t run_id,
                      bool backfill,
                      run_state_t state);

/* A run moved from one state to another. */
void limits_run_moved(limits_t *self,
                      const char *dag,
                      uint64_t run_id,
                      bool backfill,
                      run_state_t from,
                      run_state_t to);

/* A task of `dag` moved from one state to another: entering running
 * takes its counts and pool slots, leaving running gives them back. */
void limits_task_moved(limits_t *self,
                       const char *dag,
                       const dag_task_t *task,
                       task_state_t from,
                       task_state_t to);

/* What is active over every DAG, for the metrics. */
typedef struct {
    uint32_t in_flight;    /* tasks dispatched or running */
    uint32_t runs_queued;  /* runs not started */
    uint32_t runs_running; /* runs started, not final */
} limits_totals_t;

limits_totals_t limits_totals(const limits_t *self);

/* Tells prom (borrowed, must outlive the limits; NULL: none) of every task
 * and run that reaches a final state from now on. */
void limits_set_prom(limits_t *self, prom_t *prom);

/* Runs of `dag` running now, and tasks of it running now. */
uint32_t limits_dag_runs(limits_t *self, const char *dag);

uint32_t limits_dag_tasks(limits_t *self, const char *dag);

/* Whether `task` of run `run_id` of `dag` may start now. `run_queued`:
 * the run has not started yet (max_active_runs applies, in order of
 * creation). When it may not, writes why into `why` ("pool 'gpu' 2/2
 * in use") and returns false. */
bool limits_admit(limits_t *self,
                  const dag_t *dag,
                  uint64_t run_id,
                  bool run_queued,
                  const dag_task_t *task,
                  char *why,
                  size_t size);

/* A task's priority after waiting: priority + whole LIMITS_AGING_MS
 * periods since it was queued. */
int64_t limits_effective(int32_t priority, int64_t queued_mono, int64_t now);

/* Whether ready entry x goes before y at now_mono: other runs' before
 * backfill runs', then higher effective priority, then queued earlier,
 * then queued first (limits_order's order, one pair at a time). */
bool limits_ready_before(const limits_ready_t *x,
                         const limits_ready_t *y,
                         int64_t now_mono);

/* Sorts ready entries: other runs' before backfill runs', then higher
 * effective priority first, then queued earlier, then queued first.
 * Leaves them as they are (and returns false) when every entry has the
 * same own priority and kind of run: then the queue order is already
 * oldest first, and aging changes nothing. */
bool limits_order(limits_ready_t *entries, size_t n, int64_t now_mono);

#endif
