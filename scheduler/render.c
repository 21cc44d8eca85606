#include "scheduler/render.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/tmpl.h"
#include "common/xalloc.h"

/* One rendering pass: the lookup's state. */
typedef struct {
    const render_vars_t *vars;
    char attempt[16];
    bool env;          /* rendering env: secrets allowed */
    zlistx_t *opened;  /* secret values handed out, wiped after render */
    bool secret_error; /* a secret could not be opened ... */
    errbuf_t why;      /* ... and why */
} render_ctx_t;

static void
s_secret_free(void **item)
{
    char *value = *item;
    if (value) {
        sodium_memzero(value, strlen(value));
        free(value);
        *item = NULL;
    }
}

/* {{ secret.NAME }}: only in env (dag validation refuses it elsewhere;
 * checked again here), opened through the scheduler's hook. */
static const char *
s_lookup_secret(render_ctx_t *ctx, const char *name)
{
    if (!ctx->env || !ctx->vars->secret) {
        return NULL;
    }
    char *value = ctx->vars->secret(ctx->vars->secret_arg, name, &ctx->why);
    if (!value) {
        ctx->secret_error = true;
        return NULL;
    }
    zlistx_add_end(ctx->opened, value);
    return value;
}

static const char *
s_lookup(void *arg, const char *name)
{
    render_ctx_t *ctx = arg;
    const render_vars_t *vars = ctx->vars;
    if (strncmp(name, "secret.", 7) == 0) {
        return s_lookup_secret(ctx, name + 7);
    }
    if (strcmp(name, "run_id") == 0) {
        return vars->run_id;
    }
    if (strcmp(name, "ds") == 0) {
        return vars->logical_date;
    }
    if (strcmp(name, "logical_date") == 0) {
        return vars->logical_ts;
    }
    if (strcmp(name, "data_interval_start") == 0) {
        return vars->interval_start;
    }
    if (strcmp(name, "data_interval_end") == 0) {
        return vars->interval_end;
    }
    if (strcmp(name, "task_id") == 0) {
        return vars->task_id;
    }
    if (strcmp(name, "attempt") == 0) {
        return ctx->attempt;
    }
    if (strncmp(name, "params.", 7) == 0) {
        for (size_t i = 0; i < vars->nparams; i++) {
            if (strcmp(vars->params[i].name, name + 7) == 0) {
                return vars->params[i].value;
            }
        }
    }
    return NULL;
}

static void
s_ctx_init(render_ctx_t *ctx, const render_vars_t *vars)
{
    *ctx = (render_ctx_t){.vars = vars};
    snprintf(ctx->attempt, sizeof ctx->attempt, "%u", vars->attempt);
}

static char *
s_command(render_ctx_t *ctx, const dag_task_t *task, errbuf_t *err)
{
    return tmpl_render(task->run ? task->run : "", s_lookup, ctx, err);
}

static int
s_paths(render_ctx_t *ctx,
        const char *const *paths,
        size_t count,
        char ***out,
        size_t *nout,
        errbuf_t *err)
{
    *out = xcalloc(count + 1, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        (*out)[i] = tmpl_render(paths[i], s_lookup, ctx, err);
        if (!(*out)[i]) {
            return -1;
        }
        *nout = i + 1;
    }
    return 0;
}

char *
render_command(const render_vars_t *vars, const dag_task_t *task, errbuf_t *err)
{
    render_ctx_t ctx;
    s_ctx_init(&ctx, vars);
    return s_command(&ctx, task, err);
}

int
render_paths(const render_vars_t *vars,
             const char *const *paths,
             size_t count,
             char ***out,
             size_t *nout,
             errbuf_t *err)
{
    render_ctx_t ctx;
    s_ctx_init(&ctx, vars);
    return s_paths(&ctx, paths, count, out, nout, err);
}

/* The only place secrets are opened; each is wiped once rendered in. */
static int
s_env(render_ctx_t *ctx,
      const dag_task_t *task,
      plan_dispatch_t *out,
      errbuf_t *err)
{
    ctx->env = true;
    ctx->opened = zlistx_new();
    zlistx_set_destructor(ctx->opened, s_secret_free);
    out->nenv = task->nenv;
    out->env_names = xcalloc(task->nenv + 1, sizeof *out->env_names);
    out->env_values = xcalloc(task->nenv + 1, sizeof *out->env_values);
    int rc = 0;
    for (size_t i = 0; i < task->nenv && rc == 0; i++) {
        out->env_names[i] = (char *) task->env[i].name;
        out->env_values[i] =
            tmpl_render(task->env[i].value, s_lookup, ctx, err);
        if (!out->env_values[i]) {
            if (ctx->secret_error) {
                *err = ctx->why;
            }
            rc = -1;
        }
    }
    zlistx_destroy(&ctx->opened);
    ctx->env = false; /* no secrets in what follows */
    return rc;
}

int
render_dispatch(const render_vars_t *vars,
                const dag_task_t *task,
                plan_dispatch_t *out,
                errbuf_t *err)
{
    render_ctx_t ctx;
    s_ctx_init(&ctx, vars);
    out->command = s_command(&ctx, task, err);
    if (!out->command) {
        return -1;
    }
    int rc = s_env(&ctx, task, out, err);
    if (rc == 0) {
        rc = s_paths(&ctx, task->inputs, task->ninputs, &out->inputs,
                     &out->ninputs, err);
    }
    if (rc == 0) {
        rc = s_paths(&ctx, task->outputs, task->noutputs, &out->outputs,
                     &out->noutputs, err);
    }
    if (rc == 0 && task->validate) {
        out->validate = tmpl_render(task->validate, s_lookup, &ctx, err);
        rc = out->validate ? 0 : -1;
    }
    return rc;
}

void
render_clear(plan_dispatch_t *out)
{
    free(out->command);
    for (size_t i = 0; out->env_values && i < out->nenv; i++) {
        s_secret_free((void **) &out->env_values[i]); /* may hold secrets */
    }
    free(out->env_values);
    free(out->env_names);
    for (size_t i = 0; i < out->ninputs; i++) {
        free(out->inputs[i]);
    }
    free(out->inputs);
    for (size_t i = 0; i < out->noutputs; i++) {
        free(out->outputs[i]);
    }
    free(out->outputs);
    free(out->validate);
    memset(out, 0, sizeof *out);
}
