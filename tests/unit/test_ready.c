/* ready: the planner's queue of ready tasks. */
#include <check.h>

#include "scheduler/ready.h"
#include "tests/unit/suites.h"

static limits_ready_t
s_entry(ready_t *q, uint64_t run_id, int32_t priority, int64_t queued)
{
    return (limits_ready_t){.run_id = run_id,
                            .priority = priority,
                            .queued_mono = queued,
                            .seq = ready_next_seq(q)};
}

START_TEST(test_ready_usage)
{
    /* First in, first out; an entry popped can go back to the front. */
    ready_t *q = ready_new();
    ready_push(q, s_entry(q, 1, 0, 10));
    ready_push(q, s_entry(q, 2, 0, 20));
    ck_assert_uint_eq(ready_count(q), 2);
    ck_assert_uint_eq(ready_at(q, 1)->run_id, 2);
    limits_ready_t e;
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 1);
    ready_push_front(q, e);
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 1);
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 2);
    ck_assert(!ready_pop(q, &e));
    ready_destroy(&q);
    ck_assert_ptr_null(q);
    ready_destroy(&q);
}

END_TEST

START_TEST(test_ready_grows_and_orders_across_the_wrap)
{
    /* Past its first capacity and wrapped around, the queue keeps its
     * order, and sorting sees every entry. */
    ready_t *q = ready_new();
    limits_ready_t e;
    for (uint64_t i = 1; i <= 200; i++) {
        ready_push(q, s_entry(q, i, 0, (int64_t) i));
    }
    for (int i = 0; i < 150; i++) {
        ck_assert(ready_pop(q, &e));
    }
    for (uint64_t i = 201; i <= 500; i++) {
        ready_push(q, s_entry(q, i, i == 400 ? 7 : 0, (int64_t) i));
    }
    ck_assert_uint_eq(ready_count(q), 350);
    ck_assert_uint_eq(ready_at(q, 0)->run_id, 151);
    ready_order(q, 1000);
    ck_assert_uint_eq(ready_at(q, 0)->run_id, 400);
    ck_assert_uint_eq(ready_at(q, 1)->run_id, 151);
    ck_assert_uint_eq(ready_at(q, 349)->run_id, 500);
    ready_destroy(&q);
}

END_TEST

Suite *
ready_suite(void)
{
    Suite *s = suite_create("ready");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ready_usage);
    tcase_add_test(tc, test_ready_grows_and_orders_across_the_wrap);
    suite_add_tcase(s, tc);
    return s;
}
