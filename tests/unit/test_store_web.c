#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/xalloc.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_runs.h"
#include "scheduler/store/store_web.h"
#include "tests/unit/suites.h"

static char s_dir[64];
static char s_db[96];

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-web-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    snprintf(s_db, sizeof s_db, "%s/store.db", s_dir);
}

static void
s_teardown(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *path = xasprintf("%s%s", s_db, suffixes[i]);
        unlink(path);
        free(path);
    }
    rmdir(s_dir);
}

static const char *const s_yaml = "dag: big\n"
                                  "tasks:\n"
                                  "  - id: t0\n"
                                  "    run: echo\n";

/* A store with DAG big; its version into version (65 bytes). */
static store_t *
s_store(char *version)
{
    errbuf_t err = {{0}};
    store_t *st = store_open(s_db, &err);
    ck_assert_msg(st, "%s", err.msg);
    dag_t *dag = dag_parse("big.yaml", s_yaml, strlen(s_yaml), NULL);
    ck_assert_ptr_nonnull(dag);
    snprintf(version, 65, "%s", dag_version(dag));
    dag_destroy(&dag);
    bool changed;
    ck_assert_int_eq(store_dag_put(st, "big", version, s_yaml, "big.yaml", 1,
                                   &changed, &err),
                     0);
    return st;
}

static uint64_t
s_run(store_t *st, const char *version, size_t ntasks, errbuf_t *err)
{
    uint64_t run_id;
    ck_assert_int_eq(store_run_create(st, "big", version, NULL, 0, "", "manual",
                                      2, &run_id, err),
                     0);
    for (size_t t = 0; t < ntasks; t++) {
        char id[32];
        snprintf(id, sizeof id, "task-%05zu", ntasks - t); /* not sorted */
        ck_assert_int_eq(store_task_create(st, run_id, id,
                                           t % 3 ? TASK_SUCCESS : TASK_QUEUED,
                                           3, err),
                         0);
    }
    return run_id;
}

typedef struct {
    size_t runs;
    size_t tasks;
    uint64_t ids[64];
    char first[32];
} count_t;

static int
s_count_run(void *arg, const store_web_run_t *run)
{
    count_t *c = arg;
    c->ids[c->runs++] = run->id;
    return 0;
}

static int
s_count_task(void *arg, const store_web_task_t *task)
{
    count_t *c = arg;
    if (c->tasks++ == 0) {
        snprintf(c->first, sizeof c->first, "%s", task->task_id);
    }
    return 0;
}

START_TEST(test_store_web_usage)
{
    char version[65];
    store_t *st = s_store(version);
    errbuf_t err = {{0}};
    uint64_t ids[5];
    for (size_t i = 0; i < 5; i++) {
        ids[i] = s_run(st, version, 3, &err);
    }
    store_run_set_state(st, ids[1], RUN_RUNNING, 3, &err);
    count_t c = {0};
    ck_assert_int_eq(
        store_web_runs(st, "big", "", ids[3], 2, s_count_run, &c, &err), 0);
    ck_assert_uint_eq(c.runs, 2);
    ck_assert_uint_eq(c.ids[0], ids[2]);
    ck_assert_uint_eq(c.ids[1], ids[1]);
    memset(&c, 0, sizeof c);
    store_web_runs(st, "", "running", 0, 10, s_count_run, &c, &err);
    ck_assert_uint_eq(c.runs, 1);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(store_web_tasks(st, ids[0], s_count_task, &c, &err), 0);
    ck_assert_uint_eq(c.tasks, 3);
    ck_assert_str_eq(c.first, "task-00003"); /* DAG order, not by name */
    char state[32];
    ck_assert_int_eq(store_web_run_state(st, ids[1], state, sizeof state, &err),
                     0);
    ck_assert_str_eq(state, "running");
    ck_assert_int_eq(store_web_run_state(st, 999, state, sizeof state, &err),
                     STORE_ENOTFOUND);
    store_destroy(&st);
}

END_TEST

START_TEST(test_store_web_log_seek)
{
    char version[65];
    store_t *st = s_store(version);
    errbuf_t err = {{0}};
    uint64_t run_id = s_run(st, version, 1, &err);
    uint64_t attempt;
    store_attempt_create(st, run_id, "task-00001", 1, "w1", ATTEMPT_RUNNING, 4,
                         &attempt, &err);
    const char *chunks[] = {"abc", "defg", "hi"};
    for (uint64_t i = 0; i < 3; i++) {
        store_log_append(st, attempt, i + 1, 1, 5, chunks[i], strlen(chunks[i]),
                         &err);
    }
    uint64_t after, skip, total;
    ck_assert_int_eq(
        store_web_log_seek(st, attempt, 5, &after, &skip, &total, &err), 0);
    ck_assert_uint_eq(after, 1);
    ck_assert_uint_eq(skip, 2);
    ck_assert_uint_eq(total, 9);
    store_web_log_seek(st, attempt, 7, &after, &skip, &total, &err);
    ck_assert_uint_eq(after, 2);
    ck_assert_uint_eq(skip, 0);
    store_web_log_seek(st, attempt, 0, &after, &skip, &total, &err);
    ck_assert_uint_eq(after, 0);
    ck_assert_uint_eq(skip, 0);
    store_web_log_seek(st, attempt, 50, &after, &skip, &total, &err);
    ck_assert_uint_eq(after, 3);
    store_destroy(&st);
}

END_TEST

static int
s_count_event(void *arg, const store_web_event_t *event)
{
    count_t *c = arg;
    c->ids[c->runs++] = event->id;
    return 0;
}

START_TEST(test_store_web_events)
{
    char version[65];
    store_t *st = s_store(version);
    errbuf_t err = {{0}};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(
            store_event(st, 10 + i, "tester", "test", "x", "", &err), 0);
    }
    count_t c = {0};
    ck_assert_int_eq(store_web_events(st, 0, 3, s_count_event, &c, &err), 0);
    ck_assert_uint_eq(c.runs, 3);
    ck_assert_uint_gt(c.ids[0], c.ids[1]);
    uint64_t last = c.ids[2];
    memset(&c, 0, sizeof c);
    store_web_events(st, last, 10, s_count_event, &c, &err);
    ck_assert_uint_ge(c.runs, 2);
    ck_assert_uint_lt(c.ids[0], last);
    store_destroy(&st);
}

END_TEST

/* The DAG grid's reads for 25 runs of a 10,000-task DAG: one query per
 * run, well under a second in all. */
START_TEST(test_store_web_grid_big)
{
    char version[65];
    store_t *st = s_store(version);
    errbuf_t err = {{0}};
    ck_assert_int_eq(store_begin(st, &err), 0);
    for (int r = 0; r < 25; r++) {
        s_run(st, version, 10000, &err);
    }
    ck_assert_int_eq(store_commit(st, &err), 0);
    int64_t start = clock_mono_ms();
    count_t c = {0};
    ck_assert_int_eq(
        store_web_runs(st, "big", "", 0, 25, s_count_run, &c, &err), 0);
    ck_assert_uint_eq(c.runs, 25);
    size_t runs = c.runs;
    uint64_t ids[25];
    memcpy(ids, c.ids, sizeof ids);
    for (size_t r = 0; r < runs; r++) {
        ck_assert_int_eq(store_web_tasks(st, ids[r], s_count_task, &c, &err),
                         0);
    }
    int64_t ms = clock_mono_ms() - start;
    ck_assert_uint_eq(c.tasks, 250000);
    fprintf(stderr,
            "store_web: grid reads of 25 x 10000 tasks: %" PRId64 " ms\n", ms);
    ck_assert_int_lt(ms, 2000);
    store_destroy(&st);
}

END_TEST

Suite *
store_web_suite(void)
{
    Suite *s = suite_create("store_web");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_store_web_usage);
    tcase_add_test(tc, test_store_web_log_seek);
    tcase_add_test(tc, test_store_web_events);
    tcase_add_test(tc, test_store_web_grid_big);
    suite_add_tcase(s, tc);
    return s;
}
