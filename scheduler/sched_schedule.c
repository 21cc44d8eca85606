/* sched_schedule — the scheduler's side of schedules: the loop's turn
 * creates the runs of due intervals (scheduler/schedule.h), every run
 * gets its logical date and data interval, and the client verbs dag
 * pause/unpause, dag next and the schedule columns of dag list/show. */
#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/dtime.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/codes.h"
#include "scheduler/api.h"
#include "scheduler/plan.h"
#include "scheduler/schedule.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_audit.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_runs.h"

/* Most fire times `dag next` lists. */
#define SCHED_NEXT_MAX 1000

void
sched_schedule_start(sched_t *self)
{
    self->schedule = schedule_new(self->store, self->config->timezone);
}

void
sched_schedule_stop(sched_t *self)
{
    schedule_destroy(&self->schedule);
}

void
sched_schedule_invalidate(sched_t *self)
{
    if (self->schedule) {
        schedule_invalidate(self->schedule);
    }
}

tz_t *
sched_schedule_zone(sched_t *self, const char *dag_zone, errbuf_t *err)
{
    const char *name = dag_zone && *dag_zone ? dag_zone : self->config->timezone;
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

/* ------------------------------------------------------------- create */

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
    char *source = store_dag_source(self->store, name, NULL, NULL, err);
    dag_t *dag = source ? dag_parse(name, source, strlen(source), NULL) : NULL;
    free(source);
    if (!dag) {
        errbuf_set(err, "the stored DAG '%s' no longer parses; apply it again",
                   name);
        return -1;
    }
    size_t n = dag_param_count(dag);
    dag_kv_t *params = xcalloc(n + 1, sizeof *params);
    for (size_t i = 0; i < n; i++) {
        params[i] = *dag_param(dag, i);
    }
    char ds[16];
    tz_format_date(tz, iv->start, ds, sizeof ds);
    int64_t now = clock_wall_ms();
    int rc = plan_trigger(self->plan, &dag, params, n, ds, trigger, now,
                          run_id, err);
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

static int
s_create_scheduled(void *arg,
                   const char *dag,
                   const tz_t *tz,
                   const schedule_interval_t *iv,
                   errbuf_t *err)
{
    uint64_t run_id;
    return sched_schedule_run(arg, dag, tz, iv, "scheduled", &run_id, err);
}

int
sched_schedule_tick(sched_t *self, int64_t now_wall, errbuf_t *err)
{
    return schedule_tick(self->schedule, now_wall, s_create_scheduled, self,
                         err);
}

int64_t
sched_schedule_wait(sched_t *self, int64_t now_wall)
{
    int64_t at = schedule_wake_at(self->schedule);
    if (at < 0) {
        return -1;
    }
    return at > now_wall ? at - now_wall : 0;
}

/* ---------------------------------------------------------------- pause */

Sluice__Reply *
sched_dag_pause(sched_t *self, const Sluice__Request *req)
{
    const Sluice__DagPauseReq *op = req->dag_pause;
    bool changed = false;
    errbuf_t err;
    int64_t now = clock_wall_ms();
    int rc = store_dag_set_paused(self->store, op->name, op->paused, "client",
                                  now, &changed, &err);
    if (rc == STORE_ENOTFOUND) {
        return api_error(req->request_id, API_E_NOT_FOUND, "%s",
                         errbuf_msg(&err));
    }
    if (rc == 0 && changed) {
        rc = store_event(self->store, now, "client",
                         op->paused ? "dag_paused" : "dag_unpaused", op->name,
                         "", &err);
    }
    if (rc < 0) {
        sched_fail_turn(self, &err);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    if (changed) {
        log_info("DAG '%s' %s", op->name, op->paused ? "paused" : "unpaused");
        schedule_invalidate(self->schedule);
    }
    Sluice__Reply *rep = sched_reply(req->request_id, SLUICE__REPLY__OP_DAG_PAUSE);
    rep->dag_pause = xmalloc(sizeof *rep->dag_pause);
    sluice__dag_pause_rep__init(rep->dag_pause);
    rep->dag_pause->name = xstrdup(op->name);
    rep->dag_pause->paused = op->paused;
    rep->dag_pause->changed = changed;
    return rep;
}

/* ------------------------------------------------------------ reading */

/* One DAG's schedule as read for a client. */
typedef struct {
    sched_t *self;
    bool found, scheduled, paused;
    char *schedule; /* owned */
    cron_t *cron;   /* owned, NULL when not scheduled */
    tz_t *tz;       /* owned: the DAG's zone, also when not scheduled */
    schedule_spec_t spec;
    errbuf_t why; /* why the schedule does not resolve */
} spec_ctx_t;

static int
s_on_spec(void *arg, const store_dag_row_t *row)
{
    spec_ctx_t *ctx = arg;
    ctx->found = true;
    ctx->paused = row->paused;
    dag_t *dag = dag_parse(row->name, row->source, strlen(row->source), NULL);
    if (!dag) {
        errbuf_set(&ctx->why, "the stored DAG no longer parses");
        return 0;
    }
    ctx->schedule = xstrdup(dag_schedule(dag));
    if (*ctx->schedule) {
        ctx->scheduled =
            schedule_resolve(ctx->self->config->timezone, dag, row->created_at,
                             &ctx->spec, &ctx->cron, &ctx->tz, &ctx->why) == 0;
    } else {
        ctx->tz = sched_schedule_zone(ctx->self, dag_timezone(dag), &ctx->why);
    }
    dag_destroy(&dag);
    return 0;
}

static int
s_spec(sched_t *self, const char *name, spec_ctx_t *ctx, errbuf_t *err)
{
    *ctx = (spec_ctx_t){.self = self};
    return store_dag_get(self->store, name, s_on_spec, ctx, err);
}

static void
s_spec_clear(spec_ctx_t *ctx)
{
    free(ctx->schedule);
    cron_destroy(&ctx->cron);
    tz_destroy(&ctx->tz);
}

/* When the DAG's next scheduled run starts; -1 when none will. */
static int64_t
s_next_run(sched_t *self, const char *name, spec_ctx_t *ctx, int64_t now)
{
    if (!ctx->scheduled || ctx->paused) {
        return -1;
    }
    int64_t start = 0, last_end = 0;
    errbuf_t err;
    if (store_run_last_scheduled(self->store, name, &start, &last_end, &err) ==
        -1) {
        return -1;
    }
    schedule_interval_t due;
    if (schedule_due(&ctx->spec, last_end, now, &due, 1) > 0) {
        return now; /* due now: the next turn starts it */
    }
    return schedule_next_fire(&ctx->spec, last_end, now);
}

/* Adds zone, paused and next run to one summary of dag list/show. */
static void
s_decorate(sched_t *self, Sluice__DagSummary *sum, int64_t now)
{
    spec_ctx_t ctx;
    errbuf_t err;
    if (s_spec(self, sum->name, &ctx, &err) == 0) {
        sum->paused = ctx.paused;
        if (ctx.tz) {
            free(sum->timezone);
            sum->timezone = xstrdup(tz_name(ctx.tz));
        }
        int64_t next = s_next_run(self, sum->name, &ctx, now);
        if (next >= 0 && ctx.tz) {
            char buf[40];
            sum->next_run_ms = (uint64_t) next;
            free(sum->next_run);
            sum->next_run = xstrdup(tz_format(ctx.tz, next, buf, sizeof buf));
        }
    }
    s_spec_clear(&ctx);
}

Sluice__Reply *
sched_dag_read(sched_t *self, const Sluice__Request *req)
{
    Sluice__Reply *rep = api_read(self->store, req);
    int64_t now = clock_wall_ms();
    if (rep->op_case == SLUICE__REPLY__OP_DAG_LIST) {
        for (size_t i = 0; i < rep->dag_list->n_dags; i++) {
            s_decorate(self, rep->dag_list->dags[i], now);
        }
    } else if (rep->op_case == SLUICE__REPLY__OP_DAG_SHOW &&
               rep->dag_show->dag) {
        s_decorate(self, rep->dag_show->dag, now);
    }
    return rep;
}

/* ----------------------------------------------------------------- next */

static Sluice__FireTime *
s_fire(const tz_t *tz, const schedule_interval_t *iv)
{
    Sluice__FireTime *f = xmalloc(sizeof *f);
    sluice__fire_time__init(f);
    char buf[40];
    f->start_ms = (uint64_t) iv->start;
    f->end_ms = (uint64_t) iv->end;
    f->start = xstrdup(tz_format(tz, iv->start, buf, sizeof buf));
    f->end = xstrdup(tz_format(tz, iv->end, buf, sizeof buf));
    return f;
}

static Sluice__Reply *
s_next_reply(const Sluice__Request *req, spec_ctx_t *ctx)
{
    const Sluice__DagNextReq *op = req->dag_next;
    size_t count = op->count ? op->count : 5;
    if (count > SCHED_NEXT_MAX) {
        count = SCHED_NEXT_MAX;
    }
    int64_t from = clock_wall_ms();
    errbuf_t err;
    if (op->from && *op->from &&
        dtime_parse(op->from, ctx->tz, &from, &err) < 0) {
        return api_error(req->request_id, API_E_BAD_REQUEST, "--from: %s",
                         errbuf_msg(&err));
    }
    schedule_interval_t *ivs = xcalloc(count, sizeof *ivs);
    size_t n = schedule_upcoming(&ctx->spec, from, ivs, count);
    Sluice__Reply *rep = sched_reply(req->request_id, SLUICE__REPLY__OP_DAG_NEXT);
    Sluice__DagNextRep *next = rep->dag_next = xmalloc(sizeof *next);
    sluice__dag_next_rep__init(next);
    next->name = xstrdup(op->name);
    next->schedule = xstrdup(ctx->schedule);
    next->timezone = xstrdup(tz_name(ctx->tz));
    next->paused = ctx->paused;
    next->fires = xcalloc(n + 1, sizeof *next->fires);
    for (size_t i = 0; i < n; i++) {
        next->fires[next->n_fires++] = s_fire(ctx->tz, &ivs[i]);
    }
    free(ivs);
    return rep;
}

Sluice__Reply *
sched_dag_next(sched_t *self, const Sluice__Request *req)
{
    spec_ctx_t ctx;
    errbuf_t err;
    Sluice__Reply *rep;
    if (s_spec(self, req->dag_next->name, &ctx, &err) < 0) {
        rep = api_error(req->request_id, API_E_NOT_FOUND, "%s",
                        errbuf_msg(&err));
    } else if (!ctx.scheduled) {
        rep = api_error(req->request_id, API_E_BAD_REQUEST,
                        "DAG '%s' has no schedule%s%s; add 'schedule:' to "
                        "its file and apply it again",
                        req->dag_next->name, *ctx.why.msg ? ": " : "",
                        ctx.why.msg);
    } else {
        rep = s_next_reply(req, &ctx);
    }
    s_spec_clear(&ctx);
    return rep;
}
