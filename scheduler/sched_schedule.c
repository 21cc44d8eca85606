/* sched_schedule — the scheduler's side of schedules: the loop's turn
 * creates the runs of due intervals (scheduler/schedule.h), every run
 * gets its logical date and data interval, backfills make runs for past
 * intervals a few at a time, and the client verbs dag pause/unpause,
 * dag next, backfill and the schedule columns of dag list/show. */
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
    self->backfill_at = 0; /* backfills that went on go on */
}

void
sched_schedule_applied(sched_t *self, const dag_t *dag)
{
    if (self->schedule) {
        schedule_known(self->schedule, dag);
    }
    sched_schedule_invalidate(self);
}

/* ------------------------------------------------------------- create */

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
    /* Scheduled runs first: a backfill never holds up the schedule. */
    if (schedule_tick(self->schedule, now_wall, s_create_scheduled, self, err) <
        0) {
        return -1;
    }
    return sched_backfill_tick(self, now_wall, err);
}

int64_t
sched_schedule_wait(sched_t *self, int64_t now_wall)
{
    int64_t at = schedule_wake_at(self->schedule);
    int64_t wait = at < 0 ? -1 : at > now_wall ? at - now_wall : 0;
    int64_t backfill = sched_backfill_wait(self, now_wall);
    if (backfill >= 0 && (wait < 0 || backfill < wait)) {
        wait = backfill;
    }
    return wait;
}

/* ---------------------------------------------------------------- pause */

Sluice__Reply *
sched_dag_pause(sched_t *self, const Sluice__Request *req)
{
    const Sluice__DagPauseReq *op = req->dag_pause;
    bool changed = false;
    errbuf_t err;
    int64_t now = clock_wall_ms();
    int rc = store_dag_set_paused(self->store, op->name, op->paused,
                                  sched_actor(self), now, &changed, &err);
    if (rc == STORE_ENOTFOUND) {
        return api_error(req->request_id, API_E_NOT_FOUND, "%s",
                         errbuf_msg(&err));
    }
    if (rc == 0 && changed) {
        rc = store_event(self->store, now, sched_actor(self),
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
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_DAG_PAUSE);
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
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_DAG_NEXT);
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
        rep =
            api_error(req->request_id, API_E_NOT_FOUND, "%s", errbuf_msg(&err));
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

/* ------------------------------------------------------------ backfill */

/* Most intervals one backfill covers, so a typo in --from cannot queue a
 * century of minutes. */
#define SCHED_BACKFILL_MAX 10000
/* How often a backfill that goes on is looked at (runs end meanwhile). */
#define SCHED_BACKFILL_POLL_MS 500
#define SCHED_BACKFILL_ACTIVE  16 /* --max-active's default */

/* What a backfill does about one interval, given its existing run. */
static const char *
s_backfill_action(int found, run_state_t state, bool rerun_failed)
{
    if (found != 0) {
        return "run";
    }
    if ((state == RUN_FAILED || state == RUN_CANCELLED) && rerun_failed) {
        return "rerun";
    }
    return "skip";
}

static Sluice__BackfillItem *
s_backfill_item(const tz_t *tz, const schedule_interval_t *iv)
{
    Sluice__BackfillItem *item = xmalloc(sizeof *item);
    sluice__backfill_item__init(item);
    char buf[40];
    item->start_ms = (uint64_t) iv->start;
    item->end_ms = (uint64_t) iv->end;
    item->start = xstrdup(tz_format(tz, iv->start, buf, sizeof buf));
    item->action = xstrdup("");
    item->state = xstrdup("");
    return item;
}

/* Lists the intervals of [from, to] that have ended by now into rep, with
 * what a backfill does about each (status: whether it has its run). */
static int
s_backfill_items(sched_t *self,
                 const char *dag,
                 const spec_ctx_t *ctx,
                 const store_backfill_t *b,
                 bool status,
                 Sluice__BackfillRep *rep,
                 errbuf_t *err)
{
    int64_t now = clock_wall_ms();
    schedule_interval_t iv;
    bool ok = schedule_interval_at(&ctx->spec, b->from_at, &iv);
    for (; ok && iv.start <= b->to_at && iv.end <= now;
         ok = schedule_interval_at(&ctx->spec, iv.end, &iv)) {
        if (rep->n_items >= SCHED_BACKFILL_MAX) {
            errbuf_set(err,
                       "over %d intervals between --from and --to; "
                       "backfill a shorter span at a time",
                       SCHED_BACKFILL_MAX);
            return -1;
        }
        Sluice__BackfillItem *item = s_backfill_item(ctx->tz, &iv);
        rep->items =
            xrealloc(rep->items, (rep->n_items + 1) * sizeof *rep->items);
        rep->items[rep->n_items++] = item;
        run_state_t state = RUN_QUEUED;
        int found = store_run_by_logical(self->store, dag, iv.start,
                                         &item->run_id, &state, err);
        if (found < 0 && found != STORE_ENOTFOUND) {
            return -1;
        }
        free(item->action);
        free(item->state);
        item->state = xstrdup(found == 0 ? state_run_name(state) : "");
        item->action =
            xstrdup(status ? (found == 0 ? "run" : "waiting")
                           : s_backfill_action(found, state, b->rerun_failed));
    }
    return 0;
}

/* Moves one backfill on: runs for its next intervals while fewer than
 * max_active of its runs are active. */
static int
s_backfill_step(sched_t *self,
                const store_backfill_t *b,
                const spec_ctx_t *ctx,
                int64_t now,
                errbuf_t *err)
{
    uint32_t active = 0;
    if (store_run_count_active(self->store, b->dag, b->from_at, b->to_at,
                               &active, err) < 0) {
        return -1;
    }
    int64_t next = b->next_at;
    schedule_interval_t iv;
    bool ok = schedule_interval_at(&ctx->spec, next, &iv);
    while (ok && iv.start <= b->to_at && iv.end <= now &&
           active < b->max_active) {
        uint64_t run_id = 0;
        uint32_t reopened;
        run_state_t state = RUN_QUEUED;
        int found = store_run_by_logical(self->store, b->dag, iv.start, &run_id,
                                         &state, err);
        const char *action = s_backfill_action(found, state, b->rerun_failed);
        int rc = found < 0 && found != STORE_ENOTFOUND ? -1 : 0;
        if (rc == 0 && !strcmp(action, "run")) {
            rc = sched_schedule_run(self, b->dag, ctx->tz, &iv,
                                    PLAN_TRIGGER_BACKFILL, &run_id, err);
        } else if (rc == 0 && !strcmp(action, "rerun")) {
            rc = sched_retry_run(self, run_id, "", &reopened, err);
        }
        if (rc < 0) {
            return -1;
        }
        active += strcmp(action, "skip") != 0;
        next = iv.end;
        ok = schedule_interval_at(&ctx->spec, iv.end, &iv);
    }
    bool done = !(ok && iv.start <= b->to_at && iv.end <= now);
    if (!done) {
        self->backfill_at = now + SCHED_BACKFILL_POLL_MS;
    }
    return store_backfill_advance(self->store, b->id, next, done ? now : 0,
                                  err);
}

typedef struct {
    sched_t *self;
    int64_t now;
    errbuf_t *err;
} backfill_tick_t;

static int
s_backfill_one(void *arg, const store_backfill_t *b)
{
    backfill_tick_t *t = arg;
    spec_ctx_t ctx;
    errbuf_t why;
    int rc = s_spec(t->self, b->dag, &ctx, &why);
    if (rc < 0 || !ctx.scheduled) {
        log_warn("backfill %" PRIu64 " of '%s' ends: %s", b->id, b->dag,
                 rc < 0 ? errbuf_msg(&why) : "it no longer has a schedule");
        rc = store_backfill_advance(t->self->store, b->id, b->next_at, t->now,
                                    t->err);
    } else {
        rc = s_backfill_step(t->self, b, &ctx, t->now, t->err);
    }
    s_spec_clear(&ctx);
    return rc;
}

int
sched_backfill_tick(sched_t *self, int64_t now_wall, errbuf_t *err)
{
    if (self->backfill_at < 0 || now_wall < self->backfill_at) {
        return 0;
    }
    self->backfill_at = -1;
    backfill_tick_t t = {self, now_wall, err};
    return store_backfill_each(self->store, 0, s_backfill_one, &t, err);
}

int64_t
sched_backfill_wait(sched_t *self, int64_t now_wall)
{
    if (self->backfill_at < 0) {
        return -1;
    }
    return self->backfill_at > now_wall ? self->backfill_at - now_wall : 0;
}

static Sluice__Reply *
s_backfill_reply(const Sluice__Request *req, const char *dag)
{
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_BACKFILL);
    rep->backfill = xmalloc(sizeof *rep->backfill);
    sluice__backfill_rep__init(rep->backfill);
    rep->backfill->dag = xstrdup(dag);
    return rep;
}

typedef struct {
    store_backfill_t b;
    char *dag; /* owned */
    bool found;
} backfill_copy_t;

static int
s_backfill_copy(void *arg, const store_backfill_t *b)
{
    backfill_copy_t *copy = arg;
    copy->b = *b;
    copy->dag = xstrdup(b->dag);
    copy->b.dag = copy->dag;
    copy->found = true;
    return 0;
}

/* The intervals of backfill status_id with their runs. */
static Sluice__Reply *
s_backfill_status(sched_t *self, const Sluice__Request *req)
{
    backfill_copy_t copy = {0};
    spec_ctx_t ctx = {0};
    errbuf_t err;
    Sluice__Reply *rep = NULL;
    uint64_t id = req->backfill->status_id;
    if (store_backfill_each(self->store, id, s_backfill_copy, &copy, &err) <
            0 ||
        !copy.found) {
        rep = api_error(req->request_id, API_E_NOT_FOUND,
                        "backfill %" PRIu64 " does not exist", id);
    } else if (s_spec(self, copy.dag, &ctx, &err) < 0 || !ctx.scheduled) {
        rep = api_error(req->request_id, API_E_NOT_FOUND,
                        "DAG '%s' of backfill %" PRIu64 " has no schedule now",
                        copy.dag, id);
    } else {
        rep = s_backfill_reply(req, copy.dag);
        rep->backfill->backfill_id = id;
        rep->backfill->done = copy.b.done_at != 0;
        if (s_backfill_items(self, copy.dag, &ctx, &copy.b, true, rep->backfill,
                             &err) < 0) {
            protobuf_c_message_free_unpacked(&rep->base, NULL);
            rep = api_error(req->request_id, API_E_INTERNAL, "%s",
                            errbuf_msg(&err));
        }
    }
    s_spec_clear(&ctx);
    free(copy.dag);
    return rep;
}

/* Reads --from and --to in the DAG's zone into b; API_E_* or 0. */
static int
s_backfill_span(const Sluice__BackfillReq *op,
                const spec_ctx_t *ctx,
                store_backfill_t *b,
                errbuf_t *err)
{
    *b = (store_backfill_t){
        .dag = op->dag,
        .max_active = op->max_active ? op->max_active : SCHED_BACKFILL_ACTIVE,
        .rerun_failed = op->rerun_failed};
    if (dtime_parse(op->from, ctx->tz, &b->from_at, err) < 0) {
        errbuf_prefix(err, "--from");
        return API_E_BAD_REQUEST;
    }
    if (dtime_parse(op->to, ctx->tz, &b->to_at, err) < 0) {
        errbuf_prefix(err, "--to");
        return API_E_BAD_REQUEST;
    }
    if (b->to_at < b->from_at) {
        errbuf_set(err, "--to %s is before --from %s; swap them", op->to,
                   op->from);
        return API_E_BAD_REQUEST;
    }
    b->next_at = b->from_at;
    return 0;
}

static Sluice__Reply *
s_backfill_start(sched_t *self, const Sluice__Request *req, spec_ctx_t *ctx)
{
    const Sluice__BackfillReq *op = req->backfill;
    store_backfill_t b;
    errbuf_t err;
    int code = s_backfill_span(op, ctx, &b, &err);
    if (code != 0) {
        return api_error(req->request_id, (uint32_t) code, "%s",
                         errbuf_msg(&err));
    }
    Sluice__Reply *rep = s_backfill_reply(req, op->dag);
    if (s_backfill_items(self, op->dag, ctx, &b, false, rep->backfill, &err) <
        0) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        return api_error(req->request_id, API_E_BAD_REQUEST, "%s",
                         errbuf_msg(&err));
    }
    if (op->dry_run) {
        return rep;
    }
    int64_t now = clock_wall_ms();
    char subject[64];
    if (store_backfill_add(self->store, &b, now, &rep->backfill->backfill_id,
                           &err) < 0 ||
        store_event(
            self->store, now, sched_actor(self), "backfill", op->dag,
            (snprintf(subject, sizeof subject, "%s to %s", op->from, op->to),
             subject),
            &err) < 0) {
        sched_fail_turn(self, &err);
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    log_info("backfill %" PRIu64 " of '%s' from %s to %s: %zu intervals",
             rep->backfill->backfill_id, op->dag, op->from, op->to,
             rep->backfill->n_items);
    self->backfill_at = 0; /* this turn starts its first runs */
    return rep;
}

Sluice__Reply *
sched_backfill(sched_t *self, const Sluice__Request *req)
{
    const Sluice__BackfillReq *op = req->backfill;
    if (op->status_id) {
        return s_backfill_status(self, req);
    }
    spec_ctx_t ctx;
    errbuf_t err;
    Sluice__Reply *rep;
    if (s_spec(self, op->dag, &ctx, &err) < 0) {
        rep =
            api_error(req->request_id, API_E_NOT_FOUND, "%s", errbuf_msg(&err));
    } else if (!ctx.scheduled) {
        rep = api_error(req->request_id, API_E_BAD_REQUEST,
                        "DAG '%s' has no schedule%s%s, so it has no "
                        "intervals to backfill; add 'schedule:' to its file "
                        "and apply it again",
                        op->dag, *ctx.why.msg ? ": " : "", ctx.why.msg);
    } else {
        rep = s_backfill_start(self, req, &ctx);
    }
    s_spec_clear(&ctx);
    return rep;
}
