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
    /* Entries pushed take their places at the start of a round
     * (ready_order); then the oldest goes first, and an entry popped can go
     * back to the front. */
    ready_t *q = ready_new();
    ready_push(q, s_entry(q, 1, 0, 10));
    ready_push(q, s_entry(q, 2, 0, 20));
    ck_assert_uint_eq(ready_count(q), 2);
    limits_ready_t e;
    ck_assert(!ready_pop(q, &e)); /* not before the round starts */
    ready_order(q, 100);
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 1);
    ready_push_front(q, e);
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 1);
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 2);
    ck_assert(!ready_pop(q, &e));
    ck_assert_uint_eq(ready_count(q), 0);
    ready_destroy(&q);
    ck_assert_ptr_null(q);
    ready_destroy(&q);
}

END_TEST

START_TEST(test_ready_grows_and_keeps_order)
{
    /* Past its first capacity, and with entries coming and going, the
     * queue pops in dispatch order, and ready_at sees every entry. */
    ready_t *q = ready_new();
    limits_ready_t e;
    for (uint64_t i = 1; i <= 200; i++) {
        ready_push(q, s_entry(q, i, 0, (int64_t) i));
    }
    ready_order(q, 1000);
    for (int i = 0; i < 150; i++) {
        ck_assert(ready_pop(q, &e));
        ck_assert_uint_eq(e.run_id, (uint64_t) i + 1);
    }
    for (uint64_t i = 201; i <= 500; i++) {
        ready_push(q, s_entry(q, i, i == 400 ? 7 : 0, (int64_t) i));
    }
    ck_assert_uint_eq(ready_count(q), 350);
    uint64_t sum = 0;
    for (size_t i = 0; i < ready_count(q); i++) {
        sum += ready_at(q, i)->run_id;
    }
    ck_assert_uint_eq(sum, (151 + 500) * 350 / 2);
    ready_order(q, 1000);
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 400);
    for (uint64_t want = 151; want <= 500; want++) {
        if (want == 400) {
            continue;
        }
        ck_assert(ready_pop(q, &e));
        ck_assert_uint_eq(e.run_id, want);
    }
    ck_assert(!ready_pop(q, &e));
    ready_destroy(&q);
}

END_TEST

START_TEST(test_ready_pops_in_limits_order)
{
    /* Mixed priorities, aging and backfill: the pops come in the order
     * limits_order sorts the same entries into. */
    int64_t now = 100 * LIMITS_AGING_MS;
    ready_t *q = ready_new();
    limits_ready_t all[64];
    uint32_t state = 12345;
    for (size_t i = 0; i < 64; i++) {
        state = state * 1103515245u + 12345u;
        int32_t prio = (int32_t) (state >> 16) % 4 - 1;
        int64_t queued = now - (int64_t) ((state >> 8) % 8) * LIMITS_AGING_MS -
                         (int64_t) (state % 1000);
        all[i] = s_entry(q, i + 1, prio, queued);
        all[i].backfill = (state >> 20) % 5 == 0;
        ready_push(q, all[i]);
    }
    ck_assert(limits_order(all, 64, now));
    ready_order(q, now);
    limits_ready_t e;
    for (size_t i = 0; i < 64; i++) {
        ck_assert(ready_pop(q, &e));
        ck_assert_uint_eq(e.run_id, all[i].run_id);
    }
    ck_assert(!ready_pop(q, &e));
    ready_destroy(&q);
}

END_TEST

START_TEST(test_ready_round_visits_each_once)
{
    /* In a round, an entry pushed back (it waits for a worker) is not
     * popped again; at the next round it is back in its place by age, and
     * a higher priority queued meanwhile goes first. */
    ready_t *q = ready_new();
    ready_push(q, s_entry(q, 1, 0, 10));
    ready_push(q, s_entry(q, 2, 0, 20));
    ready_order(q, 100);
    limits_ready_t e;
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 1);
    ready_push(q, e); /* waits */
    ready_push(q, s_entry(q, 3, 5, 30));
    ck_assert(ready_pop(q, &e));
    ck_assert_uint_eq(e.run_id, 2);
    ready_push(q, e);
    ck_assert(!ready_pop(q, &e));
    ck_assert_uint_eq(ready_count(q), 3);
    ready_order(q, 200);
    uint64_t want[] = {3, 1, 2};
    for (size_t i = 0; i < 3; i++) {
        ck_assert(ready_pop(q, &e));
        ck_assert_uint_eq(e.run_id, want[i]);
    }
    ready_destroy(&q);
}

END_TEST

Suite *
ready_suite(void)
{
    Suite *s = suite_create("ready");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ready_usage);
    tcase_add_test(tc, test_ready_grows_and_keeps_order);
    tcase_add_test(tc, test_ready_pops_in_limits_order);
    tcase_add_test(tc, test_ready_round_visits_each_once);
    suite_add_tcase(s, tc);
    return s;
}
