#include "scheduler/render.h"

#include <ctype.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/pathname.h"
#include "common/shell.h"
#include "common/taskresult.h"
#include "common/tmpl.h"
#include "common/xalloc.h"
#include "scheduler/store/store_results.h"

/* Templates in one declared path: far more than any DAG writes. */
#define RENDER_PATH_SPANS 32

/* One rendering pass: the lookup's state. */
typedef struct {
    const render_vars_t *vars;
    char attempt[16];
    bool env;          /* rendering env: secrets allowed */
    zlistx_t *opened;  /* secret values handed out, wiped after render */
    bool lookup_error; /* a secret or result could not be read ... */
    errbuf_t why;      /* ... and why */
    zhashx_t *results; /* "tasks.ID.result..." -> its text, owned; NULL
                          until one is named */
} render_ctx_t;

static void
s_put(char **out, size_t *len, const char *bytes, size_t n)
{
    *out = xrealloc(*out, *len + n + 1);
    memcpy(*out + *len, bytes, n);
    *len += n;
    (*out)[*len] = '\0';
}

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
        ctx->lookup_error = true;
        return NULL;
    }
    zlistx_add_end(ctx->opened, value);
    return value;
}

/* The text of a result reference: the result of the upstream's latest
 * successful attempt, or the member named; NULL with ctx->why set. */
static char *
s_result_text(render_ctx_t *ctx, const char *task, const char *field)
{
    const render_vars_t *vars = ctx->vars;
    char *json = NULL;
    errbuf_t why;
    if (!vars->store) {
        errbuf_set(&ctx->why, "{{ tasks.%s.result }} cannot be read here",
                   task);
        return NULL;
    }
    if (store_results_latest(vars->store, vars->run, task, &json, &why) < 0) {
        errbuf_set(&ctx->why, "cannot read the result of task '%s': %s", task,
                   errbuf_msg(&why));
        return NULL;
    }
    if (!json) {
        errbuf_set(&ctx->why,
                   "task '%s' left no result: it did not succeed in this "
                   "run, or wrote nothing to $SLUICE_RESULT",
                   task);
        return NULL;
    }
    char *text = NULL;
    if (taskresult_field(json, field, &text, &why) < 0) {
        errbuf_set(&ctx->why, "{{ tasks.%s.result.%s }}: %s", task, field,
                   errbuf_msg(&why));
    }
    free(json);
    return text;
}

/* {{ tasks.ID.result }} and {{ tasks.ID.result.FIELD }}, read once per
 * rendering pass. */
static const char *
s_lookup_result(render_ctx_t *ctx, const char *name)
{
    const char *known = ctx->results ? zhashx_lookup(ctx->results, name) : NULL;
    if (known) {
        return known;
    }
    char *task = NULL;
    const char *field = NULL;
    if (taskresult_ref(name, &task, &field) <= 0) {
        return NULL; /* an unknown name */
    }
    char *text = s_result_text(ctx, task, field);
    free(task);
    if (!text) {
        ctx->lookup_error = true;
        return NULL;
    }
    if (!ctx->results) {
        ctx->results = zhashx_new();
        zhashx_set_destructor(ctx->results, (zhashx_destructor_fn *) zstr_free);
    }
    zhashx_insert(ctx->results, name, text);
    return text;
}

static const char *
s_lookup(void *arg, const char *name)
{
    render_ctx_t *ctx = arg;
    const render_vars_t *vars = ctx->vars;
    if (strncmp(name, "secret.", 7) == 0) {
        return s_lookup_secret(ctx, name + 7);
    }
    if (strncmp(name, "tasks.", 6) == 0) {
        return s_lookup_result(ctx, name);
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

static void
s_ctx_fini(render_ctx_t *ctx)
{
    zhashx_destroy(&ctx->results);
}

static const char *
s_value(render_ctx_t *ctx, const tmpl_ref_t *ref, errbuf_t *err)
{
    const char *value = s_lookup(ctx, ref->name);
    if (!value && ctx->lookup_error) {
        *err = ctx->why;
    } else if (!value) {
        errbuf_set(err,
                   "unknown template name '%s'; use run_id, ds, task_id, "
                   "attempt, params.NAME or tasks.ID.result[.FIELD]",
                   ref->name);
    }
    return value;
}

/* ------------------------------------------------------- shell command */

/* A command for /bin/sh: the lexer follows the template's own text, and
 * each value goes in quoted for where it lands. */
typedef struct {
    render_ctx_t *ctx;
    shell_lex_t lex;
    char *out;
    size_t len;
} shell_render_t;

static int
s_shell_piece(void *arg,
              const char *text,
              size_t len,
              const tmpl_ref_t *ref,
              errbuf_t *err)
{
    shell_render_t *r = arg;
    s_put(&r->out, &r->len, text, len);
    shell_lex_feed(&r->lex, text, len);
    if (!ref) {
        return 0;
    }
    const char *value = s_value(r->ctx, ref, err);
    if (!value) {
        return -1;
    }
    if (ref->raw) { /* trusted: it is command text now */
        s_put(&r->out, &r->len, value, strlen(value));
        shell_lex_feed(&r->lex, value, strlen(value));
        return 0;
    }
    const char *why = NULL;
    shell_at_t at = shell_lex_at(&r->lex, &why);
    if (shell_quote_append(&r->out, &r->len, value, at, err) < 0) {
        bool param = !strncmp(ref->name, "params.", 7);
        char *env = dag_param_env_name(param ? ref->name + 7 : "NAME");
        errbuf_set(err,
                   "refused: the value of {{ %s }} holds characters the shell "
                   "would read, and it sits inside %s, where it cannot be "
                   "quoted; read it from the environment instead (\"$%s\")",
                   ref->name, why, env);
        free(env);
        return -1;
    }
    shell_lex_value(&r->lex);
    return 0;
}

/* ------------------------------------------------------ direct command */

/* Whether the template's own text needs a shell: references count as
 * plain words, and a raw one as shell syntax. */
static int
s_syntax_piece(void *arg,
               const char *text,
               size_t len,
               const tmpl_ref_t *ref,
               errbuf_t *err)
{
    (void) err;
    shell_render_t *r = arg;
    s_put(&r->out, &r->len, text, len);
    if (ref) {
        s_put(&r->out, &r->len, ref->raw ? ";" : "x", 1);
    }
    return 0;
}

static bool
s_needs_shell(const char *run)
{
    shell_render_t r = {0};
    errbuf_t err;
    s_put(&r.out, &r.len, "", 0);
    bool needed =
        tmpl_walk(run, s_syntax_piece, &r, &err) != 0 || shell_needed(r.out);
    free(r.out);
    return needed;
}

/* The words of a command that needs no shell: split on spaces in the
 * template's text only, so each value stays inside its word. */
typedef struct {
    render_ctx_t *ctx;
    char **words; /* owned, NULL-terminated */
    size_t count;
    size_t len;   /* of the last word */
    bool in_word; /* the last word is still open */
} words_t;

static void
s_word_add(words_t *w, const char *bytes, size_t n)
{
    if (!w->in_word) {
        w->words = xrealloc(w->words, (w->count + 2) * sizeof *w->words);
        w->words[w->count++] = NULL;
        w->words[w->count] = NULL;
        w->len = 0;
        w->in_word = true;
    }
    s_put(&w->words[w->count - 1], &w->len, bytes, n);
}

static int
s_word_piece(void *arg,
             const char *text,
             size_t len,
             const tmpl_ref_t *ref,
             errbuf_t *err)
{
    words_t *w = arg;
    for (size_t i = 0; i < len; i++) {
        size_t run = strcspn(text + i, " ");
        run = run < len - i ? run : len - i;
        if (run > 0) {
            s_word_add(w, text + i, run);
            i += run;
        }
        if (i < len) {
            w->in_word = false; /* at a space */
        }
    }
    if (!ref) {
        return 0;
    }
    const char *value = s_value(w->ctx, ref, err);
    if (!value) {
        return -1;
    }
    s_word_add(w, value, strlen(value));
    return 0;
}

/* Frees count owned strings and their array (accepts NULL). */
static void
s_words_free(char **words, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(words[i]);
    }
    free(words);
}

/* The command line that shows the words: each quoted as the shell would
 * need it, so it reads (and runs under a 1.0 worker) as the same words. */
static char *
s_words_join(char *const *words, size_t count)
{
    char *out = NULL;
    size_t len = 0;
    s_put(&out, &len, "", 0);
    for (size_t i = 0; i < count; i++) {
        if (i) {
            s_put(&out, &len, " ", 1);
        }
        shell_quote_append(&out, &len, words[i], SHELL_AT_WORD, NULL);
    }
    return out;
}

/* The task's command, and its words when it needs no shell (*argv NULL
 * otherwise; argv may be NULL when the caller wants only the command). */
static char *
s_command(render_ctx_t *ctx,
          const dag_task_t *task,
          char ***argv,
          size_t *argc,
          errbuf_t *err)
{
    const char *run = task->run ? task->run : "";
    if (!s_needs_shell(run)) {
        words_t w = {.ctx = ctx};
        if (tmpl_walk(run, s_word_piece, &w, err) != 0) {
            s_words_free(w.words, w.count);
            return NULL;
        }
        char *command = s_words_join(w.words, w.count);
        if (argv) {
            *argv = w.words;
            *argc = w.count;
        } else {
            s_words_free(w.words, w.count);
        }
        return command;
    }
    shell_render_t r = {.ctx = ctx};
    shell_lex_init(&r.lex);
    s_put(&r.out, &r.len, "", 0);
    if (tmpl_walk(run, s_shell_piece, &r, err) != 0) {
        free(r.out);
        return NULL;
    }
    return r.out;
}

/* ----------------------------------------------------------------- paths */

/* A declared path: the bytes each value put in are remembered, so a '..'
 * they make can be told from one the DAG's author wrote. */
typedef struct {
    render_ctx_t *ctx;
    char *out;
    size_t len;
    size_t nspans;
    size_t spans[RENDER_PATH_SPANS][2]; /* [from, to) of each value */
} path_render_t;

static int
s_path_piece(void *arg,
             const char *text,
             size_t len,
             const tmpl_ref_t *ref,
             errbuf_t *err)
{
    path_render_t *r = arg;
    s_put(&r->out, &r->len, text, len);
    if (!ref) {
        return 0;
    }
    const char *value = s_value(r->ctx, ref, err);
    if (!value) {
        return -1;
    }
    if (r->nspans == RENDER_PATH_SPANS) {
        errbuf_set(err, "more than %d templates in one path; use fewer",
                   RENDER_PATH_SPANS);
        return -1;
    }
    r->spans[r->nspans][0] = r->len;
    s_put(&r->out, &r->len, value, strlen(value));
    r->spans[r->nspans++][1] = r->len;
    return 0;
}

/* Whether a '..' segment of the rendered path has a byte from a value. */
static bool
s_dotdot_from_value(const path_render_t *r)
{
    for (size_t at = 0; at < r->len;) {
        size_t seg = strcspn(r->out + at, "/");
        if (seg == 2 && !memcmp(r->out + at, "..", 2)) {
            for (size_t i = 0; i < r->nspans; i++) {
                if (r->spans[i][0] < at + 2 && r->spans[i][1] > at) {
                    return true;
                }
            }
        }
        at += seg + 1;
    }
    return false;
}

static char *
s_path(render_ctx_t *ctx, const char *text, errbuf_t *err)
{
    path_render_t r = {.ctx = ctx};
    s_put(&r.out, &r.len, "", 0);
    if (tmpl_walk(text, s_path_piece, &r, err) != 0) {
        free(r.out);
        return NULL;
    }
    if (s_dotdot_from_value(&r)) {
        errbuf_set(err,
                   "refused: path '%s' renders to '%s', where a template "
                   "value put in a '..'; a value may not lead a path out of "
                   "where the DAG puts it: give one without '..'",
                   text, r.out);
        free(r.out);
        return NULL;
    }
    char *path = pathname_normalize(r.out);
    free(r.out);
    return path;
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
        (*out)[i] = s_path(ctx, paths[i], err);
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
    char *command = s_command(&ctx, task, NULL, NULL, err);
    s_ctx_fini(&ctx);
    return command;
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
    int rc = s_paths(&ctx, paths, count, out, nout, err);
    s_ctx_fini(&ctx);
    return rc;
}

/* The only place secrets are opened; each is wiped once rendered in.
 * Params come first, so a task's own env entry of the same name wins. */
static int
s_env(render_ctx_t *ctx,
      const dag_task_t *task,
      plan_dispatch_t *out,
      errbuf_t *err)
{
    const render_vars_t *vars = ctx->vars;
    size_t total = vars->nparams + task->nenv;
    out->env_names = xcalloc(total + 1, sizeof *out->env_names);
    out->env_values = xcalloc(total + 1, sizeof *out->env_values);
    for (size_t i = 0; i < vars->nparams; i++) {
        out->env_names[out->nenv] = dag_param_env_name(vars->params[i].name);
        out->env_values[out->nenv++] = xstrdup(vars->params[i].value);
    }
    ctx->env = true;
    ctx->opened = zlistx_new();
    zlistx_set_destructor(ctx->opened, s_secret_free);
    int rc = 0;
    for (size_t i = 0; i < task->nenv && rc == 0; i++) {
        out->env_names[out->nenv] = xstrdup(task->env[i].name);
        out->env_values[out->nenv++] =
            tmpl_render(task->env[i].value, s_lookup, ctx, err);
        if (!out->env_values[out->nenv - 1]) {
            if (ctx->lookup_error) {
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
    out->command = s_command(&ctx, task, &out->argv, &out->argc, err);
    int rc = out->command ? s_env(&ctx, task, out, err) : -1;
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
        if (rc < 0 && ctx.lookup_error) {
            *err = ctx.why;
        }
    }
    s_ctx_fini(&ctx);
    return rc;
}

void
render_clear(plan_dispatch_t *out)
{
    free(out->command);
    s_words_free(out->argv, out->argc);
    for (size_t i = 0; out->env_values && i < out->nenv; i++) {
        s_secret_free((void **) &out->env_values[i]); /* may hold secrets */
        free(out->env_names[i]);
    }
    free(out->env_values);
    free(out->env_names);
    s_words_free(out->inputs, out->ninputs);
    s_words_free(out->outputs, out->noutputs);
    free(out->validate);
    memset(out, 0, sizeof *out);
}
