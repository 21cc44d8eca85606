/* plan — the scheduler's in-memory view of active runs, and the task state
 * machine applied to it.
 *
 * Dependency resolution is event-driven: a finished task looks only at its
 * children. Every state change is written to the store (inside the caller's
 * open transaction) as it is made in memory, so that the two agree after the
 * turn commits. Finished runs leave memory. No sockets here: the scheduler
 * asks plan what to dispatch and tells it what came back. Every task and
 * run state change is checked against the tables in state.c
 * (state_task_move, state_run_move): one they do not allow is refused,
 * written nowhere, and the call fails with "bug: ...". */
#ifndef SLUICE_PLAN_H
#define SLUICE_PLAN_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/dag.h"
#include "common/errbuf.h"
#include "scheduler/state.h"
#include "scheduler/store/store_runs.h"

typedef struct plan_t plan_t;
typedef struct limits_t limits_t;

/* plan_attempt_result codes. */
#define PLAN_STALE 1 /* the attempt is not current: recorded, no change */

/* Everything the dispatcher needs to build a Task message. Strings are owned
 * by the plan and live until the attempt ends; arrays are owned by the
 * caller's plan_dispatch_t and freed by plan_dispatch_clear. */
typedef struct {
    uint64_t attempt_id;
    uint64_t run_id;
    const char *dag;
    const dag_task_t *task;
    uint32_t attempt; /* 1-based try number */
    char *command;    /* rendered, values quoted for /bin/sh; owned */
    size_t argc;      /* > 0 when the command needs no shell: */
    char **argv;      /* its words, one per value; owned */
    size_t nenv;
    char **env_names;  /* SLUICE_PARAM_<NAME>s, then the task's; owned */
    char **env_values; /* rendered; owned */
    const char *logical_date;
    size_t ninputs; /* declared inputs and outputs, rendered; owned */
    char **inputs;
    size_t noutputs;
    char **outputs;
    char *validate;      /* the task's validate checks, rendered; owned;
                            NULL when the task has none */
    bool prefetched;     /* into the worker's prefetch window: dispatched, it
                            starts when a slot there frees */
    int64_t queued_mono; /* when it was queued (monotonic ms) */
} plan_dispatch_t;

/* How an attempt ended, as the worker reported it. */
typedef struct {
    attempt_state_t state; /* success, failed, timed_out, cancelled */
    const char *cause;     /* exit, signal, oom, timeout, spawn, cancelled;
                              NULL for success */
    int exit_code;
    int signal;
    int64_t started_at;
    int64_t ended_at;
    int64_t duration_ms;
    uint64_t peak_rss_kb;
    const char *error; /* borrowed */
    /* kind branch, after a success: the ids of the direct children it
     * chose, borrowed; branch_read says the worker read the choice. */
    const char *const *branch;
    size_t nbranch;
    bool branch_read;
} plan_result_t;

/* store is borrowed and must outlive the plan. */
plan_t *plan_new(store_t *store);

void plan_destroy(plan_t **self_p);

/* The plan's limits and pools (scheduler/limits.h), borrowed: the pool
 * verbs change and read them. */
limits_t *plan_limits(plan_t *self);

/* Opens secret `name` for a Task's env: an owned NUL-terminated value
 * (the plan wipes and frees it), or NULL with err set, which fails that
 * attempt with err as its error. */
typedef char *(plan_secret_fn) (void *arg, const char *name, errbuf_t *err);

/* Lets env values use {{ secret.NAME }}; without it they fail to render. */
void plan_set_secret_lookup(plan_t *self, plan_secret_fn *fn, void *arg);

/* Appends (owned copies of) the names of the secrets the task of attempt
 * `attempt_id` uses in its env to `names`; returns how many. 0 when the
 * attempt is not in flight. */
size_t plan_attempt_secrets(plan_t *self, uint64_t attempt_id, zlistx_t *names);

/* The trigger of the runs 'sluice backfill' makes: their tasks go after
 * those of every other run, and queued ones start after other queued runs
 * of their DAG, so history being filled in never holds up today's work. */
#define PLAN_TRIGGER_BACKFILL "backfill"

/* Creates a new run of `dag` (takes ownership of *dag_p) with effective
 * params, writes it and its task instances to the store, and queues its
 * root tasks. `trigger` says why (PLAN_TRIGGER_BACKFILL, "scheduled",
 * "manual", ...). Sets *run_id. */
int plan_trigger(plan_t *self,
                 dag_t **dag_p,
                 const dag_kv_t *params,
                 size_t nparams,
                 const char *logical_date,
                 const char *trigger,
                 int64_t now,
                 uint64_t *run_id,
                 errbuf_t *err);

/* Sets what {{ logical_date }}, {{ data_interval_start }} and
 * {{ data_interval_end }} show for run run_id (RFC 3339 text, copied);
 * nothing when the run is not in memory. */
void plan_set_times(plan_t *self,
                    uint64_t run_id,
                    const char *logical,
                    const char *start,
                    const char *end);

/* Rebuilds an active run from the store after a restart (takes ownership of
 * *dag_p). Tasks that were running keep their attempt: *on_attempt is
 * called for each so the caller can tie it to its worker. */
typedef void(plan_attempt_fn)(void *arg,
                              uint64_t attempt_id,
                              const char *worker);

int plan_restore(plan_t *self,
                 dag_t **dag_p,
                 const store_run_row_t *row,
                 plan_attempt_fn *on_attempt,
                 void *arg,
                 int64_t now,
                 errbuf_t *err);

/* True when some task is ready to dispatch. */
bool plan_has_ready(plan_t *self);

/* Where a ready task can go, as the placement callback answers. */
typedef enum {
    PLAN_PLACED,   /* *worker names where it goes: a free slot */
    PLAN_PREFETCH, /* *worker holds it beyond its free slots until one frees
                      (no worker has a free slot that fits it) */
    PLAN_WAIT,     /* it fits nowhere now; `why` says what it waits for */
    PLAN_FULL,     /* no worker has a free slot at all: stop the round */
} plan_place_t;

typedef plan_place_t(plan_place_fn)(void *arg,
                                    const dag_task_t *task,
                                    const char **worker,
                                    char *why,
                                    size_t size);

/* Called for each task dispatched; d is valid during the call only. */
typedef void(plan_send_fn)(void *arg,
                           const char *worker,
                           const plan_dispatch_t *d);

/* One pass over the ready tasks, in priority order (limits_order): a task
 * a limit holds back (limits_admit) stays queued with that limit as its
 * reason; the others go where `place` says
 * (its attempt is created and it is marked running, or dispatched for
 * PLAN_PREFETCH, then `send` is called), or stays queued with the reason it waits recorded (written to
 * the store only when it changes). A task that fits nowhere does not hold
 * up those behind it. Returns the number dispatched, or -1. */
int plan_dispatch_round(plan_t *self,
                        plan_place_fn *place,
                        plan_send_fn *send,
                        void *arg,
                        int64_t now,
                        errbuf_t *err);

/* Applies a worker's result. Returns 0, PLAN_STALE for an attempt that is
 * not current (recorded as stale), or -1 on error. */
int plan_attempt_result(plan_t *self,
                        uint64_t attempt_id,
                        const char *worker,
                        const plan_result_t *result,
                        int64_t now,
                        errbuf_t *err);

/* The worker started a prefetched attempt: dispatched -> running. 0 also
 * when it was running already; PLAN_STALE when it is not current. */
int plan_attempt_started(plan_t *self,
                         uint64_t attempt_id,
                         int64_t now,
                         errbuf_t *err);

/* Called when a lost attempt fails its task or puts it up for retry
 * (tasks that set retry_on): the end no Result will report, so that what
 * reacts to results (alerts) hears of it too. Runs inside the turn's
 * transaction, after the task's new state is written; -1 fails the turn. */
typedef int(plan_lost_fn)(void *arg,
                          const char *dag,
                          uint64_t attempt_id,
                          errbuf_t *err);

void plan_set_lost_hook(plan_t *self, plan_lost_fn *fn, void *arg);

/* The attempt will never report: records it as lost with `reason` and
 * queues a new attempt of the task. `cause` is "lost" (its worker was lost
 * or left: counts against retries when the task sets retry_on, and fails
 * the task when retry_on does not name lost) or "refused" (never ran: always
 * queued again). Returns PLAN_STALE when the attempt is not current. */
int plan_attempt_lost(plan_t *self,
                      uint64_t attempt_id,
                      const char *cause,
                      const char *reason,
                      int64_t now,
                      errbuf_t *err);

/* Attempt `attempt_id` succeeded; when its task has
 * `cache: true`, remembers its cache key with its outputs (their sizes
 * now) so a later run with the same key can skip it. Call before
 * plan_attempt_result. */
int plan_cache_result(plan_t *self,
                      uint64_t attempt_id,
                      int64_t now,
                      errbuf_t *err);

/* The DAG name of the run of an attempt in flight (borrowed), or NULL. */
const char *plan_attempt_dag(plan_t *self, uint64_t attempt_id);

/* The worker an attempt in flight was sent to (borrowed), or NULL. */
const char *plan_attempt_worker(plan_t *self, uint64_t attempt_id);

/* The last log chunk accepted for an attempt in flight (0: none, or not in
 * flight). */
uint64_t plan_attempt_log_seq(plan_t *self, uint64_t attempt_id);

/* Accepts log chunk `seq` of `size` bytes for an attempt in flight: true
 * when it is new (seq past the last accepted: workers send each attempt's
 * chunks in order and re-send them all after a reconnect) and fits under
 * `cap` bytes (0 = no cap). False means keep nothing: a duplicate, over the
 * cap (bounds what one chatty or hostile worker can make us store), or not
 * in flight. */
bool plan_attempt_log(
    plan_t *self, uint64_t attempt_id, uint64_t seq, size_t size, uint64_t cap);

/* True when attempt_id is in flight (sent, no result yet). */
bool plan_attempt_known(plan_t *self, uint64_t attempt_id);

/* True when attempt_id is dispatched: held by its worker, not started. */
bool plan_attempt_held(plan_t *self, uint64_t attempt_id);

/* Cancels every unfinished task of a run; the ids of attempts still running
 * are appended to `running` (as uintptr_t values) so the caller can tell
 * their workers. Sets *cancelled to the number of tasks cancelled.
 * Returns -1 with err when the run is not active. */
int plan_cancel_run(plan_t *self,
                    uint64_t run_id,
                    zlistx_t *running,
                    uint32_t *cancelled,
                    int64_t now,
                    errbuf_t *err);

/* True when the run is in memory (active, or finished with attempts still
 * reporting). */
bool plan_has_run(plan_t *self, uint64_t run_id);

/* Re-opens a run's failed, timed_out, cancelled and upstream_failed tasks
 * and their downstream (or, with task_id, that finished task and its
 * downstream) with a fresh retry budget, and queues those whose upstream
 * succeeded. A run not in memory is brought back from `row`, taking
 * *dag_p; for a run in memory both may be NULL. Sets *reopened; -1 with
 * err when there is nothing to retry. */
int plan_retry(plan_t *self,
               uint64_t run_id,
               const char *task_id,
               dag_t **dag_p,
               const store_run_row_t *row,
               uint32_t *reopened,
               int64_t now,
               errbuf_t *err);

/* Queues tasks whose retry delay has passed (now_mono: monotonic ms). */
int plan_tick(plan_t *self, int64_t now_mono, int64_t now, errbuf_t *err);

/* Monotonic ms of the next retry due, or -1 when none. */
int64_t plan_next_due(plan_t *self);

/* Active runs and ready tasks, for logs and status. */
size_t plan_run_count(plan_t *self);

size_t plan_ready_count(plan_t *self);

/* Copies the task instances per state of active run run_id into counts
 * (TASK_STATE_COUNT of them), kept as tasks move: what `run show` reports
 * without counting rows in the store. false when the run is not active. */
bool plan_run_counts(plan_t *self, uint64_t run_id, uint32_t *counts);

/* Calls fn for every task queued now, in no particular order; returns how
 * many. */
typedef void(plan_ready_fn)(void *arg, uint64_t run_id, const dag_task_t *task);

size_t plan_each_ready(plan_t *self, plan_ready_fn *fn, void *arg);

/* The same for the queued tasks that no limit (limits_admit) holds back:
 * what the autoscaler counts as demand, since more workers would not
 * start the others. */
size_t plan_each_startable(plan_t *self, plan_ready_fn *fn, void *arg);

#endif
