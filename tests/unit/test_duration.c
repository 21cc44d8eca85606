#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/dag.h"
#include "common/duration.h"
#include "tests/unit/suites.h"

START_TEST(test_duration_usage)
{
    uint64_t ms = 0;
    ck_assert_int_eq(duration_parse("30s", &ms), 0);
    ck_assert_uint_eq(ms, 30000);
    ck_assert_int_eq(duration_parse("thirty seconds", &ms), -1);
    ck_assert_uint_eq(ms, 30000); /* unchanged when refused */
}

END_TEST

START_TEST(test_duration_every_unit)
{
    static const struct {
        const char *text;
        uint64_t ms;
    } cases[] = {
        {"500ms", 500},     {"10s", 10000},
        {"5m", 300000},     {"2h", 7200000},
        {"1d", 86400000},   {"1500", 1500},
        {"0", 0},           {"0s", 0},
        {"1.5s", 1500},     {"0.5m", 30000},
        {"1.25h", 4500000}, {"0.5d", 43200000},
        {"2.5ms", 2},       {"1.5", 1},
        {"007s", 7000},     {"1.123456789s", 1123},
        {"90m", 5400000},   {"36h", 129600000},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t ms = 0;
        ck_assert_msg(duration_parse(cases[i].text, &ms) == 0, "%s",
                      cases[i].text);
        ck_assert_msg(ms == cases[i].ms, "%s: %llu", cases[i].text,
                      (unsigned long long) ms);
    }
}

END_TEST

START_TEST(test_duration_bad_input_refused)
{
    uint64_t ms = 7;
    const char *bad[] = {"",
                         "s",
                         "10x",
                         "-1s",
                         "10 s",
                         "1.s",
                         "99999999999999999999d",
                         "1e3",
                         " 1s",
                         "1s ",
                         "1S",
                         "1sec",
                         ".5s",
                         "1..5s",
                         "+1s",
                         "1.5.5s",
                         "1ms5",
                         "1.1234567890s",
                         "1h30m",
                         "ms"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(duration_parse(bad[i], &ms) == -1, "%s", bad[i]);
    }
    ck_assert_int_eq(duration_parse(NULL, &ms), -1);
    ck_assert_uint_eq(ms, 7);
}

END_TEST

/* The largest count each unit takes; one more is refused, not wrapped. */
START_TEST(test_duration_bounds)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t max = UINT64_MAX / units[i].ms / 2;
        char text[64];
        uint64_t ms = 0;
        snprintf(text, sizeof text, "%llu%s", (unsigned long long) max,
                 units[i].unit);
        ck_assert_msg(duration_parse(text, &ms) == 0, "%s", text);
        ck_assert_uint_eq(ms, max * units[i].ms);
        snprintf(text, sizeof text, "%llu%s", (unsigned long long) max + 1,
                 units[i].unit);
        ck_assert_msg(duration_parse(text, &ms) == -1, "%s", text);
    }
    uint64_t ms = 0;
    ck_assert_int_eq(duration_parse("10000000000000000ms", &ms), 0);
    ck_assert_int_eq(duration_parse("100000000000000000ms", &ms), -1);
}

END_TEST

/* dag_parse_duration, the DAG API's name for it, reads the same. */
START_TEST(test_duration_dag_api_agrees)
{
    const char *texts[] = {"500ms", "10s", "1.5s", "1d", "1500", "10x", ""};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        uint64_t a = 1, b = 1;
        ck_assert_int_eq(duration_parse(texts[i], &a),
                         dag_parse_duration(texts[i], &b));
        ck_assert_uint_eq(a, b);
    }
}

END_TEST

/* What a user reads for a bad duration in a DAG file, in a task, in the
 * defaults and in a validate task's freshness. */
START_TEST(test_duration_messages_in_dag_files)
{
    static const char text[] = "dag: d\n"
                               "defaults:\n"
                               "  retry_delay: soon\n"
                               "tasks:\n"
                               "  - id: a\n"
                               "    run: x\n"
                               "    timeout: 10x\n"
                               "    max_retry_delay: [1s]\n"
                               "  - id: v\n"
                               "    kind: validate\n"
                               "    inputs: [f.csv]\n"
                               "    validate:\n"
                               "      freshness: {column: ts, max_age: 2w}\n";
    const char *want[] = {
        "t.yaml:3:16: 'retry_delay' is not a duration: 'soon'; write a "
        "number with ms, s, m, h or d, like '30s'",
        "t.yaml:7:14: 'timeout' is not a duration: '10x'; write a number "
        "with ms, s, m, h or d, like '30s'",
        "t.yaml:8:22: 'max_retry_delay' is not a duration: a sequence; "
        "write a number with ms, s, m, h or d, like '30s'",
    };
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    ck_assert_ptr_null(dag_parse("t.yaml", text, strlen(text), errors));
    ck_assert_int_eq(zlist_size(errors), 4);
    const char *msg = zlist_first(errors);
    for (size_t i = 0; i < 3; i++, msg = zlist_next(errors)) {
        ck_assert_str_eq(msg, want[i]);
    }
    ck_assert_ptr_nonnull(
        strstr(msg, "'max_age' must be a duration like 36h or 2d, not '2w'"));
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_duration_message_in_config)
{
    config_t *cfg = config_new();
    errbuf_t err;
    ck_assert_int_eq(config_set(cfg, "heartbeat_ms", "soon", &err), -1);
    ck_assert_str_eq(errbuf_msg(&err),
                     "bad value 'soon' for 'heartbeat_ms'; write a duration "
                     "like 1500, 1500ms or 2s");
    ck_assert_int_eq(config_set(cfg, "idle_timeout", "1.5m", &err), 0);
    config_destroy(&cfg);
}

END_TEST

Suite *
duration_suite(void)
{
    Suite *s = suite_create("duration");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_duration_usage);
    tcase_add_test(tc, test_duration_every_unit);
    tcase_add_test(tc, test_duration_bad_input_refused);
    tcase_add_test(tc, test_duration_bounds);
    tcase_add_test(tc, test_duration_dag_api_agrees);
    tcase_add_test(tc, test_duration_messages_in_dag_files);
    tcase_add_test(tc, test_duration_message_in_config);
    suite_add_tcase(s, tc);
    return s;
}
