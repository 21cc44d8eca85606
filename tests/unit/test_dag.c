#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dag.h"
#include "common/xalloc.h"
#include "tests/unit/suites.h"

static const char s_hello[] =
    "dag: hello\n"
    "description: fan out and join\n"
    "params:\n"
    "  greeting: hi\n"
    "defaults:\n"
    "  retries: 1\n"
    "  retry_delay: 1s\n"
    "  timeout: 30s\n"
    "tasks:\n"
    "  - id: start\n"
    "    run: echo \"{{ params.greeting }} from {{ run_id }}\"\n"
    "  - id: left\n"
    "    after: [start]\n"
    "    run: echo left\n"
    "  - id: right\n"
    "    after: [start]\n"
    "    run: echo right\n"
    "  - id: join\n"
    "    after: [left, right]\n"
    "    run: echo joined\n";

/* Parses text as "t.yaml"; returns the dag (or NULL) and the errors. */
static dag_t *
s_parse(const char *text, zlist_t **errors)
{
    *errors = zlist_new();
    zlist_autofree(*errors);
    return dag_parse("t.yaml", text, strlen(text), *errors);
}

/* Asserts that the text fails with exactly these messages, in order. */
static void
s_expect(const char *text, const char *const *want, size_t nwant)
{
    zlist_t *errors;
    dag_t *dag = s_parse(text, &errors);
    ck_assert_ptr_null(dag);
    char *e = zlist_first(errors);
    for (size_t i = 0; i < nwant; i++) {
        ck_assert_msg(e, "missing error '%s'", want[i]);
        ck_assert_str_eq(e, want[i]);
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

START_TEST(test_dag_usage)
{
    /* Parse a file, then walk tasks and their dependencies. */
    zlist_t *errors;
    dag_t *dag = s_parse(s_hello, &errors);
    ck_assert_ptr_nonnull(dag);
    ck_assert_int_eq(zlist_size(errors), 0);
    ck_assert_str_eq(dag_name(dag), "hello");
    ck_assert_str_eq(dag_description(dag), "fan out and join");
    ck_assert_str_eq(dag_schedule(dag), "");
    ck_assert_int_eq(strlen(dag_version(dag)), 64);
    ck_assert_int_eq(dag_param_count(dag), 1);
    ck_assert_str_eq(dag_param(dag, 0)->name, "greeting");
    ck_assert_str_eq(dag_param(dag, 0)->value, "hi");
    ck_assert_int_eq(dag_task_count(dag), 4);

    const dag_task_t *start = dag_task(dag, 0);
    ck_assert_str_eq(start->id, "start");
    ck_assert_str_eq(start->kind, "command");
    ck_assert_str_eq(start->run,
                     "echo \"{{ params.greeting }} from {{ run_id }}\"");
    ck_assert_int_eq(start->nafter, 0);
    ck_assert_int_eq(start->nchildren, 2);
    ck_assert_int_eq(start->children[0], 1);
    ck_assert_int_eq(start->children[1], 2);
    ck_assert_int_eq(start->retries, 1);
    ck_assert_int_eq(start->retry_delay_ms, 1000);
    ck_assert_int_eq(start->max_retry_delay_ms, 3600 * 1000);
    ck_assert_int_eq(start->timeout_ms, 30000);

    long join = dag_task_index(dag, "join");
    ck_assert_int_eq(join, 3);
    const dag_task_t *j = dag_task(dag, (size_t) join);
    ck_assert_int_eq(j->nafter, 2);
    ck_assert_int_eq(j->after[0], 1);
    ck_assert_int_eq(j->after[1], 2);
    ck_assert_int_eq(j->nchildren, 0);
    ck_assert_int_eq(dag_task_index(dag, "nope"), -1);
    dag_destroy(&dag);
    ck_assert_ptr_null(dag);
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_dag_version_is_content_hash)
{
    zlist_t *errors;
    dag_t *a = s_parse(s_hello, &errors);
    zlist_destroy(&errors);
    dag_t *b = s_parse(s_hello, &errors);
    zlist_destroy(&errors);
    char *other = xasprintf("%s# changed\n", s_hello);
    dag_t *c = s_parse(other, &errors);
    ck_assert_str_eq(dag_version(a), dag_version(b));
    ck_assert_str_ne(dag_version(a), dag_version(c));
    dag_destroy(&a);
    dag_destroy(&b);
    dag_destroy(&c);
    free(other);
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_dag_every_key)
{
    const char *text = "dag: full\n"
                       "schedule: '0 3 * * *'\n"
                       "tasks:\n"
                       "  - id: load\n"
                       "    kind: ingest\n"
                       "    run: fetch {{ ds }}\n"
                       "    env: {OUT: '/data/{{ ds }}', MODE: fast}\n"
                       "    retries: 4\n"
                       "    retry_delay: 500ms\n"
                       "    max_retry_delay: 5m\n"
                       "    timeout: 2h\n"
                       "    resources:\n"
                       "      cpus: 4\n"
                       "      memory: 4G\n"
                       "      gpus: 1\n"
                       "      labels: [gpu, ssd]\n"
                       "    outputs: ['/data/{{ ds }}.csv']\n"
                       "  - id: check\n"
                       "    kind: validate\n"
                       "    after: load\n"
                       "    inputs: ['/data/{{ ds }}.csv']\n";
    zlist_t *errors;
    dag_t *dag = s_parse(text, &errors);
    ck_assert_msg(dag, "%s", (char *) zlist_first(errors));
    ck_assert_str_eq(dag_schedule(dag), "0 3 * * *");
    const dag_task_t *t = dag_task(dag, 0);
    ck_assert_str_eq(t->kind, "ingest");
    ck_assert_int_eq(t->nenv, 2);
    ck_assert_str_eq(t->env[0].name, "OUT");
    ck_assert_str_eq(t->env[0].value, "/data/{{ ds }}");
    ck_assert_int_eq(t->retries, 4);
    ck_assert_int_eq(t->retry_delay_ms, 500);
    ck_assert_int_eq(t->max_retry_delay_ms, 300000);
    ck_assert_int_eq(t->timeout_ms, 7200000);
    ck_assert_int_eq(t->cpus, 4);
    ck_assert_int_eq(t->memory_mb, 4096);
    ck_assert_int_eq(t->gpus, 1);
    ck_assert_int_eq(t->nlabels, 2);
    ck_assert_str_eq(t->labels[1], "ssd");
    ck_assert_int_eq(t->noutputs, 1);
    const dag_task_t *v = dag_task(dag, 1);
    ck_assert_ptr_null(v->run);
    ck_assert_int_eq(v->nafter, 1);
    ck_assert_int_eq(v->retries, 0);
    ck_assert_int_eq(v->retry_delay_ms, 10000);
    ck_assert_int_eq(v->timeout_ms, 0);
    ck_assert_int_eq(v->ninputs, 1);
    dag_destroy(&dag);
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_dag_after_typo)
{
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: left\n"
           "    run: x\n"
           "  - id: right\n"
           "    run: x\n"
           "  - id: join\n"
           "    after: [left, rigth]\n"
           "    run: x\n",
           "t.yaml:8:19: task 'join' waits for 'rigth', which is not "
           "defined; did you mean 'right'?");
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: a\n"
           "    after: zzzzzz\n"
           "    run: x\n",
           "t.yaml:4:12: task 'a' waits for 'zzzzzz', which is not defined; "
           "define it or remove it from 'after'");
}

END_TEST

START_TEST(test_dag_trigger_rules)
{
    const char *text = "dag: d\n"
                       "defaults:\n"
                       "  trigger_rule: none_failed\n"
                       "tasks:\n"
                       "  - id: a\n"
                       "    run: x\n"
                       "    skip_exit_code: 99\n"
                       "  - id: b\n"
                       "    after: [a]\n"
                       "    trigger_rule: all_done\n"
                       "    run: x\n";
    zlist_t *errors;
    dag_t *dag = s_parse(text, &errors);
    ck_assert_msg(dag, "%s", (char *) zlist_first(errors));
    ck_assert_int_eq(dag_task(dag, 0)->trigger_rule, DAG_RULE_NONE_FAILED);
    ck_assert_int_eq(dag_task(dag, 0)->skip_exit_code, 99);
    ck_assert_int_eq(dag_task(dag, 1)->trigger_rule, DAG_RULE_ALL_DONE);
    ck_assert_int_eq(dag_task(dag, 1)->skip_exit_code, 0);
    dag_destroy(&dag);
    zlist_destroy(&errors);
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: a\n"
           "    run: x\n"
           "    trigger_rule: one_sucess\n",
           "t.yaml:5:19: 'one_sucess' is not a trigger rule; did you mean "
           "'one_success'?");
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: a\n"
           "    run: x\n"
           "    skip_exit_code: 0\n",
           "t.yaml:5:21: 'skip_exit_code' cannot be 0, which means success; "
           "pick an exit status from 1 to 255, like 99");
}

END_TEST

START_TEST(test_dag_unknown_key)
{
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: a\n"
           "    run: x\n"
           "    retires: 3\n",
           "t.yaml:5:5: unknown key 'retires' in task 'a'; did you mean "
           "'retries'?");
    EXPECT("dag: d\n"
           "colour: red\n"
           "tasks: [{id: a, run: x}]\n",
           "t.yaml:2:1: unknown key 'colour' in the DAG file; valid keys are "
           "dag, description, schedule, params, defaults, tasks, trigger, "
           "timezone, start_date, end_date, catchup, max_active_runs, "
           "max_active_tasks, alerts, deadline, expect");
}

END_TEST

START_TEST(test_dag_limit_keys)
{
    /* Limits, pools and priorities: read, defaulted, and refused with
     * where and how to fix them. */
    zlist_t *errors;
    dag_t *dag = s_parse("dag: d\n"
                         "max_active_runs: 2\n"
                         "max_active_tasks: 5\n"
                         "defaults: {priority: 3}\n"
                         "tasks:\n"
                         "  - {id: a, run: x, pool: gpu, pool_slots: 2,\n"
                         "     max_active: 1, priority: -4}\n"
                         "  - {id: b, run: x}\n",
                         &errors);
    ck_assert_msg(dag, "%s", (char *) zlist_first(errors));
    ck_assert_uint_eq(dag_max_active_runs(dag), 2);
    ck_assert_uint_eq(dag_max_active_tasks(dag), 5);
    ck_assert_str_eq(dag_task(dag, 0)->pool, "gpu");
    ck_assert_uint_eq(dag_task(dag, 0)->pool_slots, 2);
    ck_assert_uint_eq(dag_task(dag, 0)->max_active, 1);
    ck_assert_int_eq(dag_task(dag, 0)->priority, -4);
    ck_assert_ptr_null(dag_task(dag, 1)->pool);
    ck_assert_uint_eq(dag_task(dag, 1)->pool_slots, 1);
    ck_assert_int_eq(dag_task(dag, 1)->priority, 3);
    dag_destroy(&dag);
    zlist_destroy(&errors);
    dag = s_parse("dag: d\ntasks: [{id: a, run: x}]\n", &errors);
    ck_assert_uint_eq(dag_max_active_runs(dag), DAG_DEFAULT_MAX_ACTIVE_RUNS);
    ck_assert_uint_eq(dag_max_active_tasks(dag), 0);
    ck_assert_int_eq(dag_task(dag, 0)->priority, 0);
    dag_destroy(&dag);
    zlist_destroy(&errors);
    EXPECT("dag: d\n"
           "max_active_runs: 0\n"
           "tasks:\n"
           "  - id: a\n"
           "    run: x\n"
           "    pool_slots: 2\n"
           "    priority: high\n"
           "    pool: 'g p u'\n",
           "t.yaml:2:18: 'max_active_runs' must be at least 1; write "
           "'max_active_runs: 1' for one run at a time",
           "t.yaml:6:17: 'pool_slots' needs a 'pool'; add 'pool: NAME'",
           "t.yaml:7:15: 'priority' must be a whole number from -10000 to "
           "10000, not 'high'; write it like '5'",
           "t.yaml:8:11: pool name 'g p u' may only use letters, digits, "
           "'_', '-' and '.' (at most 128 bytes, not '.' or '..'); rename "
           "it");
}

END_TEST

START_TEST(test_dag_wrong_types)
{
    EXPECT("dag: d\n"
           "defaults:\n"
           "  retries: many\n"
           "tasks:\n"
           "  - id: a\n"
           "    run: [x]\n"
           "  - id: b\n"
           "    run: x\n"
           "    env: [A]\n",
           "t.yaml:3:12: 'retries' must be a whole number from 0 to 1000, not "
           "'many'; write it like '3'",
           "t.yaml:6:10: 'run' must be a string, not a sequence; write it as "
           "'key: text'",
           "t.yaml:9:10: 'env' must be a mapping, not a sequence; write "
           "'NAME: value' lines under it");
    EXPECT("dag: d\ntasks: {a: 1}\n",
           "t.yaml:2:8: 'tasks' must be a list, not a mapping; write each "
           "task as '- id: NAME'");
}

END_TEST

START_TEST(test_dag_missing_parts)
{
    EXPECT("description: nothing\n",
           "t.yaml:1:1: the file has no 'dag' key; add 'dag: NAME' at the top",
           "t.yaml:1:1: the file has no 'tasks' key; add a 'tasks:' list "
           "with at least one task");
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - run: x\n"
           "  - id: b\n",
           "t.yaml:3:5: task #1 has no 'id'; add 'id: NAME'",
           "t.yaml:4:5: task 'b' has no 'run'; add 'run: COMMAND'");
    EXPECT("", "t.yaml:1:1: the file is empty; start it with 'dag: NAME' and "
               "a 'tasks:' list");
}

END_TEST

START_TEST(test_dag_after_repeats_and_many_unknown)
{
    /* A name repeated in 'after' counts once, however long the list; past
     * HINTS_MAX unknown names, the rest are reported without a hint. */
    char *text = xstrdup("dag: d\ntasks:\n  - id: a\n    run: x\n"
                         "  - id: b\n    run: x\n    after: [a, a, a, a]\n");
    zlist_t *errors;
    dag_t *dag = s_parse(text, &errors);
    ck_assert_ptr_nonnull(dag);
    ck_assert_uint_eq(dag_task(dag, 1)->nafter, 1);
    ck_assert_uint_eq(dag_task(dag, 0)->nchildren, 1);
    dag_destroy(&dag);
    zlist_destroy(&errors);
    free(text);
    text = xstrdup("dag: d\ntasks:\n  - id: task1\n    run: x\n"
                   "  - id: b\n    run: x\n    after: [");
    for (int i = 0; i < 40; i++) {
        char *next = xasprintf("%s%stask%d", text, i ? ", " : "", i + 2);
        free(text);
        text = next;
    }
    char *full = xasprintf("%s]\n", text);
    ck_assert_ptr_null(s_parse(full, &errors));
    ck_assert_uint_eq(zlist_size(errors), 40);
    ck_assert_ptr_nonnull(strstr(zlist_first(errors), "did you mean 'task1'?"));
    const char *last = NULL;
    for (const char *e = zlist_first(errors); e; e = zlist_next(errors)) {
        last = e;
    }
    ck_assert_ptr_nonnull(strstr(last, "define it or remove it from 'after'"));
    zlist_destroy(&errors);
    free(full);
    free(text);
}

END_TEST

START_TEST(test_dag_duplicate_id)
{
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: a\n"
           "    run: x\n"
           "  - id: a\n"
           "    run: y\n",
           "t.yaml:5:9: task id 'a' is already used on line 3; give each task "
           "its own id");
}

END_TEST

START_TEST(test_dag_cycle_in_order)
{
    /* a runs before b, b before c, c before a. Reported once. */
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: a\n"
           "    after: [c]\n"
           "    run: x\n"
           "  - id: b\n"
           "    after: [a]\n"
           "    run: x\n"
           "  - id: c\n"
           "    after: [b]\n"
           "    run: x\n"
           "  - id: d\n"
           "    after: [c]\n"
           "    run: x\n",
           "t.yaml:4:13: tasks form a cycle: a -> b -> c -> a; remove one of "
           "these 'after' entries");
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: self\n"
           "    after: self\n"
           "    run: x\n",
           "t.yaml:4:12: tasks form a cycle: self -> self; remove one of "
           "these 'after' entries");
}

END_TEST

START_TEST(test_dag_branch_checks)
{
    /* A branch chooses among its children: it needs some, and it runs
     * every time (a cache hit would not know its choice). */
    zlist_t *errors;
    dag_t *dag = s_parse("dag: d\n"
                         "tasks:\n"
                         "  - id: pick\n"
                         "    kind: branch\n"
                         "    run: echo a > $SLUICE_BRANCH\n"
                         "  - id: a\n"
                         "    after: [pick]\n"
                         "    run: 'true'\n",
                         &errors);
    ck_assert_msg(dag, "%s", (char *) zlist_first(errors));
    ck_assert_str_eq(dag_task(dag, 0)->kind, "branch");
    dag_destroy(&dag);
    zlist_destroy(&errors);
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: pick\n"
           "    kind: branch\n"
           "    cache: true\n"
           "    run: 'true'\n",
           "t.yaml:3:5: task 'pick' is a branch task but no task runs after "
           "it; add the tasks it chooses from, each with 'after: [pick]'",
           "t.yaml:5:12: task 'pick' is a branch task, which cannot use "
           "'cache' (a cache hit would not know which tasks it chose); "
           "remove 'cache'");
}

END_TEST

START_TEST(test_dag_bad_values)
{
    EXPECT("dag: 'my dag'\n"
           "schedule: daily\n"
           "tasks:\n"
           "  - id: a\n"
           "    kind: trian\n"
           "    run: x\n"
           "    timeout: 10x\n"
           "    resources: {memory: lots}\n",
           "t.yaml:1:6: DAG name 'my dag' may only use letters, digits, '_', "
           "'-' and '.' (at most 128 bytes, not '.' or '..'); rename it",
           "t.yaml:2:11: 'schedule' cron expression 'daily' has 1 field; "
           "write 5 fields (minute hour day-of-month month day-of-week), "
           "like '0 2 * * *', or a macro like '@daily' or '@every 15m'",
           "t.yaml:5:11: unknown kind 'trian' for task 'a'; did you mean "
           "'train'? use one of command, ingest, validate, transform, train, "
           "infer, sensor, branch",
           "t.yaml:7:14: 'timeout' is not a duration: '10x'; write a number "
           "with ms, s, m, h or d, like '30s'",
           "t.yaml:8:25: 'memory' is not a size: 'lots'; write megabytes or "
           "gigabytes, like '512M' or '4G'");
}

END_TEST

START_TEST(test_dag_templates)
{
    EXPECT("dag: d\n"
           "params: {greeting: hi}\n"
           "tasks:\n"
           "  - id: a\n"
           "    run: echo {{ params.greting }} {{ nope }}\n"
           "    env: {X: '{{ dss'}\n",
           "t.yaml:5:15: 'run' of task 'a' uses unknown param 'greting'; did "
           "you mean 'greeting'?",
           "t.yaml:5:36: 'run' of task 'a' uses unknown template name 'nope'; "
           "use run_id, ds, logical_date, "
           "data_interval_start, data_interval_end, task_id, attempt or "
           "params.NAME",
           "t.yaml:6:14: 'env' of task 'a': unterminated '{{' at byte 0; "
           "close it with '}}'");
}

END_TEST

START_TEST(test_dag_many_errors_all_reported)
{
    zlist_t *errors;
    dag_t *dag = s_parse("dag: d\n"
                         "tasks:\n"
                         "  - id: a\n"
                         "    run: x\n"
                         "    retires: 1\n"
                         "  - id: b\n"
                         "    after: [q]\n"
                         "    run: x\n"
                         "    timeout: soon\n"
                         "  - id: a\n"
                         "    run: x\n",
                         &errors);
    ck_assert_ptr_null(dag);
    ck_assert_int_eq(zlist_size(errors), 4);
    /* In file order. */
    ck_assert_ptr_nonnull(strstr(zlist_first(errors), "t.yaml:5:5:"));
    ck_assert_ptr_nonnull(strstr(zlist_next(errors), "t.yaml:7:13:"));
    ck_assert_ptr_nonnull(strstr(zlist_next(errors), "t.yaml:9:14:"));
    ck_assert_ptr_nonnull(strstr(zlist_next(errors), "t.yaml:10:9:"));
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_dag_yaml_syntax)
{
    EXPECT("dag: d\ntasks:\n  - id: a\n    run: [x\n",
           "t.yaml:5:1: YAML syntax error: did not find expected ',' or ']' "
           "while parsing a flow sequence; check the indentation and quoting "
           "here");
}

END_TEST

/* ---- hostile input: refused, and quickly (no timing, just bounded) ---- */

START_TEST(test_dag_alias_bomb)
{
    /* "Billion laughs": each level repeats the one before nine times. */
    const char *text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    EXPECT(text,
           "t.yaml:2:8: aliases are not supported; write the value out in "
           "full");
}

END_TEST

START_TEST(test_dag_deep_nesting)
{
    size_t depth = 10000;
    char *text = xmalloc(2 * depth + 32);
    strcpy(text, "dag: d\ntasks: ");
    size_t len = strlen(text);
    memset(text + len, '[', depth);
    memset(text + len + depth, ']', depth);
    text[len + 2 * depth] = '\0';
    zlist_t *errors;
    ck_assert_ptr_null(s_parse(text, &errors));
    ck_assert_int_eq(zlist_size(errors), 1);
    ck_assert_ptr_nonnull(strstr(zlist_first(errors), "nesting is deeper"));
    zlist_destroy(&errors);

    /* Block mappings nest too. */
    char *deep = xstrdup("dag: d\n");
    for (int i = 0; i < 100; i++) {
        char *next = xasprintf("%s%*sk:\n", deep, i, "");
        free(deep);
        deep = next;
    }
    ck_assert_ptr_null(s_parse(deep, &errors));
    ck_assert_ptr_nonnull(strstr(zlist_first(errors), "nesting is deeper"));
    zlist_destroy(&errors);
    free(deep);
    free(text);
}

END_TEST

START_TEST(test_dag_big_file)
{
    size_t size = DAG_MAX_FILE_SIZE + 1;
    char *text = xmalloc(size + 1);
    memset(text, '#', size);
    text[size] = '\0';
    zlist_t *errors;
    ck_assert_ptr_null(s_parse(text, &errors));
    char *want = xasprintf("t.yaml:1:1: the file is %zu bytes, over the limit "
                           "of %d; split the DAG into smaller files",
                           size, DAG_MAX_FILE_SIZE);
    ck_assert_str_eq(zlist_first(errors), want);
    free(want);
    zlist_destroy(&errors);

    /* The same from a file, read no further than the limit. */
    char dir[] = "/tmp/sluice-dag-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/big.yaml", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(text, 1, size, f), size);
    fclose(f);
    errors = zlist_new();
    zlist_autofree(errors);
    ck_assert_ptr_null(dag_parse_file(path, errors));
    ck_assert_ptr_nonnull(strstr(zlist_first(errors), "over the limit"));
    zlist_destroy(&errors);
    unlink(path);
    rmdir(dir);
    free(path);
    free(text);
}

END_TEST

START_TEST(test_dag_invalid_utf8)
{
    EXPECT("dag: d\ntasks:\n  - id: a\n    run: \"\xff\xfe\"\n",
           "t.yaml:4:11: invalid leading UTF-8 octet; save the file as UTF-8 "
           "text");
}

END_TEST

START_TEST(test_dag_too_many_tasks)
{
    size_t n = DAG_MAX_TASKS + 1;
    char *text = xmalloc(n * 2 + 32);
    strcpy(text, "dag: d\ntasks: [");
    size_t len = strlen(text);
    for (size_t i = 0; i < n; i++) {
        text[len++] = i ? ',' : ' ';
        text[len++] = '1';
    }
    strcpy(text + len, "]\n");
    zlist_t *errors;
    ck_assert_ptr_null(s_parse(text, &errors));
    ck_assert_int_eq(zlist_size(errors), 1);
    ck_assert_ptr_nonnull(strstr(zlist_first(errors), "over the limit"));
    zlist_destroy(&errors);
    free(text);
}

END_TEST

START_TEST(test_dag_errors_list_may_be_null)
{
    ck_assert_ptr_null(dag_parse("x.yaml", "dag: [", 6, NULL));
    dag_t *dag = dag_parse("x.yaml", s_hello, strlen(s_hello), NULL);
    ck_assert_ptr_nonnull(dag);
    dag_destroy(&dag);
    dag_destroy(&dag);
}

END_TEST

START_TEST(test_dag_warns_about_unquotable_values)
{
    /* A string param inside $(...) and '| raw' on a builtin are warnings
     * at their line and column; typed params, which can only be plain
     * words, and '| raw' on a param are not. '| raw' outside 'run' is an
     * error. */
    const char *yaml =
        "dag: w\n"
        "params:\n"
        "  n: {type: int, default: 3}\n"
        "  mode: {type: string, enum: [full, delta], default: full}\n"
        "  name: x\n"
        "tasks:\n"
        "  - id: t\n"
        "    run: echo $(seq {{ params.n }}) $(echo {{ params.mode }}) "
        "$(echo {{ params.name }}) {{ ds | raw }} {{ params.name | raw }}\n";
    dag_t *dag = dag_parse("w.yaml", yaml, strlen(yaml), NULL);
    ck_assert_ptr_nonnull(dag);
    zlist_t *w = dag_warnings(dag);
    ck_assert_uint_eq(zlist_size(w), 2);
    bool raw = false, sub = false;
    for (char *m = zlist_first(w); m; m = zlist_next(w)) {
        raw |= !strncmp(m, "w.yaml:8:89: warning: ", 22) &&
               strstr(m, "{{ ds }} unquoted") != NULL;
        sub |= !strncmp(m, "w.yaml:8:70: warning: ", 22) &&
               strstr(m, "inside $(...)") && strstr(m, "$SLUICE_PARAM_NAME");
    }
    ck_assert(raw && sub);
    dag_destroy(&dag);
    const char *env = "dag: e\nparams: {x: a}\ntasks:\n  - id: t\n"
                      "    run: 'true'\n    env: {X: '{{ params.x | raw }}'}\n";
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    ck_assert_ptr_null(dag_parse("e.yaml", env, strlen(env), errors));
    ck_assert_ptr_nonnull(strstr(zlist_first(errors), "only applies in 'run'"));
    zlist_destroy(&errors);
}

END_TEST

/* A template may read the result of a task upstream of its own (through
 * any path), and of no other; each refusal at FILE:LINE:COL. */
START_TEST(test_dag_result_refs_upstream)
{
    zlist_t *errors;
    const char *ok = "dag: d\n"
                     "tasks:\n"
                     "  - id: a\n"
                     "    run: \"true\"\n"
                     "  - id: m\n"
                     "    after: [a]\n"
                     "    run: \"true\"\n"
                     "  - id: b\n"
                     "    after: [m]\n"
                     "    run: echo {{ tasks.a.result.rows }}\n"
                     "    env: {X: \"{{ tasks.m.result }}\"}\n";
    dag_t *dag = s_parse(ok, &errors);
    ck_assert_msg(dag, "%s", (char *) zlist_first(errors));
    dag_destroy(&dag);
    zlist_destroy(&errors);
    EXPECT("dag: d\n"
           "tasks:\n"
           "  - id: a\n"
           "    run: echo {{ tasks.b.result }}\n"
           "  - id: b\n"
           "    after: [a]\n"
           "    run: echo {{ tasks.c.result.x }} {{ tasks.b.result }}\n"
           "  - id: c\n"
           "    run: echo {{ tasks.zz.result }} {{ tasks.a.rows }}\n",
           "t.yaml:4:15: 'run' of task 'a' reads the result of task 'b', "
           "which is not upstream of it; add 'b' to its 'after' (directly or "
           "through another task)",
           "t.yaml:7:15: 'run' of task 'b' reads the result of task 'c', "
           "which is not upstream of it; add 'c' to its 'after' (directly or "
           "through another task)",
           "t.yaml:7:38: 'run' of task 'b' reads the result of task 'b', "
           "which is not upstream of it; add 'b' to its 'after' (directly or "
           "through another task)",
           "t.yaml:9:15: 'run' of task 'c' reads the result of task 'zz', "
           "which is not defined",
           "t.yaml:9:37: 'run' of task 'c' uses 'tasks.a.rows'; write {{ "
           "tasks.ID.result }} or {{ tasks.ID.result.FIELD }}");
}

END_TEST

Suite *
dag_suite(void)
{
    Suite *s = suite_create("dag");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_dag_usage);
    tcase_add_test(tc, test_dag_version_is_content_hash);
    tcase_add_test(tc, test_dag_every_key);
    tcase_add_test(tc, test_dag_after_typo);
    tcase_add_test(tc, test_dag_unknown_key);
    tcase_add_test(tc, test_dag_wrong_types);
    tcase_add_test(tc, test_dag_missing_parts);
    tcase_add_test(tc, test_dag_duplicate_id);
    tcase_add_test(tc, test_dag_after_repeats_and_many_unknown);
    tcase_add_test(tc, test_dag_cycle_in_order);
    tcase_add_test(tc, test_dag_bad_values);
    tcase_add_test(tc, test_dag_templates);
    tcase_add_test(tc, test_dag_many_errors_all_reported);
    tcase_add_test(tc, test_dag_yaml_syntax);
    tcase_add_test(tc, test_dag_errors_list_may_be_null);
    tcase_add_test(tc, test_dag_warns_about_unquotable_values);
    suite_add_tcase(s, tc);
    TCase *hostile = tcase_create("hostile");
    tcase_set_timeout(hostile, 10);
    tcase_add_test(hostile, test_dag_alias_bomb);
    tcase_add_test(hostile, test_dag_deep_nesting);
    tcase_add_test(hostile, test_dag_big_file);
    tcase_add_test(hostile, test_dag_limit_keys);
    tcase_add_test(hostile, test_dag_trigger_rules);
    tcase_add_test(hostile, test_dag_result_refs_upstream);
    tcase_add_test(hostile, test_dag_branch_checks);
    tcase_add_test(hostile, test_dag_invalid_utf8);
    tcase_add_test(hostile, test_dag_too_many_tasks);
    suite_add_tcase(s, hostile);
    return s;
}
