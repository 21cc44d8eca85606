#include "scheduler/state.h"

#include <inttypes.h>
#include <string.h>

#include "common/log.h"

static const char *const s_task_names[TASK_STATE_COUNT] = {
    "pending",         "queued",       "running",        "success",
    "failed",          "up_for_retry", "timed_out",      "cancelled",
    "upstream_failed", "skipped",      "skipped_cached", "dispatched"};

static const char *const s_attempt_names[ATTEMPT_STATE_COUNT] = {
    "running",   "success", "failed",    "timed_out",
    "cancelled", "lost",    "dispatched"};

static const char *const s_run_names[RUN_STATE_COUNT] = {
    "queued", "running", "success", "failed", "cancelled"};

/* Allowed task transitions: s_task_edges[from] is a bit set of `to`.
 * Each edge is one thing the plan does; docs/architecture.md says which. */
#define B(s) (1u << (s))
static const unsigned s_task_edges[TASK_STATE_COUNT] = {
    /* -> skipped, upstream_failed: its trigger rule can no longer be met. */
    [TASK_PENDING] = B(TASK_QUEUED) | B(TASK_UPSTREAM_FAILED) |
                     B(TASK_SKIPPED) | B(TASK_CANCELLED),
    [TASK_QUEUED] = B(TASK_RUNNING) | B(TASK_DISPATCHED) | B(TASK_CANCELLED) |
                    B(TASK_SKIPPED_CACHED),
    /* -> running: the worker started it; -> queued: returned unstarted
     * (drain, shutdown) or refused; the others as from running (lost). */
    [TASK_DISPATCHED] = B(TASK_RUNNING) | B(TASK_QUEUED) | B(TASK_CANCELLED) |
                        B(TASK_FAILED) | B(TASK_UP_FOR_RETRY),
    /* -> queued: the attempt was lost, refused, or killed by its worker's
     * shutdown, or a restart found no attempt for it; -> skipped: it
     * exited with its skip_exit_code. */
    [TASK_RUNNING] = B(TASK_SUCCESS) | B(TASK_FAILED) | B(TASK_UP_FOR_RETRY) |
                     B(TASK_TIMED_OUT) | B(TASK_CANCELLED) | B(TASK_QUEUED) |
                     B(TASK_SKIPPED),
    [TASK_UP_FOR_RETRY] = B(TASK_QUEUED) | B(TASK_CANCELLED),
    /* Finals may be re-opened only by an explicit retry of the run. */
    [TASK_SUCCESS] = B(TASK_PENDING),
    [TASK_FAILED] = B(TASK_PENDING),
    [TASK_TIMED_OUT] = B(TASK_PENDING),
    [TASK_CANCELLED] = B(TASK_PENDING),
    [TASK_UPSTREAM_FAILED] = B(TASK_PENDING),
    [TASK_SKIPPED] = B(TASK_PENDING),
    [TASK_SKIPPED_CACHED] = B(TASK_PENDING),
};

/* Allowed run transitions. A retry makes any run running again, one still
 * running included (it records the retry as a new transition). */
static const unsigned s_run_edges[RUN_STATE_COUNT] = {
    [RUN_QUEUED] = B(RUN_RUNNING) | B(RUN_CANCELLED),
    [RUN_RUNNING] =
        B(RUN_SUCCESS) | B(RUN_FAILED) | B(RUN_CANCELLED) | B(RUN_RUNNING),
    [RUN_SUCCESS] = B(RUN_RUNNING),
    [RUN_FAILED] = B(RUN_RUNNING),
    [RUN_CANCELLED] = B(RUN_RUNNING),
};
#undef B

static int
s_parse(const char *const *names, int count, const char *name)
{
    for (int i = 0; name && i < count; i++) {
        if (strcmp(names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

const char *
state_task_name(task_state_t state)
{
    return state < TASK_STATE_COUNT ? s_task_names[state] : "?";
}

const char *
state_attempt_name(attempt_state_t state)
{
    return state < ATTEMPT_STATE_COUNT ? s_attempt_names[state] : "?";
}

const char *
state_run_name(run_state_t state)
{
    return state < RUN_STATE_COUNT ? s_run_names[state] : "?";
}

int
state_task_parse(const char *name, task_state_t *state)
{
    int i = s_parse(s_task_names, TASK_STATE_COUNT, name);
    if (i < 0) {
        return -1;
    }
    *state = (task_state_t) i;
    return 0;
}

int
state_run_parse(const char *name, run_state_t *state)
{
    int i = s_parse(s_run_names, RUN_STATE_COUNT, name);
    if (i < 0) {
        return -1;
    }
    *state = (run_state_t) i;
    return 0;
}

int
state_attempt_parse(const char *name, attempt_state_t *state)
{
    int i = s_parse(s_attempt_names, ATTEMPT_STATE_COUNT, name);
    if (i < 0) {
        return -1;
    }
    *state = (attempt_state_t) i;
    return 0;
}

bool
state_task_is_final(task_state_t state)
{
    switch (state) {
        case TASK_SUCCESS:
        case TASK_FAILED:
        case TASK_TIMED_OUT:
        case TASK_CANCELLED:
        case TASK_UPSTREAM_FAILED:
        case TASK_SKIPPED:
        case TASK_SKIPPED_CACHED:
            return true;
        default:
            return false;
    }
}

bool
state_task_is_success(task_state_t state)
{
    return state == TASK_SUCCESS || state == TASK_SKIPPED_CACHED;
}

bool
state_task_is_failure(task_state_t state)
{
    return state == TASK_FAILED || state == TASK_TIMED_OUT ||
           state == TASK_CANCELLED || state == TASK_UPSTREAM_FAILED;
}

bool
state_task_in_flight(task_state_t state)
{
    return state == TASK_DISPATCHED || state == TASK_RUNNING;
}

bool
state_run_is_final(run_state_t state)
{
    return state == RUN_SUCCESS || state == RUN_FAILED ||
           state == RUN_CANCELLED;
}

bool
state_task_can(task_state_t from, task_state_t to)
{
    if (from >= TASK_STATE_COUNT || to >= TASK_STATE_COUNT) {
        return false;
    }
    return (s_task_edges[from] >> to) & 1u;
}

bool
state_run_can(run_state_t from, run_state_t to)
{
    if (from >= RUN_STATE_COUNT || to >= RUN_STATE_COUNT) {
        return false;
    }
    return (s_run_edges[from] >> to) & 1u;
}

/* A transition the table does not allow is our bug, not the user's: it is
 * logged here, where both states are known, and handed up to fail the turn
 * so nothing of it is written. */
static int
s_refuse(const errbuf_t *why, errbuf_t *err)
{
    log_error("%s", errbuf_msg(why));
    if (err) {
        *err = *why;
    }
    return -1;
}

int
state_task_move(task_state_t *state,
                task_state_t to,
                uint64_t run_id,
                const char *task_id,
                errbuf_t *err)
{
    if (!state_task_can(*state, to)) {
        errbuf_t why;
        errbuf_set(&why,
                   "bug: run %" PRIu64 " task '%s' cannot go from %s to %s; "
                   "the change was refused, please report it",
                   run_id, task_id ? task_id : "?", state_task_name(*state),
                   state_task_name(to));
        return s_refuse(&why, err);
    }
    *state = to;
    return 0;
}

int
state_run_move(run_state_t *state,
               run_state_t to,
               uint64_t run_id,
               errbuf_t *err)
{
    if (!state_run_can(*state, to)) {
        errbuf_t why;
        errbuf_set(&why,
                   "bug: run %" PRIu64 " cannot go from %s to %s; the change "
                   "was refused, please report it",
                   run_id, state_run_name(*state), state_run_name(to));
        return s_refuse(&why, err);
    }
    *state = to;
    return 0;
}
