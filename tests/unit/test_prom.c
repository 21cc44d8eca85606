/* prom: the Prometheus registry and its text exposition. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/prom.h"
#include "tests/unit/suites.h"

/* The text's line that starts with `prefix` (a copy), or NULL. */
static char *
s_line(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *at = text; at && *at;) {
        const char *end = strchr(at, '\n');
        size_t len = end ? (size_t) (end - at) : strlen(at);
        if (len >= n && strncmp(at, prefix, n) == 0) {
            return strndup(at, len);
        }
        at = end ? end + 1 : NULL;
    }
    return NULL;
}

static void
s_has(const char *text, const char *line)
{
    char *found = s_line(text, line);
    ck_assert_msg(found && strcmp(found, line) == 0, "no line '%s' in:\n%s",
                  line, text);
    free(found);
}

START_TEST(test_prom_usage)
{
    /* The loop counts; a scrape renders the text. */
    prom_t *prom = prom_new();
    prom_task_moved(prom, TASK_RUNNING, TASK_SUCCESS);
    prom_task_moved(prom, TASK_RUNNING, TASK_SUCCESS);
    prom_task_moved(prom, TASK_PENDING, TASK_QUEUED); /* not final */
    prom_run_moved(prom, RUN_RUNNING, RUN_FAILED);
    prom_set(prom, PROM_TASKS_QUEUED, 0, 7);
    prom_attempt_failed(prom, "oom");
    prom_attempt_failed(prom, "no such cause");
    prom_drop(prom, -5);
    prom_drop(prom, -99);
    prom_add(prom, PROM_MESSAGES_DROPPED, PROM_DROP_NOT_OWN, 1);
    ck_assert_int_eq(prom_get(prom, PROM_TASKS_FINISHED, TASK_SUCCESS), 2);
    char *text = NULL;
    size_t size = prom_render(prom, &text);
    ck_assert_uint_eq(size, strlen(text));
    s_has(text, "# HELP sluice_tasks_finished_total Task instances that "
                "reached a final state, by that state.");
    s_has(text, "# TYPE sluice_tasks_finished_total counter");
    s_has(text, "sluice_tasks_finished_total{state=\"success\"} 2");
    s_has(text, "sluice_tasks_finished_total{state=\"failed\"} 0");
    s_has(text, "sluice_runs_finished_total{state=\"failed\"} 1");
    /* A metric is its HELP, its TYPE, then its series, in that order. */
    ck_assert_ptr_nonnull(
        strstr(text, "# HELP sluice_tasks_queued Task instances ready to "
                     "run, waiting for a worker or a limit.\n"
                     "# TYPE sluice_tasks_queued gauge\n"
                     "sluice_tasks_queued 7\n"
                     "# HELP sluice_tasks_running "));
    s_has(text, "sluice_attempts_failed_total{cause=\"oom\"} 1");
    s_has(text, "sluice_attempts_failed_total{cause=\"other\"} 1");
    s_has(text, "sluice_messages_dropped_total{reason=\"bad_signature\"} 1");
    s_has(text, "sluice_messages_dropped_total{reason=\"other\"} 1");
    s_has(text, "sluice_messages_dropped_total{reason=\"not_own\"} 1");
    s_has(text, "sluice_messages_dropped_total{reason=\"name_refused\"} 0");
    s_has(text, "sluice_runs{state=\"queued\"} 0");
    s_has(text, "sluice_workers{state=\"connected\"} 0");
    s_has(text, "# TYPE sluice_store_commit_seconds histogram");
    /* Non-final states are not series of a finished counter. */
    ck_assert_ptr_null(strstr(text, "finished_total{state=\"queued\"}"));
    ck_assert_ptr_null(strstr(text, "finished_total{state=\"running\"}"));
    ck_assert_int_eq(text[size - 1], '\n');
    free(text);
    prom_destroy(&prom);
    ck_assert_ptr_null(prom);
    prom_destroy(&prom);
    /* A NULL registry takes updates and ignores them. */
    prom_add(NULL, PROM_ALERTS_SENT, 0, 1);
    prom_observe(NULL, PROM_H_STORE_COMMIT, 10);
}

END_TEST

START_TEST(test_prom_histogram)
{
    /* Buckets are cumulative, +Inf equals _count, _sum is in seconds. */
    prom_t *prom = prom_new();
    prom_observe(prom, PROM_H_STORE_COMMIT, 50);      /* <= 0.0001 */
    prom_observe(prom, PROM_H_STORE_COMMIT, 100);     /* le is inclusive */
    prom_observe(prom, PROM_H_STORE_COMMIT, 3000);    /* <= 0.005 */
    prom_observe(prom, PROM_H_STORE_COMMIT, 9000000); /* +Inf only */
    ck_assert_uint_eq(prom_hist_count(prom, PROM_H_STORE_COMMIT), 4);
    char *text = NULL;
    prom_render(prom, &text);
    s_has(text, "sluice_store_commit_seconds_bucket{le=\"0.0001\"} 2");
    s_has(text, "sluice_store_commit_seconds_bucket{le=\"0.0025\"} 2");
    s_has(text, "sluice_store_commit_seconds_bucket{le=\"0.005\"} 3");
    s_has(text, "sluice_store_commit_seconds_bucket{le=\"2.5\"} 3");
    s_has(text, "sluice_store_commit_seconds_bucket{le=\"+Inf\"} 4");
    s_has(text, "sluice_store_commit_seconds_sum 9.003150");
    s_has(text, "sluice_store_commit_seconds_count 4");
    s_has(text, "sluice_task_duration_seconds_bucket{le=\"86400\"} 0");
    s_has(text, "sluice_task_dispatch_latency_seconds_count 0");
    /* Every _bucket line of a histogram is at least the one before. */
    unsigned long long last = 0;
    for (char *line = strstr(text, "sluice_store_commit_seconds_bucket"); line;
         line = strstr(line + 1, "sluice_store_commit_seconds_bucket")) {
        unsigned long long v = strtoull(strchr(line, '}') + 2, NULL, 10);
        ck_assert_uint_ge(v, last);
        last = v;
    }
    free(text);
    prom_destroy(&prom);
}

END_TEST

START_TEST(test_prom_pools_escaped)
{
    /* Pool names are label values: \, " and newline are escaped. A pool not
     * set in the last publication is gone. */
    prom_t *prom = prom_new();
    prom_pools_begin(prom);
    ck_assert_int_eq(prom_pool_set(prom, "gpu", 1, 4), 0);
    ck_assert_int_eq(prom_pool_set(prom, "a\\b\"c\nd", 0, 2), 0);
    prom_pools_end(prom);
    char *text = NULL;
    prom_render(prom, &text);
    s_has(text, "# TYPE sluice_pool_slots_used gauge");
    s_has(text, "sluice_pool_slots_used{pool=\"gpu\"} 1");
    s_has(text, "sluice_pool_slots{pool=\"gpu\"} 4");
    s_has(text, "sluice_pool_slots{pool=\"a\\\\b\\\"c\\nd\"} 2");
    free(text);
    prom_pools_begin(prom);
    ck_assert_int_eq(prom_pool_set(prom, "gpu", 2, 4), 0);
    prom_pools_end(prom);
    prom_render(prom, &text);
    s_has(text, "sluice_pool_slots_used{pool=\"gpu\"} 2");
    ck_assert_ptr_null(strstr(text, "pool=\"a"));
    free(text);
    /* The table is bounded: pools past it are not shown. */
    char name[PROM_POOL_NAME + 8];
    prom_pools_begin(prom);
    int refused = 0;
    for (int i = 0; i < PROM_POOLS_MAX + 3; i++) {
        snprintf(name, sizeof name, "p%d", i);
        refused += prom_pool_set(prom, name, 0, 1) < 0;
    }
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    refused += prom_pool_set(prom, name, 0, 1) < 0;
    prom_pools_end(prom);
    ck_assert_int_eq(refused, 2 + 3 + 1); /* "gpu" and "a..." hold two */
    prom_destroy(&prom);
}

END_TEST

#define S_ROUNDS 200000

static void *
s_hammer(void *arg)
{
    prom_t *prom = arg;
    for (int i = 0; i < S_ROUNDS; i++) {
        prom_task_moved(prom, TASK_RUNNING, TASK_FAILED);
        prom_observe(prom, PROM_H_TASK_DURATION, 1000);
    }
    return NULL;
}

START_TEST(test_prom_threads)
{
    /* Two threads counting at once lose nothing; a scrape meanwhile sees a
     * whole text. */
    prom_t *prom = prom_new();
    pthread_t a, b;
    pthread_create(&a, NULL, s_hammer, prom);
    pthread_create(&b, NULL, s_hammer, prom);
    char *text = NULL;
    prom_render(prom, &text);
    ck_assert_ptr_nonnull(strstr(text, "sluice_task_duration_seconds_count"));
    free(text);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ck_assert_int_eq(prom_get(prom, PROM_TASKS_FINISHED, TASK_FAILED),
                     2 * S_ROUNDS);
    ck_assert_uint_eq(prom_hist_count(prom, PROM_H_TASK_DURATION),
                      2 * S_ROUNDS);
    prom_render(prom, &text);
    s_has(text, "sluice_task_duration_seconds_count 400000");
    s_has(text, "sluice_task_duration_seconds_sum 400.000000");
    free(text);
    prom_destroy(&prom);
}

END_TEST

Suite *
prom_suite(void)
{
    Suite *s = suite_create("prom");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_prom_usage);
    tcase_add_test(tc, test_prom_histogram);
    tcase_add_test(tc, test_prom_pools_escaped);
    tcase_add_test(tc, test_prom_threads);
    suite_add_tcase(s, tc);
    return s;
}
