/* fleet: workers, credit and liveness. */
#include <check.h>
#include <string.h>

#include "scheduler/fleet.h"
#include "tests/unit/suites.h"

static fleet_worker_t *
s_register(fleet_t *fleet,
           const char *name,
           uint8_t key_byte,
           uint32_t slots,
           int64_t now)
{
    uint8_t key[KEYS_PUBLIC_SIZE];
    memset(key, key_byte, sizeof key);
    fleet_info_t info = {.name = name,
                         .hostname = "host",
                         .public_key = key,
                         .slots = slots,
                         .free_slots = slots,
                         .labels = ""};
    zframe_t *routing = zframe_new(name, strlen(name));
    fleet_worker_t *worker = fleet_register(fleet, &info, routing, now);
    zframe_destroy(&routing);
    return worker;
}

START_TEST(test_fleet_usage)
{
    /* Two workers; tasks go where most slots are free, never past them. */
    fleet_t *fleet = fleet_new();
    fleet_worker_t *w1 = s_register(fleet, "w1", 1, 2, 0);
    fleet_worker_t *w2 = s_register(fleet, "w2", 2, 1, 0);
    ck_assert_ptr_eq(fleet_pick(fleet), w1);
    fleet_assign(w1, 10, 0);
    fleet_assign(fleet_pick(fleet), 11, 0);
    fleet_assign(fleet_pick(fleet), 12, 0);
    ck_assert_ptr_null(fleet_pick(fleet));
    ck_assert_uint_eq(fleet_free(w1) + fleet_free(w2), 0);
    /* Results release slots and say what is free now. */
    fleet_release(fleet, "w2", 11);
    fleet_release(fleet, "w2", 12);
    fleet_report_free(w2, 1);
    ck_assert_uint_eq(fleet_free(w1) + fleet_free(w2), 1);
    fleet_destroy(&fleet);
    ck_assert_ptr_null(fleet);
}

END_TEST

START_TEST(test_fleet_reported_free_caps_credit)
{
    /* A worker that says it has no free slot (draining, shutting down)
     * gets nothing, whatever our own count says. */
    fleet_t *fleet = fleet_new();
    fleet_worker_t *w1 = s_register(fleet, "w1", 1, 4, 0);
    ck_assert_uint_eq(fleet_free(w1), 4);
    fleet_report_free(w1, 0);
    ck_assert_uint_eq(fleet_free(w1), 0);
    ck_assert_ptr_null(fleet_pick(fleet));
    fleet_report_free(w1, 2);
    fleet_assign(w1, 1, 0);
    ck_assert_uint_eq(fleet_free(w1), 1); /* 2 said, 1 sent since */
    fleet_destroy(&fleet);
}

END_TEST

START_TEST(test_fleet_liveness)
{
    fleet_t *fleet = fleet_new();
    fleet_worker_t *w1 = s_register(fleet, "w1", 1, 2, 0);
    s_register(fleet, "w2", 2, 2, 0);
    fleet_assign(w1, 7, 0);
    fleet_heard(w1, 2500);
    zlistx_t *lost = zlistx_new();
    zlistx_set_destructor(lost, (zlistx_destructor_fn *) zstr_free);
    fleet_expire(fleet, 3000, 1000, lost);
    ck_assert_uint_eq(zlistx_size(lost), 1);
    ck_assert_str_eq(zlistx_first(lost), "w2");
    ck_assert_int_eq(fleet_state(fleet_by_name(fleet, "w2")), FLEET_LOST);
    zlistx_destroy(&lost);
    /* An attempt the live worker stops listing is overdue after a window. */
    fleet_report_running(w1, NULL, 0, 3000);
    zlistx_t *overdue = zlistx_new();
    fleet_overdue(fleet, 3500, 1000, overdue);
    ck_assert_uint_eq(zlistx_size(overdue), 0);
    fleet_overdue(fleet, 4100, 1000, overdue);
    ck_assert_uint_eq(zlistx_size(overdue), 1);
    ck_assert_uint_eq((uintptr_t) zlistx_first(overdue), 7);
    zlistx_destroy(&overdue);
    fleet_destroy(&fleet);
}

END_TEST

START_TEST(test_fleet_name_needs_same_key)
{
    fleet_t *fleet = fleet_new();
    ck_assert_ptr_nonnull(s_register(fleet, "w1", 1, 2, 0));
    ck_assert_ptr_null(s_register(fleet, "w1", 9, 2, 0));
    ck_assert_ptr_nonnull(s_register(fleet, "w1", 1, 2, 0));
    fleet_destroy(&fleet);
}

END_TEST

Suite *
fleet_suite(void)
{
    Suite *s = suite_create("fleet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fleet_usage);
    tcase_add_test(tc, test_fleet_reported_free_caps_credit);
    tcase_add_test(tc, test_fleet_liveness);
    tcase_add_test(tc, test_fleet_name_needs_same_key);
    suite_add_tcase(s, tc);
    return s;
}
