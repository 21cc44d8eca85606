/* rules: the trigger rules' truth table, as Airflow defines them. */
#include <check.h>

#include "scheduler/rules.h"
#include "tests/unit/suites.h"

/* Parent states in a case: P pending or running (not final), S success,
 * K skipped, F failed (or upstream_failed, timed_out, cancelled). */
static rules_up_t
s_up(const char *parents)
{
    rules_up_t up = {0};
    for (const char *c = parents; *c; c++) {
        up.parents++;
        up.ok += *c == 'S';
        up.skipped += *c == 'K';
        up.failed += *c == 'F';
    }
    return up;
}

#define W RULES_WAIT
#define R RULES_RUN
#define K RULES_SKIP
#define U RULES_UPSTREAM_FAILED

/* Every rule over every mix of two parents (in any order, so these cover
 * all combinations) plus the three-parent cases the docs' table names. */
static const struct {
    const char *parents;
    rules_verdict_t v[DAG_RULE_COUNT]; /* in dag_rule_t order:
        all_success all_failed all_done one_success one_failed none_failed
        none_failed_min_one_success always */
} s_table[] = {
    {"PP", {W, W, W, W, W, W, W, R}},  {"SP", {W, K, W, R, W, W, W, R}},
    {"KP", {K, K, W, W, W, W, W, R}},  {"FP", {U, W, W, W, R, U, U, R}},
    {"SS", {R, K, R, R, K, R, R, R}},  {"SK", {K, K, R, R, K, R, R, R}},
    {"SF", {U, K, R, R, R, U, U, R}},  {"KK", {K, K, R, K, K, R, K, R}},
    {"KF", {U, K, R, U, R, U, U, R}},  {"FF", {U, R, R, U, R, U, U, R}},
    {"SSP", {W, K, W, R, W, W, W, R}}, {"KKP", {K, K, W, W, W, W, W, R}},
    {"FFP", {U, W, W, W, R, U, U, R}}, {"SKF", {U, K, R, R, R, U, U, R}},
    {"", {R, R, R, R, R, R, R, R}}, /* a root */
};

START_TEST(test_rules_truth_table)
{
    for (size_t i = 0; i < sizeof s_table / sizeof s_table[0]; i++) {
        rules_up_t up = s_up(s_table[i].parents);
        for (int rule = 0; rule < DAG_RULE_COUNT; rule++) {
            rules_verdict_t got = rules_verdict((dag_rule_t) rule, &up);
            ck_assert_msg(got == s_table[i].v[rule],
                          "%s with parents %s: got %s, want %s",
                          dag_rule_name((dag_rule_t) rule), s_table[i].parents,
                          rules_verdict_name(got),
                          rules_verdict_name(s_table[i].v[rule]));
        }
    }
}

END_TEST

START_TEST(test_rules_every_mix_is_decided_once_all_are_done)
{
    /* Over every mix of up to four final parents, no rule waits, and the
     * verdict does not depend on the order the parents ended in (the
     * counts are all it reads). */
    const char states[] = "SKF";
    for (int n = 1; n <= 4; n++) {
        int total = 1;
        for (int i = 0; i < n; i++) {
            total *= 3;
        }
        for (int code = 0; code < total; code++) {
            char parents[5] = "";
            for (int i = 0, c = code; i < n; i++, c /= 3) {
                parents[i] = states[c % 3];
            }
            rules_up_t up = s_up(parents);
            for (int rule = 0; rule < DAG_RULE_COUNT; rule++) {
                ck_assert_msg(rules_verdict((dag_rule_t) rule, &up) != W,
                              "%s waits with parents %s",
                              dag_rule_name((dag_rule_t) rule), parents);
            }
        }
    }
}

END_TEST

START_TEST(test_rules_count_reads_final_states)
{
    rules_up_t up = {.parents = 9};
    task_state_t states[] = {
        TASK_SUCCESS,         TASK_SKIPPED_CACHED, TASK_SKIPPED,
        TASK_FAILED,          TASK_TIMED_OUT,      TASK_CANCELLED,
        TASK_UPSTREAM_FAILED, TASK_RUNNING,        TASK_UP_FOR_RETRY};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        rules_count(&up, states[i]);
    }
    ck_assert_uint_eq(up.ok, 2);
    ck_assert_uint_eq(up.skipped, 1);
    ck_assert_uint_eq(up.failed, 4); /* up_for_retry is not final */
}

END_TEST

START_TEST(test_rules_names_round_trip)
{
    for (int rule = 0; rule < DAG_RULE_COUNT; rule++) {
        dag_rule_t back = DAG_RULE_COUNT;
        ck_assert_int_eq(
            dag_rule_parse(dag_rule_name((dag_rule_t) rule), &back), 0);
        ck_assert_int_eq(back, rule);
    }
    dag_rule_t r;
    ck_assert_int_eq(dag_rule_parse("all_sucess", &r), -1);
}

END_TEST

Suite *
rules_suite(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rules_truth_table);
    tcase_add_test(tc, test_rules_every_mix_is_decided_once_all_are_done);
    tcase_add_test(tc, test_rules_count_reads_final_states);
    tcase_add_test(tc, test_rules_names_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
