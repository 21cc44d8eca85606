/* conn: the worker connection's state machine. Every change of state is
 * one of the table's; what is not in it is refused. */
#include <check.h>
#include <string.h>

#include "common/curve.h"
#include "common/keys.h"
#include "tests/unit/suites.h"
#include "worker/conn.h"

START_TEST(test_conn_states_in_order)
{
    /* The path of a new worker: dial, wait for an operator, get in,
     * leave. */
    ck_assert(conn_state_can(CONN_CONNECTING, CONN_WAITING));
    ck_assert(conn_state_can(CONN_WAITING, CONN_REGISTERED));
    ck_assert(conn_state_can(CONN_REGISTERED, CONN_DRAINING));
    ck_assert(conn_state_can(CONN_DRAINING, CONN_STOPPING));
    ck_assert_str_eq(conn_state_name(CONN_WAITING), "waiting for admission");
}

END_TEST

START_TEST(test_conn_link_comes_and_goes)
{
    ck_assert(conn_state_can(CONN_CONNECTING, CONN_REGISTERED));
    ck_assert(conn_state_can(CONN_REGISTERED, CONN_CONNECTING));
    ck_assert(conn_state_can(CONN_CONNECTING, CONN_CONNECTING));
    ck_assert(conn_state_can(CONN_WAITING, CONN_WAITING));
    ck_assert(conn_state_can(CONN_WAITING, CONN_CONNECTING));
    /* Losing the link while draining does not end the drain. */
    ck_assert(conn_state_can(CONN_DRAINING, CONN_DRAINING));
}

END_TEST

START_TEST(test_conn_stop_from_anywhere)
{
    for (int s = CONN_CONNECTING; s <= CONN_DRAINING; s++) {
        ck_assert_msg(conn_state_can((conn_state_t) s, CONN_STOPPING), "%s",
                      conn_state_name((conn_state_t) s));
        ck_assert_msg(conn_state_can((conn_state_t) s, CONN_DRAINING), "%s",
                      conn_state_name((conn_state_t) s));
    }
}

END_TEST

START_TEST(test_conn_illegal_refused)
{
    /* A draining worker never takes work again. */
    ck_assert(!conn_state_can(CONN_DRAINING, CONN_REGISTERED));
    ck_assert(!conn_state_can(CONN_DRAINING, CONN_CONNECTING));
    ck_assert(!conn_state_can(CONN_DRAINING, CONN_WAITING));
    /* Stopping is the end. */
    for (int s = 0; s < CONN_STATE_COUNT; s++) {
        ck_assert(!conn_state_can(CONN_STOPPING, (conn_state_t) s));
    }
    ck_assert(
        !conn_state_can((conn_state_t) CONN_STATE_COUNT, CONN_CONNECTING));
    ck_assert(!conn_state_can(CONN_CONNECTING, (conn_state_t) -1));
    ck_assert_str_eq(conn_state_name((conn_state_t) 99), "unknown");
}

END_TEST

START_TEST(test_conn_every_state_named)
{
    for (int s = 0; s < CONN_STATE_COUNT; s++) {
        const char *name = conn_state_name((conn_state_t) s);
        ck_assert(strcmp(name, "unknown") != 0);
        for (int t = 0; t < s; t++) {
            ck_assert_str_ne(name, conn_state_name((conn_state_t) t));
        }
    }
}

END_TEST

/* The transitions a connection makes go through the table: once stopped,
 * a late drain or a lost link changes nothing. */
START_TEST(test_conn_refuses_illegal_change)
{
    keys_t *keys = keys_generate();
    curve_t *curve = curve_generate();
    uint8_t sched[KEYS_PUBLIC_SIZE] = {0};
    conn_config_t cc = {.name = "w1",
                        .hostname = "host1",
                        .endpoint = "tcp://127.0.0.1:1",
                        .sched_pub = sched,
                        .sched_curve = sched,
                        .keys = keys,
                        .curve = curve};
    conn_t *conn = conn_new(&cc);
    ck_assert_int_eq(conn_state(conn), CONN_CONNECTING);
    ck_assert(!conn_registered(conn));
    ck_assert(!conn_leaving(conn));
    conn_drain(conn);
    ck_assert_int_eq(conn_state(conn), CONN_DRAINING);
    ck_assert(conn_leaving(conn));
    conn_lost(conn, "test");
    ck_assert_int_eq(conn_state(conn), CONN_DRAINING);
    conn_stop(conn, "test"); /* not connected: no Goodbye goes out */
    ck_assert(conn_done(conn));
    conn_drain(conn);
    conn_lost(conn, "test");
    ck_assert_int_eq(conn_state(conn), CONN_STOPPING);
    conn_destroy(&conn);
    ck_assert_ptr_null(conn);
    curve_destroy(&curve);
    keys_destroy(&keys);
}

END_TEST

Suite *
conn_suite(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = tcase_create("states");
    tcase_add_test(tc, test_conn_states_in_order);
    tcase_add_test(tc, test_conn_link_comes_and_goes);
    tcase_add_test(tc, test_conn_stop_from_anywhere);
    tcase_add_test(tc, test_conn_illegal_refused);
    tcase_add_test(tc, test_conn_every_state_named);
    tcase_add_test(tc, test_conn_refuses_illegal_change);
    suite_add_tcase(s, tc);
    return s;
}
