/* limits: pools, max_active_* and priority order, through a real plan
 * over a real store. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dag.h"
#include "scheduler/limits.h"
#include "scheduler/plan.h"
#include "scheduler/prom.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_runs.h"
#include "tests/unit/suites.h"

/* Three independent tasks that each take a slot of pool 'gpu'. */
static const char *s_pooled = "dag: pooled\n"
                              "tasks:\n"
                              "  - id: a\n"
                              "    run: echo a\n"
                              "    pool: gpu\n"
                              "  - id: b\n"
                              "    run: echo b\n"
                              "    pool: gpu\n"
                              "  - id: c\n"
                              "    run: echo c\n"
                              "    pool: gpu\n";

static const char *s_serial = "dag: serial\n"
                              "max_active_runs: 1\n"
                              "tasks:\n"
                              "  - id: only\n"
                              "    run: echo one\n";

static const char *s_train = "dag: train\n"
                             "max_active_tasks: 3\n"
                             "tasks:\n"
                             "  - id: train\n"
                             "    run: echo train\n"
                             "    max_active: 1\n"
                             "  - id: x\n"
                             "    run: echo x\n"
                             "  - id: y\n"
                             "    run: echo y\n";

static const char *s_ranked = "dag: ranked\n"
                              "defaults:\n"
                              "  priority: 2\n"
                              "tasks:\n"
                              "  - id: low\n"
                              "    run: echo low\n"
                              "    priority: -1\n"
                              "  - id: plain\n"
                              "    run: echo plain\n"
                              "  - id: high\n"
                              "    run: echo high\n"
                              "    priority: 9\n";

typedef struct {
    char dir[64];
    store_t *store;
    plan_t *plan;
    const char *source; /* the DAG every run uses */
} fixture_t;

static void
s_setup(fixture_t *f, const char *source)
{
    strcpy(f->dir, "/tmp/sluice-limits.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    char path[128];
    snprintf(path, sizeof path, "%s/store.db", f->dir);
    errbuf_t err;
    f->store = store_open(path, &err);
    ck_assert_msg(f->store, "%s", err.msg);
    f->plan = plan_new(f->store);
    f->source = source;
    ck_assert_int_eq(store_begin(f->store, &err), 0);
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

static dag_t *
s_dag(const char *source)
{
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse("l.yaml", source, strlen(source), errors);
    ck_assert_msg(dag, "%s", (char *) zlist_first(errors));
    zlist_destroy(&errors);
    return dag;
}

static uint64_t
s_trigger(fixture_t *f)
{
    dag_t *dag = s_dag(f->source);
    errbuf_t err;
    bool changed;
    ck_assert_int_eq(store_dag_put(f->store, dag_name(dag), dag_version(dag),
                                   f->source, "l.yaml", 1, &changed, &err),
                     0);
    uint64_t run_id = 0;
    ck_assert_int_eq(plan_trigger(f->plan, &dag, NULL, 0, "2026-12-07",
                                  "manual", 1, &run_id, &err),
                     0);
    return run_id;
}

/* A placement with room for `budget` tasks on "w1"; records what went. */
typedef struct {
    int budget;
    size_t n;
    uint64_t attempts[16];
    uint64_t runs[16];
    char tasks[16][16];
} s_sent_t;

static plan_place_t
s_place(void *arg,
        const dag_task_t *task,
        const char **worker,
        char *why,
        size_t size)
{
    (void) task, (void) why, (void) size;
    s_sent_t *sent = arg;
    if (sent->budget == 0) {
        return PLAN_FULL;
    }
    sent->budget--;
    *worker = "w1";
    return PLAN_PLACED;
}

static void
s_send(void *arg, const char *worker, const plan_dispatch_t *d)
{
    (void) worker;
    s_sent_t *sent = arg;
    ck_assert_uint_lt(sent->n, 16);
    sent->attempts[sent->n] = d->attempt_id;
    sent->runs[sent->n] = d->run_id;
    snprintf(sent->tasks[sent->n], sizeof sent->tasks[0], "%s", d->task->id);
    sent->n++;
}

/* One dispatch round with room for `budget` tasks. */
static s_sent_t
s_round(fixture_t *f, int budget)
{
    s_sent_t sent = {.budget = budget};
    errbuf_t err;
    int n = plan_dispatch_round(f->plan, s_place, s_send, &sent, 2, &err);
    ck_assert_msg(n >= 0, "%s", err.msg);
    ck_assert_int_eq((size_t) n, sent.n);
    return sent;
}

static void
s_finish(fixture_t *f, uint64_t attempt, attempt_state_t state)
{
    plan_result_t result = {.state = state,
                            .cause = state == ATTEMPT_SUCCESS ? NULL : "exit",
                            .exit_code = state == ATTEMPT_SUCCESS ? 0 : 1};
    errbuf_t err;
    ck_assert_int_eq(
        plan_attempt_result(f->plan, attempt, "w1", &result, 3, &err), 0);
}

static void
s_pool_seen(void *arg, const char *pool, uint32_t slots, uint32_t used)
{
    prom_pool_set(arg, pool, used, slots);
}

static uint32_t
s_used(fixture_t *f)
{
    return limits_pool_used(plan_limits(f->plan), "gpu");
}

START_TEST(test_limits_pool_never_over)
{
    /* A pool of 2 slots: never a third task at once; every end gives its
     * slot back (success, failure, lost, cancel). */
    fixture_t f;
    s_setup(&f, s_pooled);
    errbuf_t err;
    limits_t *limits = plan_limits(f.plan);
    ck_assert_int_eq(limits_pool_set(limits, "gpu", 2, "two cards", 1, &err),
                     0);
    uint64_t run = s_trigger(&f);
    s_sent_t first = s_round(&f, 10);
    ck_assert_uint_eq(first.n, 2);
    ck_assert_uint_eq(s_used(&f), 2);
    ck_assert_uint_eq(s_round(&f, 10).n, 0);
    s_finish(&f, first.attempts[0], ATTEMPT_SUCCESS);
    ck_assert_uint_eq(s_used(&f), 1);
    s_sent_t third = s_round(&f, 10);
    ck_assert_uint_eq(third.n, 1);
    ck_assert_str_eq(third.tasks[0], "c");
    ck_assert_uint_eq(s_used(&f), 2);
    s_finish(&f, first.attempts[1], ATTEMPT_FAILED);
    ck_assert_uint_eq(s_used(&f), 1);
    ck_assert_int_eq(plan_attempt_lost(f.plan, third.attempts[0], "lost",
                                       "worker lost", 3, &err),
                     0);
    ck_assert_uint_eq(s_used(&f), 0);
    ck_assert_uint_eq(s_round(&f, 10).n, 1); /* c again */
    ck_assert_uint_eq(s_used(&f), 1);
    uint32_t cancelled = 0;
    zlistx_t *running = zlistx_new();
    ck_assert_int_eq(plan_cancel_run(f.plan, run, running, &cancelled, 4, &err),
                     0);
    ck_assert_uint_eq(zlistx_size(running), 1);
    zlistx_destroy(&running);
    ck_assert_uint_eq(s_used(&f), 0);
    s_teardown(&f);
}

END_TEST

START_TEST(test_limits_totals_and_metrics)
{
    /* The totals over every DAG follow the runs and tasks; the registry
     * counts each task and run that reaches a final state, once; the pool
     * walk sees the pool with its slots in use. */
    fixture_t f;
    s_setup(&f, s_pooled);
    prom_t *prom = prom_new();
    limits_t *limits = plan_limits(f.plan);
    limits_set_prom(limits, prom);
    errbuf_t err;
    ck_assert_int_eq(limits_pool_set(limits, "gpu", 2, NULL, 1, &err), 0);
    s_trigger(&f);
    limits_totals_t t = limits_totals(limits);
    ck_assert_uint_eq(t.runs_queued + t.runs_running, 1);
    s_sent_t sent = s_round(&f, 10);
    ck_assert_uint_eq(sent.n, 2);
    t = limits_totals(limits);
    ck_assert_uint_eq(t.in_flight, 2);
    ck_assert_uint_eq(t.runs_running, 1);
    ck_assert_uint_eq(t.runs_queued, 0);
    char *text = NULL;
    prom_pools_begin(prom);
    limits_pool_each(limits, s_pool_seen, prom);
    prom_pools_end(prom);
    prom_render(prom, &text);
    ck_assert_ptr_nonnull(
        strstr(text, "sluice_pool_slots_used{pool=\"gpu\"} 2\n"));
    free(text);
    s_finish(&f, sent.attempts[0], ATTEMPT_SUCCESS);
    s_finish(&f, sent.attempts[1], ATTEMPT_FAILED);
    sent = s_round(&f, 10);
    s_finish(&f, sent.attempts[0], ATTEMPT_SUCCESS);
    t = limits_totals(limits);
    ck_assert_uint_eq(t.in_flight, 0);
    ck_assert_uint_eq(t.runs_running, 0);
    ck_assert_int_eq(prom_get(prom, PROM_TASKS_FINISHED, TASK_SUCCESS), 2);
    ck_assert_int_eq(prom_get(prom, PROM_TASKS_FINISHED, TASK_FAILED), 1);
    ck_assert_int_eq(prom_get(prom, PROM_RUNS_FINISHED, RUN_FAILED), 1);
    s_teardown(&f);
    prom_destroy(&prom);
}

END_TEST

START_TEST(test_limits_pool_missing_and_rm)
{
    /* A task naming a pool that does not exist waits; a pool in use
     * cannot be removed. */
    fixture_t f;
    s_setup(&f, s_pooled);
    s_trigger(&f);
    ck_assert_uint_eq(s_round(&f, 10).n, 0);
    errbuf_t err;
    limits_t *limits = plan_limits(f.plan);
    ck_assert_int_eq(limits_pool_rm(limits, "gpu", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "no pool 'gpu'"));
    ck_assert_int_eq(limits_pool_set(limits, "gpu", 1, NULL, 2, &err), 0);
    ck_assert_uint_eq(s_round(&f, 10).n, 1);
    ck_assert_int_eq(limits_pool_rm(limits, "gpu", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "1 slots in use"));
    uint32_t slots = 9, used = 9;
    ck_assert(limits_pool_get(limits, "gpu", &slots, &used));
    ck_assert_uint_eq(slots, 1);
    ck_assert_uint_eq(used, 1);
    /* 0 slots: nothing new starts, what runs goes on. */
    ck_assert_int_eq(limits_pool_set(limits, "gpu", 0, NULL, 3, &err), 0);
    ck_assert(limits_pool_get(limits, "gpu", &slots, &used));
    ck_assert_uint_eq(slots, 0);
    ck_assert_uint_eq(s_round(&f, 10).n, 0);
    s_teardown(&f);
}

END_TEST

static int
s_restore_cb(void *arg, const store_run_row_t *row)
{
    fixture_t *f = arg;
    dag_t *dag = s_dag(f->source);
    errbuf_t err;
    int rc = plan_restore(f->plan, &dag, row, NULL, NULL, 5, &err);
    dag_destroy(&dag);
    return rc;
}

START_TEST(test_limits_pool_after_restart)
{
    /* The running tasks are loaded back with their slots: no over-use
     * after a restart. */
    fixture_t f;
    s_setup(&f, s_pooled);
    errbuf_t err;
    ck_assert_int_eq(
        limits_pool_set(plan_limits(f.plan), "gpu", 2, NULL, 1, &err), 0);
    s_trigger(&f);
    s_sent_t first = s_round(&f, 10);
    ck_assert_uint_eq(first.n, 2);
    ck_assert_int_eq(store_commit(f.store, &err), 0);
    plan_destroy(&f.plan);
    f.plan = plan_new(f.store);
    ck_assert_int_eq(store_begin(f.store, &err), 0);
    ck_assert_int_eq(limits_pools_load(plan_limits(f.plan), &err), 0);
    ck_assert_int_eq(store_load_active(f.store, s_restore_cb, &f, &err), 0);
    ck_assert_uint_eq(s_used(&f), 2);
    ck_assert_uint_eq(s_round(&f, 10).n, 0);
    s_finish(&f, first.attempts[1], ATTEMPT_SUCCESS);
    ck_assert_uint_eq(s_used(&f), 1);
    ck_assert_uint_eq(s_round(&f, 10).n, 1);
    ck_assert_uint_eq(s_used(&f), 2);
    s_teardown(&f);
}

END_TEST

START_TEST(test_limits_max_active_runs)
{
    /* max_active_runs: 1: one run at a time, the others start in the order
     * they were created; a cancelled queued run gives up its turn. */
    fixture_t f;
    s_setup(&f, s_serial);
    uint64_t r1 = s_trigger(&f), r2 = s_trigger(&f), r3 = s_trigger(&f);
    s_sent_t one = s_round(&f, 10);
    ck_assert_uint_eq(one.n, 1);
    ck_assert_uint_eq(one.runs[0], r1);
    ck_assert_uint_eq(limits_dag_runs(plan_limits(f.plan), "serial"), 1);
    ck_assert_uint_eq(s_round(&f, 10).n, 0);
    errbuf_t err;
    uint32_t cancelled = 0;
    ck_assert_int_eq(plan_cancel_run(f.plan, r2, NULL, &cancelled, 4, &err), 0);
    ck_assert_uint_eq(s_round(&f, 10).n, 0);
    s_finish(&f, one.attempts[0], ATTEMPT_SUCCESS);
    ck_assert_uint_eq(limits_dag_runs(plan_limits(f.plan), "serial"), 0);
    s_sent_t next = s_round(&f, 10);
    ck_assert_uint_eq(next.n, 1);
    ck_assert_uint_eq(next.runs[0], r3);
    s_teardown(&f);
}

END_TEST

START_TEST(test_limits_max_active_tasks)
{
    /* max_active_tasks counts the DAG's running tasks across its runs;
     * max_active counts one task across the runs. */
    fixture_t f;
    s_setup(&f, s_train);
    s_trigger(&f);
    s_trigger(&f);
    s_sent_t first = s_round(&f, 10);
    ck_assert_uint_eq(first.n, 3);
    ck_assert_uint_eq(limits_dag_tasks(plan_limits(f.plan), "train"), 3);
    size_t x = 0;
    while (x < first.n && strcmp(first.tasks[x], "x") != 0) {
        x++;
    }
    ck_assert_uint_lt(x, first.n);
    s_finish(&f, first.attempts[x], ATTEMPT_SUCCESS);
    s_sent_t second = s_round(&f, 10);
    ck_assert_uint_eq(second.n, 1); /* not 'train': one runs already */
    ck_assert_str_ne(second.tasks[0], "train");
    s_teardown(&f);
}

END_TEST

START_TEST(test_limits_reasons)
{
    /* What run show prints after "waits:". */
    fixture_t f;
    s_setup(&f, s_pooled);
    limits_t *limits = plan_limits(f.plan);
    dag_t *pooled = s_dag(s_pooled), *serial = s_dag(s_serial);
    dag_t *train = s_dag(s_train);
    char why[256];
    ck_assert(!limits_admit(limits, pooled, 1, false, dag_task(pooled, 0), why,
                            sizeof why));
    ck_assert_str_eq(why, "pool 'gpu' does not exist; create it with "
                          "'sluice pool set gpu SLOTS'");
    errbuf_t err;
    ck_assert_int_eq(limits_pool_set(limits, "gpu", 1, NULL, 1, &err), 0);
    limits_task_moved(limits, "pooled", dag_task(pooled, 0), TASK_QUEUED,
                      TASK_RUNNING);
    ck_assert(!limits_admit(limits, pooled, 1, false, dag_task(pooled, 1), why,
                            sizeof why));
    ck_assert_str_eq(why, "pool 'gpu' 1/1 in use");
    limits_run_added(limits, "serial", 7, false, RUN_RUNNING);
    limits_run_added(limits, "serial", 8, false, RUN_QUEUED);
    ck_assert(!limits_admit(limits, serial, 8, true, dag_task(serial, 0), why,
                            sizeof why));
    ck_assert_str_eq(why, "max_active_runs 1 reached");
    limits_task_moved(limits, "train", dag_task(train, 0), TASK_QUEUED,
                      TASK_RUNNING);
    ck_assert(!limits_admit(limits, train, 2, false, dag_task(train, 0), why,
                            sizeof why));
    ck_assert_str_eq(why, "max_active 1 of task 'train' reached");
    ck_assert(limits_admit(limits, train, 2, false, dag_task(train, 1), why,
                           sizeof why));
    dag_destroy(&pooled);
    dag_destroy(&serial);
    dag_destroy(&train);
    s_teardown(&f);
}

END_TEST

START_TEST(test_limits_priority_order)
{
    /* Higher priority first; defaults: priority applies to tasks without
     * their own. */
    fixture_t f;
    s_setup(&f, s_ranked);
    s_trigger(&f);
    ck_assert_str_eq(s_round(&f, 1).tasks[0], "high");
    ck_assert_str_eq(s_round(&f, 1).tasks[0], "plain");
    ck_assert_str_eq(s_round(&f, 1).tasks[0], "low");
    s_teardown(&f);
}

END_TEST

START_TEST(test_limits_aging)
{
    /* +1 per LIMITS_AGING_MS waited: a task of priority 0 that has
     * waited 10 periods goes before one of priority 5 queued now; equal
     * effective priorities go oldest first. */
    int64_t now = 100 * LIMITS_AGING_MS;
    ck_assert_int_eq(limits_effective(0, now - 10 * LIMITS_AGING_MS, now), 10);
    ck_assert_int_eq(limits_effective(3, now - LIMITS_AGING_MS + 1, now), 3);
    ck_assert_int_eq(limits_effective(-2, now + 5, now), -2);
    limits_ready_t e[] = {
        {.run_id = 1, .priority = 5, .queued_mono = now, .seq = 1},
        {.run_id = 2,
         .priority = 0,
         .queued_mono = now - 10 * LIMITS_AGING_MS,
         .seq = 2},
        {.run_id = 3, .priority = 5, .queued_mono = now - 1000, .seq = 3},
        {.run_id = 4,
         .priority = 1,
         .queued_mono = now - 4 * LIMITS_AGING_MS,
         .seq = 4},
    };
    ck_assert(limits_order(e, 4, now));
    ck_assert_uint_eq(e[0].run_id, 2); /* 0 + 10 */
    ck_assert_uint_eq(e[1].run_id, 4); /* 1 + 4 = 5, queued first of the 5s */
    ck_assert_uint_eq(e[2].run_id, 3); /* 5, queued before run 1 */
    ck_assert_uint_eq(e[3].run_id, 1);
    /* All of one priority: queue order stays as it is. */
    limits_ready_t same[] = {{.run_id = 1, .queued_mono = now, .seq = 2},
                             {.run_id = 2, .queued_mono = 0, .seq = 1}};
    ck_assert(!limits_order(same, 2, now));
    ck_assert_uint_eq(same[0].run_id, 1);
}

END_TEST

START_TEST(test_limits_backfill_goes_last)
{
    /* Backfill runs never hold up other runs: their ready tasks go after
     * every other run's, whatever the priorities, and a queued backfill
     * run starts after the DAG's other queued runs, even older ones. */
    int64_t now = 100 * LIMITS_AGING_MS;
    limits_ready_t e[] = {
        {.run_id = 1, .priority = 100, .backfill = true, .queued_mono = 0},
        {.run_id = 2, .priority = 0, .queued_mono = now, .seq = 2},
    };
    ck_assert(limits_order(e, 2, now));
    ck_assert_uint_eq(e[0].run_id, 2);
    ck_assert_uint_eq(e[1].run_id, 1);

    fixture_t f;
    s_setup(&f, s_pooled);
    limits_t *limits = plan_limits(f.plan);
    dag_t *serial = s_dag(s_serial);
    char why[256];
    limits_run_added(limits, "serial", 7, false, RUN_RUNNING);
    limits_run_added(limits, "serial", 8, true, RUN_QUEUED);
    limits_run_added(limits, "serial", 9, false, RUN_QUEUED);
    limits_run_moved(limits, "serial", 7, false, RUN_RUNNING, RUN_SUCCESS);
    ck_assert(limits_admit(limits, serial, 9, true, dag_task(serial, 0), why,
                           sizeof why));
    ck_assert(!limits_admit(limits, serial, 8, true, dag_task(serial, 0), why,
                            sizeof why));
    ck_assert_str_eq(why, "max_active_runs 1 reached");
    limits_run_moved(limits, "serial", 9, false, RUN_QUEUED, RUN_RUNNING);
    limits_run_moved(limits, "serial", 9, false, RUN_RUNNING, RUN_FAILED);
    ck_assert(limits_admit(limits, serial, 8, true, dag_task(serial, 0), why,
                           sizeof why));
    dag_destroy(&serial);
    s_teardown(&f);
}

END_TEST

Suite *
limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_limits_pool_never_over);
    tcase_add_test(tc, test_limits_pool_missing_and_rm);
    tcase_add_test(tc, test_limits_totals_and_metrics);
    tcase_add_test(tc, test_limits_pool_after_restart);
    tcase_add_test(tc, test_limits_max_active_runs);
    tcase_add_test(tc, test_limits_max_active_tasks);
    tcase_add_test(tc, test_limits_reasons);
    tcase_add_test(tc, test_limits_priority_order);
    tcase_add_test(tc, test_limits_aging);
    tcase_add_test(tc, test_limits_backfill_goes_last);
    suite_add_tcase(s, tc);
    return s;
}
