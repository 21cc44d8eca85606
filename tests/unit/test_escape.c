#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "tests/unit/suites.h"

START_TEST(test_escape_usage)
{
    /* A worker name with a newline and ESC: shown on one line, inert. */
    char *text = escape_dup("w1\n2026 INFO forged\x1b[31m");
    ck_assert_str_eq(text, "w1\\x0a2026 INFO forged\\x1b[31m");
    free(text);
    ck_assert(escape_is_clean("w-1.example_2"));
    ck_assert(!escape_is_clean("tab\there"));
}

END_TEST

/* Valid UTF-8 is kept; broken bytes, DEL, C1 and bidi controls are not. */
START_TEST(test_escape_utf8)
{
    char *text =
        escape_dup("\xc3\xa9t\xc3\xa9 \x7f \xff \xc2\x9b \xe2\x80\xae");
    ck_assert_str_eq(text, "\xc3\xa9t\xc3\xa9 \\x7f \\xff \\xc2\\x9b "
                           "\\xe2\\x80\\xae");
    free(text);
    text = escape_dup("\xe2\x82"); /* cut short */
    ck_assert_str_eq(text, "\\xe2\\x82");
    free(text);
    text = escape_dup(NULL);
    ck_assert_str_eq(text, "");
    free(text);
}

END_TEST

/* A short buffer holds whole escapes only; the return is the full need. */
START_TEST(test_escape_truncates_whole)
{
    char out[8];
    size_t need = escape_text(out, sizeof out, "ab\x01\x02");
    ck_assert_uint_eq(need, 10);
    ck_assert_str_eq(out, "ab\\x01");
    ck_assert_uint_eq(escape_text(NULL, 0, "\n"), 4);
}

END_TEST

Suite *
escape_suite(void)
{
    Suite *s = suite_create("escape");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_escape_usage);
    tcase_add_test(tc, test_escape_utf8);
    tcase_add_test(tc, test_escape_truncates_whole);
    suite_add_tcase(s, tc);
    return s;
}
