/* xzmq: multi-frame messages survive a storm of signals. */
#include <check.h>
#include <czmq.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "common/xzmq.h"
#include "tests/unit/suites.h"

#define XZMQ_MESSAGES 20000
#define XZMQ_FRAMES   3

static volatile sig_atomic_t s_alarms;

static void
s_on_alarm(int sig)
{
    (void) sig;
    s_alarms++;
}

/* A SIGALRM every 20 us, without SA_RESTART, as the worker's SIGCHLD. Off:
 * the timer stops before the handler goes, so no alarm is left to kill. */
static void
s_storm(bool on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_alarm;
    if (on) {
        sigaction(SIGALRM, &sa, NULL);
    }
    struct itimerval every = {{0, on ? 20 : 0}, {0, on ? 20 : 0}};
    setitimer(ITIMER_REAL, &every, NULL);
}

START_TEST(test_xzmq_messages_stay_whole_under_signals)
{
    zsock_t *out = zsock_new_pair("@inproc://xzmq-test");
    zsock_t *in = zsock_new_pair(">inproc://xzmq-test");
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(in);
    zsock_set_sndhwm(out, 0);
    s_alarms = 0;
    s_storm(true);
    size_t received = 0;
    for (int i = 0; i < XZMQ_MESSAGES; i++) {
        zmsg_t *msg = zmsg_new();
        for (int f = 0; f < XZMQ_FRAMES; f++) {
            zmsg_addstrf(msg, "%d.%d", i, f);
        }
        ck_assert_int_eq(xzmq_send(&msg, out), 0);
        ck_assert_ptr_null(msg);
        zmsg_t *got = NULL;
        while (!got) { /* a signal before the first frame: try again */
            got = xzmq_recv(in);
        }
        ck_assert_uint_eq(zmsg_size(got), XZMQ_FRAMES);
        for (int f = 0; f < XZMQ_FRAMES; f++) {
            char want[32];
            snprintf(want, sizeof want, "%d.%d", i, f);
            char *part = zmsg_popstr(got);
            ck_assert_str_eq(part, want);
            zstr_free(&part);
        }
        zmsg_destroy(&got);
        received++;
    }
    s_storm(false);
    ck_assert_uint_eq(received, XZMQ_MESSAGES);
    ck_assert_int_gt(s_alarms, 0); /* the storm really blew */
    zsock_destroy(&in);
    zsock_destroy(&out);
}

END_TEST

Suite *
xzmq_suite(void)
{
    Suite *s = suite_create("xzmq");
    TCase *tc = tcase_create("xzmq");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_xzmq_messages_stay_whole_under_signals);
    suite_add_tcase(s, tc);
    return s;
}
