/* plan: the scheduler's task state machine over a real store. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/dag.h"
#include "scheduler/plan.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_runs.h"
#include "tests/unit/suites.h"

static const char *s_diamond = "dag: diamond\n"
                               "params:\n"
                               "  who: world\n"
                               "defaults:\n"
                               "  retries: 1\n"
                               "  retry_delay: 50ms\n"
                               "tasks:\n"
                               "  - id: start\n"
                               "    run: echo {{ params.who }} {{ run_id }}\n"
                               "  - id: left\n"
                               "    after: [start]\n"
                               "    run: echo left\n"
                               "  - id: right\n"
                               "    after: [start]\n"
                               "    run: echo right\n"
                               "  - id: join\n"
                               "    after: [left, right]\n"
                               "    run: echo join {{ attempt }}\n";

typedef struct {
    char dir[64];
    store_t *store;
    plan_t *plan;
} fixture_t;

static void
s_setup(fixture_t *f)
{
    strcpy(f->dir, "/tmp/sluice-plan.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    char path[128];
    snprintf(path, sizeof path, "%s/store.db", f->dir);
    errbuf_t err;
    f->store = store_open(path, &err);
    ck_assert_msg(f->store, "%s", err.msg);
    f->plan = plan_new(f->store);
    ck_assert_int_eq(store_begin(f->store, &err), 0);
    bool changed;
    ck_assert_int_eq(store_dag_put(f->store, "diamond", "v1", s_diamond,
                                   "d.yaml", 1, &changed, &err),
                     0);
}

static void
s_teardown(fixture_t *f)
{
    plan_destroy(&f->plan);
    store_destroy(&f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    ck_assert_int_eq(system(cmd), 0);
}

static uint64_t
s_trigger(fixture_t *f)
{
    dag_t *dag = dag_parse("d.yaml", s_diamond, strlen(s_diamond), NULL);
    ck_assert_ptr_nonnull(dag);
    /* The store keys versions by content hash. */
    errbuf_t err;
    bool changed;
    ck_assert_int_eq(store_dag_put(f->store, "diamond", dag_version(dag),
                                   s_diamond, "d.yaml", 1, &changed, &err),
                     0);
    dag_kv_t params[] = {{"who", "sluice"}};
    uint64_t run_id = 0;
    ck_assert_int_eq(plan_trigger(f->plan, &dag, params, 1, "2026-11-26",
                                  "manual", 1, &run_id, &err),
                     0);
    ck_assert_ptr_null(dag);
    return run_id;
}

/* A placement that takes one task per round, on "w1". */
typedef struct {
    int budget;
    uint64_t attempt_id;
    char task[64];
    char command[256];
} s_one_t;

static plan_place_t
s_place_one(void *arg,
            const dag_task_t *task,
            const char **worker,
            char *why,
            size_t size)
{
    (void) task, (void) why, (void) size;
    s_one_t *one = arg;
    if (one->budget == 0) {
        return PLAN_FULL;
    }
    one->budget--;
    *worker = "w1";
    return PLAN_PLACED;
}

static void
s_send_one(void *arg, const char *worker, const plan_dispatch_t *d)
{
    s_one_t *one = arg;
    ck_assert_str_eq(worker, "w1");
    one->attempt_id = d->attempt_id;
    snprintf(one->task, sizeof one->task, "%s", d->task->id);
    snprintf(one->command, sizeof one->command, "%s", d->command);
}

/* Dispatches one ready task; returns its attempt id (0 when none). */
static uint64_t
s_dispatch(fixture_t *f, const char *expect_task, char *command_out)
{
    s_one_t one = {.budget = 1};
    errbuf_t err;
    int sent =
        plan_dispatch_round(f->plan, s_place_one, s_send_one, &one, 2, &err);
    ck_assert_int_ge(sent, 0);
    if (sent == 0) {
        return 0;
    }
    if (expect_task) {
        ck_assert_str_eq(one.task, expect_task);
    }
    if (command_out) {
        strcpy(command_out, one.command);
    }
    return one.attempt_id;
}

static void
s_finish(fixture_t *f, uint64_t attempt, attempt_state_t state, int expect)
{
    plan_result_t result = {.state = state,
                            .cause = state == ATTEMPT_SUCCESS     ? NULL
                                     : state == ATTEMPT_TIMED_OUT ? "timeout"
                                     : state == ATTEMPT_CANCELLED ? "cancelled"
                                                                  : "exit",
                            .exit_code = state == ATTEMPT_SUCCESS ? 0 : 1};
    errbuf_t err;
    ck_assert_int_eq(
        plan_attempt_result(f->plan, attempt, "w1", &result, 3, &err), expect);
}

START_TEST(test_plan_usage)
{
    /* A diamond runs start, then left and right, then join, and the run
     * succeeds. Commands are rendered with the run's params. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger(&f);
    uint32_t counts[TASK_STATE_COUNT];
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_QUEUED], 1);
    ck_assert_uint_eq(counts[TASK_PENDING], 3);
    char command[256];
    uint64_t a = s_dispatch(&f, "start", command);
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_RUNNING], 1);
    ck_assert_uint_eq(counts[TASK_QUEUED], 0);
    char expect[64];
    snprintf(expect, sizeof expect, "echo sluice %llu",
             (unsigned long long) run);
    ck_assert_str_eq(command, expect);
    ck_assert_uint_eq(s_dispatch(&f, NULL, NULL), 0); /* left waits */
    s_finish(&f, a, ATTEMPT_SUCCESS, 0);
    uint64_t l = s_dispatch(&f, "left", NULL);
    uint64_t r = s_dispatch(&f, "right", NULL);
    s_finish(&f, l, ATTEMPT_SUCCESS, 0);
    /* The counts the planner keeps, which run show reports, as it goes. */
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_SUCCESS], 2);
    ck_assert_uint_eq(counts[TASK_RUNNING], 1);
    ck_assert_uint_eq(counts[TASK_PENDING], 1);
    ck_assert_uint_eq(s_dispatch(&f, NULL, NULL), 0); /* join waits */
    s_finish(&f, r, ATTEMPT_SUCCESS, 0);
    uint64_t j = s_dispatch(&f, "join", command);
    ck_assert_str_eq(command, "echo join 1");
    s_finish(&f, j, ATTEMPT_SUCCESS, 0);
    ck_assert_uint_eq(plan_run_count(f.plan), 0); /* finished: left memory */
    ck_assert(!plan_run_counts(f.plan, run, counts));
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_retry_then_upstream_failed)
{
    fixture_t f;
    s_setup(&f);
    s_trigger(&f);
    uint64_t a1 = s_dispatch(&f, "start", NULL);
    s_finish(&f, a1, ATTEMPT_FAILED, 0);
    ck_assert_uint_eq(s_dispatch(&f, NULL, NULL), 0); /* waiting to retry */
    ck_assert_int_ge(plan_next_due(f.plan), 0);
    errbuf_t err;
    int64_t limit = clock_mono_ms() + 2000;
    while (!plan_has_ready(f.plan) && clock_mono_ms() < limit) {
        usleep(10000);
        ck_assert_int_eq(plan_tick(f.plan, clock_mono_ms(), 4, &err), 0);
    }
    uint64_t a2 = s_dispatch(&f, "start", NULL);
    ck_assert_uint_ne(a2, a1);
    s_finish(&f, a2, ATTEMPT_FAILED, 0); /* retries exhausted */
    ck_assert_uint_eq(plan_run_count(f.plan), 0);
    ck_assert_int_eq(store_commit(f.store, &err), 0);
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_stale_and_lost)
{
    fixture_t f;
    s_setup(&f);
    s_trigger(&f);
    uint64_t a1 = s_dispatch(&f, "start", NULL);
    errbuf_t err;
    /* The worker is lost: a new attempt is queued; a late result for the
     * old attempt is stale and changes nothing. */
    ck_assert_int_eq(
        plan_attempt_lost(f.plan, a1, "lost", "worker lost", 3, &err), 0);
    uint64_t a2 = s_dispatch(&f, "start", NULL);
    ck_assert_uint_ne(a2, a1);
    s_finish(&f, a1, ATTEMPT_SUCCESS, PLAN_STALE);
    ck_assert(!plan_has_ready(f.plan)); /* left and right still wait */
    s_finish(&f, a2, ATTEMPT_SUCCESS, 0);
    ck_assert(plan_has_ready(f.plan));
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_log_cap)
{
    /* Log bytes of an attempt are counted against the cap; nothing is kept
     * for attempts not in flight. */
    fixture_t f;
    s_setup(&f);
    s_trigger(&f);
    uint64_t a = s_dispatch(&f, "start", NULL);
    ck_assert(plan_attempt_log(f.plan, a, 1, 600, 1000));
    ck_assert(!plan_attempt_log(f.plan, a, 2, 600, 1000));
    ck_assert(plan_attempt_log(f.plan, a, 3, 400, 1000));
    ck_assert(plan_attempt_log(f.plan, a, 4, 1 << 20, 0));
    ck_assert(!plan_attempt_log(f.plan, a + 1000, 1, 1, 0));
    s_finish(&f, a, ATTEMPT_SUCCESS, 0);
    ck_assert(!plan_attempt_log(f.plan, a, 5, 1, 0));
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_log_resent_chunks_are_duplicates)
{
    /* After a reconnect a worker sends every chunk again from seq 1: those
     * already accepted are refused, the rest accepted, without counting
     * the duplicates against the cap. */
    fixture_t f;
    s_setup(&f);
    s_trigger(&f);
    uint64_t a = s_dispatch(&f, "start", NULL);
    ck_assert(plan_attempt_log(f.plan, a, 1, 400, 1000));
    ck_assert(plan_attempt_log(f.plan, a, 2, 400, 1000));
    ck_assert(!plan_attempt_log(f.plan, a, 1, 400, 1000));
    ck_assert(!plan_attempt_log(f.plan, a, 2, 400, 1000));
    ck_assert(plan_attempt_log(f.plan, a, 3, 200, 1000));
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_cancel)
{
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger(&f);
    uint64_t a = s_dispatch(&f, "start", NULL);
    zlistx_t *running = zlistx_new();
    uint32_t cancelled = 0;
    errbuf_t err;
    ck_assert_int_eq(plan_cancel_run(f.plan, run, running, &cancelled, 3, &err),
                     0);
    ck_assert_uint_eq(cancelled, 4);
    ck_assert_uint_eq(zlistx_size(running), 1);
    ck_assert_uint_eq((uintptr_t) zlistx_first(running), a);
    zlistx_destroy(&running);
    /* The killed attempt still reports; nothing is dispatched again. */
    s_finish(&f, a, ATTEMPT_CANCELLED, 0);
    ck_assert_uint_eq(s_dispatch(&f, NULL, NULL), 0);
    ck_assert_int_eq(plan_cancel_run(f.plan, run, NULL, &cancelled, 4, &err),
                     -1);
    s_teardown(&f);
}

END_TEST

/* A placement with no room anywhere for "start". */
static plan_place_t
s_place_never(void *arg,
              const dag_task_t *task,
              const char **worker,
              char *why,
              size_t size)
{
    (void) arg, (void) worker;
    snprintf(why, size, "no connected worker has %u GPU", task->gpus + 1);
    return PLAN_WAIT;
}

START_TEST(test_plan_waiting_reason_is_recorded)
{
    /* A task that fits nowhere stays queued, says why, and does not block
     * the round. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger(&f);
    errbuf_t err;
    ck_assert_int_eq(
        plan_dispatch_round(f.plan, s_place_never, s_send_one, NULL, 2, &err),
        0);
    ck_assert(plan_has_ready(f.plan));
    ck_assert_int_eq(store_commit(f.store, &err), 0);
    char sql[512];
    snprintf(sql, sizeof sql,
             "sqlite3 %s/store.db \"SELECT waiting FROM task_instances WHERE "
             "run_id=%llu AND task_id='start'\" | grep -q 'has 1 GPU'",
             f.dir, (unsigned long long) run);
    ck_assert_int_eq(system(sql), 0);
    ck_assert_int_eq(store_begin(f.store, &err), 0);
    /* Once placed, the reason is cleared. */
    uint64_t a = s_dispatch(&f, "start", NULL);
    ck_assert_uint_ne(a, 0);
    ck_assert_int_eq(store_commit(f.store, &err), 0);
    snprintf(sql, sizeof sql,
             "sqlite3 %s/store.db \"SELECT waiting FROM task_instances WHERE "
             "run_id=%llu AND task_id='start'\" | grep -q .",
             f.dir, (unsigned long long) run);
    ck_assert_int_ne(system(sql), 0);
    ck_assert_int_eq(store_begin(f.store, &err), 0);
    s_teardown(&f);
}

END_TEST

typedef struct {
    plan_t *plan;
    const char *task_id;
    uint32_t reopened;
    int rc;
} s_retry_ctx_t;

/* What the scheduler does for a run that has left memory. */
static int
s_retry_cb(void *arg, const store_run_row_t *row)
{
    s_retry_ctx_t *ctx = arg;
    dag_t *dag = dag_parse("d.yaml", s_diamond, strlen(s_diamond), NULL);
    errbuf_t err;
    ctx->rc = plan_retry(ctx->plan, row->run_id, ctx->task_id, &dag, row,
                         &ctx->reopened, 6, &err);
    dag_destroy(&dag);
    return ctx->rc;
}

START_TEST(test_plan_retry)
{
    /* start fails for good, the rest is upstream_failed; a retry re-opens
     * all four and the run can then succeed. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger(&f);
    errbuf_t err;
    uint32_t reopened = 99;
    ck_assert_int_eq(
        plan_retry(f.plan, run, NULL, NULL, NULL, &reopened, 3, &err), -1);
    ck_assert_uint_eq(reopened, 0); /* nothing failed yet */
    uint64_t a1 = s_dispatch(&f, "start", NULL);
    s_finish(&f, a1, ATTEMPT_FAILED, 0);
    int64_t limit = clock_mono_ms() + 2000;
    while (!plan_has_ready(f.plan) && clock_mono_ms() < limit) {
        usleep(10000);
        plan_tick(f.plan, clock_mono_ms(), 4, &err);
    }
    uint64_t a2 = s_dispatch(&f, "start", NULL);
    s_finish(&f, a2, ATTEMPT_FAILED, 0);
    ck_assert(!plan_has_run(f.plan, run)); /* failed: left memory */
    /* A bad task id is refused and the run stays out of memory. */
    s_retry_ctx_t bad = {f.plan, "nope", 0, -1};
    ck_assert_int_eq(store_load_run(f.store, run, s_retry_cb, &bad, &err), -1);
    ck_assert(!plan_has_run(f.plan, run));
    s_retry_ctx_t all = {f.plan, NULL, 0, -1};
    ck_assert_int_eq(store_load_run(f.store, run, s_retry_cb, &all, &err), 0);
    ck_assert_uint_eq(all.reopened, 4);
    uint64_t a3 = s_dispatch(&f, "start", NULL);
    s_finish(&f, a3, ATTEMPT_SUCCESS, 0);
    s_finish(&f, s_dispatch(&f, "left", NULL), ATTEMPT_SUCCESS, 0);
    s_finish(&f, s_dispatch(&f, "right", NULL), ATTEMPT_SUCCESS, 0);
    s_finish(&f, s_dispatch(&f, "join", NULL), ATTEMPT_SUCCESS, 0);
    ck_assert(!plan_has_run(f.plan, run)); /* succeeded this time */
    s_teardown(&f);
}

END_TEST

/* What a restore reads each run with: the plan and its DAG's source. */
typedef struct {
    plan_t *plan;
    const char *source;
} s_restore_t;

static int
s_restore_cb(void *arg, const store_run_row_t *row)
{
    s_restore_t *r = arg;
    dag_t *dag = dag_parse("d.yaml", r->source, strlen(r->source), NULL);
    errbuf_t err;
    int rc = plan_restore(r->plan, &dag, row, NULL, NULL, 5, &err);
    dag_destroy(&dag);
    return rc;
}

START_TEST(test_plan_restore)
{
    /* After a restart the plan picks up where the store left off. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger(&f);
    uint64_t a = s_dispatch(&f, "start", NULL);
    s_finish(&f, a, ATTEMPT_SUCCESS, 0);
    uint64_t l = s_dispatch(&f, "left", NULL);
    errbuf_t err;
    uint32_t before[TASK_STATE_COUNT], after[TASK_STATE_COUNT];
    ck_assert(plan_run_counts(f.plan, run, before));
    ck_assert(plan_attempt_log(f.plan, l, 1, 3, 0));
    ck_assert_int_eq(store_log_append(f.store, l, 1, 1, 0, "ab\n", 3, &err), 0);
    ck_assert(plan_attempt_log(f.plan, l, 2, 3, 0));
    ck_assert_int_eq(store_log_append(f.store, l, 2, 1, 0, "cd\n", 3, &err), 0);
    ck_assert_int_eq(store_commit(f.store, &err), 0);
    plan_destroy(&f.plan);
    f.plan = plan_new(f.store);
    ck_assert_int_eq(store_begin(f.store, &err), 0);
    s_restore_t restore = {f.plan, s_diamond};
    ck_assert_int_eq(store_load_active(f.store, s_restore_cb, &restore, &err),
                     0);
    ck_assert_uint_eq(plan_run_count(f.plan), 1);
    ck_assert(plan_run_counts(f.plan, run, after)); /* counted again */
    ck_assert_mem_eq(before, after, sizeof before);
    ck_assert(plan_attempt_known(f.plan, l));
    ck_assert_str_eq(plan_attempt_worker(f.plan, l), "w1");
    /* The worker sends its kept chunks again: the stored ones are known. */
    ck_assert_uint_eq(plan_attempt_log_seq(f.plan, l), 2);
    ck_assert(!plan_attempt_log(f.plan, l, 2, 3, 0));
    ck_assert(plan_attempt_log(f.plan, l, 3, 3, 0));
    uint64_t r = s_dispatch(&f, "right", NULL); /* was queued */
    s_finish(&f, l, ATTEMPT_SUCCESS, 0);
    s_finish(&f, r, ATTEMPT_SUCCESS, 0);
    s_dispatch(&f, "join", NULL);
    s_teardown(&f);
}

END_TEST

static int
s_state_cb(void *arg, const store_run_row_t *row)
{
    *(run_state_t *) arg = row->state;
    return 0;
}

static const char *s_rules = "dag: rules\n"
                             "tasks:\n"
                             "  - id: start\n"
                             "    run: 'true'\n"
                             "  - id: left\n"
                             "    after: [start]\n"
                             "    run: 'true'\n"
                             "    skip_exit_code: 99\n"
                             "  - id: right\n"
                             "    after: [start]\n"
                             "    run: 'true'\n"
                             "  - id: join\n"
                             "    after: [left, right]\n"
                             "    trigger_rule: none_failed_min_one_success\n"
                             "    run: 'true'\n"
                             "  - id: alert\n"
                             "    after: [left, right]\n"
                             "    trigger_rule: one_failed\n"
                             "    run: 'true'\n"
                             "  - id: tail\n"
                             "    after: [join]\n"
                             "    run: 'true'\n";

static uint64_t
s_trigger_text(fixture_t *f, const char *name, const char *text)
{
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse("r.yaml", text, strlen(text), errors);
    ck_assert_msg(dag, "%s", (char *) zlist_first(errors));
    zlist_destroy(&errors);
    errbuf_t err;
    bool changed;
    ck_assert_int_eq(store_dag_put(f->store, name, dag_version(dag), text,
                                   "r.yaml", 1, &changed, &err),
                     0);
    uint64_t run_id = 0;
    ck_assert_int_eq(plan_trigger(f->plan, &dag, NULL, 0, "2026-11-26",
                                  "manual", 1, &run_id, &err),
                     0);
    return run_id;
}

/* Ends an attempt with exit status `code` (0: success). */
static void
s_exit(fixture_t *f, uint64_t attempt, int code)
{
    plan_result_t result = {.state = code ? ATTEMPT_FAILED : ATTEMPT_SUCCESS,
                            .cause = code ? "exit" : NULL,
                            .exit_code = code};
    errbuf_t err;
    ck_assert_int_eq(
        plan_attempt_result(f->plan, attempt, "w1", &result, 3, &err), 0);
}

static int s_state_cb(void *arg, const store_run_row_t *row);

static run_state_t
s_run_state(fixture_t *f, uint64_t run)
{
    run_state_t stored = RUN_QUEUED;
    errbuf_t err;
    ck_assert_int_eq(store_load_run(f->store, run, s_state_cb, &stored, &err),
                     0);
    return stored;
}

START_TEST(test_plan_skip_exit_code_and_rules)
{
    /* left exits with its skip_exit_code: skipped, not failed. The join
     * (none_failed_min_one_success) waits for right and runs; the alert
     * (one_failed) is skipped once both are done without a failure. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger_text(&f, "rules", s_rules);
    s_exit(&f, s_dispatch(&f, "start", NULL), 0);
    uint64_t l = s_dispatch(&f, "left", NULL);
    uint64_t r = s_dispatch(&f, "right", NULL);
    s_exit(&f, l, 99);
    uint32_t counts[TASK_STATE_COUNT];
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_SKIPPED], 1);
    ck_assert_uint_eq(counts[TASK_PENDING], 3); /* join, alert, tail */
    ck_assert_uint_eq(s_dispatch(&f, NULL, NULL), 0);
    s_exit(&f, r, 0);
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_SKIPPED], 2); /* left, alert */
    s_exit(&f, s_dispatch(&f, "join", NULL), 0);
    s_exit(&f, s_dispatch(&f, "tail", NULL), 0);
    ck_assert_uint_eq(plan_run_count(f.plan), 0);
    /* Leaves: tail success, alert skipped. */
    ck_assert_int_eq(s_run_state(&f, run), RUN_SUCCESS);
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_one_failed_fires_early)
{
    /* left fails: the alert runs at once, while right still runs, and the
     * join and what follows it are upstream_failed; a failed leaf fails
     * the run. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger_text(&f, "rules", s_rules);
    s_exit(&f, s_dispatch(&f, "start", NULL), 0);
    uint64_t l = s_dispatch(&f, "left", NULL);
    uint64_t r = s_dispatch(&f, "right", NULL);
    s_exit(&f, l, 1);
    uint32_t counts[TASK_STATE_COUNT];
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_UPSTREAM_FAILED], 2); /* join, tail */
    ck_assert_uint_eq(counts[TASK_QUEUED], 1);          /* alert */
    s_exit(&f, s_dispatch(&f, "alert", NULL), 0);
    s_exit(&f, r, 0);
    ck_assert_uint_eq(plan_run_count(f.plan), 0);
    ck_assert_int_eq(s_run_state(&f, run), RUN_FAILED);
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_skip_propagates_through_a_diamond)
{
    /* start exits with its skip_exit_code: left and right (all_success)
     * are skipped, and so is the join below them; the run succeeds. An
     * all_done cleanup after the join still runs. */
    const char *text = "dag: skips\n"
                       "tasks:\n"
                       "  - id: start\n"
                       "    run: 'true'\n"
                       "    skip_exit_code: 3\n"
                       "  - id: left\n"
                       "    after: [start]\n"
                       "    run: 'true'\n"
                       "  - id: right\n"
                       "    after: [start]\n"
                       "    run: 'true'\n"
                       "  - id: join\n"
                       "    after: [left, right]\n"
                       "    run: 'true'\n"
                       "  - id: cleanup\n"
                       "    after: [join]\n"
                       "    trigger_rule: all_done\n"
                       "    run: 'true'\n";
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger_text(&f, "skips", text);
    s_exit(&f, s_dispatch(&f, "start", NULL), 3);
    uint32_t counts[TASK_STATE_COUNT];
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_SKIPPED], 4);
    ck_assert_uint_eq(counts[TASK_QUEUED], 1);
    s_exit(&f, s_dispatch(&f, "cleanup", NULL), 0);
    ck_assert_uint_eq(plan_run_count(f.plan), 0);
    ck_assert_int_eq(s_run_state(&f, run), RUN_SUCCESS);
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_restore_keeps_what_the_rules_count)
{
    /* left was skipped before a restart: after it, right's end still
     * finds the join's and the alert's parents counted (join runs, the
     * alert is skipped). */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger_text(&f, "rules", s_rules);
    s_exit(&f, s_dispatch(&f, "start", NULL), 0);
    uint64_t l = s_dispatch(&f, "left", NULL);
    uint64_t r = s_dispatch(&f, "right", NULL);
    s_exit(&f, l, 99);
    errbuf_t err;
    ck_assert_int_eq(store_commit(f.store, &err), 0);
    plan_destroy(&f.plan);
    f.plan = plan_new(f.store);
    ck_assert_int_eq(store_begin(f.store, &err), 0);
    s_restore_t restore = {f.plan, s_rules};
    ck_assert_int_eq(store_load_active(f.store, s_restore_cb, &restore, &err),
                     0);
    s_exit(&f, r, 0);
    uint32_t counts[TASK_STATE_COUNT];
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_SKIPPED], 2); /* left, alert */
    ck_assert_uint_eq(counts[TASK_QUEUED], 1);  /* join */
    s_exit(&f, s_dispatch(&f, "join", NULL), 0);
    s_exit(&f, s_dispatch(&f, "tail", NULL), 0);
    ck_assert_int_eq(s_run_state(&f, run), RUN_SUCCESS);
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_refuses_illegal_run_transition)
{
    /* A store row that says a run is queued while all its tasks succeeded
     * cannot come from the plan. Restoring it would finish the run with
     * queued -> success, which the run table does not allow: the restore
     * fails as a bug and the run's state is not written. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger(&f);
    store_task_row_t tasks[4] = {{.task_id = "start", .state = TASK_SUCCESS},
                                 {.task_id = "left", .state = TASK_SUCCESS},
                                 {.task_id = "right", .state = TASK_SUCCESS},
                                 {.task_id = "join", .state = TASK_SUCCESS}};
    dag_t *dag = dag_parse("d.yaml", s_diamond, strlen(s_diamond), NULL);
    store_run_row_t row = {.run_id = run,
                           .dag = "diamond",
                           .version = dag_version(dag),
                           .logical_date = "2026-11-26",
                           .state = RUN_QUEUED,
                           .ntasks = 4,
                           .tasks = tasks};
    plan_t *other = plan_new(f.store);
    errbuf_t err;
    ck_assert_int_eq(plan_restore(other, &dag, &row, NULL, NULL, 5, &err), -1);
    ck_assert_ptr_null(dag);
    ck_assert_msg(strstr(err.msg, "bug: run ") == err.msg, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "from queued to success"));
    plan_destroy(&other);
    run_state_t stored = RUN_CANCELLED;
    ck_assert_int_eq(store_load_run(f.store, run, s_state_cb, &stored, &err),
                     0);
    ck_assert_int_eq(stored, RUN_QUEUED);
    s_teardown(&f);
}

END_TEST

static const char *s_branchy = "dag: branchy\n"
                               "tasks:\n"
                               "  - id: pick\n"
                               "    kind: branch\n"
                               "    run: 'true'\n"
                               "  - id: left\n"
                               "    after: [pick]\n"
                               "    run: 'true'\n"
                               "  - id: right\n"
                               "    after: [pick]\n"
                               "    run: 'true'\n"
                               "  - id: right_tail\n"
                               "    after: [right]\n"
                               "    run: 'true'\n"
                               "  - id: join\n"
                               "    after: [left, right_tail]\n"
                               "    trigger_rule: none_failed_min_one_success\n"
                               "    run: 'true'\n";

/* Ends a branch task's attempt with success and the choice ids[0..n). */
static void
s_branch(fixture_t *f, uint64_t attempt, const char *const *ids, size_t n)
{
    plan_result_t result = {.state = ATTEMPT_SUCCESS,
                            .branch = ids,
                            .nbranch = n,
                            .branch_read = true};
    errbuf_t err;
    ck_assert_int_eq(
        plan_attempt_result(f->plan, attempt, "w1", &result, 3, &err), 0);
}

START_TEST(test_plan_branch_skips_what_it_did_not_choose)
{
    /* pick chooses left: right is skipped, and right_tail below it; the
     * join (none_failed_min_one_success) runs after left alone. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger_text(&f, "branchy", s_branchy);
    const char *left[] = {"left"};
    s_branch(&f, s_dispatch(&f, "pick", NULL), left, 1);
    uint32_t counts[TASK_STATE_COUNT];
    ck_assert(plan_run_counts(f.plan, run, counts));
    ck_assert_uint_eq(counts[TASK_SKIPPED], 2); /* right, right_tail */
    ck_assert_uint_eq(counts[TASK_QUEUED], 1);  /* left */
    s_exit(&f, s_dispatch(&f, "left", NULL), 0);
    s_exit(&f, s_dispatch(&f, "join", NULL), 0);
    ck_assert_uint_eq(plan_run_count(f.plan), 0);
    ck_assert_int_eq(s_run_state(&f, run), RUN_SUCCESS);
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_branch_choosing_none_skips_all)
{
    /* An empty choice skips both children, and the join whose parents
     * were all skipped. */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger_text(&f, "branchy", s_branchy);
    s_branch(&f, s_dispatch(&f, "pick", NULL), NULL, 0);
    ck_assert_uint_eq(plan_run_count(f.plan), 0);
    ck_assert_int_eq(s_run_state(&f, run), RUN_SUCCESS);
    ck_assert_uint_eq(s_dispatch(&f, NULL, NULL), 0);
    s_teardown(&f);
}

END_TEST

START_TEST(test_plan_branch_bad_choice_fails_it)
{
    /* join is downstream but not a child of pick: choosing it fails pick,
     * and its children are upstream_failed. So does a result without a
     * choice (a worker that predates branches). */
    fixture_t f;
    s_setup(&f);
    uint64_t run = s_trigger_text(&f, "branchy", s_branchy);
    const char *join[] = {"left", "join"};
    s_branch(&f, s_dispatch(&f, "pick", NULL), join, 2);
    uint32_t counts[TASK_STATE_COUNT];
    ck_assert_uint_eq(plan_run_count(f.plan), 0);
    ck_assert_int_eq(s_run_state(&f, run), RUN_FAILED);
    run = s_trigger_text(&f, "branchy", s_branchy);
    s_exit(&f, s_dispatch(&f, "pick", NULL), 0);
    ck_assert(!plan_run_counts(f.plan, run, counts));
    ck_assert_int_eq(s_run_state(&f, run), RUN_FAILED);
    s_teardown(&f);
}

END_TEST

Suite *
plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_plan_usage);
    tcase_add_test(tc, test_plan_retry_then_upstream_failed);
    tcase_add_test(tc, test_plan_stale_and_lost);
    tcase_add_test(tc, test_plan_log_cap);
    tcase_add_test(tc, test_plan_log_resent_chunks_are_duplicates);
    tcase_add_test(tc, test_plan_cancel);
    tcase_add_test(tc, test_plan_restore);
    tcase_add_test(tc, test_plan_retry);
    tcase_add_test(tc, test_plan_waiting_reason_is_recorded);
    tcase_add_test(tc, test_plan_refuses_illegal_run_transition);
    tcase_add_test(tc, test_plan_skip_exit_code_and_rules);
    tcase_add_test(tc, test_plan_one_failed_fires_early);
    tcase_add_test(tc, test_plan_skip_propagates_through_a_diamond);
    tcase_add_test(tc, test_plan_restore_keeps_what_the_rules_count);
    tcase_add_test(tc, test_plan_branch_skips_what_it_did_not_choose);
    tcase_add_test(tc, test_plan_branch_choosing_none_skips_all);
    tcase_add_test(tc, test_plan_branch_bad_choice_fails_it);
    suite_add_tcase(s, tc);
    return s;
}
