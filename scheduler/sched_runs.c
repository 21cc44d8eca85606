/* sched_runs — making and reviving runs for schedules: a run's logical
 * date and data interval (in the store, and as the plan's time templates),
 * the run of one interval, and a retry that brings a finished run back. */
#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/plan.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_audit.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_runs.h"

tz_t *
sched_schedule_zone(sched_t *self, const char *dag_zone, errbuf_t *err)
{
    const char *name =
        dag_zone && *dag_zone ? dag_zone : self->config->timezone;
    return tz_load(name, err);
}

/* Tells the plan what the run's time templates show. */
static void
s_plan_times(sched_t *self,
             uint64_t run_id,
             const tz_t *tz,
             int64_t logical,
             int64_t start,
             int64_t end)
{
    char a[40], b[40], c[40];
    plan_set_times(self->plan, run_id, tz_format(tz, logical, a, sizeof a),
                   tz_format(tz, start, b, sizeof b),
                   tz_format(tz, end, c, sizeof c));
}

int
sched_schedule_tag(sched_t *self,
                   uint64_t run_id,
                   const tz_t *tz,
                   int64_t logical,
                   int64_t start,
                   int64_t end,
                   errbuf_t *err)
{
    if (store_run_set_interval(self->store, run_id, logical, start, end,
                               tz_name(tz), err) < 0) {
        return -1;
    }
    s_plan_times(self, run_id, tz, logical, start, end);
    return 0;
}

int64_t
sched_schedule_free_logical(sched_t *self,
                            const char *dag,
                            int64_t at,
                            errbuf_t *err)
{
    uint64_t run_id;
    run_state_t state;
    int rc;
    /* Two triggers in one millisecond: the second moves on by one. */
    while ((rc = store_run_by_logical(self->store, dag, at, &run_id, &state,
                                      err)) == 0) {
        at++;
    }
    return rc == STORE_ENOTFOUND ? at : -1;
}

void
sched_schedule_restored(sched_t *self, const store_run_row_t *row)
{
    if (!row->has_interval) {
        return;
    }
    errbuf_t err;
    tz_t *tz = tz_load(row->timezone, &err);
    if (!tz) {
        log_warn("run %" PRIu64 ": %s; its time templates show UTC",
                 row->run_id, errbuf_msg(&err));
        tz = tz_load("UTC", NULL);
    }
    if (tz) {
        s_plan_times(self, row->run_id, tz, row->logical_at,
                     row->interval_start, row->interval_end);
    }
    tz_destroy(&tz);
}

typedef struct {
    dag_t *dag;
    bool parsed; /* the row was found */
} s_current_t;

static int
s_on_current(void *arg, const store_dag_row_t *row)
{
    s_current_t *current = arg;
    const char *file =
        row->filename && *row->filename ? row->filename : row->name;
    current->dag = dag_parse(file, row->source, strlen(row->source), NULL);
    current->parsed = true;
    return 0;
}

int
sched_dag_current(sched_t *self,
                  const char *name,
                  dag_t **dag_out,
                  errbuf_t *err)
{
    s_current_t current = {NULL, false};
    *dag_out = NULL;
    int rc = store_dag_get(self->store, name, s_on_current, &current, err);
    if (rc != 0) {
        dag_destroy(&current.dag);
        return rc;
    }
    if (!current.dag) {
        errbuf_set(err, "the stored DAG '%s' no longer parses; apply it again",
                   name);
        return -1;
    }
    *dag_out = current.dag;
    return 0;
}

/* Makes one run of `name` at its current version with its default params
 * for interval iv; trigger says why ("scheduled", "backfill"). */
int
sched_schedule_run(sched_t *self,
                   const char *name,
                   const tz_t *tz,
                   const schedule_interval_t *iv,
                   const char *trigger,
                   uint64_t *run_id,
                   errbuf_t *err)
{
    dag_t *dag = NULL;
    if (sched_dag_current(self, name, &dag, err) != 0) {
        return -1;
    }
    size_t n = dag_param_count(dag);
    dag_kv_t *params = xcalloc(n + 1, sizeof *params);
    if (dag_params_resolve(dag, NULL, 0, params, err) < 0) {
        free(params);
        dag_destroy(&dag);
        return -1;
    }
    char ds[16];
    tz_format_date(tz, iv->start, ds, sizeof ds);
    int64_t now = clock_wall_ms();
    int rc = plan_trigger(self->plan, &dag, params, n, ds, trigger, now, run_id,
                          err);
    free(params);
    dag_destroy(&dag);
    if (rc == 0) {
        rc = sched_schedule_tag(self, *run_id, tz, iv->start, iv->start,
                                iv->end, err);
    }
    if (rc == 0) {
        char subject[32], start[40];
        snprintf(subject, sizeof subject, "run %" PRIu64, *run_id);
        char *detail = xasprintf("%s for %s", name,
                                 tz_format(tz, iv->start, start, sizeof start));
        rc = store_event(self->store, now, "scheduler", trigger, subject,
                         detail, err);
        free(detail);
        log_info("run %" PRIu64 " of '%s' %s for %s", *run_id, name, trigger,
                 start);
    }
    return rc;
}

/* ----------------------------------------------------------------- retry */

typedef struct {
    sched_t *self;
    const char *task_id; /* "" = every task that did not succeed */
    uint32_t reopened;
    errbuf_t *err;
} s_retry_ctx_t;

/* A finished run comes back from the store to be retried. */
static int
s_retry_loaded(void *arg, const store_run_row_t *row)
{
    s_retry_ctx_t *ctx = arg;
    char *source = store_dag_source(ctx->self->store, row->dag, row->version,
                                    NULL, ctx->err);
    dag_t *dag =
        source ? dag_parse(row->dag, source, strlen(source), NULL) : NULL;
    free(source);
    if (!dag) {
        errbuf_set(ctx->err,
                   "DAG '%s' version %.12s of run %" PRIu64
                   " cannot be read back",
                   row->dag, row->version, row->run_id);
        return -1;
    }
    int rc = plan_retry(ctx->self->plan, row->run_id, ctx->task_id, &dag, row,
                        &ctx->reopened, clock_wall_ms(), ctx->err);
    dag_destroy(&dag);
    if (rc == 0) {
        sched_schedule_restored(ctx->self, row);
    }
    return rc;
}

int
sched_retry_run(sched_t *self,
                uint64_t run_id,
                const char *task_id,
                uint32_t *reopened,
                errbuf_t *err)
{
    s_retry_ctx_t ctx = {self, task_id, 0, err};
    int rc =
        plan_has_run(self->plan, run_id)
            ? plan_retry(self->plan, run_id, task_id, NULL, NULL, &ctx.reopened,
                         clock_wall_ms(), err)
            : store_load_run(self->store, run_id, s_retry_loaded, &ctx, err);
    *reopened = ctx.reopened;
    return rc;
}
