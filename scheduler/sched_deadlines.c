/* sched_deadlines — the time rules of alerts: a task's `sla` (from its
 * run's start), a DAG's `deadline` (from its data interval's end) and
 * `expect: {success_by}` (the interval's run succeeded by that wall-clock
 * time in the DAG's zone). Checked at most every DEADLINES_CHECK_MS in the
 * loop's transaction; each miss is recorded once, as an event in the
 * audit log and an alert (sched_alerts.c). Nothing is killed. */
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alert.h"
#include "common/clock.h"
#include "common/cron.h"
#include "common/log.h"
#include "common/tz.h"
#include "common/xalloc.h"
#include "scheduler/sched_internal.h"
#include "scheduler/schedule.h"
#include "scheduler/store/store_alerts.h"
#include "scheduler/store/store_audit.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_runs.h"

/* How often sla, deadline and expect are checked. */
#define DEADLINES_CHECK_MS 1000

/* A miss found by a query, copied out so that recording it does not run
 * beside the query's statement. */
typedef struct {
    uint64_t run_id;
    char *dag, *task_id, *logical_date;
    uint64_t limit_ms;
} miss_t;

static int
s_collect_miss(void *arg, const store_miss_t *m)
{
    miss_t *copy = xcalloc(1, sizeof *copy);
    copy->run_id = m->run_id;
    copy->dag = xstrdup(m->dag);
    copy->task_id = xstrdup(m->task_id);
    copy->logical_date = xstrdup(m->logical_date);
    copy->limit_ms = m->limit_ms;
    zlistx_add_end(arg, copy);
    return 0;
}

static void
s_miss_free(void **item)
{
    miss_t *m = *item;
    if (m) {
        free(m->dag);
        free(m->task_id);
        free(m->logical_date);
        free(m);
    }
    *item = NULL;
}

/* Records a miss once under dedupe (an event in the audit log) and queues
 * its alert. */
static int
s_record_miss_as(sched_t *self,
                 const miss_t *m,
                 const char *dedupe,
                 alert_kind_t kind,
                 const char *cause,
                 int64_t now,
                 errbuf_t *err)
{
    bool first = false;
    int rc = store_alert_miss(self->store, dedupe, now, &first, err);
    if (rc == 0 && first) {
        char *subject = m->run_id
                            ? xasprintf("run %" PRIu64 "%s%s%s", m->run_id,
                                        *m->task_id ? " task '" : "",
                                        m->task_id, *m->task_id ? "'" : "")
                            : xasprintf("DAG '%s'", m->dag);
        log_warn("%s of DAG '%s': %s", subject, m->dag, cause);
        rc = store_event(self->store, now, "scheduler", alert_kind_name(kind),
                         subject, cause, err);
        free(subject);
    }
    if (rc == 0 && first) {
        alert_event_t ev = {.kind = kind,
                            .dag = m->dag,
                            .run_id = m->run_id,
                            .logical_date = m->logical_date,
                            .task = m->task_id,
                            .cause = cause,
                            .at_ms = now,
                            .log = ""};
        rc = sched_alerts_queue(self, &ev, dedupe, err);
    }
    return rc;
}

/* The same, keyed by run, task and kind. */
static int
s_record_miss(sched_t *self,
              const miss_t *m,
              alert_kind_t kind,
              const char *cause,
              int64_t now,
              errbuf_t *err)
{
    char *dedupe = xasprintf("%" PRIu64 "/%s/%s", m->run_id, m->task_id,
                             alert_kind_name(kind));
    int rc = s_record_miss_as(self, m, dedupe, kind, cause, now, err);
    free(dedupe);
    return rc;
}

/* A limit as written in DAG files: "2h", "90s", "1500ms". */
static void
s_fmt_ms(uint64_t ms, char *buf, size_t size)
{
    static const struct {
        uint64_t unit;
        const char *name;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms % units[i].unit == 0) {
            snprintf(buf, size, "%" PRIu64 "%s", ms / units[i].unit,
                     units[i].name);
            return;
        }
    }
    snprintf(buf, size, "%" PRIu64 "ms", ms);
}

static int
s_check_slas(sched_t *self, int64_t now, errbuf_t *err)
{
    zlistx_t *misses = zlistx_new();
    zlistx_set_destructor(misses, s_miss_free);
    int rc =
        store_alert_sla_misses(self->store, now, s_collect_miss, misses, err);
    for (miss_t *m = zlistx_first(misses); rc == 0 && m;
         m = zlistx_next(misses)) {
        char limit[32];
        s_fmt_ms(m->limit_ms, limit, sizeof limit);
        char *cause =
            xasprintf("not done %s after its run started (sla)", limit);
        rc = s_record_miss(self, m, ALERT_SLA_MISS, cause, now, err);
        free(cause);
    }
    zlistx_destroy(&misses);
    return rc;
}

static int
s_check_deadlines(sched_t *self, int64_t now, uint64_t run_id, errbuf_t *err)
{
    zlistx_t *misses = zlistx_new();
    zlistx_set_destructor(misses, s_miss_free);
    int rc = store_alert_deadline_misses(self->store, now, run_id,
                                         s_collect_miss, misses, err);
    for (miss_t *m = zlistx_first(misses); rc == 0 && m;
         m = zlistx_next(misses)) {
        char limit[32];
        s_fmt_ms(m->limit_ms, limit, sizeof limit);
        char *cause = xasprintf("%s %s after its data interval ended "
                                "(deadline)",
                                run_id ? "ended more than" : "not done", limit);
        rc = s_record_miss(self, m, ALERT_DEADLINE_MISS, cause, now, err);
        free(cause);
    }
    zlistx_destroy(&misses);
    return rc;
}

/* ------------------------------------------------------------- expect */

/* A DAG's schedule, resolved once per version. */
typedef struct {
    char *version;
    cron_t *cron;
    tz_t *tz;
    schedule_spec_t spec;
} expect_entry_t;

static void
s_entry_free(void **item)
{
    expect_entry_t *e = *item;
    if (e) {
        free(e->version);
        cron_destroy(&e->cron);
        tz_destroy(&e->tz);
        free(e);
    }
    *item = NULL;
}

typedef struct {
    sched_t *self;
    expect_entry_t *entry; /* resolved, or NULL */
    errbuf_t *err;
} resolve_t;

static int
s_resolve_row(void *arg, const store_dag_row_t *row)
{
    resolve_t *r = arg;
    expect_entry_t *e = zhashx_lookup(r->self->expects, row->name);
    if (e && !strcmp(e->version, row->version)) {
        r->entry = e;
        return 0;
    }
    dag_t *dag = dag_parse(row->name, row->source, strlen(row->source), NULL);
    expect_entry_t *fresh = xcalloc(1, sizeof *fresh);
    fresh->version = xstrdup(row->version);
    errbuf_t why;
    if (!dag ||
        schedule_resolve(r->self->config->timezone, dag, row->created_at,
                         &fresh->spec, &fresh->cron, &fresh->tz, &why) < 0) {
        void *item = fresh;
        s_entry_free(&item);
        dag_destroy(&dag);
        return 0; /* no schedule: nothing is expected */
    }
    dag_destroy(&dag);
    zhashx_update(r->self->expects, row->name, fresh);
    r->entry = fresh;
    return 0;
}

/* The latest success_by instant at or before now, in zone tz. */
static int64_t
s_success_by(const tz_t *tz, const char *by, int64_t now)
{
    int hh = (by[0] - '0') * 10 + (by[1] - '0');
    int mm = (by[3] - '0') * 10 + (by[4] - '0');
    for (int back = 0; back < 3; back++) {
        tz_civil_t day = tz_civil(tz, now - (int64_t) back * 86400000);
        day.hour = hh, day.min = mm, day.sec = 0;
        int64_t at = tz_first_instant(tz, &day);
        if (at >= 0 && at <= now) {
            return at;
        }
    }
    return -1;
}

/* The run of the interval that ended last at or before `by` should have
 * succeeded by then; *miss says it has not, with the cause. */
static int
s_expect_one(
    sched_t *self, const char *dag, const char *by, int64_t now, errbuf_t *err)
{
    resolve_t r = {self, NULL, err};
    if (store_dag_get(self->store, dag, s_resolve_row, &r, err) < 0) {
        return -1;
    }
    expect_entry_t *e = r.entry;
    int64_t at = e ? s_success_by(e->tz, by, now) : -1;
    int64_t end =
        at < 0 ? -1 : cron_prev(e->cron, e->tz, e->spec.start_ms, at + 1);
    int64_t start =
        end < 0 ? -1 : cron_prev(e->cron, e->tz, e->spec.start_ms, end);
    if (start < 0 || start < e->spec.start_ms || end > e->spec.end_ms) {
        return 0;
    }
    char *dedupe = xasprintf("expect/%s/%" PRId64, dag, end);
    bool seen = false;
    uint64_t run_id = 0;
    run_state_t state = RUN_QUEUED;
    int rc = store_alert_missed(self->store, dedupe, &seen, err);
    if (rc == 0 && !seen) {
        rc =
            store_run_by_logical(self->store, dag, start, &run_id, &state, err);
        rc = rc == STORE_ENOTFOUND ? 0 : rc;
    }
    if (rc == 0 && !seen && (run_id == 0 || state != RUN_SUCCESS)) {
        char from[40];
        tz_format(e->tz, start, from, sizeof from);
        char *cause = xasprintf(
            "the run of the interval from %s had not succeeded by %s %s (%s)",
            from, by, tz_name(e->tz),
            run_id ? state_run_name(state) : "no run");
        miss_t m = {.run_id = run_id,
                    .dag = (char *) dag,
                    .task_id = "",
                    .logical_date = from};
        rc = s_record_miss_as(self, &m, dedupe, ALERT_EXPECT_MISS, cause, now,
                              err);
        free(cause);
    }
    free(dedupe);
    return rc;
}

static int
s_collect_expect(void *arg, const char *dag, const char *by)
{
    zlistx_add_end(arg, xasprintf("%s\n%s", by, dag));
    return 0;
}

static int
s_check_expects(sched_t *self, int64_t now, errbuf_t *err)
{
    zlistx_t *list = zlistx_new();
    zlistx_set_destructor(list, (zlistx_destructor_fn *) zstr_free);
    int rc = store_alert_expects(self->store, s_collect_expect, list, err);
    for (char *item = zlistx_first(list); rc == 0 && item;
         item = zlistx_next(list)) {
        item[5] = '\0'; /* "HH:MM\nDAG" */
        rc = s_expect_one(self, item + 6, item, now, err);
    }
    zlistx_destroy(&list);
    return rc;
}

/* --------------------------------------------------------------- loop */

void
sched_deadlines_start(sched_t *self)
{
    self->expects = zhashx_new();
    zhashx_set_destructor(self->expects, s_entry_free);
}

void
sched_deadlines_stop(sched_t *self)
{
    zhashx_destroy(&self->expects);
}

int
sched_deadlines_check(sched_t *self, int64_t now_mono, errbuf_t *err)
{
    if (now_mono < self->alert_check_next) {
        return 0;
    }
    self->alert_check_next = now_mono + DEADLINES_CHECK_MS;
    int64_t now = clock_wall_ms();
    if (s_check_slas(self, now, err) < 0 ||
        s_check_deadlines(self, now, 0, err) < 0) {
        return -1;
    }
    return s_check_expects(self, now, err);
}

int64_t
sched_deadlines_next(sched_t *self)
{
    return self->alert_check_next;
}

int
sched_deadlines_on_result(void *arg,
                          const sched_result_t *result,
                          errbuf_t *err)
{
    sched_t *self = arg;
    bool has = false;
    if (!result->dag) {
        return 0;
    }
    if (store_alert_has_deadline(self->store, result->dag, &has, err) < 0) {
        return -1;
    }
    if (!has) {
        return 0;
    }
    store_alert_ctx_t ctx;
    if (store_alert_ctx(self->store, result->res->attempt_id, &ctx, err) < 0) {
        return -1;
    }
    /* A run that goes on is the periodic check's; one that just ended may
     * have ended late. */
    bool ended =
        !strcmp(ctx.run_state, "success") || !strcmp(ctx.run_state, "failed");
    uint64_t run_id = ctx.run_id;
    store_alert_ctx_clear(&ctx);
    return ended ? s_check_deadlines(self, clock_wall_ms(), run_id, err) : 0;
}
