/* plan_release — the plan's state changes: one task instance or run moves,
 * and what follows from it (what a finished task releases downstream, the
 * end of a run, a retry of a run). See plan_internal.h. */
#include "scheduler/plan_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/rules.h"
#include "scheduler/store/store_runs.h"

/* ------------------------------------------------------- ready queue */

/* A new entry for a task queued now. */
void
plan_ready_add(plan_t *self, plan_run_t *run, size_t task)
{
    limits_ready_t entry = {
        .run_id = run->id,
        .task = task,
        .priority = dag_task(run->dag, task)->priority,
        .backfill = run->backfill,
        .queued_mono = clock_mono_ms(),
        .seq = ready_next_seq(self->ready),
    };
    ready_push(self->ready, entry);
}

/* ------------------------------------------------------ state changes */

int
plan_set_task(plan_t *self,
              plan_run_t *run,
              size_t task,
              task_state_t state,
              int64_t now,
              errbuf_t *err)
{
    plan_ti_t *ti = &run->tis[task];
    const char *task_id = dag_task(run->dag, task)->id;
    bool was_final = state_task_is_final(ti->state);
    task_state_t from = ti->state;
    if (state_task_move(&ti->state, state, run->id, task_id, err) < 0) {
        return -1;
    }
    run->counts[from]--;
    run->counts[state]++;
    limits_task_moved(self->limits, dag_name(run->dag),
                      dag_task(run->dag, task), from, state);
    if (!was_final && state_task_is_final(state)) {
        run->nfinal++;
    }
    int64_t next_try = 0;
    if (state == TASK_UP_FOR_RETRY) {
        next_try = now + (ti->due_mono - clock_mono_ms());
    }
    return store_task_set_state(self->store, run->id, task_id, state, ti->tries,
                                next_try, now, err);
}

int
plan_set_run(plan_t *self,
             plan_run_t *run,
             run_state_t state,
             int64_t now,
             errbuf_t *err)
{
    run_state_t from = run->state;
    if (state_run_move(&run->state, state, run->id, err) < 0) {
        return -1;
    }
    limits_run_moved(self->limits, dag_name(run->dag), run->id, run->backfill,
                     from, state);
    return store_run_set_state(self->store, run->id, state, now, err);
}

/* Records why a task waits (a limit, a worker); NULL clears it. The store is
 * written only when the reason changes, not on every turn. */
int
plan_set_waiting(
    plan_t *self, plan_run_t *run, size_t task, const char *why, errbuf_t *err)
{
    plan_ti_t *ti = &run->tis[task];
    if ((!why && !ti->waiting) ||
        (why && ti->waiting && strcmp(why, ti->waiting) == 0)) {
        return 0;
    }
    free(ti->waiting);
    ti->waiting = why ? xstrdup(why) : NULL;
    return store_task_set_waiting(self->store, run->id,
                                  dag_task(run->dag, task)->id, why, err);
}

int
plan_queue(
    plan_t *self, plan_run_t *run, size_t task, int64_t now, errbuf_t *err)
{
    if (plan_set_task(self, run, task, TASK_QUEUED, now, err) < 0) {
        return -1;
    }
    plan_ready_add(self, run, task);
    return 0;
}

/* What the rule of pending task `task` says now; RULES_WAIT for a task that
 * is not pending (queued already, or decided). */
static rules_verdict_t
s_verdict(const plan_run_t *run, size_t task)
{
    if (run->tis[task].state != TASK_PENDING) {
        return RULES_WAIT;
    }
    return rules_verdict(dag_task(run->dag, task)->trigger_rule,
                         &run->tis[task].up);
}

/* Acts on a verdict for pending task `task`: queues it, or ends it skipped
 * or upstream_failed and tells its own children (skips propagate). */
static int
s_apply_verdict(plan_t *self,
                plan_run_t *run,
                size_t task,
                rules_verdict_t verdict,
                int64_t now,
                errbuf_t *err)
{
    switch (verdict) {
        case RULES_RUN:
            return plan_queue(self, run, task, now, err);
        case RULES_SKIP:
        case RULES_UPSTREAM_FAILED:
            if (plan_set_task(self, run, task,
                              verdict == RULES_SKIP ? TASK_SKIPPED
                                                    : TASK_UPSTREAM_FAILED,
                              now, err) < 0) {
                return -1;
            }
            return plan_release(self, run, task, now, err);
        default:
            return 0;
    }
}

int
plan_release(
    plan_t *self, plan_run_t *run, size_t task, int64_t now, errbuf_t *err)
{
    const dag_task_t *def = dag_task(run->dag, task);
    task_state_t state = run->tis[task].state;
    for (size_t i = 0; i < def->nchildren; i++) {
        size_t child = def->children[i];
        rules_count(&run->tis[child].up, state);
        if (s_apply_verdict(self, run, child, s_verdict(run, child), now, err) <
            0) {
            return -1;
        }
    }
    return 0;
}

void
plan_count_up(plan_run_t *run, size_t task)
{
    const dag_task_t *def = dag_task(run->dag, task);
    rules_up_t *up = &run->tis[task].up;
    *up = (rules_up_t){.parents = (uint32_t) def->nafter};
    for (size_t j = 0; j < def->nafter; j++) {
        rules_count(up, run->tis[def->after[j]].state);
    }
}

int
plan_decide_pending(plan_t *self, plan_run_t *run, int64_t now, errbuf_t *err)
{
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        plan_count_up(run, i);
    }
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        if (s_apply_verdict(self, run, i, s_verdict(run, i), now, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The run's end state, read from its leaves (tasks nothing waits for):
 * failed when a leaf failed, timed out, was cancelled or is
 * upstream_failed; success when every leaf succeeded or was skipped. So
 * a failure that an all_done or one_failed task handled does not fail the
 * run, as in Airflow. */
static run_state_t
s_leaves_state(const plan_run_t *run)
{
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        if (dag_task(run->dag, i)->nchildren == 0 &&
            state_task_is_failure(run->tis[i].state)) {
            return RUN_FAILED;
        }
    }
    return RUN_SUCCESS;
}

/* Ends the run when every task is final; the run then leaves memory. */
int
plan_finish_run(plan_t *self, plan_run_t *run, int64_t now, errbuf_t *err)
{
    if (run->nfinal < dag_task_count(run->dag)) {
        return 0;
    }
    if (!run->finished && run->state != RUN_CANCELLED &&
        plan_set_run(self, run, s_leaves_state(run), now, err) < 0) {
        return -1;
    }
    if (!run->finished) {
        run->finished = true;
        char subject[32];
        snprintf(subject, sizeof subject, "run %" PRIu64, run->id);
        log_info("run %" PRIu64 " (%s) %s", run->id, dag_name(run->dag),
                 state_run_name(run->state));
        if (store_event(self->store, now, "scheduler", "run_finished", subject,
                        state_run_name(run->state), err) < 0) {
            return -1;
        }
    }
    /* Attempts of a cancelled run may still report: keep the run until
     * they have, so their results are recorded against it. */
    bool in_flight = false;
    for (size_t i = 0; i < dag_task_count(run->dag) && !in_flight; i++) {
        in_flight = run->tis[i].attempt_id != 0 &&
                    zhashx_lookup(self->attempts,
                                  ID_KEY(run->tis[i].attempt_id)) != NULL;
    }
    if (!in_flight) {
        zhashx_delete(self->runs, ID_KEY(run->id));
    }
    return 0;
}

int
plan_mark_running(plan_t *self, plan_run_t *run, int64_t now, errbuf_t *err)
{
    if (run->state != RUN_QUEUED) {
        return 0;
    }
    return plan_set_run(self, run, RUN_RUNNING, now, err);
}

/* -------------------------------------------------------------- new run */

plan_run_t *
plan_run_new(uint64_t id,
             dag_t **dag_p,
             const dag_kv_t *params,
             size_t nparams,
             const char *logical_date)
{
    plan_run_t *run = xcalloc(1, sizeof *run);
    run->id = id;
    run->dag = *dag_p;
    *dag_p = NULL;
    run->nparams = nparams;
    run->params = xcalloc(nparams ? nparams : 1, sizeof *run->params);
    for (size_t i = 0; i < nparams; i++) {
        run->params[i].name = xstrdup(params[i].name);
        run->params[i].value = xstrdup(params[i].value);
    }
    run->logical_date = xstrdup(logical_date);
    snprintf(run->id_text, sizeof run->id_text, "%" PRIu64, id);
    run->tis = xcalloc(dag_task_count(run->dag), sizeof *run->tis);
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        run->tis[i].up.parents = (uint32_t) dag_task(run->dag, i)->nafter;
    }
    run->counts[TASK_PENDING] = (uint32_t) dag_task_count(run->dag);
    return run;
}

void
plan_retry_later(plan_t *self, plan_run_t *run, size_t task, int64_t due_mono)
{
    run->tis[task].due_mono = due_mono;
    plan_ref_t *ref = xmalloc(sizeof *ref);
    *ref = (plan_ref_t){run->id, task};
    zlistx_add_end(self->retries, ref);
}

/* ----------------------------------------------------------------- retry */

/* Marks task and everything downstream of it. */
static void
s_mark_downstream(const dag_t *dag, size_t task, bool *marks)
{
    if (marks[task]) {
        return;
    }
    marks[task] = true;
    const dag_task_t *def = dag_task(dag, task);
    for (size_t i = 0; i < def->nchildren; i++) {
        s_mark_downstream(dag, def->children[i], marks);
    }
}

/* Which tasks a retry re-opens: task_id and its downstream, or every task
 * in a failure state and its downstream. -1 with err for a bad task_id. */
static int
s_retry_marks(plan_run_t *run, const char *task_id, bool *marks, errbuf_t *err)
{
    if (task_id && *task_id) {
        long i = dag_task_index(run->dag, task_id);
        if (i < 0) {
            errbuf_set(err,
                       "run %" PRIu64 " has no task '%s'; see 'sluice "
                       "run show %" PRIu64 "'",
                       run->id, task_id, run->id);
            return -1;
        }
        if (!state_task_is_final(run->tis[i].state)) {
            errbuf_set(err,
                       "task '%s' of run %" PRIu64 " is %s; only a "
                       "finished task can be retried",
                       task_id, run->id, state_task_name(run->tis[i].state));
            return -1;
        }
        s_mark_downstream(run->dag, (size_t) i, marks);
        return 0;
    }
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        if (state_task_is_failure(run->tis[i].state)) {
            s_mark_downstream(run->dag, i, marks);
        }
    }
    return 0;
}

/* Sets marked final tasks back to pending with a fresh retry budget. */
static int
s_reopen(plan_t *self,
         plan_run_t *run,
         const bool *marks,
         uint32_t *reopened,
         int64_t now,
         errbuf_t *err)
{
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        plan_ti_t *ti = &run->tis[i];
        if (!marks[i] || !state_task_is_final(ti->state)) {
            continue;
        }
        run->nfinal--;
        ti->failures = 0;
        ti->first_poke = 0;
        ti->attempt_id = 0;
        if (plan_set_task(self, run, i, TASK_PENDING, now, err) < 0) {
            return -1;
        }
        (*reopened)++;
    }
    return 0;
}

/* Brings a finished run back into memory from its store row (states as
 * stored: a load, not a transition). */
static plan_run_t *
s_adopt(plan_t *self, dag_t **dag_p, const store_run_row_t *row)
{
    plan_run_t *run = plan_run_new(row->run_id, dag_p, row->params,
                                   row->nparams, row->logical_date);
    run->state = row->state;
    run->finished = true;
    for (size_t r = 0; r < row->ntasks; r++) {
        long i = dag_task_index(run->dag, row->tasks[r].task_id);
        if (i < 0) {
            continue;
        }
        run->counts[run->tis[i].state]--;
        run->counts[row->tasks[r].state]++;
        run->tis[i].state = row->tasks[r].state;
        run->tis[i].tries = row->tasks[r].tries;
        if (state_task_is_final(row->tasks[r].state)) {
            run->nfinal++;
        }
    }
    run->backfill =
        row->trigger && strcmp(row->trigger, PLAN_TRIGGER_BACKFILL) == 0;
    zhashx_insert(self->runs, ID_KEY(run->id), run);
    limits_run_added(self->limits, dag_name(run->dag), run->id, run->backfill,
                     run->state);
    return run;
}

bool
plan_has_run(plan_t *self, uint64_t run_id)
{
    return zhashx_lookup(self->runs, ID_KEY(run_id)) != NULL;
}

int
plan_retry(plan_t *self,
           uint64_t run_id,
           const char *task_id,
           dag_t **dag_p,
           const store_run_row_t *row,
           uint32_t *reopened,
           int64_t now,
           errbuf_t *err)
{
    *reopened = 0;
    plan_run_t *run = zhashx_lookup(self->runs, ID_KEY(run_id));
    bool adopted = !run;
    if (adopted) {
        run = s_adopt(self, dag_p, row);
    }
    bool *marks = xcalloc(dag_task_count(run->dag) + 1, sizeof *marks);
    int rc = s_retry_marks(run, task_id, marks, err);
    if (rc == 0) {
        rc = s_reopen(self, run, marks, reopened, now, err);
    }
    free(marks);
    if (rc == 0 && *reopened == 0) {
        errbuf_set(err,
                   "run %" PRIu64 " has nothing to retry: no failed, "
                   "timed-out, cancelled or upstream_failed task",
                   run_id);
        rc = -1;
    }
    if (rc < 0) {
        if (adopted) {
            zhashx_delete(self->runs, ID_KEY(run_id));
        }
        return -1;
    }
    run->finished = false;
    if (plan_set_run(self, run, RUN_RUNNING, now, err) < 0) {
        return -1;
    }
    return plan_decide_pending(self, run, now, err);
}
