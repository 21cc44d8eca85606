/* state — the task, attempt and run state machines, as data.
 *
 * Task:    pending -> queued -> running -> success | failed | up_for_retry |
 *          timed_out | cancelled
 *          (queued -> dispatched -> running: sent into a worker's prefetch
 *          window, it waits there until the worker starts it; dispatched ->
 *          queued | cancelled | failed | up_for_retry as running does;
 *          pending -> upstream_failed | skipped | cancelled (skipped
 *          and upstream_failed: its trigger rule can no longer be met);
 *          queued -> cancelled;
 *          queued -> skipped_cached: final, counts as a success;
 *          running -> queued: its attempt was lost, refused or killed by
 *          its worker's shutdown, or a restart found none;
 *          running -> skipped: it exited with its skip_exit_code;
 *          up_for_retry -> queued | cancelled;
 *          every final state -> pending: a retry of the run)
 * Attempt: (dispatched ->) running -> success | failed | timed_out |
 *          cancelled | lost
 * Run:     queued -> running -> success | failed | cancelled
 *          (queued -> cancelled; success | failed | cancelled | running ->
 *          running: a retry of the run)
 * The tables in state.c are the reference; docs/architecture.md ("State
 * machines") draws them. Task and run states change only through
 * state_task_move and state_run_move, which refuse what the tables do not
 * allow. */
#ifndef SLUICE_STATE_H
#define SLUICE_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"

typedef enum {
    TASK_PENDING = 0,
    TASK_QUEUED,
    TASK_RUNNING,
    TASK_SUCCESS,
    TASK_FAILED,
    TASK_UP_FOR_RETRY,
    TASK_TIMED_OUT,
    TASK_CANCELLED,
    TASK_UPSTREAM_FAILED,
    TASK_SKIPPED,
    TASK_SKIPPED_CACHED, /* cache: true and a run with the same inputs
                            succeeded: its outputs are reused */
    TASK_DISPATCHED,     /* held by a worker (prefetch), not started yet */
    TASK_STATE_COUNT
} task_state_t;

typedef enum {
    ATTEMPT_RUNNING = 0, /* sent to a worker */
    ATTEMPT_SUCCESS,
    ATTEMPT_FAILED,
    ATTEMPT_TIMED_OUT,
    ATTEMPT_CANCELLED,
    ATTEMPT_LOST,       /* its worker was lost; re-queued as a new attempt */
    ATTEMPT_DISPATCHED, /* in a worker's prefetch window, not started yet */
    ATTEMPT_STATE_COUNT
} attempt_state_t;

typedef enum {
    RUN_QUEUED = 0,
    RUN_RUNNING,
    RUN_SUCCESS,
    RUN_FAILED,
    RUN_CANCELLED,
    RUN_STATE_COUNT
} run_state_t;

/* Lowercase names as stored and shown ("up_for_retry"). */
const char *state_task_name(task_state_t state);
const char *state_attempt_name(attempt_state_t state);
const char *state_run_name(run_state_t state);

/* Parse a name; -1 when unknown. */
int state_task_parse(const char *name, task_state_t *state);
int state_run_parse(const char *name, run_state_t *state);
int state_attempt_parse(const char *name, attempt_state_t *state);

/* True for states a task instance never leaves on its own. */
bool state_task_is_final(task_state_t state);

/* True for success and skipped_cached: the downstream may go. */
bool state_task_is_success(task_state_t state);

/* True for final states that count as failure of the run. */
bool state_task_is_failure(task_state_t state);

/* True for dispatched and running: an attempt of the task is out on a
 * worker, holding its slot, limits and pool slots. */
bool state_task_in_flight(task_state_t state);

bool state_run_is_final(run_state_t state);

/* True when the task transition from -> to is allowed by the machine above. */
bool state_task_can(task_state_t from, task_state_t to);

/* True when the run transition from -> to is allowed by the machine above. */
bool state_run_can(run_state_t from, run_state_t to);

/* The one way a task instance's state changes: sets *state to `to` when
 * state_task_can allows it and returns 0. Otherwise leaves *state as it is,
 * logs "bug: ..." naming both states, run `run_id` and task `task_id`, and
 * returns -1 with err set: the caller writes nothing. */
int state_task_move(task_state_t *state,
                    task_state_t to,
                    uint64_t run_id,
                    const char *task_id,
                    errbuf_t *err);

/* The same for a run's state, checked with state_run_can. */
int state_run_move(run_state_t *state,
                   run_state_t to,
                   uint64_t run_id,
                   errbuf_t *err);

#endif
