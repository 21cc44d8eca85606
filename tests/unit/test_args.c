#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/args.h"
#include "tests/unit/suites.h"

static const args_flag_t s_flags[] = {
    {"param", 'p', ARGS_LIST, "KEY=VALUE", "override a param"},
    {"date", 0, ARGS_STRING, "YYYY-MM-DD", "logical date"},
    {"wait", 'w', ARGS_BOOL, NULL, "wait for the end"},
    {"limit", 'n', ARGS_UINT, "N", "at most N"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_spec = {
    .usage = "sluice trigger NAME [flags]",
    .summary = "start a run",
    .flags = s_flags,
    .min_args = 1,
    .max_args = 2,
};

/* Parses a NULL-terminated argument list; returns NULL and *rc like
 * args_parse. */
static args_t *
s_parse(int *rc, char **argv)
{
    int argc = 0;
    while (argv[argc]) {
        argc++;
    }
    return args_parse(&s_spec, argc, argv, rc);
}

START_TEST(test_args_usage)
{
    char *argv[] = {"trigger",
                    "hello",
                    "--param",
                    "a=1",
                    "-p",
                    "b=2",
                    "--date=2026-01-31",
                    "-w",
                    "--limit",
                    "7",
                    "--json",
                    "--dir",
                    "/tmp/s",
                    NULL};
    int rc = -1;
    args_t *args = s_parse(&rc, argv);
    ck_assert_ptr_nonnull(args);
    ck_assert_int_eq(rc, ARGS_EXIT_OK);
    ck_assert_str_eq(args_verb(args), "trigger");
    ck_assert_int_eq(args_count(args), 1);
    ck_assert_str_eq(args_get(args, 0), "hello");
    size_t count;
    const char *const *params = args_list(args, "param", &count);
    ck_assert_uint_eq(count, 2);
    ck_assert_str_eq(params[0], "a=1");
    ck_assert_str_eq(params[1], "b=2");
    ck_assert_str_eq(args_string(args, "date"), "2026-01-31");
    ck_assert(args_flag(args, "wait"));
    ck_assert_uint_eq(args_uint(args, "limit", 20), 7);
    ck_assert(args_json(args));
    ck_assert_str_eq(args_dir(args), "/tmp/s");
    args_destroy(&args);
    ck_assert_ptr_null(args);
    args_destroy(&args);
}

END_TEST

START_TEST(test_args_defaults)
{
    char *argv[] = {"trigger", "hello", "--", "--not-a-flag", NULL};
    int rc;
    args_t *args = s_parse(&rc, argv);
    ck_assert_ptr_nonnull(args);
    ck_assert_int_eq(args_count(args), 2);
    ck_assert_str_eq(args_get(args, 1), "--not-a-flag");
    size_t count = 9;
    args_list(args, "param", &count);
    ck_assert_uint_eq(count, 0);
    ck_assert_ptr_null(args_string(args, "date"));
    ck_assert(!args_flag(args, "wait"));
    ck_assert_uint_eq(args_uint(args, "limit", 20), 20);
    ck_assert(!args_json(args));
    ck_assert_ptr_null(args_dir(args));
    args_destroy(&args);
}

END_TEST

START_TEST(test_args_usage_errors)
{
    char *unknown[] = {"trigger", "hello", "--nope", NULL};
    char *no_value[] = {"trigger", "hello", "--date", NULL};
    char *bool_value[] = {"trigger", "hello", "--wait=yes", NULL};
    char *not_number[] = {"trigger", "hello", "--limit", "-3", NULL};
    char *missing[] = {"trigger", NULL};
    char *too_many[] = {"trigger", "a", "b", "c", NULL};
    char **cases[] = {unknown,    no_value, bool_value,
                      not_number, missing,  too_many};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = -1;
        ck_assert_ptr_null(s_parse(&rc, cases[i]));
        ck_assert_int_eq(rc, ARGS_EXIT_USAGE);
    }
}

END_TEST

START_TEST(test_args_help_prints_and_stops)
{
    char *argv[] = {"trigger", "-h", NULL};
    int rc = -1;
    ck_assert_ptr_null(s_parse(&rc, argv));
    ck_assert_int_eq(rc, ARGS_EXIT_OK);
}

END_TEST

/* Asking for a flag the spec does not have is our bug. */
START_TEST(test_args_unknown_name_aborts)
{
    char *argv[] = {"trigger", "hello", NULL};
    int rc;
    args_t *args = s_parse(&rc, argv);
    args_flag(args, "date"); /* a string flag, not a bool */
}

END_TEST

Suite *
args_suite(void)
{
    Suite *s = suite_create("args");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_args_usage);
    tcase_add_test(tc, test_args_defaults);
    tcase_add_test(tc, test_args_usage_errors);
    tcase_add_test(tc, test_args_help_prints_and_stops);
    const char *fork = getenv("CK_FORK");
    if (!fork || strcmp(fork, "no") != 0) {
        tcase_add_test_raise_signal(tc, test_args_unknown_name_aborts, SIGABRT);
    }
    suite_add_tcase(s, tc);
    return s;
}
