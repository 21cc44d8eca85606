/* store_runs — runs, their task instances and attempts as the scheduler
 * writes them, and how it reads the active ones back after a restart.
 *
 * store.c. */
#ifndef SLUICE_STORE_RUNS_H
#define SLUICE_STORE_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dag.h"
#include "scheduler/state.h"
#include "scheduler/store/store.h"

/* ---------------------------------------------------------------- runs */

/* Creates a run in state queued with its effective params (kept in their
 * own table, in order). Sets *run_id. */
int store_run_create(store_t *self,
                     const char *dag,
                     const char *version,
                     const dag_kv_t *params,
                     size_t nparams,
                     const char *logical_date,
                     const char *trigger,
                     int64_t now,
                     uint64_t *run_id,
                     errbuf_t *err);

/* Sets the run's state; started_at is set on running, ended_at on finals. */
int store_run_set_state(store_t *self,
                        uint64_t run_id,
                        run_state_t state,
                        int64_t now,
                        errbuf_t *err);

/* Records run_id's logical date and data interval [start, end) (wall ms)
 * and the zone its templates show them in. STORE_EEXISTS when DAG `dag`
 * already has a run with that logical date (the unique key: one run per
 * DAG and logical date). */
int store_run_set_interval(store_t *self,
                           uint64_t run_id,
                           int64_t logical_at,
                           int64_t start,
                           int64_t end,
                           const char *zone,
                           errbuf_t *err);

/* The run of DAG `dag` with logical date logical_at: sets *run_id and
 * *state; STORE_ENOTFOUND when there is none. */
int store_run_by_logical(store_t *self,
                         const char *dag,
                         int64_t logical_at,
                         uint64_t *run_id,
                         run_state_t *state,
                         errbuf_t *err);

/* The data interval of DAG `dag`'s latest run made by its schedule
 * (trigger "scheduled"): where the schedule goes on after a restart.
 * STORE_ENOTFOUND when it has none. */
int store_run_last_scheduled(store_t *self,
                             const char *dag,
                             int64_t *start,
                             int64_t *end,
                             errbuf_t *err);

/* How many runs of DAG `dag` whose logical date lies in [from, to] are
 * queued or running. */
int store_run_count_active(store_t *self,
                           const char *dag,
                           int64_t from,
                           int64_t to,
                           uint32_t *count,
                           errbuf_t *err);

/* ------------------------------------------------------------ backfills */

/* A backfill: runs of DAG `dag` for the intervals whose start lies in
 * [from_at, to_at], made a few at a time; next_at is where it goes on. */
typedef struct {
    uint64_t id;
    const char *dag;
    int64_t from_at;
    int64_t next_at;
    int64_t to_at;
    uint32_t max_active;
    bool rerun_failed;
    int64_t done_at; /* 0 while it goes on */
} store_backfill_t;

/* Records a new backfill (b->id and done_at are ignored); sets *id. */
int store_backfill_add(store_t *self,
                       const store_backfill_t *b,
                       int64_t now,
                       uint64_t *id,
                       errbuf_t *err);

typedef int(store_backfill_fn)(void *arg, const store_backfill_t *b);

/* Calls fn for every backfill that goes on (id = 0), or for backfill id
 * whatever its state; oldest first. Pointers are borrowed for the call. */
int store_backfill_each(store_t *self,
                        uint64_t id,
                        store_backfill_fn *fn,
                        void *arg,
                        errbuf_t *err);

/* Moves backfill id on to next_at; done_at != 0 ends it. */
int store_backfill_advance(store_t *self,
                           uint64_t id,
                           int64_t next_at,
                           int64_t done_at,
                           errbuf_t *err);

/* ---------------------------------------------------------------- tasks */

/* Creates the task instance (run_id, task_id) in `state`. */
int store_task_create(store_t *self,
                      uint64_t run_id,
                      const char *task_id,
                      task_state_t state,
                      int64_t now,
                      errbuf_t *err);

/* Sets a task instance's state and try count; next_try_at is the wall ms of
 * the next retry for up_for_retry (else 0). */
int store_task_set_state(store_t *self,
                         uint64_t run_id,
                         const char *task_id,
                         task_state_t state,
                         uint32_t tries,
                         int64_t next_try_at,
                         int64_t now,
                         errbuf_t *err);

/* Records why a queued task waits (e.g. no worker has 2 GPUs); "" clears
 * it. Written only when the reason changes. */
int store_task_set_waiting(store_t *self,
                           uint64_t run_id,
                           const char *task_id,
                           const char *reason,
                           errbuf_t *err);

/* ------------------------------------------------------------- attempts */

/* Creates an attempt sent to `worker`, in `state`: running (into a free
 * slot: started now) or dispatched (into its prefetch window: started when
 * store_attempt_start says so). Sets *attempt_id, the fencing token
 * carried by the Task message. */
int store_attempt_create(store_t *self,
                         uint64_t run_id,
                         const char *task_id,
                         uint32_t number,
                         const char *worker,
                         attempt_state_t state,
                         int64_t now,
                         uint64_t *attempt_id,
                         errbuf_t *err);

/* A dispatched attempt started on its worker at `now`; no change for one
 * in any other state. */
int store_attempt_start(store_t *self,
                        uint64_t attempt_id,
                        int64_t now,
                        errbuf_t *err);

typedef struct {
    attempt_state_t state;
    int exit_code;      /* -1 when it did not exit */
    int signal;         /* 0 when none */
    int64_t started_at; /* worker wall ms, 0 = unknown */
    int64_t ended_at;   /* wall ms */
    int64_t duration_ms;
    uint64_t peak_rss_kb;
    const char *error; /* borrowed; NULL or "" = none */
    const char *cause; /* borrowed: exit, signal, oom, timeout, lost,
                          cancelled, spawn, refused; NULL or "" = none */
} store_attempt_end_t;

/* Records how an attempt ended. */
int store_attempt_finish(store_t *self,
                         uint64_t attempt_id,
                         const store_attempt_end_t *end,
                         errbuf_t *err);

/* Records a result that arrived for an attempt that is no longer current
 * (fencing): kept for audit, changes no task state. At most one row per
 * attempt, and none for an id that names no attempt, so a flood of them
 * cannot grow the store. */
int store_attempt_stale(store_t *self,
                        uint64_t attempt_id,
                        const char *worker,
                        const char *detail,
                        int64_t now,
                        errbuf_t *err);

/* -------------------------------------------------------------- recovery */

/* One task instance of an active run, as the scheduler rebuilds it. */
typedef struct {
    const char *task_id;
    task_state_t state;
    uint32_t tries; /* attempts started so far */
    int64_t next_try_at;
    uint64_t attempt_id; /* current attempt, 0 when none */
    const char *worker;  /* of the current attempt, NULL when none */
} store_task_row_t;

typedef struct {
    uint64_t run_id;
    const char *dag;
    const char *version;
    size_t nparams;
    const dag_kv_t *params;
    const char *logical_date; /* {{ ds }}: YYYY-MM-DD */
    bool has_interval;        /* false for runs from before intervals */
    int64_t logical_at;       /* the logical date, wall ms */
    int64_t interval_start;   /* the data interval [start, end), wall ms */
    int64_t interval_end;
    const char *timezone; /* the zone its templates are written in */
    const char *trigger;  /* why it was created: "manual", "scheduled",
                             "backfill", "dataset" */
    run_state_t state;
    size_t ntasks;
    const store_task_row_t *tasks;
} store_run_row_t;

/* Called once per run that is not final. All pointers are borrowed for the
 * duration of the call. Return 0 to go on, -1 to stop with an error. */
typedef int(store_active_fn)(void *arg, const store_run_row_t *run);

/* Calls fn for every run in queued or running state, oldest first. */
int
store_load_active(store_t *self, store_active_fn *fn, void *arg, errbuf_t *err);

/* Calls fn once for run `run_id`, whatever its state (for a retry of a
 * finished run); STORE_ENOTFOUND when there is none. */
int store_load_run(store_t *self,
                   uint64_t run_id,
                   store_active_fn *fn,
                   void *arg,
                   errbuf_t *err);

#endif
