/* render — a task's templates filled in for one attempt: its command, env,
 * declared inputs and outputs, and validate checks.
 *
 * Templates may name {{ run_id }}, {{ ds }}, {{ logical_date }},
 * {{ data_interval_start }}, {{ data_interval_end }}, {{ task_id }},
 * {{ attempt }},
 * {{ params.NAME }}, {{ tasks.ID.result }} and {{ tasks.ID.result.FIELD }}
 * (the result of an upstream task's latest successful attempt in the run,
 * read from the store), and in env only {{ secret.NAME }}, opened through
 * a hook; secret values handed out are wiped once rendered. */
#ifndef SLUICE_RENDER_H
#define SLUICE_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "common/dag.h"
#include "common/errbuf.h"
#include "scheduler/plan.h"
#include "scheduler/store/store.h"

/* What the templates of one attempt may name. Everything is borrowed. */
typedef struct {
    const char *run_id;         /* as text */
    const char *logical_date;   /* {{ ds }}: YYYY-MM-DD */
    const char *logical_ts;     /* {{ logical_date }}: RFC 3339; NULL = unset */
    const char *interval_start; /* {{ data_interval_start }}, the same */
    const char *interval_end;   /* {{ data_interval_end }}, the same */
    const dag_kv_t *params;
    size_t nparams;
    const char *task_id;
    uint32_t attempt;       /* 1-based try number */
    plan_secret_fn *secret; /* NULL: env may use no secrets */
    void *secret_arg;
    store_t *store; /* reads {{ tasks.ID.result }}; NULL: none resolve */
    uint64_t run;   /* the run those results are read from */
} render_vars_t;

/* The task's command (its `run`, "" when it has none), never with secrets:
 * owned, or NULL with err set. */
char *render_command(const render_vars_t *vars,
                     const dag_task_t *task,
                     errbuf_t *err);

/* Renders `count` declared paths (never with secrets) into *out, an owned
 * NULL-terminated array of owned strings; *nout counts those rendered, also
 * when one fails (-1 with err set). */
int render_paths(const render_vars_t *vars,
                 const char *const *paths,
                 size_t count,
                 char ***out,
                 size_t *nout,
                 errbuf_t *err);

/* Fills the rendered fields of out (command, env, inputs, outputs,
 * validate). -1 with err set when a template does not resolve or a secret
 * cannot be opened; what was filled is freed by render_clear all the
 * same. */
int render_dispatch(const render_vars_t *vars,
                    const dag_task_t *task,
                    plan_dispatch_t *out,
                    errbuf_t *err);

/* Frees what render_dispatch filled (wiping env values: they may hold
 * secrets) and zeroes out. */
void render_clear(plan_dispatch_t *out);

#endif
