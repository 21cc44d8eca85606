/* sensor: the file check (glob, min_size, stable_for), the time-out
 * decisions, and the DAG keys of a sensor. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/dag.h"
#include "common/sensor.h"
#include "tests/unit/suites.h"

START_TEST(test_sensor_waits_then_times_out)
{
    /* First poke at 0, every 30s, timeout 100s: pokes at 30, 60, 90 are
     * still due; after a "not yet" at 90 the next (120) is too late. */
    int64_t next = 0;
    ck_assert_int_eq(sensor_after_not_ready(0, 0, 30000, 100000, false, &next),
                     SENSOR_WAIT);
    ck_assert_int_eq(next, 30000);
    ck_assert_int_eq(
        sensor_after_not_ready(0, 60000, 30000, 100000, false, &next),
        SENSOR_WAIT);
    ck_assert_int_eq(next, 90000);
    ck_assert_int_eq(
        sensor_after_not_ready(0, 90000, 30000, 100000, false, &next),
        SENSOR_FAIL);
    ck_assert_int_eq(
        sensor_after_not_ready(0, 90000, 30000, 100000, true, &next),
        SENSOR_SKIP);
    /* exactly at the timeout is still in time */
    ck_assert_int_eq(
        sensor_after_not_ready(1000, 71000, 30000, 100000, false, &next),
        SENSOR_WAIT);
}

END_TEST

static void
s_write(const char *path, const char *text, time_t age_s)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(path, tv), 0);
}

START_TEST(test_sensor_file_glob_size_stable)
{
    char dir[] = "/tmp/sensor-test.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char pattern[128], a[128], b[128], why[256];
    snprintf(pattern, sizeof pattern, "%s/part-*.csv", dir);
    snprintf(a, sizeof a, "%s/part-1.csv", dir);
    snprintf(b, sizeof b, "%s/part-2.csv", dir);
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t now_ms = (int64_t) now.tv_sec * 1000 + now.tv_usec / 1000;

    ck_assert_int_eq(sensor_file_ready(pattern, 0, 0, now_ms, why, sizeof why),
                     0);
    ck_assert_ptr_nonnull(strstr(why, "nothing matches"));
    s_write(a, "0123456789", 120);
    ck_assert_int_eq(sensor_file_ready(pattern, 10, 60000, now_ms, NULL, 0), 1);
    ck_assert_int_eq(sensor_file_ready(pattern, 11, 0, now_ms, why, sizeof why),
                     0);
    ck_assert_ptr_nonnull(strstr(why, "fewer than 11"));
    /* every match must pass: a fresh second part is not stable yet */
    s_write(b, "0123456789", 0);
    ck_assert_int_eq(
        sensor_file_ready(pattern, 10, 60000, now_ms, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "changed less than"));
    ck_assert_int_eq(sensor_file_ready(pattern, 10, 0, now_ms, NULL, 0), 1);
    ck_assert_int_eq(sensor_file_ready(a, 0, 0, now_ms, NULL, 0), 1);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

END_TEST

static dag_t *
s_parse(const char *text, zlist_t **errors)
{
    *errors = zlist_new();
    zlist_autofree(*errors);
    return dag_parse("t.yaml", text, strlen(text), *errors);
}

START_TEST(test_sensor_dag_keys)
{
    zlist_t *errors;
    dag_t *dag = s_parse("dag: d\n"
                         "tasks:\n"
                         "  - id: s\n"
                         "    kind: sensor\n"
                         "    file: /data/{{ ds }}.csv\n"
                         "    min_size: 10\n"
                         "    stable_for: 1m\n"
                         "    soft_fail: true\n"
                         "  - id: c\n"
                         "    kind: sensor\n"
                         "    command: test -f /x\n"
                         "    poke_interval: 300ms\n"
                         "    timeout: 5m\n",
                         &errors);
    ck_assert_msg(dag, "%s", dag ? "" : (char *) zlist_first(errors));
    const dag_task_t *s = dag_task(dag, 0);
    ck_assert_str_eq(s->sensor_file, "/data/{{ ds }}.csv");
    ck_assert_ptr_null(s->run);
    ck_assert(s->soft_fail);
    ck_assert_int_eq(s->poke_interval_ms, SENSOR_POKE_INTERVAL_MS);
    ck_assert_int_eq(s->sensor_timeout_ms, SENSOR_TIMEOUT_MS);
    ck_assert_int_eq(s->nenv, 3);
    ck_assert_str_eq(s->env[0].name, SENSOR_ENV_FILE);
    ck_assert_str_eq(s->env[1].value, "10");
    ck_assert_str_eq(s->env[2].value, "60000");
    const dag_task_t *c = dag_task(dag, 1);
    ck_assert_str_eq(c->run, "test -f /x");
    ck_assert_int_eq(c->poke_interval_ms, 300);
    ck_assert_int_eq(c->sensor_timeout_ms, 300000);
    ck_assert(!c->soft_fail);
    dag_destroy(&dag);
    zlist_destroy(&errors);

    dag = s_parse("dag: d\n"
                  "tasks:\n"
                  "  - id: s\n"
                  "    kind: sensor\n"
                  "  - id: r\n"
                  "    run: 'true'\n"
                  "    soft_fail: true\n",
                  &errors);
    ck_assert_ptr_null(dag);
    ck_assert_int_eq(zlist_size(errors), 2);
    zlist_destroy(&errors);
}

END_TEST

Suite *
sensor_suite(void)
{
    Suite *s = suite_create("sensor");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sensor_waits_then_times_out);
    tcase_add_test(tc, test_sensor_file_glob_size_stable);
    tcase_add_test(tc, test_sensor_dag_keys);
    suite_add_tcase(s, tc);
    return s;
}
