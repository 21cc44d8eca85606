/* jobs: the checks a task passes before it starts. Each refusal has its
 * code, so that a replay is counted without an answer and every other
 * refusal is answered, and nobody reads the reason's text to tell. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/curve.h"
#include "common/keys.h"
#include "tests/unit/suites.h"
#include "worker/conn.h"
#include "worker/jobs.h"

static char s_root[64];
static keys_t *s_keys;
static curve_t *s_curve;
static conn_t *s_conn;
static gpus_t *s_gpus;
static outbox_t *s_outbox;
static logkeep_t *s_logkeep;
static jobs_t *s_jobs;

static void
s_setup(void)
{
    snprintf(s_root, sizeof s_root, "/tmp/sluice-jobs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_root));
    char dir[128];
    snprintf(dir, sizeof dir, "%s/outbox", s_root);
    errbuf_t err;
    s_outbox = outbox_open(dir, &err);
    ck_assert_ptr_nonnull(s_outbox);
    s_keys = keys_generate();
    s_curve = curve_generate();
    uint8_t sched[KEYS_PUBLIC_SIZE] = {0};
    conn_config_t cc = {.name = "w1",
                        .hostname = "host1",
                        .endpoint = "tcp://127.0.0.1:1",
                        .sched_pub = sched,
                        .sched_curve = sched,
                        .keys = s_keys,
                        .curve = s_curve};
    s_conn = conn_new(&cc);
    s_gpus = gpus_new(1);
    s_logkeep = logkeep_new(1 << 20);
    snprintf(dir, sizeof dir, "%s/work", s_root);
    jobs_config_t jc = {.slots = 1,
                        .work_root = dir,
                        .log_cap = 1 << 20,
                        .gpus = s_gpus,
                        .outbox = s_outbox,
                        .logkeep = s_logkeep,
                        .conn = s_conn};
    s_jobs = jobs_new(&jc);
}

static void
s_teardown(void)
{
    jobs_destroy(&s_jobs);
    logkeep_destroy(&s_logkeep);
    gpus_destroy(&s_gpus);
    conn_destroy(&s_conn);
    curve_destroy(&s_curve);
    keys_destroy(&s_keys);
    outbox_destroy(&s_outbox);
    char *cmd = NULL;
    ck_assert_int_gt(asprintf(&cmd, "rm -rf '%s'", s_root), 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* A task for w1 that is fresh for a minute, with nonce byte `seed`. */
typedef struct {
    Sluice__Task task;
    uint8_t nonce[16];
} s_task_t;

static void
s_task(s_task_t *t, uint64_t attempt_id, uint8_t seed)
{
    t->task = (Sluice__Task) SLUICE__TASK__INIT;
    memset(t->nonce, seed, sizeof t->nonce);
    t->task.worker = (char *) "w1";
    t->task.attempt_id = attempt_id;
    t->task.task_id = (char *) "a";
    t->task.expires_ms = (uint64_t) conn_sched_now(s_conn) + 60000;
    t->task.nonce.data = t->nonce;
    t->task.nonce.len = sizeof t->nonce;
}

START_TEST(test_jobs_fresh_task_passes_once)
{
    s_task_t t;
    s_task(&t, 7, 1);
    char why[256];
    ck_assert_int_eq(jobs_check(s_jobs, &t.task, why, sizeof why),
                     JOBS_TASK_OK);
    /* The same message again is a replay, whatever it says. */
    ck_assert_int_eq(jobs_check(s_jobs, &t.task, why, sizeof why),
                     JOBS_TASK_REPLAYED);
    ck_assert(strstr(why, "nonce was already used") != NULL);
}

END_TEST

START_TEST(test_jobs_known_attempt_is_a_replay)
{
    errbuf_t err;
    ck_assert_int_eq(outbox_put(s_outbox, 9, "r", 1, &err), 0);
    s_task_t t;
    s_task(&t, 9, 2);
    char why[256];
    ck_assert_int_eq(jobs_check(s_jobs, &t.task, why, sizeof why),
                     JOBS_TASK_KNOWN);
    ck_assert(strstr(why, "attempt 9") != NULL);
}

END_TEST

START_TEST(test_jobs_refusals_have_codes)
{
    s_task_t t;
    char why[256];
    s_task(&t, 10, 3);
    t.task.worker = (char *) "w2";
    ck_assert_int_eq(jobs_check(s_jobs, &t.task, why, sizeof why),
                     JOBS_TASK_MISADDRESSED);
    s_task(&t, 11, 4);
    t.task.expires_ms = (uint64_t) conn_sched_now(s_conn) - 1000;
    ck_assert_int_eq(jobs_check(s_jobs, &t.task, why, sizeof why),
                     JOBS_TASK_EXPIRED);
    s_task(&t, 12, 5);
    t.task.nonce.len = 8;
    ck_assert_int_eq(jobs_check(s_jobs, &t.task, why, sizeof why),
                     JOBS_TASK_BAD_NONCE);
    s_task(&t, 13, 6);
    Sluice__Resources res = SLUICE__RESOURCES__INIT;
    res.gpus = 2;
    t.task.resources = &res;
    ck_assert_int_eq(jobs_check(s_jobs, &t.task, why, sizeof why),
                     JOBS_TASK_NO_GPU);
    conn_drain(s_conn);
    s_task(&t, 14, 7);
    ck_assert_int_eq(jobs_check(s_jobs, &t.task, why, sizeof why),
                     JOBS_TASK_LEAVING);
    ck_assert_str_eq(why, "worker is shutting down");
}

END_TEST

START_TEST(test_jobs_load_reports_free_slots)
{
    conn_load_t load;
    jobs_load(s_jobs, &load);
    ck_assert_uint_eq(load.slots, 1);
    ck_assert_uint_eq(load.free_slots, 1);
    ck_assert_uint_eq(load.n_running, 0);
    free(load.running);
    conn_drain(s_conn); /* leaving: nothing is free */
    jobs_load(s_jobs, &load);
    ck_assert_uint_eq(load.free_slots, 0);
    free(load.running);
    ck_assert_int_eq(jobs_next_deadline(s_jobs), -1);
}

END_TEST

Suite *
jobs_suite(void)
{
    Suite *s = suite_create("jobs");
    TCase *tc = tcase_create("checks");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_jobs_fresh_task_passes_once);
    tcase_add_test(tc, test_jobs_known_attempt_is_a_replay);
    tcase_add_test(tc, test_jobs_refusals_have_codes);
    tcase_add_test(tc, test_jobs_load_reports_free_slots);
    suite_add_tcase(s, tc);
    return s;
}
