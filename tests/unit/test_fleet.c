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
    fleet_need_t none = {0};
    char why[128];
    ck_assert_ptr_eq(fleet_place(fleet, &none, why, sizeof why), w1);
    fleet_assign(w1, 10, &none, 0);
    fleet_assign(fleet_place(fleet, &none, why, sizeof why), 11, &none, 0);
    fleet_assign(fleet_place(fleet, &none, why, sizeof why), 12, &none, 0);
    ck_assert_ptr_null(fleet_place(fleet, &none, why, sizeof why));
    ck_assert(!fleet_any_room(fleet));
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
    fleet_need_t none = {0};
    char why[128];
    ck_assert_ptr_null(fleet_place(fleet, &none, why, sizeof why));
    fleet_report_free(w1, 2);
    fleet_assign(w1, 1, &none, 0);
    ck_assert_uint_eq(fleet_free(w1), 1); /* 2 said, 1 sent since */
    fleet_destroy(&fleet);
}

END_TEST

START_TEST(test_fleet_liveness)
{
    fleet_t *fleet = fleet_new();
    fleet_worker_t *w1 = s_register(fleet, "w1", 1, 2, 0);
    s_register(fleet, "w2", 2, 2, 0);
    fleet_assign(w1, 7, NULL, 0);
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

/* A worker with resources and labels. */
static fleet_worker_t *
s_register_res(fleet_t *fleet,
               const char *name,
               uint8_t key_byte,
               uint32_t cpus,
               uint32_t gpus,
               const char *labels)
{
    uint8_t key[KEYS_PUBLIC_SIZE];
    memset(key, key_byte, sizeof key);
    fleet_info_t info = {.name = name,
                         .hostname = "host",
                         .public_key = key,
                         .slots = 4,
                         .free_slots = 4,
                         .cpus = cpus,
                         .memory_mb = 8192,
                         .gpus = gpus,
                         .labels = labels};
    zframe_t *routing = zframe_new(name, strlen(name));
    fleet_worker_t *worker = fleet_register(fleet, &info, routing, 0);
    zframe_destroy(&routing);
    return worker;
}

START_TEST(test_fleet_placement_fits_and_never_overcommits)
{
    fleet_t *fleet = fleet_new();
    fleet_worker_t *cpu = s_register_res(fleet, "cpu", 1, 8, 0, "ssd");
    fleet_worker_t *gpu = s_register_res(fleet, "gpu", 2, 4, 2, "gpu,ssd");
    char why[160];
    /* GPUs go only where there are GPUs, two at most at once. */
    fleet_need_t one_gpu = {.gpus = 1};
    ck_assert_ptr_eq(fleet_place(fleet, &one_gpu, why, sizeof why), gpu);
    fleet_assign(gpu, 1, &one_gpu, 0);
    ck_assert_ptr_eq(fleet_place(fleet, &one_gpu, why, sizeof why), gpu);
    fleet_assign(gpu, 2, &one_gpu, 0);
    ck_assert_ptr_null(fleet_place(fleet, &one_gpu, why, sizeof why));
    ck_assert_str_eq(why, "waiting for room on a worker that fits it");
    fleet_release(fleet, "gpu", 1);
    ck_assert_ptr_eq(fleet_place(fleet, &one_gpu, why, sizeof why), gpu);
    /* What no worker can ever run says which requirement fails. */
    fleet_need_t four_gpus = {.gpus = 4};
    ck_assert_ptr_null(fleet_place(fleet, &four_gpus, why, sizeof why));
    ck_assert_str_eq(why, "no connected worker has 4 GPUs (most: 2)");
    const char *labels[] = {"gpu"};
    fleet_need_t labelled = {.nlabels = 1, .labels = labels};
    ck_assert_ptr_eq(fleet_place(fleet, &labelled, why, sizeof why), gpu);
    const char *nolabel[] = {"tpu"};
    fleet_need_t missing = {.nlabels = 1, .labels = nolabel};
    ck_assert_ptr_null(fleet_place(fleet, &missing, why, sizeof why));
    /* cpus: 8 on "cpu", 4 on "gpu"; two 4-cpu tasks, then a third waits. */
    fleet_need_t four = {.cpus = 4};
    fleet_assign(cpu, 10, &four, 0);
    fleet_assign(cpu, 11, &four, 0);
    fleet_assign(gpu, 12, &four, 0);
    ck_assert_ptr_null(fleet_place(fleet, &four, why, sizeof why));
    fleet_need_t nine = {.cpus = 9};
    ck_assert_ptr_null(fleet_place(fleet, &nine, why, sizeof why));
    ck_assert_str_eq(why, "no connected worker has 9 cpus (most: 8)");
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

START_TEST(test_fleet_prefetch_only_where_no_slot_is_free)
{
    /* w1 offers one task beyond its slot, w2 none. A free slot anywhere
     * comes first; then only w1 holds more, and only one more. */
    fleet_t *fleet = fleet_new();
    uint8_t k1[KEYS_PUBLIC_SIZE], k2[KEYS_PUBLIC_SIZE];
    memset(k1, 1, sizeof k1);
    memset(k2, 2, sizeof k2);
    fleet_info_t info = {.name = "w1",
                         .hostname = "h",
                         .public_key = k1,
                         .slots = 1,
                         .free_slots = 1,
                         .prefetch = 1,
                         .labels = ""};
    zframe_t *r1 = zframe_new("r1", 2);
    zframe_t *r2 = zframe_new("r2", 2);
    fleet_worker_t *w1 = fleet_register(fleet, &info, r1, 0);
    info = (fleet_info_t){.name = "w2",
                          .hostname = "h",
                          .public_key = k2,
                          .slots = 1,
                          .free_slots = 1,
                          .labels = ""};
    fleet_worker_t *w2 = fleet_register(fleet, &info, r2, 0);
    fleet_need_t none = {0};
    char why[128];
    fleet_assign(w1, 1, &none, 0);
    ck_assert_ptr_eq(fleet_place(fleet, &none, why, sizeof why), w2);
    fleet_assign(w2, 2, &none, 0);
    ck_assert_ptr_null(fleet_place(fleet, &none, why, sizeof why));
    ck_assert(fleet_any_room(fleet));
    ck_assert_ptr_eq(fleet_place_prefetch(fleet, &none), w1);
    fleet_assign(w1, 3, &none, 0);
    ck_assert_ptr_null(fleet_place_prefetch(fleet, &none));
    ck_assert(!fleet_any_room(fleet));
    /* A worker that gives a task back gets nothing beyond its slots. */
    fleet_release(fleet, "w1", 3);
    fleet_set_prefetch(w1, 0);
    ck_assert_ptr_null(fleet_place_prefetch(fleet, &none));
    /* Lookups by routing id and by key follow a reconnect. */
    ck_assert_ptr_eq(fleet_by_routing(fleet, r1), w1);
    ck_assert_ptr_eq(fleet_by_key(fleet, k2), w2);
    zframe_t *r3 = zframe_new("r3", 2);
    fleet_set_routing(w1, r3);
    ck_assert_ptr_null(fleet_by_routing(fleet, r1));
    ck_assert_ptr_eq(fleet_by_routing(fleet, r3), w1);
    fleet_set_state(w2, FLEET_LOST);
    ck_assert_ptr_null(fleet_by_routing(fleet, r2));
    ck_assert_ptr_eq(fleet_by_key(fleet, k2), w2);
    zframe_destroy(&r1);
    zframe_destroy(&r2);
    zframe_destroy(&r3);
    fleet_destroy(&fleet);
}

END_TEST

/* After a restart a stored drain makes a placeholder that its worker's
 * Register does not undo. */
START_TEST(test_fleet_drain_known_before_register)
{
    fleet_t *fleet = fleet_new();
    fleet_worker_t *known = fleet_known(fleet, "w1", 0);
    ck_assert_int_eq(fleet_state(known), FLEET_EXPECTED);
    fleet_drain(known);
    ck_assert_str_eq(fleet_status(known), "draining (not back yet)");
    ck_assert_ptr_eq(fleet_known(fleet, "w1", 5), known);
    fleet_worker_t *w1 = s_register(fleet, "w1", 1, 2, 10);
    ck_assert_ptr_eq(w1, known);
    ck_assert(fleet_draining(w1));
    ck_assert_str_eq(fleet_status(w1), "draining");
    fleet_need_t none = {0};
    char why[128];
    ck_assert_ptr_null(fleet_place(fleet, &none, why, sizeof why));
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
    tcase_add_test(tc, test_fleet_placement_fits_and_never_overcommits);
    tcase_add_test(tc, test_fleet_prefetch_only_where_no_slot_is_free);
    tcase_add_test(tc, test_fleet_drain_known_before_register);
    suite_add_tcase(s, tc);
    return s;
}
