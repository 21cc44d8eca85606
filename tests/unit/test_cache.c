/* Caching: skipped_cached in the state machine, the cache key, the
 * metrics file parser, and a cached task releasing its children. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dag.h"
#include "common/metrics.h"
#include "scheduler/cache.h"
#include "scheduler/plan.h"
#include "scheduler/state.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_query.h"
#include "tests/unit/suites.h"

START_TEST(test_skipped_cached_state)
{
    task_state_t s;
    ck_assert_int_eq(state_task_parse("skipped_cached", &s), 0);
    ck_assert_int_eq(s, TASK_SKIPPED_CACHED);
    ck_assert(state_task_is_final(TASK_SKIPPED_CACHED));
    ck_assert(!state_task_is_failure(TASK_SKIPPED_CACHED));
    ck_assert(state_task_is_success(TASK_SKIPPED_CACHED));
    ck_assert(state_task_can(TASK_QUEUED, TASK_SKIPPED_CACHED));
    ck_assert(!state_task_can(TASK_SKIPPED_CACHED, TASK_RUNNING));
    ck_assert(state_task_can(TASK_SKIPPED_CACHED, TASK_PENDING));
}

END_TEST

static dag_t *
s_dag(const char *yaml)
{
    dag_t *dag = dag_parse("t.yaml", yaml, strlen(yaml), NULL);
    ck_assert_ptr_nonnull(dag);
    return dag;
}

START_TEST(test_cache_key_stable)
{
    dag_t *a = s_dag("dag: d\ntasks:\n  - id: t\n    cache: true\n"
                     "    run: echo {{ ds }}\n");
    dag_t *b = s_dag("dag: d\ntasks:\n  - id: t\n    cache: true\n"
                     "    run: echo {{ ds }}   \n"); /* same task */
    dag_t *c = s_dag("dag: d\ntasks:\n  - id: t\n    cache: true\n"
                     "    run: echo {{ ds }}\n    env: {X: '1'}\n");
    ck_assert(dag_task(a, 0)->cache);
    char k1[CACHE_KEY_HEX], k2[CACHE_KEY_HEX], k3[CACHE_KEY_HEX],
        k4[CACHE_KEY_HEX];
    char *in[] = {"/nonexistent/sluice-input"};
    cache_key(dag_task(a, 0), "echo 2024-01-01", in, 1, k1);
    cache_key(dag_task(b, 0), "echo 2024-01-01", in, 1, k2);
    ck_assert_str_eq(k1, k2);
    ck_assert_int_eq(strlen(k1), 64);
    cache_key(dag_task(a, 0), "echo 2024-01-02", in, 1, k3);
    ck_assert_str_ne(k1, k3);
    cache_key(dag_task(c, 0), "echo 2024-01-01", in, 1, k4);
    ck_assert_str_ne(k1, k4);
    dag_destroy(&a);
    dag_destroy(&b);
    dag_destroy(&c);
}

END_TEST

START_TEST(test_cache_outputs_ok)
{
    char dir[] = "/tmp/sluice-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/o.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("abc", f);
    fclose(f);
    char *outs[] = {path};
    char *desc = cache_outputs_describe(outs, 1);
    ck_assert(cache_outputs_ok(desc));
    f = fopen(path, "a");
    fputs("more", f);
    fclose(f);
    ck_assert(!cache_outputs_ok(desc));
    unlink(path);
    ck_assert(!cache_outputs_ok(desc));
    ck_assert(cache_outputs_ok(""));
    free(desc);
    rmdir(dir);
}

END_TEST

START_TEST(test_metrics_parse)
{
    metric_t m[4];
    errbuf_t err;
    const char *text = "{\"acc\": 0.5, \"s\": \"x,}\", \"o\": {\"a\": [1, {}]},"
                       " \"b\": true, \"n\": null, \"loss\": -1e-3,"
                       " \"acc\": 0.75}";
    int n = metrics_parse(text, strlen(text), m, 4, &err);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(m[0].name, "acc");
    ck_assert(m[0].value == 0.75);
    ck_assert_str_eq(m[1].name, "loss");
    ck_assert(m[1].value == -1e-3);
    ck_assert_int_eq(metrics_parse("[1]", 3, m, 4, &err), -1);
    ck_assert_int_eq(metrics_parse("{\"a\": }", 7, m, 4, &err), -1);
    ck_assert_int_eq(metrics_parse("{}", 2, m, 4, &err), 0);
    ck_assert_int_eq(metrics_parse("{\"a\":1,\"b\":2}", 13, m, 1, &err), 1);
}

END_TEST

static plan_place_t
s_place(void *arg,
        const dag_task_t *task,
        const char **worker,
        char *why,
        size_t size)
{
    (void) arg, (void) task, (void) why, (void) size;
    *worker = "w1";
    return PLAN_PLACED;
}

static void
s_send(void *arg, const char *worker, const plan_dispatch_t *d)
{
    (void) worker;
    *(uint64_t *) arg = d->attempt_id;
}

START_TEST(test_cached_task_releases_children)
{
    char dir[] = "/tmp/sluice-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/store.db", dir);
    errbuf_t err;
    store_t *store = store_open(path, &err);
    ck_assert_ptr_nonnull(store);
    plan_t *plan = plan_new(store);
    const char *yaml = "dag: d\ntasks:\n  - id: a\n    cache: true\n"
                       "    run: echo a\n  - id: b\n    after: [a]\n"
                       "    run: echo b\n";
    ck_assert_int_eq(store_begin(store, &err), 0);
    bool changed;
    dag_t *dag = s_dag(yaml);
    ck_assert_int_eq(store_dag_put(store, "d", dag_version(dag), yaml, "t", 1,
                                   &changed, &err),
                     0);
    dag_destroy(&dag);
    plan_result_t ok = {.state = ATTEMPT_SUCCESS, .exit_code = 0};
    uint64_t runs[2], sent = 0;
    for (int r = 0; r < 2; r++) {
        dag = s_dag(yaml);
        ck_assert_int_eq(plan_trigger(plan, &dag, NULL, 0, "2024-01-01",
                                      "manual", 10, &runs[r], &err),
                         0);
        for (int round = 0; round < 4; round++) {
            sent = 0;
            ck_assert_int_ge(
                plan_dispatch_round(plan, s_place, s_send, &sent, 10, &err), 0);
            if (sent) {
                ck_assert_int_eq(plan_cache_result(plan, sent, 10, &err), 0);
                ck_assert_int_eq(
                    plan_attempt_result(plan, sent, "w1", &ok, 10, &err), 0);
            }
        }
    }
    ck_assert_int_eq(store_commit(store, &err), 0);
    store_attempt_row_t a;
    task_state_t st;
    ck_assert_int_eq(store_attempt_find(store, runs[0], "a", 0, &a, &st, &err),
                     0);
    ck_assert_int_eq(st, TASK_SUCCESS);
    ck_assert_int_ne(store_attempt_find(store, runs[1], "a", 0, &a, &st, &err),
                     0); /* no attempt: it was not run */
    ck_assert_int_eq(store_attempt_find(store, runs[1], "b", 0, &a, &st, &err),
                     0);
    ck_assert_int_eq(st, TASK_SUCCESS);
    ck_assert_int_eq(plan_run_count(plan), 0);
    plan_destroy(&plan);
    store_destroy(&store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

END_TEST

Suite *
cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_skipped_cached_state);
    tcase_add_test(tc, test_cache_key_stable);
    tcase_add_test(tc, test_cache_outputs_ok);
    tcase_add_test(tc, test_metrics_parse);
    tcase_add_test(tc, test_cached_task_releases_children);
    suite_add_tcase(s, tc);
    return s;
}
