#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/table.h"
#include "tests/unit/suites.h"

/* Prints table into a string (caller frees). */
static char *
s_print(const table_t *table)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    ck_assert_ptr_nonnull(out);
    table_print(table, out);
    fclose(out);
    return text;
}

START_TEST(test_table_usage)
{
    static const char *const headers[] = {"RUN", "DAG", "STATE", NULL};
    table_t *table = table_new(headers);
    table_row(table, "12", "hello", "success");
    table_row(table, "7", NULL, "failed");
    char *text = s_print(table);
    ck_assert_str_eq(text, "RUN  DAG    STATE\n"
                           "12   hello  success\n"
                           "7    -      failed\n");
    free(text);
    table_destroy(&table);
    ck_assert_ptr_null(table);
    table_destroy(&table);
}

END_TEST

/* Columns line up by characters, not bytes. */
START_TEST(test_table_utf8_width)
{
    static const char *const headers[] = {"A", "B", NULL};
    table_t *table = table_new(headers);
    table_row(table, "\xc3\xa9t\xc3\xa9", "x"); /* "été": 3 columns */
    table_row(table, "abc", "y");
    char *text = s_print(table);
    ck_assert_str_eq(text, "A    B\n"
                           "\xc3\xa9t\xc3\xa9  x\n"
                           "abc  y\n");
    free(text);
    table_destroy(&table);
}

END_TEST

START_TEST(test_table_headers_only)
{
    static const char *const headers[] = {"NAME", "SET", NULL};
    table_t *table = table_new(headers);
    char *text = s_print(table);
    ck_assert_str_eq(text, "NAME  SET\n");
    free(text);
    table_destroy(&table);
}

END_TEST

Suite *
table_suite(void)
{
    Suite *s = suite_create("table");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_table_usage);
    tcase_add_test(tc, test_table_utf8_width);
    tcase_add_test(tc, test_table_headers_only);
    suite_add_tcase(s, tc);
    return s;
}
