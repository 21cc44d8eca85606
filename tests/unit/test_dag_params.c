/* Typed params of a DAG file (common/dag_params.c): declarations, the
 * check of every value a run is started with, and the one name check for
 * DAGs, tasks, pools and secrets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dag.h"
#include "common/errbuf.h"
#include "common/xalloc.h"
#include "tests/unit/suites.h"

static const char s_typed[] =
    "dag: etl\n"
    "params:\n"
    "  greeting: hi\n"
    "  limit: {type: int, default: 1000, min: 1, max: 100000}\n"
    "  ratio: {type: float, default: 0.5, min: 0, max: 1}\n"
    "  dry: {type: bool, default: false}\n"
    "  day: {type: date}\n"
    "  mode: {type: string, enum: [full, delta], default: full}\n"
    "  label: {type: string, pattern: \"^[a-z0-9_-]+$\", default: main}\n"
    "  level: {type: int, enum: [1, 2, 3], default: 2}\n"
    "tasks:\n"
    "  - id: a\n"
    "    run: echo {{ params.limit }}\n";

static dag_t *
s_dag(const char *text, zlist_t **errors)
{
    *errors = zlist_new();
    zlist_autofree(*errors);
    return dag_parse("dags/etl.yaml", text, strlen(text), *errors);
}

static dag_t *
s_typed_dag(void)
{
    zlist_t *errors;
    dag_t *dag = s_dag(s_typed, &errors);
    const char *first = zlist_first(errors);
    ck_assert_msg(dag, "%s", first ? first : "");
    zlist_destroy(&errors);
    return dag;
}

/* Resolves one value of param `name` (day given a good value); returns the
 * message, "" when taken. */
static const char *
s_try(const dag_t *dag, const char *name, const char *value, errbuf_t *err)
{
    dag_kv_t given[2] = {{"day", "2026-12-07"}, {name, value}};
    dag_kv_t out[16];
    errbuf_clear(err);
    if (dag_params_resolve(dag, given, 2, out, err) == 0) {
        return "";
    }
    return errbuf_msg(err);
}

START_TEST(test_dag_params_usage)
{
    /* Declarations are read with their rules and where they were written;
     * a run's values are the given ones over the defaults. */
    dag_t *dag = s_typed_dag();
    ck_assert_str_eq(dag_file(dag), "dags/etl.yaml");
    ck_assert_int_eq(dag_param_count(dag), 8);
    const dag_param_t *greeting = dag_param(dag, 0);
    ck_assert_str_eq(greeting->name, "greeting");
    ck_assert_str_eq(greeting->value, "hi");
    ck_assert_int_eq(greeting->type, DAG_PARAM_STRING);
    ck_assert(!greeting->required);
    const dag_param_t *limit = dag_param(dag, 1);
    ck_assert_str_eq(dag_param_type_name(limit->type), "int");
    ck_assert_str_eq(limit->value, "1000");
    ck_assert_str_eq(limit->min, "1");
    ck_assert_str_eq(limit->max, "100000");
    ck_assert_int_eq(limit->line, 4);
    const dag_param_t *day = dag_param(dag, 4);
    ck_assert_int_eq(day->type, DAG_PARAM_DATE);
    ck_assert(day->required);
    ck_assert_str_eq(day->value, "");
    const dag_param_t *mode = dag_param(dag, 5);
    ck_assert_int_eq(mode->nenum, 2);
    ck_assert_str_eq(mode->enums[1], "delta");
    ck_assert_str_eq(dag_param(dag, 6)->pattern, "^[a-z0-9_-]+$");

    dag_kv_t given[] = {
        {"limit", "50"}, {"day", "2024-02-29"}, {"limit", "60"}};
    dag_kv_t out[8];
    errbuf_t err;
    ck_assert_int_eq(dag_params_resolve(dag, given, 3, out, &err), 0);
    ck_assert_str_eq(out[0].name, "greeting");
    ck_assert_str_eq(out[0].value, "hi");
    ck_assert_str_eq(out[1].value, "60"); /* the last one given counts */
    ck_assert_str_eq(out[4].value, "2024-02-29");
    ck_assert_str_eq(out[5].value, "full");
    dag_destroy(&dag);
}

END_TEST

START_TEST(test_dag_params_refusals_name_the_declaration)
{
    dag_t *dag = s_typed_dag();
    errbuf_t err;
    ck_assert_str_eq(s_try(dag, "limit", "0", &err),
                     "param 'limit' = '0': below min 1 (declared at "
                     "dags/etl.yaml:4); give --param limit=N with 1 <= N <= "
                     "100000");
    ck_assert_str_eq(s_try(dag, "mode", "part", &err),
                     "param 'mode' = 'part': not one of full, delta (declared "
                     "at dags/etl.yaml:8); give --param mode=VALUE with VALUE "
                     "one of full, delta");
    ck_assert_str_eq(s_try(dag, "dry", "yes", &err),
                     "param 'dry' = 'yes': not true or false (declared at "
                     "dags/etl.yaml:6); give --param dry=true or --param "
                     "dry=false");
    ck_assert_str_eq(s_try(dag, "label", "A", &err),
                     "param 'label' = 'A': does not match pattern "
                     "'^[a-z0-9_-]+$' (declared at dags/etl.yaml:9); give "
                     "--param label=VALUE matching '^[a-z0-9_-]+$'");
    ck_assert_str_eq(s_try(dag, "nope", "1", &err),
                     "DAG 'etl' has no param 'nope'; declare it under "
                     "'params:' in dags/etl.yaml or drop --param nope");
    dag_kv_t out[8];
    ck_assert_int_eq(dag_params_resolve(dag, NULL, 0, out, &err), -1);
    ck_assert_str_eq(errbuf_msg(&err),
                     "param 'day' is required and has no default (declared "
                     "at dags/etl.yaml:7); give --param day=YYYY-MM-DD");
    dag_destroy(&dag);
}

END_TEST

/* One value and whether its param takes it; `why` is part of the
 * message when refused. */
typedef struct {
    const char *param;
    const char *value;
    const char *why; /* NULL: taken */
} value_case_t;

START_TEST(test_dag_params_hostile_values)
{
    static const value_case_t cases[] = {
        {"limit", "1", NULL},
        {"limit", "100000", NULL},
        {"limit", "007", NULL},
        {"limit", "", "empty, but an int needs a value"},
        {"limit", "1; id", "not a whole number"},
        {"limit", "$(id)", "not a whole number"},
        {"limit", "`id`", "not a whole number"},
        {"limit", "5\nid", "not a whole number"},
        {"limit", " 5", "not a whole number"},
        {"limit", "+5", "not a whole number"},
        {"limit", "1e3", "not a whole number"},
        {"limit", "0x10", "not a whole number"},
        {"limit", "-", "not a whole number"},
        {"limit", "100001", "above max 100000"},
        {"limit", "-9223372036854775808", "below min 1"},
        {"limit", "9223372036854775808",
         "out of the range of a 64-bit whole number"},
        {"ratio", "0", NULL},
        {"ratio", ".25", NULL},
        {"ratio", "1e-3", NULL},
        {"ratio", "1.", NULL},
        {"ratio", "", "empty, but a float needs a value"},
        {"ratio", "nan", "not a decimal number"},
        {"ratio", "inf", "not a decimal number"},
        {"ratio", "0x1p-2", "not a decimal number"},
        {"ratio", ".", "not a decimal number"},
        {"ratio", "1e", "not a decimal number"},
        {"ratio", "0.5;id", "not a decimal number"},
        {"ratio", "1e999", "out of the range of a number"},
        {"ratio", "1.0001", "above max 1"},
        {"dry", "true", NULL},
        {"dry", "false", NULL},
        {"dry", "", "empty, but a bool needs a value"},
        {"dry", "TRUE", "not true or false"},
        {"dry", "1", "not true or false"},
        {"dry", "true\n", "not true or false"},
        {"day", "2024-02-29", NULL},
        {"day", "2023-02-29", "not a real calendar date"},
        {"day", "2026-13-01", "not a real calendar date"},
        {"day", "2026-04-31", "not a real calendar date"},
        {"day", "0000-01-01", "not a real calendar date"},
        {"day", "2026-1-01", "not a date written YYYY-MM-DD"},
        {"day", "2026-12-07\n", "not a date written YYYY-MM-DD"},
        {"day", "$(date +%F)", "not a date written YYYY-MM-DD"},
        {"day", "", "empty, but a date needs a value"},
        {"mode", "delta", NULL},
        {"mode", "full; rm -rf /", "not one of full, delta"},
        {"mode", "Full", "not one of full, delta"},
        {"level", "3", NULL},
        {"level", "03", NULL}, /* an int enum compares numbers */
        {"level", "4", "not one of 1, 2, 3"},
        {"label", "a-b_1", NULL},
        {"label", "", "does not match pattern"},
        {"label", "a b", "does not match pattern"},
        {"label", "x;id", "does not match pattern"},
        {"label", "abc\nid", "does not match pattern"},
        {"label", "../etc", "does not match pattern"},
        {"label", "caf\xc3\xa9", "does not match pattern"},
        {"label", "\xff\xfe", "does not match pattern"},
        /* A string without rules takes anything but NUL, which a C string
         * cannot hold: quoting is the command's business. */
        {"greeting", "", NULL},
        {"greeting", "x; id > /tmp/proof", NULL},
        {"greeting", "$(id) `id` 'q' \"q\" \\ * ? ~ -rf", NULL},
        {"greeting", "line\nline\r\x1b[31m\t", NULL},
        {"greeting", "\xff\xfe invalid UTF-8", NULL},
    };
    dag_t *dag = s_typed_dag();
    errbuf_t err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const value_case_t *c = &cases[i];
        const char *msg = s_try(dag, c->param, c->value, &err);
        if (!c->why) {
            ck_assert_msg(!*msg, "%s='%s' refused: %s", c->param, c->value,
                          msg);
        } else {
            ck_assert_msg(strstr(msg, c->why) && strstr(msg, "declared at"),
                          "%s='%s': want '%s', got '%s'", c->param, c->value,
                          c->why, msg);
        }
    }
    dag_destroy(&dag);
}

END_TEST

START_TEST(test_dag_params_big_and_control_values)
{
    /* 64 KiB of digits is not an int; the message shows a bounded,
     * escaped prefix of what was given, never the raw bytes. */
    dag_t *dag = s_typed_dag();
    errbuf_t err;
    char *big = xmalloc(65537);
    memset(big, '7', 65536);
    big[65536] = '\0';
    const char *msg = s_try(dag, "limit", big, &err);
    ck_assert_ptr_nonnull(strstr(msg, "out of the range"));
    ck_assert_ptr_nonnull(strstr(msg, "7777...'"));
    ck_assert_uint_lt(strlen(msg), 600);
    memset(big, 'a', 65536);
    ck_assert_str_eq(s_try(dag, "label", big, &err), "");
    ck_assert_str_eq(s_try(dag, "greeting", big, &err), "");
    big[100] = ' ';
    ck_assert_ptr_nonnull(strstr(s_try(dag, "label", big, &err), "match"));
    free(big);
    msg = s_try(dag, "mode", "x\n\x1b[2J'\\", &err);
    ck_assert_msg(strstr(msg, "= 'x\\x0a\\x1b[2J\\x27\\x5c'"), "%s", msg);
    ck_assert_ptr_null(strchr(msg, '\n'));
    dag_destroy(&dag);
}

END_TEST

/* Asserts that the text fails with a message containing each of want, in
 * order, and nothing else. */
static void
s_expect(const char *text, const char *const *want, size_t nwant)
{
    zlist_t *errors;
    dag_t *dag = s_dag(text, &errors);
    ck_assert_ptr_null(dag);
    const char *e = zlist_first(errors);
    for (size_t i = 0; i < nwant; i++) {
        ck_assert_msg(e, "missing error '%s'", want[i]);
        ck_assert_msg(strstr(e, want[i]), "want '%s', got '%s'", want[i], e);
        e = zlist_next(errors);
    }
    ck_assert_msg(!e, "unexpected error '%s'", e ? e : "");
    zlist_destroy(&errors);
}

#define EXPECT(text, ...)                                                      \
    do {                                                                       \
        const char *const want_[] = {__VA_ARGS__};                             \
        s_expect((text), want_, sizeof want_ / sizeof want_[0]);               \
    } while (0)

#define TASKS "tasks:\n  - id: a\n    run: echo\n"

START_TEST(test_dag_params_bad_declarations)
{
    EXPECT(
        "dag: d\nparams:\n  a: {type: int, default: 0, min: 1, max: 9}\n" TASKS,
        "dags/etl.yaml:3:27: the default '0' of param 'a' is below min 1; "
        "change the default or the rules");
    EXPECT("dag: d\nparams:\n  a: {type: integer}\n" TASKS,
           "dags/etl.yaml:3:13: param 'a' has unknown type 'integer'");
    EXPECT("dag: d\nparams:\n  a: {type: int, min: 5, max: 1}\n" TASKS,
           "dags/etl.yaml:3:31: param 'a' has max 1 below its min 5; swap "
           "them");
    EXPECT("dag: d\nparams:\n  a: {pattern: \"([a-z\"}\n" TASKS,
           "dags/etl.yaml:3:16: 'pattern' of param 'a' is not a POSIX "
           "extended regular expression");
    EXPECT("dag: d\nparams:\n  a: {type: int, pattern: \"^1$\"}\n" TASKS,
           "dags/etl.yaml:3:27: 'pattern' applies to string params, and "
           "param 'a' is an int");
    EXPECT("dag: d\nparams:\n  a: {type: string, min: 1}\n" TASKS,
           "'min' applies to int and float params");
    EXPECT("dag: d\nparams:\n  a: {type: int, max: ten}\n" TASKS,
           "'max' of param 'a' is not a whole number; write an int");
    EXPECT("dag: d\nparams:\n  a: {defualt: x}\n" TASKS,
           "dags/etl.yaml:3:7: unknown key 'defualt' in param 'a'; did you "
           "mean 'default'?");
    EXPECT("dag: d\nparams:\n  a: {colour: x}\n" TASKS,
           "valid keys are type, default, min, max, enum and pattern");
    EXPECT("dag: d\nparams:\n  a: {type: int, type: int}\n" TASKS,
           "key 'type' in param 'a' is repeated");
    EXPECT("dag: d\nparams:\n  a: {type: bool, enum: [true, maybe]}\n" TASKS,
           "'enum' of param 'a' lists 'maybe', which is not true or false");
    EXPECT("dag: d\nparams:\n  a: {enum: []}\n" TASKS,
           "'enum' of param 'a' must be a list of the values allowed, not an "
           "empty list");
    EXPECT("dag: d\nparams:\n  a: {type: date, default: 2023-02-29}\n" TASKS,
           "not a real calendar date");
    EXPECT("dag: d\nparams:\n  a: {default: [1]}\n" TASKS,
           "'default' of param 'a' must be a single value, not a sequence");
    EXPECT("dag: d\nparams:\n  a: [1, 2]\n" TASKS,
           "param 'a' must be a default value or a mapping");
    EXPECT("dag: d\nparams:\n  a-b: x\n  9a: x\n  a.b: x\n" TASKS,
           "dags/etl.yaml:3:3: param name 'a-b' may only use letters",
           "dags/etl.yaml:4:3: param name '9a'",
           "dags/etl.yaml:5:3: param name 'a.b'");
    EXPECT("dag: d\nschedule: \"@daily\"\nparams:\n  a: {type: int}\n" TASKS,
           "dags/etl.yaml:4:3: param 'a' has no default, but the DAG's "
           "'schedule' starts runs that give no params; add a 'default'");
    EXPECT(
        "dag: d\ntrigger: {datasets: [/x]}\nparams:\n  a: {type: int}\n" TASKS,
        "param 'a' has no default, but the DAG's 'trigger'");
}

END_TEST

START_TEST(test_dag_params_plain_form_stays)
{
    /* `name: value` is a string with that default; `name:` an empty one. */
    zlist_t *errors;
    dag_t *dag =
        s_dag("dag: d\nparams:\n  a: 5\n  b:\n  c: \"\"\n" TASKS, &errors);
    ck_assert_ptr_nonnull(dag);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(dag_param(dag, i)->type, DAG_PARAM_STRING);
        ck_assert(!dag_param(dag, i)->required);
    }
    ck_assert_str_eq(dag_param(dag, 0)->value, "5");
    ck_assert_str_eq(dag_param(dag, 1)->value, "");
    dag_kv_t out[3];
    errbuf_t err;
    ck_assert_int_eq(dag_params_resolve(dag, NULL, 0, out, &err), 0);
    ck_assert_str_eq(out[2].value, "");
    dag_destroy(&dag);
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_dag_name_charset)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"a", true},
        {"etl-daily_v2.1", true},
        {"A.B-C_D", true},
        {"...", true},
        {".hidden", true},
        {"_", true},
        {"", false},
        {".", false},
        {"..", false},
        {"a/b", false},
        {"/", false},
        {"a b", false},
        {"a\nb", false},
        {"a\tb", false},
        {"caf\xc3\xa9", false},
        {"a;b", false},
        {"$(id)", false},
        {"a\\b", false},
        {"a:b", false},
        {"a*", false},
        {"~a", false},
        {"\xff", false},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(dag_name_ok(cases[i].name) == cases[i].ok,
                      "'%s' should be %s", cases[i].name,
                      cases[i].ok ? "taken" : "refused");
    }
    ck_assert(!dag_name_ok(NULL));
    char name[DAG_NAME_MAX + 2];
    memset(name, 'x', sizeof name);
    name[DAG_NAME_MAX] = '\0';
    ck_assert(dag_name_ok(name));
    name[DAG_NAME_MAX] = 'x';
    name[DAG_NAME_MAX + 1] = '\0';
    ck_assert(!dag_name_ok(name));
}

END_TEST

Suite *
dag_params_suite(void)
{
    Suite *s = suite_create("dag_params");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_dag_params_usage);
    tcase_add_test(tc, test_dag_params_refusals_name_the_declaration);
    tcase_add_test(tc, test_dag_params_bad_declarations);
    tcase_add_test(tc, test_dag_params_plain_form_stays);
    tcase_add_test(tc, test_dag_name_charset);
    suite_add_tcase(s, tc);
    TCase *hostile = tcase_create("hostile");
    tcase_add_test(hostile, test_dag_params_hostile_values);
    tcase_add_test(hostile, test_dag_params_big_and_control_values);
    suite_add_tcase(s, hostile);
    return s;
}
