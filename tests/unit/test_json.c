#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "tests/unit/suites.h"

/* A compact writer into memory; s_take ends it and returns the text. */
typedef struct {
    char *text;
    size_t size;
    FILE *out;
    json_t *json;
} s_doc_t;

static void
s_doc_open(s_doc_t *doc)
{
    doc->text = NULL;
    doc->size = 0;
    doc->out = open_memstream(&doc->text, &doc->size);
    ck_assert_ptr_nonnull(doc->out);
    doc->json = json_new(doc->out, false);
}

static char *
s_take(s_doc_t *doc)
{
    json_destroy(&doc->json);
    ck_assert_ptr_null(doc->json);
    fclose(doc->out);
    return doc->text;
}

START_TEST(test_json_usage)
{
    s_doc_t doc;
    s_doc_open(&doc);
    json_object_begin(doc.json);
    json_kv_string(doc.json, "dag", "hello");
    json_kv_uint(doc.json, "run_id", 12);
    json_key(doc.json, "tasks");
    json_array_begin(doc.json);
    json_string(doc.json, "start");
    json_string(doc.json, "join");
    json_array_end(doc.json);
    json_kv_bool(doc.json, "finished", true);
    json_key(doc.json, "worker");
    json_string(doc.json, NULL);
    json_object_end(doc.json);
    char *text = s_take(&doc);
    ck_assert_str_eq(text, "{\"dag\":\"hello\",\"run_id\":12,"
                           "\"tasks\":[\"start\",\"join\"],"
                           "\"finished\":true,\"worker\":null}\n");
    free(text);
}

END_TEST

START_TEST(test_json_escapes_quotes_and_controls)
{
    s_doc_t doc;
    s_doc_open(&doc);
    json_string(doc.json, "say \"hi\"\\ \n\t\r\b\f\x01\x1f end/");
    char *text = s_take(&doc);
    ck_assert_str_eq(text, "\"say \\\"hi\\\"\\\\ \\n\\t\\r\\b\\f"
                           "\\u0001\\u001f end/\"\n");
    free(text);
}

END_TEST

START_TEST(test_json_utf8_passes_bad_bytes_replaced)
{
    s_doc_t doc;
    s_doc_open(&doc);
    json_array_begin(doc.json);
    json_string(doc.json,
                "caf\xc3\xa9 \xe2\x94\x94\xe2\x94\x80 \xf0\x9f\x9a\x80");
    /* A lone continuation byte, a truncated sequence, an overlong '/'
     * and a surrogate are not UTF-8. */
    json_string(doc.json, "a\x80"
                          "b\xe2\x94"
                          "c\xc0\xaf"
                          "d\xed\xa0\x80");
    /* Embedded NUL, written by length. */
    json_string_len(doc.json, "x\0y", 3);
    json_array_end(doc.json);
    char *text = s_take(&doc);
    ck_assert_str_eq(text, "[\"caf\xc3\xa9 \xe2\x94\x94\xe2\x94\x80 "
                           "\xf0\x9f\x9a\x80\","
                           "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd"
                           "d\\ufffd\\ufffd\\ufffd\","
                           "\"x\\u0000y\"]\n");
    free(text);
}

END_TEST

START_TEST(test_json_nesting)
{
    s_doc_t doc;
    s_doc_open(&doc);
    json_object_begin(doc.json);
    json_key(doc.json, "a");
    json_array_begin(doc.json);
    json_array_begin(doc.json);
    json_array_end(doc.json);
    json_object_begin(doc.json);
    json_object_end(doc.json);
    json_object_begin(doc.json);
    json_kv_int(doc.json, "b", -1);
    json_object_end(doc.json);
    json_array_end(doc.json);
    json_key(doc.json, "c");
    json_object_begin(doc.json);
    json_object_end(doc.json);
    json_object_end(doc.json);
    char *text = s_take(&doc);
    ck_assert_str_eq(text, "{\"a\":[[],{},{\"b\":-1}],\"c\":{}}\n");
    free(text);
}

END_TEST

START_TEST(test_json_pretty)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    json_t *json = json_new(out, true);
    json_object_begin(json);
    json_kv_uint(json, "a", 1);
    json_key(json, "b");
    json_array_begin(json);
    json_bool(json, false);
    json_array_end(json);
    json_key(json, "c");
    json_array_begin(json);
    json_array_end(json);
    json_object_end(json);
    json_destroy(&json);
    fclose(out);
    ck_assert_str_eq(text, "{\n  \"a\": 1,\n  \"b\": [\n    false\n  ],\n"
                           "  \"c\": []\n}\n");
    free(text);
}

END_TEST

START_TEST(test_json_numbers)
{
    s_doc_t doc;
    s_doc_open(&doc);
    json_array_begin(doc.json);
    json_int(doc.json, INT64_MIN);
    json_uint(doc.json, UINT64_MAX);
    json_int(doc.json, 0);
    json_double(doc.json, 0.5);
    json_double(doc.json, -2.0);
    json_double(doc.json, 1.0 / 0.0);
    json_double(doc.json, 0.0 / 0.0);
    json_array_end(doc.json);
    char *text = s_take(&doc);
    ck_assert_str_eq(text, "[-9223372036854775808,18446744073709551615,0,"
                           "0.5,-2,null,null]\n");
    free(text);
}

END_TEST

START_TEST(test_json_value_without_key_aborts)
{
    s_doc_t doc;
    s_doc_open(&doc);
    json_object_begin(doc.json);
    json_uint(doc.json, 1); /* objects take keys first: a bug, asserts */
}

END_TEST

Suite *
json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_json_usage);
    tcase_add_test(tc, test_json_escapes_quotes_and_controls);
    tcase_add_test(tc, test_json_utf8_passes_bad_bytes_replaced);
    tcase_add_test(tc, test_json_nesting);
    tcase_add_test(tc, test_json_pretty);
    tcase_add_test(tc, test_json_numbers);
    const char *fork = getenv("CK_FORK");
    if (!fork || strcmp(fork, "no") != 0) {
        tcase_add_test_raise_signal(tc, test_json_value_without_key_aborts,
                                    SIGABRT);
    }
    suite_add_tcase(s, tc);
    return s;
}
