/* http_loop: a request from another thread is answered by the loop only
 * after release, a failed commit turns into an error reply, and a caller
 * that gave up before the loop took its call costs nothing. */
#include <check.h>
#include <pthread.h>
#include <string.h>

#include "common/clock.h"
#include "scheduler/api.h"
#include "scheduler/http_loop.h"
#include "tests/unit/suites.h"

typedef struct {
    const char *endpoint;
    int timeout_ms;
    Sluice__Reply *rep;
    errbuf_t err;
    volatile bool done;
} s_caller_t;

static void *
s_caller(void *arg)
{
    s_caller_t *c = arg;
    Sluice__Request req = SLUICE__REQUEST__INIT;
    req.request_id = 7;
    c->rep = http_loop_call(c->endpoint, &req, HTTP_ROLE_VIEWER,
                            "api token 't'", c->timeout_ms, NULL, &c->err);
    c->done = true;
    return NULL;
}

static int s_answered;

static Sluice__Reply *
s_answer(void *loop,
         const Sluice__Request *req,
         http_role_t role,
         const char *actor)
{
    (void) loop;
    ck_assert_int_eq(role, HTTP_ROLE_VIEWER);
    ck_assert_str_eq(actor, "api token 't'");
    s_answered++;
    return api_error(req->request_id, API_E_NOT_FOUND, "answered %d",
                     s_answered);
}

/* Takes calls until one came or 5 s passed. */
static size_t
s_take(http_loop_t *loop)
{
    int64_t end = clock_mono_ms() + 5000;
    size_t n = 0;
    while (n == 0 && clock_mono_ms() < end) {
        zsock_set_rcvtimeo(http_loop_socket(loop), 50);
        zpoller_t *p = zpoller_new(http_loop_socket(loop), NULL);
        zpoller_wait(p, 50);
        zpoller_destroy(&p);
        n = http_loop_take(loop, s_answer, NULL, 8);
    }
    return n;
}

START_TEST(test_http_loop_reply_comes_after_release)
{
    errbuf_t err;
    http_loop_t *loop = http_loop_new(&err);
    ck_assert_ptr_nonnull(loop);
    s_caller_t c = {.endpoint = http_loop_endpoint(loop), .timeout_ms = 5000};
    pthread_t t;
    pthread_create(&t, NULL, s_caller, &c);
    ck_assert_uint_eq(s_take(loop), 1);
    zclock_sleep(100);
    ck_assert(!c.done); /* not before the turn committed */
    http_loop_release(loop, NULL);
    pthread_join(t, NULL);
    ck_assert_ptr_nonnull(c.rep);
    ck_assert_int_eq(c.rep->op_case, SLUICE__REPLY__OP_ERROR);
    ck_assert_str_eq(c.rep->error->message, "answered 1");
    protobuf_c_message_free_unpacked(&c.rep->base, NULL);
    http_loop_destroy(&loop);
    ck_assert_ptr_null(loop);
}

END_TEST

START_TEST(test_http_loop_failed_commit_is_an_error)
{
    errbuf_t err;
    http_loop_t *loop = http_loop_new(&err);
    s_caller_t c = {.endpoint = http_loop_endpoint(loop), .timeout_ms = 5000};
    pthread_t t;
    pthread_create(&t, NULL, s_caller, &c);
    ck_assert_uint_eq(s_take(loop), 1);
    http_loop_release(loop, "disk full");
    pthread_join(t, NULL);
    ck_assert_ptr_nonnull(c.rep);
    ck_assert_str_eq(c.rep->error->message, "disk full");
    protobuf_c_message_free_unpacked(&c.rep->base, NULL);
    http_loop_destroy(&loop);
}

END_TEST

START_TEST(test_http_loop_abandoned_call_is_freed_by_the_loop)
{
    errbuf_t err;
    http_loop_t *loop = http_loop_new(&err);
    s_caller_t c = {.endpoint = http_loop_endpoint(loop), .timeout_ms = 200};
    pthread_t t;
    pthread_create(&t, NULL, s_caller, &c);
    pthread_join(t, NULL); /* gave up: nobody took it */
    ck_assert_ptr_null(c.rep);
    ck_assert(strstr(errbuf_msg(&c.err), "did not answer") != NULL);
    int before = s_answered;
    http_loop_take(loop, s_answer, NULL, 8);
    ck_assert_int_eq(s_answered, before); /* not answered, and freed */
    http_loop_destroy(&loop);
}

END_TEST

Suite *
http_loop_suite(void)
{
    Suite *s = suite_create("http_loop");
    TCase *tc = tcase_create("http_loop");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_http_loop_reply_comes_after_release);
    tcase_add_test(tc, test_http_loop_failed_commit_is_an_error);
    tcase_add_test(tc, test_http_loop_abandoned_call_is_freed_by_the_loop);
    suite_add_tcase(s, tc);
    return s;
}
