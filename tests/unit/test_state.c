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

/* Every transition the plan makes, and no other: the same list as the
 * "State machines" section of docs/architecture.md. */
static const struct {
    task_state_t from, to;
} s_task_allowed[] = {
    {TASK_PENDING, TASK_QUEUED},          {TASK_PENDING, TASK_UPSTREAM_FAILED},
    {TASK_PENDING, TASK_CANCELLED},       {TASK_QUEUED, TASK_RUNNING},
    {TASK_QUEUED, TASK_SKIPPED_CACHED},   {TASK_QUEUED, TASK_CANCELLED},
    {TASK_RUNNING, TASK_SUCCESS},         {TASK_RUNNING, TASK_FAILED},
    {TASK_RUNNING, TASK_TIMED_OUT},       {TASK_RUNNING, TASK_UP_FOR_RETRY},
    {TASK_RUNNING, TASK_CANCELLED},       {TASK_RUNNING, TASK_QUEUED},
    {TASK_UP_FOR_RETRY, TASK_QUEUED},     {TASK_UP_FOR_RETRY, TASK_CANCELLED},
    {TASK_SUCCESS, TASK_PENDING},         {TASK_FAILED, TASK_PENDING},
    {TASK_TIMED_OUT, TASK_PENDING},       {TASK_CANCELLED, TASK_PENDING},
    {TASK_UPSTREAM_FAILED, TASK_PENDING}, {TASK_SKIPPED, TASK_PENDING},
    {TASK_SKIPPED_CACHED, TASK_PENDING},  {TASK_QUEUED, TASK_DISPATCHED},
    {TASK_DISPATCHED, TASK_RUNNING},      {TASK_DISPATCHED, TASK_QUEUED},
    {TASK_DISPATCHED, TASK_CANCELLED},    {TASK_DISPATCHED, TASK_FAILED},
    {TASK_DISPATCHED, TASK_UP_FOR_RETRY}, {TASK_PENDING, TASK_SKIPPED},
    {TASK_RUNNING, TASK_SKIPPED},
};

static const struct {
    run_state_t from, to;
} s_run_allowed[] = {
    {RUN_QUEUED, RUN_RUNNING},    {RUN_QUEUED, RUN_CANCELLED},
    {RUN_RUNNING, RUN_SUCCESS},   {RUN_RUNNING, RUN_FAILED},
    {RUN_RUNNING, RUN_CANCELLED}, {RUN_RUNNING, RUN_RUNNING},
    {RUN_SUCCESS, RUN_RUNNING},   {RUN_FAILED, RUN_RUNNING},
    {RUN_CANCELLED, RUN_RUNNING},
};

START_TEST(test_state_tables_are_exactly_the_documented_ones)
{
    size_t ntask = sizeof s_task_allowed / sizeof s_task_allowed[0];
    for (int from = 0; from < TASK_STATE_COUNT; from++) {
        for (int to = 0; to < TASK_STATE_COUNT; to++) {
            bool listed = false;
            for (size_t i = 0; i < ntask; i++) {
                listed |= s_task_allowed[i].from == (task_state_t) from &&
                          s_task_allowed[i].to == (task_state_t) to;
            }
            ck_assert_msg(state_task_can(from, to) == listed, "task %s -> %s",
                          state_task_name(from), state_task_name(to));
        }
    }
    size_t nrun = sizeof s_run_allowed / sizeof s_run_allowed[0];
    for (int from = 0; from < RUN_STATE_COUNT; from++) {
        for (int to = 0; to < RUN_STATE_COUNT; to++) {
            bool listed = false;
            for (size_t i = 0; i < nrun; i++) {
                listed |= s_run_allowed[i].from == (run_state_t) from &&
                          s_run_allowed[i].to == (run_state_t) to;
            }
            ck_assert_msg(state_run_can(from, to) == listed, "run %s -> %s",
                          state_run_name(from), state_run_name(to));
        }
    }
    ck_assert(!state_task_can(TASK_STATE_COUNT, TASK_PENDING));
    ck_assert(!state_run_can(RUN_QUEUED, RUN_STATE_COUNT));
}

END_TEST

START_TEST(test_state_task_move_refuses_illegal)
{
    /* A legal move changes the state; an illegal one leaves it and says
     * which run, task and states, as a bug. */
    task_state_t state = TASK_PENDING;
    errbuf_t err;
    ck_assert_int_eq(state_task_move(&state, TASK_QUEUED, 7, "join", &err), 0);
    ck_assert_int_eq(state, TASK_QUEUED);
    state = TASK_SUCCESS;
    ck_assert_int_eq(state_task_move(&state, TASK_RUNNING, 7, "join", &err),
                     -1);
    ck_assert_int_eq(state, TASK_SUCCESS);
    ck_assert_str_eq(err.msg, "bug: run 7 task 'join' cannot go from success "
                              "to running; the change was refused, please "
                              "report it");
    state = TASK_PENDING;
    ck_assert_int_eq(state_task_move(&state, TASK_SUCCESS, 7, "join", NULL),
                     -1);
    ck_assert_int_eq(state, TASK_PENDING);
    ck_assert_int_eq(state_task_move(&state, TASK_STATE_COUNT, 7, NULL, &err),
                     -1);
    ck_assert_int_eq(state, TASK_PENDING);
}

END_TEST

START_TEST(test_state_run_move_refuses_illegal)
{
    run_state_t state = RUN_QUEUED;
    errbuf_t err;
    ck_assert_int_eq(state_run_move(&state, RUN_RUNNING, 9, &err), 0);
    ck_assert_int_eq(state, RUN_RUNNING);
    ck_assert_int_eq(state_run_move(&state, RUN_FAILED, 9, &err), 0);
    ck_assert_int_eq(state_run_move(&state, RUN_SUCCESS, 9, &err), -1);
    ck_assert_int_eq(state, RUN_FAILED);
    ck_assert_str_eq(err.msg, "bug: run 9 cannot go from failed to success; "
                              "the change was refused, please report it");
    state = RUN_QUEUED;
    ck_assert_int_eq(state_run_move(&state, RUN_SUCCESS, 9, NULL), -1);
    ck_assert_int_eq(state, RUN_QUEUED);
    ck_assert_int_eq(state_run_move(&state, RUN_RUNNING, 9, NULL), 0);
    ck_assert_int_eq(state_run_move(&state, RUN_RUNNING, 9, NULL), 0);
    ck_assert_int_eq(state, RUN_RUNNING);
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
    tcase_add_test(tc, test_state_tables_are_exactly_the_documented_ones);
    tcase_add_test(tc, test_state_task_move_refuses_illegal);
    tcase_add_test(tc, test_state_run_move_refuses_illegal);
    suite_add_tcase(s, tc);
    return s;
}
