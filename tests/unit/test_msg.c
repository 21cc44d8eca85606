/* msg: what the worker's outbox keeps is a packed Result; it comes back
 * whole, and bytes that were cut short or are not a Result are refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/msg.h"
#include "tests/unit/suites.h"

#define S_ERROR "exit code 3: the input file 'data.csv' has no header line"

/* A Result whose last field on the wire is its error text. */
static Sluice__Result
s_result(void)
{
    Sluice__Result res = SLUICE__RESULT__INIT;
    res.attempt_id = 812;
    res.outcome = SLUICE__OUTCOME__OUTCOME_EXITED;
    res.exit_code = 3;
    res.duration_ms = 1500;
    res.error = (char *) S_ERROR;
    return res;
}

START_TEST(test_msg_result_round_trip)
{
    Sluice__Result res = s_result();
    size_t len = 0;
    uint8_t *bytes = msg_pack(&res.base, &len);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_gt(len, strlen(S_ERROR));
    Sluice__Result *back = msg_result_unpack(bytes, len);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(back->attempt_id, 812);
    ck_assert_int_eq(back->outcome, SLUICE__OUTCOME__OUTCOME_EXITED);
    ck_assert_int_eq(back->exit_code, 3);
    ck_assert_uint_eq(back->duration_ms, 1500);
    ck_assert_str_eq(back->error, S_ERROR);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    free(bytes);
}

END_TEST

START_TEST(test_msg_empty_result_packs)
{
    Sluice__Result res = SLUICE__RESULT__INIT;
    size_t len = 99;
    uint8_t *bytes = msg_pack(&res.base, &len);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(len, 0);
    Sluice__Result *back = msg_result_unpack(bytes, len);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(back->attempt_id, 0);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    free(bytes);
}

END_TEST

/* A cut inside a field is refused; a cut between fields may decode, but
 * never as the whole message. */
START_TEST(test_msg_truncated_result_refused)
{
    Sluice__Result res = s_result();
    size_t len = 0;
    uint8_t *bytes = msg_pack(&res.base, &len);
    size_t text_at = len - strlen(S_ERROR);
    for (size_t cut = 0; cut < len; cut++) {
        Sluice__Result *back = msg_result_unpack(bytes, cut);
        if (cut >= text_at - 1) {
            ck_assert_msg(back == NULL, "cut at %zu of %zu decoded", cut, len);
        }
        if (back) {
            ck_assert(back->error == NULL || strcmp(back->error, S_ERROR));
            protobuf_c_message_free_unpacked(&back->base, NULL);
        }
    }
    free(bytes);
}

END_TEST

START_TEST(test_msg_garbage_refused)
{
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    ck_assert_ptr_null(msg_result_unpack(garbage, sizeof garbage));
    static const uint8_t long_string[] = {0x4a, 0x7f, 'a', 'b'};
    ck_assert_ptr_null(msg_result_unpack(long_string, sizeof long_string));
}

END_TEST

START_TEST(test_msg_worker_names)
{
    ck_assert(msg_name_ok("w1"));
    ck_assert(msg_name_ok("gpu-node_07.example.org"));
    char longest[MSG_NAME_MAX + 2];
    memset(longest, 'a', MSG_NAME_MAX);
    longest[MSG_NAME_MAX] = '\0';
    ck_assert(msg_name_ok(longest));
    longest[MSG_NAME_MAX] = 'a';
    longest[MSG_NAME_MAX + 1] = '\0';
    ck_assert(!msg_name_ok(longest));
    ck_assert(!msg_name_ok(""));
    ck_assert(!msg_name_ok(NULL));
    ck_assert(!msg_name_ok("a b"));
    ck_assert(!msg_name_ok("w1\nforged"));
    ck_assert(!msg_name_ok("w\x1b[31m"));
    ck_assert(!msg_name_ok("w/1"));
    ck_assert(!msg_name_ok("w\xc3\xa9"));
}

END_TEST

Suite *
msg_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *tc = tcase_create("result");
    tcase_add_test(tc, test_msg_result_round_trip);
    tcase_add_test(tc, test_msg_empty_result_packs);
    tcase_add_test(tc, test_msg_truncated_result_refused);
    tcase_add_test(tc, test_msg_garbage_refused);
    tcase_add_test(tc, test_msg_worker_names);
    suite_add_tcase(s, tc);
    return s;
}
