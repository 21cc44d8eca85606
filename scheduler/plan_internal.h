/* plan_internal — what the files of the plan module share; nothing outside
 * scheduler/plan*.c includes it.
 *
 * The module is these files, each calling only those below it:
 *   plan.c          the plan_t object: trigger, restore, dispatch, results,
 *                   attempts in flight, cancel, time
 *   plan_release.c  the state changes of task instances and runs, what a
 *                   finished task releases downstream, the end of a run,
 *                   and a retry of a run
 *   plan_branch.c   what a branch task's choice skips (calls plan_release)
 * Functions shared between the files are named plan_ and declared here. */
#ifndef SLUICE_PLAN_INTERNAL_H
#define SLUICE_PLAN_INTERNAL_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/dag.h"
#include "common/errbuf.h"
#include "common/idmap.h"
#include "scheduler/limits.h"
#include "scheduler/plan.h"
#include "scheduler/ready.h"
#include "scheduler/rules.h"
#include "scheduler/state.h"
#include "scheduler/store/store.h"

/* One task instance of an active run. */
typedef struct {
    char *waiting; /* why it waits (a limit, a worker), owned; NULL = not */
    task_state_t state;
    uint32_t tries;      /* attempts started (the next one is tries + 1) */
    uint32_t failures;   /* failed attempts, against the retry budget */
    rules_up_t up;       /* how its direct upstream tasks stand */
    uint64_t attempt_id; /* current attempt, 0 when none */
    int64_t due_mono;    /* up_for_retry: when to queue it again */
    int64_t first_poke;  /* a sensor: wall ms of its first poke; 0 = none */
    char *cache_key;     /* cache: true, key of the attempt sent; owned */
    char *cache_outputs; /* its rendered outputs, one a line; owned */
} plan_ti_t;

typedef struct {
    uint64_t id;
    dag_t *dag;       /* owned */
    dag_kv_t *params; /* owned array of owned strings */
    size_t nparams;
    char *logical_date; /* owned */
    char *times[3];     /* owned, NULL until set: logical date, data
                           interval start and end, RFC 3339 */
    char id_text[24];   /* run id as text, for templates */
    run_state_t state;
    size_t nfinal;  /* task instances in a final state */
    bool finished;  /* the run's end is recorded */
    bool backfill;  /* made by 'sluice backfill': goes after other runs */
    plan_ti_t *tis; /* owned, one per dag task */
    uint32_t counts[TASK_STATE_COUNT]; /* task instances per state */
} plan_run_t;

/* An attempt in flight: sent, no result yet. */
typedef struct {
    uint64_t id;
    uint64_t run_id;
    size_t task;
    char *worker;       /* owned */
    uint64_t log_bytes; /* log bytes accepted so far */
    uint64_t log_seq;   /* the last log chunk accepted */
} plan_attempt_t;

typedef struct {
    uint64_t run_id;
    size_t task;
} plan_ref_t;

struct plan_t {
    store_t *store;     /* borrowed */
    zhashx_t *runs;     /* run id -> plan_run_t, owned */
    zhashx_t *attempts; /* attempt id -> plan_attempt_t, owned */
    limits_t *limits;   /* concurrency limits and pools, owned */
    ready_t *ready;     /* tasks in state queued, owned */
    zlistx_t *retries;  /* plan_ref_t * of up_for_retry tasks, owned */
    /* Opens {{ secret.NAME }} for env values; NULL = no secrets. */
    plan_secret_fn *secret;
    void *secret_arg;
    plan_lost_fn *lost; /* a lost attempt ended its task; NULL: nobody */
    void *lost_arg;
};

#define ID_KEY(id) IDMAP_KEY(id)
/* ---- plan_release.c ---- */

/* Puts a task just queued at the back of the ready queue. */
void plan_ready_add(plan_t *self, plan_run_t *run, size_t task);

/* Moves a task instance to `state` (checked by state_task_move), keeps the
 * run's counts and the limits in step, and writes it to the store. */
int plan_set_task(plan_t *self,
                  plan_run_t *run,
                  size_t task,
                  task_state_t state,
                  int64_t now,
                  errbuf_t *err);

/* The same for the run's state. */
int plan_set_run(plan_t *self,
                 plan_run_t *run,
                 run_state_t state,
                 int64_t now,
                 errbuf_t *err);

/* Records why a task waits (a limit, a worker); NULL clears it. */
int plan_set_waiting(
    plan_t *self, plan_run_t *run, size_t task, const char *why, errbuf_t *err);

/* pending/running/up_for_retry -> queued, and into the ready queue. */
int plan_queue(
    plan_t *self, plan_run_t *run, size_t task, int64_t now, errbuf_t *err);

/* Task `task` just reached a final state: counts it for each child and
 * does what the child's trigger rule now says (queue it, or skip it or
 * mark it upstream_failed, and so on down). Only its children are looked
 * at. */
int plan_release(
    plan_t *self, plan_run_t *run, size_t task, int64_t now, errbuf_t *err);

/* Recounts how the parents of `task` stand, from their states now (after
 * a load from the store). */
void plan_count_up(plan_run_t *run, size_t task);

/* Recounts every task's parents and does what the rule of each pending
 * task says: at a new run (roots and `always` tasks start), and after a
 * retry re-opened tasks. */
int
plan_decide_pending(plan_t *self, plan_run_t *run, int64_t now, errbuf_t *err);

/* Ends the run when every task is final; the run then leaves memory
 * (unless attempts of it still report), so `run` may be freed. */
int plan_finish_run(plan_t *self, plan_run_t *run, int64_t now, errbuf_t *err);

/* queued -> running for the run, when its first task starts. */
int
plan_mark_running(plan_t *self, plan_run_t *run, int64_t now, errbuf_t *err);

/* A run in memory for `dag` (takes ownership of *dag_p), every task
 * pending; the caller inserts it into self->runs. */
plan_run_t *plan_run_new(uint64_t id,
                         dag_t **dag_p,
                         const dag_kv_t *params,
                         size_t nparams,
                         const char *logical_date);

/* Whether a finished attempt of a sensor said "not yet" (plan_sensor.c):
 * a normal exit with a non-zero status that is not its skip_exit_code. */
bool plan_sensor_not_ready(const dag_task_t *def, const plan_result_t *result);

/* A sensor's "not yet": up_for_retry, due at the next poke, without using a
 * retry, with why it waits; or, past its timeout, failed (skipped with
 * soft_fail) and released downstream. */
int plan_sensor_wait(plan_t *self,
                     plan_run_t *run,
                     size_t task,
                     const plan_result_t *result,
                     int64_t now,
                     errbuf_t *err);

/* Remembers that the task is up for retry, due at due_mono. */
void
plan_retry_later(plan_t *self, plan_run_t *run, size_t task, int64_t due_mono);

/* ---- plan_branch.c ---- */

/* For a successful attempt of a branch task: 0 when its choice holds
 * (every id it chose is a direct child, and the worker read the choice),
 * else -1 with why set, and the attempt is to fail (cause exit). 0 for
 * any other task or outcome. */
int plan_branch_check(const plan_run_t *run,
                      size_t task,
                      const plan_result_t *result,
                      errbuf_t *why);

/* After a branch task succeeded: its pending direct children it did not
 * choose become skipped, and their own children decide by their rules.
 * Call before plan_release of the branch task; nothing for other tasks. */
int plan_branch_skip(plan_t *self,
                     plan_run_t *run,
                     size_t task,
                     const plan_result_t *result,
                     int64_t now,
                     errbuf_t *err);

#endif
