#include "scheduler/schedule.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "common/dtime.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_runs.h"

/* Most intervals one DAG creates in one turn: a catchup over years of
 * minutes goes on in the next turns instead of holding one turn. */
#define SCHEDULE_MAX_PER_TURN 64

/* ---------------------------------------------------------- arithmetic */

bool
schedule_interval_at(const schedule_spec_t *spec,
                     int64_t at,
                     schedule_interval_t *out)
{
    int64_t start = cron_next(spec->cron, spec->tz, spec->start_ms, at - 1);
    if (start < 0 || start > spec->end_ms) {
        return false;
    }
    int64_t end = cron_next(spec->cron, spec->tz, spec->start_ms, start);
    if (end < 0) {
        return false;
    }
    *out = (schedule_interval_t){start, end};
    return true;
}

/* The interval that ends last at or before `now` (and starts no later
 * than end_date); false when none has ended yet. */
static bool
s_latest(const schedule_spec_t *spec, int64_t now, schedule_interval_t *out)
{
    int64_t end = cron_prev(spec->cron, spec->tz, spec->start_ms, now + 1);
    int64_t start =
        end < 0 ? -1 : cron_prev(spec->cron, spec->tz, spec->start_ms, end);
    if (start >= 0 && start > spec->end_ms) {
        /* past end_date: the last interval that starts by it */
        start =
            cron_prev(spec->cron, spec->tz, spec->start_ms, spec->end_ms + 1);
        end = start < 0
                  ? -1
                  : cron_next(spec->cron, spec->tz, spec->start_ms, start);
    }
    if (start < spec->start_ms || end < 0 || end > now) {
        return false;
    }
    *out = (schedule_interval_t){start, end};
    return true;
}

size_t
schedule_due(const schedule_spec_t *spec,
             int64_t last_end,
             int64_t now,
             schedule_interval_t *out,
             size_t max)
{
    schedule_interval_t next;
    int64_t from = last_end > spec->start_ms ? last_end : spec->start_ms;
    if (max == 0 || !schedule_interval_at(spec, from, &next) ||
        next.end > now) {
        return 0;
    }
    if (!spec->catchup) {
        schedule_interval_t latest;
        if (!s_latest(spec, now, &latest) || latest.start < next.start) {
            latest = next;
        }
        out[0] = latest;
        return 1;
    }
    size_t n = 0;
    do {
        out[n++] = next;
    } while (n < max && schedule_interval_at(spec, next.end, &next) &&
             next.end <= now);
    return n;
}

int64_t
schedule_next_fire(const schedule_spec_t *spec, int64_t last_end, int64_t now)
{
    (void) now;
    schedule_interval_t next;
    int64_t from = last_end > spec->start_ms ? last_end : spec->start_ms;
    return schedule_interval_at(spec, from, &next) ? next.end : -1;
}

size_t
schedule_upcoming(const schedule_spec_t *spec,
                  int64_t from,
                  schedule_interval_t *out,
                  size_t max)
{
    schedule_interval_t iv;
    size_t n = 0;
    /* the interval in progress at `from` is the first to end after it */
    int64_t at = cron_prev(spec->cron, spec->tz, spec->start_ms, from + 1);
    if (at < spec->start_ms) {
        at = spec->start_ms;
    }
    bool ok = schedule_interval_at(spec, at, &iv);
    while (ok && n < max) {
        if (iv.end > from) {
            out[n++] = iv;
        }
        ok = schedule_interval_at(spec, iv.end, &iv);
    }
    return n;
}

int
schedule_resolve(const char *default_zone,
                 const dag_t *dag,
                 int64_t created_at,
                 schedule_spec_t *spec,
                 cron_t **cron,
                 tz_t **tz,
                 errbuf_t *err)
{
    *cron = NULL;
    *tz = NULL;
    if (!*dag_schedule(dag)) {
        errbuf_set(err,
                   "DAG '%s' has no schedule; add 'schedule:' to its file "
                   "and apply it again",
                   dag_name(dag));
        return -1;
    }
    const char *zone = *dag_timezone(dag) ? dag_timezone(dag) : default_zone;
    /* The default start_date: when the DAG was first applied, to the
     * second, so that "@every" intervals fall on whole seconds. */
    *spec = (schedule_spec_t){.start_ms = created_at - created_at % 1000,
                              .end_ms = INT64_MAX,
                              .catchup = dag_catchup(dag)};
    if (!(*tz = tz_load(zone, err)) ||
        !(*cron = cron_parse(dag_schedule(dag), err)) ||
        (*dag_start_date(dag) &&
         dtime_parse(dag_start_date(dag), *tz, &spec->start_ms, err) < 0) ||
        (*dag_end_date(dag) &&
         dtime_parse(dag_end_date(dag), *tz, &spec->end_ms, err) < 0)) {
        errbuf_prefix(err, "DAG '%s'", dag_name(dag));
        cron_destroy(cron);
        tz_destroy(tz);
        return -1;
    }
    spec->cron = *cron;
    spec->tz = *tz;
    return 0;
}

/* --------------------------------------------------------------- table */

/* One scheduled DAG. */
typedef struct {
    char *name;   /* owned */
    cron_t *cron; /* owned */
    tz_t *tz;     /* owned */
    schedule_spec_t spec;
    int64_t last_end;  /* end of the last interval created, 0 = none */
    int64_t next_fire; /* wall ms, -1 = never again */
} entry_t;

struct schedule_t {
    store_t *store;     /* borrowed */
    char *default_zone; /* owned */
    zlistx_t *entries;  /* entry_t, owned */
    zhashx_t *plain;    /* DAG name -> version (owned) known to have no
                           schedule: a reload does not parse it again */
    bool stale;         /* re-read the DAGs at the next tick */
};

static void
s_entry_free(void **item)
{
    entry_t *e = *item;
    if (e) {
        free(e->name);
        cron_destroy(&e->cron);
        tz_destroy(&e->tz);
        free(e);
        *item = NULL;
    }
}

schedule_t *
schedule_new(store_t *store, const char *default_zone)
{
    schedule_t *self = xcalloc(1, sizeof *self);
    self->store = store;
    self->default_zone = xstrdup(default_zone ? default_zone : "UTC");
    self->entries = zlistx_new();
    zlistx_set_destructor(self->entries, s_entry_free);
    self->plain = zhashx_new();
    zhashx_set_destructor(self->plain, (zhashx_destructor_fn *) zstr_free);
    self->stale = true;
    return self;
}

void
schedule_destroy(schedule_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    schedule_t *self = *self_p;
    zlistx_destroy(&self->entries);
    zhashx_destroy(&self->plain);
    free(self->default_zone);
    free(self);
    *self_p = NULL;
}

void
schedule_invalidate(schedule_t *self)
{
    self->stale = true;
}

void
schedule_known(schedule_t *self, const dag_t *dag)
{
    assert(self && dag);
    if (*dag_schedule(dag)) {
        zhashx_delete(self->plain, dag_name(dag));
    } else {
        zhashx_update(self->plain, dag_name(dag), xstrdup(dag_version(dag)));
    }
}

/* Adds an entry for one applied DAG when it is scheduled and not
 * paused. */
static int
s_load_dag(void *arg, const store_dag_row_t *row)
{
    schedule_t *self = arg;
    const char *plain = zhashx_lookup(self->plain, row->name);
    if (row->paused || (plain && !strcmp(plain, row->version))) {
        return 0;
    }
    dag_t *dag = dag_parse(row->name, row->source, strlen(row->source), NULL);
    if (dag) {
        schedule_known(self, dag);
    }
    if (!dag || !*dag_schedule(dag)) {
        dag_destroy(&dag);
        return 0;
    }
    entry_t *e = xcalloc(1, sizeof *e);
    errbuf_t err;
    if (schedule_resolve(self->default_zone, dag, row->created_at, &e->spec,
                         &e->cron, &e->tz, &err) < 0) {
        log_error("%s; its schedule starts no runs", errbuf_msg(&err));
        free(e);
        dag_destroy(&dag);
        return 0;
    }
    dag_destroy(&dag);
    e->name = xstrdup(row->name);
    int64_t start = 0;
    if (store_run_last_scheduled(self->store, e->name, &start, &e->last_end,
                                 &err) == -1) {
        log_error("DAG '%s': %s", e->name, errbuf_msg(&err));
    }
    e->next_fire = 0; /* look at once */
    zlistx_add_end(self->entries, e);
    return 0;
}

static int
s_reload(schedule_t *self, errbuf_t *err)
{
    zlistx_purge(self->entries);
    if (store_dag_list(self->store, s_load_dag, self, err) < 0) {
        return -1;
    }
    self->stale = false;
    return 0;
}

/* Creates the runs of one entry's due intervals. */
static int
s_tick_entry(schedule_t *self,
             entry_t *e,
             int64_t now,
             schedule_create_fn *create,
             void *arg,
             errbuf_t *err)
{
    schedule_interval_t due[SCHEDULE_MAX_PER_TURN];
    size_t n =
        schedule_due(&e->spec, e->last_end, now, due, SCHEDULE_MAX_PER_TURN);
    for (size_t i = 0; i < n; i++) {
        uint64_t run_id;
        run_state_t state;
        int rc = store_run_by_logical(self->store, e->name, due[i].start,
                                      &run_id, &state, err);
        if (rc == STORE_ENOTFOUND) {
            rc = create(arg, e->name, e->tz, &due[i], err);
        }
        if (rc < 0) {
            return -1;
        }
        e->last_end = due[i].end;
    }
    e->next_fire = schedule_next_fire(&e->spec, e->last_end, now);
    return 0;
}

int
schedule_tick(schedule_t *self,
              int64_t now,
              schedule_create_fn *create,
              void *arg,
              errbuf_t *err)
{
    assert(self && create);
    if (self->stale && s_reload(self, err) < 0) {
        return -1;
    }
    for (entry_t *e = zlistx_first(self->entries); e;
         e = zlistx_next(self->entries)) {
        if (e->next_fire >= 0 && e->next_fire <= now &&
            s_tick_entry(self, e, now, create, arg, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int64_t
schedule_wake_at(schedule_t *self)
{
    if (self->stale) {
        return 0;
    }
    int64_t at = -1;
    for (entry_t *e = zlistx_first(self->entries); e;
         e = zlistx_next(self->entries)) {
        if (e->next_fire >= 0 && (at < 0 || e->next_fire < at)) {
            at = e->next_fire;
        }
    }
    return at;
}
