#include <check.h>
#include <string.h>

#include "common/jsonval.h"
#include "tests/unit/suites.h"

static jsonval_t *
s_parse(const char *text, errbuf_t *err)
{
    return jsonval_parse(text, strlen(text), err);
}

START_TEST(test_jsonval_usage)
{
    errbuf_t err = {{0}};
    jsonval_t *v =
        s_parse(" {\"paused\": true, \"params\": {\"k\": "
                "\"v\\n\\u00e9\\ud83d\\ude00\"},"
                " \"n\": -1.5e2, \"list\": [1, null, false], \"e\": {}}",
                &err);
    ck_assert_msg(v, "%s", err.msg);
    ck_assert_int_eq(jsonval_type(v), JSONVAL_OBJECT);
    ck_assert_int_eq(jsonval_count(v), 5);
    ck_assert(jsonval_bool(jsonval_get(v, "paused")));
    const jsonval_t *params = jsonval_get(v, "params");
    ck_assert_str_eq(jsonval_key(params, 0), "k");
    size_t size;
    ck_assert_str_eq(jsonval_string(jsonval_at(params, 0), &size),
                     "v\n\xc3\xa9\xf0\x9f\x98\x80");
    ck_assert_uint_eq(size, 8);
    ck_assert(jsonval_number(jsonval_get(v, "n")) == -150.0);
    const jsonval_t *list = jsonval_get(v, "list");
    ck_assert_int_eq(jsonval_count(list), 3);
    ck_assert_int_eq(jsonval_type(jsonval_at(list, 1)), JSONVAL_NULL);
    ck_assert_ptr_null(jsonval_get(v, "missing"));
    ck_assert_ptr_null(jsonval_string(jsonval_get(v, "n"), NULL));
    jsonval_destroy(&v);
    ck_assert_ptr_null(v);
    jsonval_destroy(&v);
}

END_TEST

START_TEST(test_jsonval_refuses)
{
    static const char *const bad[] = {
        "",
        "{",
        "{\"a\"}",
        "{\"a\":1,}",
        "[1 2]",
        "tru",
        "\"abc",
        "\"\\x\"",
        "01x",
        "{} {}",
        "\"\\ud83d\"",
        "-",
        "{\"a\":1}x",
        "\"a\tb\"",
        ".5",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errbuf_t err = {{0}};
        jsonval_t *v = s_parse(bad[i], &err);
        ck_assert_msg(!v, "accepted '%s'", bad[i]);
        ck_assert_msg(strstr(err.msg, "malformed"), "'%s': %s", bad[i],
                      err.msg);
    }
}

END_TEST

Suite *
jsonval_suite(void)
{
    Suite *s = suite_create("jsonval");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_jsonval_usage);
    tcase_add_test(tc, test_jsonval_refuses);
    suite_add_tcase(s, tc);
    return s;
}
