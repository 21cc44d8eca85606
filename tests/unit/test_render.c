/* render: a task's templates filled in for one attempt. */
#include <check.h>
#include <string.h>

#include "common/dag.h"
#include "common/xalloc.h"
#include "scheduler/render.h"
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
    ck_assert_uint_eq(out.nenv, 2);
    ck_assert_str_eq(out.env_names[0], "TOKEN");
    ck_assert_str_eq(out.env_values[0], "s3cret");
    ck_assert_str_eq(out.env_values[1], "sluice");
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

Suite *
render_suite(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_render_usage);
    tcase_add_test(tc, test_render_secret_errors);
    suite_add_tcase(s, tc);
    return s;
}
