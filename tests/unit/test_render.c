/* render: a task's templates filled in for one attempt. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dag.h"
#include "common/xalloc.h"
#include "scheduler/render.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_results.h"
#include "scheduler/store/store_runs.h"
#include "tests/unit/suites.h"

static const char *s_yaml = "dag: r\n"
                            "params:\n"
                            "  who: world\n"
                            "tasks:\n"
                            "  - id: t\n"
                            "    run: echo {{ params.who }} {{ run_id }} "
                            "{{ ds }} {{ task_id }} {{ attempt }}\n"
                            "    env:\n"
                            "      TOKEN: \"{{ secret.API_TOKEN }}\"\n"
                            "      WHO: \"{{ params.who }}\"\n"
                            "    inputs: [\"/data/{{ ds }}/in.csv\"]\n"
                            "    outputs: [\"/data/{{ run_id }}/out.csv\"]\n";

static int s_opened;

static char *
s_secret(void *arg, const char *name, errbuf_t *err)
{
    s_opened++;
    if (strcmp(name, "API_TOKEN") != 0) {
        errbuf_set(err, "secret '%s' is not set", name);
        return NULL;
    }
    return xstrdup((const char *) arg);
}

static render_vars_t
s_vars(const dag_kv_t *params, const char *secret_value)
{
    return (render_vars_t){.run_id = "42",
                           .logical_date = "2026-11-26",
                           .params = params,
                           .nparams = 1,
                           .task_id = "t",
                           .attempt = 2,
                           .secret = s_secret,
                           .secret_arg = (void *) secret_value};
}

START_TEST(test_render_usage)
{
    /* Every name a template may use, filled in for attempt 2 of run 42;
     * the secret reaches env only. */
    dag_t *dag = dag_parse("r.yaml", s_yaml, strlen(s_yaml), NULL);
    ck_assert_ptr_nonnull(dag);
    dag_kv_t params[] = {{"who", "sluice"}};
    render_vars_t vars = s_vars(params, "s3cret");
    plan_dispatch_t out = {0};
    errbuf_t err;
    s_opened = 0;
    ck_assert_int_eq(render_dispatch(&vars, dag_task(dag, 0), &out, &err), 0);
    ck_assert_str_eq(out.command, "echo sluice 42 2026-11-26 t 2");
    ck_assert_uint_eq(out.nenv, 3); /* the param, then the task's env */
    ck_assert_str_eq(out.env_names[0], "SLUICE_PARAM_WHO");
    ck_assert_str_eq(out.env_values[0], "sluice");
    ck_assert_str_eq(out.env_names[1], "TOKEN");
    ck_assert_str_eq(out.env_values[1], "s3cret");
    ck_assert_str_eq(out.env_values[2], "sluice");
    ck_assert_uint_eq(out.argc, 6); /* no shell syntax: exec'd directly */
    ck_assert_str_eq(out.argv[1], "sluice");
    ck_assert_int_eq(s_opened, 1);
    ck_assert_uint_eq(out.ninputs, 1);
    ck_assert_str_eq(out.inputs[0], "/data/2026-11-26/in.csv");
    ck_assert_uint_eq(out.noutputs, 1);
    ck_assert_str_eq(out.outputs[0], "/data/42/out.csv");
    ck_assert_ptr_null(out.validate);
    render_clear(&out);
    ck_assert_ptr_null(out.command);
    /* The command and paths alone, as the cache key needs them. */
    char *command = render_command(&vars, dag_task(dag, 0), &err);
    ck_assert_str_eq(command, "echo sluice 42 2026-11-26 t 2");
    free(command);
    char **paths = NULL;
    size_t n = 0;
    ck_assert_int_eq(
        render_paths(&vars, dag_task(dag, 0)->outputs, 1, &paths, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(paths[0], "/data/42/out.csv");
    free(paths[0]);
    free(paths);
    ck_assert_int_eq(s_opened, 1);
    dag_destroy(&dag);
}

END_TEST

START_TEST(test_render_secret_errors)
{
    /* A secret that cannot be opened fails the render with the hook's
     * reason; without a hook, env may use no secret at all. */
    const char *yaml = "dag: r\ntasks:\n  - id: t\n    run: 'true'\n"
                       "    env:\n      T: \"{{ secret.NOT_THERE }}\"\n";
    dag_t *dag = dag_parse("r.yaml", yaml, strlen(yaml), NULL);
    ck_assert_ptr_nonnull(dag);
    dag_kv_t params[] = {{"who", "sluice"}};
    render_vars_t vars = s_vars(params, "s3cret");
    plan_dispatch_t out = {0};
    errbuf_t err;
    ck_assert_int_eq(render_dispatch(&vars, dag_task(dag, 0), &out, &err), -1);
    ck_assert_str_eq(err.msg, "secret 'NOT_THERE' is not set");
    render_clear(&out);
    vars.secret = NULL;
    ck_assert_int_eq(render_dispatch(&vars, dag_task(dag, 0), &out, &err), -1);
    render_clear(&out);
    dag_destroy(&dag);
}

END_TEST

/* ------------------------------------------- values in shell commands */

/* Runs command under /bin/sh -c, as the worker does, and returns its
 * stdout (owned). */
static char *
s_sh(const char *command, size_t *len)
{
    FILE *f = popen(command, "r");
    ck_assert_ptr_nonnull(f);
    char *out = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 4096 + 1 > cap) {
            cap = (*len + 4096 + 1) * 2;
            out = xrealloc(out, cap);
        }
        size_t n = fread(out + *len, 1, 4096, f);
        if (n == 0) {
            break;
        }
        *len += n;
    }
    out[*len] = '\0';
    pclose(f);
    return out;
}

/* Renders `run` with param v = value; NULL (err set) when refused. */
static char *
s_render_run(const char *run,
             const char *value,
             plan_dispatch_t *out,
             errbuf_t *err)
{
    char *yaml = xasprintf("dag: q\nparams:\n  v: x\n  dir: d\ntasks:\n"
                           "  - id: t\n    run: %s\n"
                           "    outputs: [\"data/{{ params.dir }}/o.csv\"]\n",
                           run);
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse("q.yaml", yaml, strlen(yaml), errors);
    ck_assert_msg(dag, "%s: %s", run, (char *) zlist_first(errors));
    zlist_destroy(&errors);
    dag_kv_t params[] = {{"v", value}, {"dir", "d"}};
    render_vars_t vars = s_vars(params, "s3cret");
    vars.nparams = 2;
    int rc = render_dispatch(&vars, dag_task(dag, 0), out, err);
    char *command = rc == 0 ? xstrdup(out->command) : NULL;
    dag_destroy(&dag);
    free(yaml);
    return command;
}

/* The hostile values: every shell metacharacter alone and in the usual
 * injections, a newline, a leading '-', invalid UTF-8, nothing at all. */
static const char *const s_hostile[] = {";",
                                        "&",
                                        "|",
                                        "$",
                                        "`",
                                        "'",
                                        "\"",
                                        "\\",
                                        "(",
                                        ")",
                                        "<",
                                        ">",
                                        "*",
                                        "?",
                                        "[",
                                        "]",
                                        "{",
                                        "}",
                                        "~",
                                        "#",
                                        "!",
                                        "=",
                                        " ",
                                        "\t",
                                        "\n",
                                        "%",
                                        "^",
                                        "x; echo INJECTED",
                                        "$(echo INJECTED)",
                                        "`echo INJECTED`",
                                        "'; echo INJECTED; '",
                                        "\"; echo INJECTED; \"",
                                        "a\nb",
                                        "\necho INJ",
                                        "-n",
                                        "--help",
                                        "",
                                        "\xff\xfe\x80 bad utf-8",
                                        "$HOME",
                                        "${HOME}",
                                        "'\\''",
                                        "\\'",
                                        "a b  c",
                                        "*.csv",
                                        "~root",
                                        "x=1",
                                        "#not a comment",
                                        "$((1+1))",
                                        "'\"'\"'",
                                        "\\\n",
                                        "}}{{",
                                        "%s%n"};

START_TEST(test_render_quotes_hostile_values)
{
    /* Each value reaches the command as exactly its bytes, wherever the
     * template puts it: as a word, inside "..." or '...', glued to text,
     * and in a command that needs no shell at all. */
    static const struct {
        const char *run, *pre, *post;
    } places[] = {
        {"\"printf '%s' {{ params.v }}\"", "", ""},
        {"\"printf '%s' \\\"<{{ params.v }}>\\\"\"", "<", ">"},
        {"\"printf '%s' '<{{ params.v }}>'\"", "<", ">"},
        {"\"printf '%s' x{{ params.v }}y; true\"", "x", "y"},
        {"printf %s {{ params.v }}", "", ""},
        {"printf %s --{{ params.v }}--", "--", "--"},
    };

    for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
        for (size_t i = 0; i < sizeof s_hostile / sizeof s_hostile[0]; i++) {
            plan_dispatch_t out = {0};
            errbuf_t err;
            char *command =
                s_render_run(places[p].run, s_hostile[i], &out, &err);
            ck_assert_msg(command, "%s: %s", places[p].run, errbuf_msg(&err));
            char *want = xasprintf("%s%s%s", places[p].pre, s_hostile[i],
                                   places[p].post);
            size_t len;
            char *got = s_sh(command, &len);
            ck_assert_msg(len == strlen(want) && !memcmp(got, want, len),
                          "value %zu in %s: command [%s] printed [%s]", i,
                          places[p].run, command, got);
            if (p >= 4) { /* direct: the value is one argument as it is */
                ck_assert_uint_eq(out.argc, 3);
                ck_assert_str_eq(out.argv[2], want);
            } else {
                ck_assert_uint_eq(out.argc, 0);
            }
            free(got);
            free(want);
            free(command);
            render_clear(&out);
        }
    }
}

END_TEST

START_TEST(test_render_quotes_a_64k_value)
{
    char *value = xmalloc(65537);
    for (size_t i = 0; i < 65536; i++) {
        value[i] = (char) (1 + i % 255); /* every byte but NUL */
    }
    value[65536] = '\0';
    plan_dispatch_t out = {0};
    errbuf_t err;
    char *command =
        s_render_run("\"printf '%s' {{ params.v }} >&1\"", value, &out, &err);
    ck_assert_ptr_nonnull(command);
    size_t len;
    char *got = s_sh(command, &len);
    ck_assert_uint_eq(len, 65536);
    ck_assert(!memcmp(got, value, len));
    free(got);
    free(command);
    render_clear(&out);
    free(value);
}

END_TEST

START_TEST(test_render_refuses_where_no_quoting_holds)
{
    /* Inside $(...), a comment, a here-document or after a backslash a
     * value with shell characters is refused; a plain one goes in. */
    static const char *const runs[] = {
        "\"echo $(echo {{ params.v }})\"",
        "\"echo \\\"$(echo {{ params.v }})\\\"\"",
        "\"echo `echo {{ params.v }}`\"",
        "\"echo ${X:-{{ params.v }}}\"",
        "\"echo hi # {{ params.v }}\"",
        "\"cat <<EOF\\n{{ params.v }}\\nEOF\"",
        "\"echo \\\\{{ params.v }}\"",
        "\"echo ${{ params.v }}\"",
        "\"echo $(case a in a) echo ok;; esac) {{ params.v }}\""};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        plan_dispatch_t out = {0};
        errbuf_t err;
        char *command = s_render_run(runs[i], "a; echo INJECTED", &out, &err);
        ck_assert_msg(!command, "%s rendered to [%s]", runs[i], command);
        ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "refused"));
        ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "$SLUICE_PARAM_V"));
        render_clear(&out);
        command = s_render_run(runs[i], "plain-1.0", &out, &err);
        ck_assert_msg(command, "%s: %s", runs[i], errbuf_msg(&err));
        free(command);
        render_clear(&out);
    }
    /* After the substitution closes, quoting holds again. */
    plan_dispatch_t out = {0};
    errbuf_t err;
    char *command = s_render_run("\"echo $(echo a) {{ params.v }}\"",
                                 "a; echo INJECTED", &out, &err);
    ck_assert_str_eq(command, "echo $(echo a) 'a; echo INJECTED'");
    free(command);
    render_clear(&out);
}

END_TEST

START_TEST(test_render_raw_is_command_text)
{
    plan_dispatch_t out = {0};
    errbuf_t err;
    char *command =
        s_render_run("\"echo {{ params.v | raw }}\"", "$((1+2))", &out, &err);
    ck_assert_str_eq(command, "echo $((1+2))");
    size_t len;
    char *got = s_sh(command, &len);
    ck_assert_str_eq(got, "3\n");
    free(got);
    free(command);
    render_clear(&out);
    /* A raw value needs a shell even where the text alone would not. */
    command = s_render_run("echo {{ params.v | raw }}", "a b", &out, &err);
    ck_assert_uint_eq(out.argc, 0);
    free(command);
    render_clear(&out);
}

END_TEST

START_TEST(test_render_paths_refuse_dotdot_from_values)
{
    dag_kv_t params[] = {{"v", "x"}, {"dir", "d"}};
    render_vars_t vars = s_vars(params, "s3cret");
    vars.nparams = 2;

    static const struct {
        const char *path, *dir, *want; /* want NULL: refused */
    } cases[] = {
        {"data/{{ params.dir }}/x", "../../etc", NULL},
        {"data/{{ params.dir }}/x", "..", NULL},
        {"data/{{ params.dir }}/x", "a/../b", NULL},
        {"data/.{{ params.dir }}/x", ".", NULL},
        {"data/{{ params.dir }}/x", "a/./b//c", "data/a/b/c/x"},
        {"data/{{ params.dir }}/x", "..a", "data/..a/x"},
        {"../shared/{{ params.dir }}.csv", "day", "../shared/day.csv"},
        {"/data//{{ params.dir }}/", "d", "/data/d"},
        {"file:///data/./{{ params.dir }}", "d", "file:///data/d"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        params[1].value = cases[i].dir;
        const char *const paths[] = {cases[i].path};
        char **out = NULL;
        size_t n = 0;
        errbuf_t err;
        int rc = render_paths(&vars, paths, 1, &out, &n, &err);
        if (cases[i].want) {
            ck_assert_msg(rc == 0, "%s: %s", cases[i].path, errbuf_msg(&err));
            ck_assert_str_eq(out[0], cases[i].want);
        } else {
            ck_assert_int_eq(rc, -1);
            ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "'..'"));
        }
        for (size_t j = 0; j < n; j++) {
            free(out[j]);
        }
        free(out);
    }
}

END_TEST

static const char *s_results_yaml =
    "dag: r\n"
    "tasks:\n"
    "  - id: a\n"
    "    run: \"true\"\n"
    "  - id: b\n"
    "    after: [a]\n"
    "    run: printf '%s %s' {{ tasks.a.result.rows }} "
    "{{ tasks.a.result.path }} > \"/out/{{ tasks.a.result.rows }}\"\n"
    "    env:\n"
    "      ALL: \"{{ tasks.a.result }}\"\n"
    "  - id: c\n"
    "    after: [a]\n"
    "    run: echo {{ tasks.a.result.path }} {{ tasks.a.result.nope }}\n";

/* A run of DAG r in a fresh store, whose task a succeeded leaving json;
 * sets *run_id. Caller destroys the store and removes dir. */
static store_t *
s_results_store(char *dir, const char *json, uint64_t *run_id)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *db = xasprintf("%s/store.db", dir);
    errbuf_t err;
    store_t *store = store_open(db, &err);
    free(db);
    ck_assert_msg(store, "%s", err.msg);
    bool changed;
    ck_assert_int_eq(store_dag_put(store, "r", "v1", s_results_yaml, "r.yaml",
                                   1, &changed, &err),
                     0);
    ck_assert_int_eq(store_run_create(store, "r", "v1", NULL, 0, "2026-11-26",
                                      "manual", 1, run_id, &err),
                     0);
    ck_assert_int_eq(
        store_task_create(store, *run_id, "a", TASK_SUCCESS, 1, &err), 0);
    uint64_t attempt = 0;
    ck_assert_int_eq(store_attempt_create(store, *run_id, "a", 1, "w1",
                                          ATTEMPT_RUNNING, 2, &attempt, &err),
                     0);
    store_attempt_end_t end = {.state = ATTEMPT_SUCCESS, .ended_at = 3};
    ck_assert_int_eq(store_attempt_finish(store, attempt, &end, &err), 0);
    ck_assert_int_eq(store_results_put(store, attempt, json, &err), 0);
    return store;
}

START_TEST(test_render_task_results)
{
    /* {{ tasks.a.result.FIELD }}: a string's value, quoted for the shell
     * like any value; {{ tasks.a.result }}: the JSON text. */
    char dir[] = "/tmp/sluice-render.XXXXXX";
    uint64_t run_id = 0;
    const char *json = "{\"rows\": 42, \"path\": \"/x y; id\"}";
    store_t *store = s_results_store(dir, json, &run_id);
    dag_t *dag =
        dag_parse("r.yaml", s_results_yaml, strlen(s_results_yaml), NULL);
    ck_assert_ptr_nonnull(dag);
    render_vars_t vars = {.run_id = "1",
                          .logical_date = "2026-11-26",
                          .task_id = "b",
                          .attempt = 1,
                          .store = store,
                          .run = run_id};
    plan_dispatch_t out = {0};
    errbuf_t err;
    ck_assert_int_eq(render_dispatch(&vars, dag_task(dag, 1), &out, &err), 0);
    ck_assert_str_eq(out.command, "printf '%s %s' 42 '/x y; id' > \"/out/42\"");
    ck_assert_str_eq(out.env_values[0], json);
    render_clear(&out);
    /* A member it does not have fails the attempt, naming it. */
    vars.task_id = "c";
    ck_assert_int_eq(render_dispatch(&vars, dag_task(dag, 2), &out, &err), -1);
    ck_assert_str_eq(err.msg, "{{ tasks.a.result.nope }}: the result has no "
                              "member 'nope'");
    render_clear(&out);
    /* Without a store (or a result), nothing resolves. */
    vars.store = NULL;
    ck_assert_int_eq(render_dispatch(&vars, dag_task(dag, 1), &out, &err), -1);
    render_clear(&out);
    dag_destroy(&dag);
    store_destroy(&store);
    char *rm = xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
}

END_TEST

Suite *
render_suite(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_render_usage);
    tcase_add_test(tc, test_render_secret_errors);
    tcase_add_test(tc, test_render_quotes_hostile_values);
    tcase_add_test(tc, test_render_quotes_a_64k_value);
    tcase_add_test(tc, test_render_refuses_where_no_quoting_holds);
    tcase_add_test(tc, test_render_raw_is_command_text);
    tcase_add_test(tc, test_render_paths_refuse_dotdot_from_values);
    tcase_add_test(tc, test_render_task_results);
    suite_add_tcase(s, tc);
    return s;
}
