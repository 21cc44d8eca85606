#include <check.h>
#include <string.h>

#include "scheduler/state.h"
#include "tests/unit/suites.h"

START_TEST(test_state_usage)
{
    /* A task goes pending -> queued -> running -> success, and stays. */
    ck_assert(state_task_can(TASK_PENDING, TASK_QUEUED));
    ck_assert(state_task_can(TASK_QUEUED, TASK_RUNNING));
    ck_assert(state_task_can(TASK_RUNNING, TASK_SUCCESS));
    ck_assert(state_task_is_final(TASK_SUCCESS));
    ck_assert(!state_task_can(TASK_SUCCESS, TASK_RUNNING));
}

END_TEST

START_TEST(test_state_names_round_trip)
{
    for (int i = 0; i < TASK_STATE_COUNT; i++) {
        task_state_t back;
        ck_assert_int_eq(state_task_parse(state_task_name(i), &back), 0);
        ck_assert_int_eq(back, i);
    }
    for (int i = 0; i < RUN_STATE_COUNT; i++) {
        run_state_t back;
        ck_assert_int_eq(state_run_parse(state_run_name(i), &back), 0);
        ck_assert_int_eq(back, i);
    }
    for (int i = 0; i < ATTEMPT_STATE_COUNT; i++) {
        attempt_state_t back;
        ck_assert_int_eq(state_attempt_parse(state_attempt_name(i), &back), 0);
        ck_assert_int_eq(back, i);
    }
    task_state_t t;
    ck_assert_int_eq(state_task_parse("runing", &t), -1);
    ck_assert_str_eq(state_task_name(TASK_UP_FOR_RETRY), "up_for_retry");
}

END_TEST

START_TEST(test_state_retry_and_failure)
{
    ck_assert(state_task_can(TASK_RUNNING, TASK_UP_FOR_RETRY));
    ck_assert(state_task_can(TASK_UP_FOR_RETRY, TASK_QUEUED));
    ck_assert(state_task_can(TASK_PENDING, TASK_UPSTREAM_FAILED));
    ck_assert(!state_task_can(TASK_PENDING, TASK_SUCCESS));
    ck_assert(state_task_is_failure(TASK_UPSTREAM_FAILED));
    ck_assert(state_task_is_failure(TASK_TIMED_OUT));
    ck_assert(!state_task_is_failure(TASK_SKIPPED));
    ck_assert(!state_task_is_final(TASK_UP_FOR_RETRY));
    ck_assert(state_run_is_final(RUN_CANCELLED));
    ck_assert(!state_run_is_final(RUN_RUNNING));
}

END_TEST

Suite *
state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_state_usage);
    tcase_add_test(tc, test_state_names_round_trip);
    tcase_add_test(tc, test_state_retry_and_failure);
    suite_add_tcase(s, tc);
    return s;
}
