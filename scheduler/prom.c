/* prom — Prometheus metrics: atomics the loop writes, text a scrape reads. */
#include "scheduler/prom.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"
#include "scheduler/fleet.h"

/* Which values a metric's label takes. */
typedef enum {
    S_L_NONE,
    S_L_TASK_FINAL, /* final task states */
    S_L_RUN_FINAL,  /* final run states */
    S_L_RUN_ACTIVE, /* queued, running */
    S_L_CAUSE,
    S_L_DROP,
    S_L_WORKER,
} s_labels_t;

typedef struct {
    const char *name;
    const char *type;
    const char *help;
    const char *label; /* its name; NULL with S_L_NONE */
    s_labels_t values;
} s_metric_t;

/* In prom_metric_t's order. */
static const s_metric_t s_metrics[PROM_METRIC_COUNT] = {
    {"sluice_tasks_finished_total", "counter",
     "Task instances that reached a final state, by that state.", "state",
     S_L_TASK_FINAL},
    {"sluice_attempts_failed_total", "counter",
     "Attempts that ended without success, by cause.", "cause", S_L_CAUSE},
    {"sluice_runs_finished_total", "counter",
     "Runs that reached a final state, by that state.", "state", S_L_RUN_FINAL},
    {"sluice_messages_dropped_total", "counter",
     "Messages the scheduler dropped unhandled, by reason.", "reason",
     S_L_DROP},
    {"sluice_autoscaler_launches_total", "counter",
     "Workers the autoscaler asked its provider to launch.", NULL, S_L_NONE},
    {"sluice_autoscaler_launch_failures_total", "counter",
     "Launches that failed or did not join in time.", NULL, S_L_NONE},
    {"sluice_alerts_sent_total", "counter", "Alerts delivered to a target.",
     NULL, S_L_NONE},
    {"sluice_alerts_failed_total", "counter",
     "Alert deliveries that failed (each try counts).", NULL, S_L_NONE},
    {"sluice_runs", "gauge", "Active runs, by state.", "state", S_L_RUN_ACTIVE},
    {"sluice_tasks_queued", "gauge",
     "Task instances ready to run, waiting for a worker or a limit.", NULL,
     S_L_NONE},
    {"sluice_tasks_running", "gauge",
     "Task instances out on a worker (dispatched or running).", NULL, S_L_NONE},
    {"sluice_workers", "gauge", "Workers the scheduler knows, by state.",
     "state", S_L_WORKER},
    {"sluice_worker_slots", "gauge", "Slots of the connected workers.", NULL,
     S_L_NONE},
    {"sluice_worker_slots_free", "gauge",
     "Free slots of the connected workers, as they last reported.", NULL,
     S_L_NONE},
};

static const char *const s_causes[PROM_CAUSE_COUNT] = {
    "exit",      "signal", "oom",     "timeout", "spawn",
    "cancelled", "lost",   "refused", "other",
};

/* By -ENV_E* code, then PROM_DROP_*; NULL: no such code. */
static const char *const s_drops[] = {
    "other",         NULL,          "malformed", "version", "untrusted",
    "bad_signature", "undecodable", "replayed",  "not_own", "name_refused",
};

#define S_DROPS (sizeof s_drops / sizeof s_drops[0])

#define S_WORKER_STATES (FLEET_GONE + 1)

/* Bucket upper bounds in microseconds (+Inf is implied), ascending. */
#define S_BUCKETS_MAX 16

typedef struct {
    const char *name;
    const char *help;
    const uint64_t *bounds;
    size_t nbounds;
} s_hist_def_t;

static const uint64_t s_dispatch_bounds[] = {
    1000,    5000,    10000,   25000,    50000,    100000,   250000,   500000,
    1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 300000000};

static const uint64_t s_duration_bounds[] = {
    100000,     500000,     1000000,     5000000,    10000000,
    30000000,   60000000,   300000000,   600000000,  1800000000,
    3600000000, 7200000000, 21600000000, 86400000000};

static const uint64_t s_commit_bounds[] = {
    100,   250,   500,    1000,   2500,   5000,    10000,
    25000, 50000, 100000, 250000, 500000, 1000000, 2500000};

#define S_N(a) (sizeof(a) / sizeof((a)[0]))

static const s_hist_def_t s_hists[PROM_HIST_COUNT] = {
    {"sluice_task_dispatch_latency_seconds",
     "Time from a task instance being ready (queued) to its dispatch to a "
     "worker.",
     s_dispatch_bounds, S_N(s_dispatch_bounds)},
    {"sluice_task_duration_seconds",
     "Run time of finished attempts, as their workers measured it.",
     s_duration_bounds, S_N(s_duration_bounds)},
    {"sluice_store_commit_seconds",
     "Time to commit one turn of the scheduler's loop to the store.",
     s_commit_bounds, S_N(s_commit_bounds)},
};

typedef struct {
    _Atomic uint64_t buckets[S_BUCKETS_MAX + 1]; /* not cumulative; the last
                                                    is +Inf */
    _Atomic uint64_t sum_us;
} s_hist_t;

typedef struct {
    char name[PROM_POOL_NAME]; /* written once, before the entry is
                                  published (npools) */
    _Atomic uint32_t used;
    _Atomic uint32_t slots;
    _Atomic uint64_t gen; /* the publication that last set it */
} s_pool_t;

struct prom_t {
    _Atomic int64_t values[PROM_METRIC_COUNT][PROM_LABELS_MAX];
    s_hist_t hists[PROM_HIST_COUNT];
    s_pool_t pools[PROM_POOLS_MAX];
    _Atomic size_t npools;     /* entries published; only grows */
    _Atomic uint64_t shown;    /* pools set at this publication or later are
                                shown */
    uint64_t working;          /* the publication going on (loop only) */
    pthread_mutex_t pool_lock; /* taken to register a pool name */
};

prom_t *
prom_new(void)
{
    prom_t *self = xcalloc(1, sizeof *self);
    pthread_mutex_init(&self->pool_lock, NULL);
    return self;
}

void
prom_destroy(prom_t **self_p)
{
    if (self_p && *self_p) {
        pthread_mutex_destroy(&(*self_p)->pool_lock);
        free(*self_p);
        *self_p = NULL;
    }
}

/* ---------------------------------------------------------------- update */

void
prom_add(prom_t *self, prom_metric_t metric, size_t label, int64_t n)
{
    if (!self || metric >= PROM_METRIC_COUNT) {
        return;
    }
    atomic_fetch_add_explicit(
        &self->values[metric][label < PROM_LABELS_MAX ? label : 0], n,
        memory_order_relaxed);
}

void
prom_set(prom_t *self, prom_metric_t metric, size_t label, int64_t v)
{
    if (!self || metric >= PROM_METRIC_COUNT) {
        return;
    }
    atomic_store_explicit(
        &self->values[metric][label < PROM_LABELS_MAX ? label : 0], v,
        memory_order_relaxed);
}

int64_t
prom_get(const prom_t *self, prom_metric_t metric, size_t label)
{
    if (!self || metric >= PROM_METRIC_COUNT || label >= PROM_LABELS_MAX) {
        return 0;
    }
    return atomic_load_explicit(&((prom_t *) self)->values[metric][label],
                                memory_order_relaxed);
}

void
prom_task_moved(prom_t *self, task_state_t from, task_state_t to)
{
    if (!state_task_is_final(from) && state_task_is_final(to)) {
        prom_add(self, PROM_TASKS_FINISHED, to, 1);
    }
}

void
prom_run_moved(prom_t *self, run_state_t from, run_state_t to)
{
    if (!state_run_is_final(from) && state_run_is_final(to)) {
        prom_add(self, PROM_RUNS_FINISHED, to, 1);
    }
}

void
prom_attempt_failed(prom_t *self, const char *cause)
{
    size_t i = 0;
    while (i < PROM_CAUSE_OTHER && (!cause || strcmp(cause, s_causes[i]))) {
        i++;
    }
    prom_add(self, PROM_ATTEMPTS_FAILED, i, 1);
}

void
prom_drop(prom_t *self, int code)
{
    size_t slot = code < 0 ? (size_t) -code : 0;
    if (slot >= S_DROPS || !s_drops[slot]) {
        slot = 0;
    }
    prom_add(self, PROM_MESSAGES_DROPPED, slot, 1);
}

void
prom_observe(prom_t *self, prom_hist_t hist, uint64_t us)
{
    if (!self || hist >= PROM_HIST_COUNT) {
        return;
    }
    const s_hist_def_t *def = &s_hists[hist];
    size_t b = 0;
    while (b < def->nbounds && us > def->bounds[b]) {
        b++;
    }
    atomic_fetch_add_explicit(&self->hists[hist].buckets[b], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&self->hists[hist].sum_us, us,
                              memory_order_relaxed);
}

uint64_t
prom_hist_count(const prom_t *self, prom_hist_t hist)
{
    uint64_t n = 0;
    for (size_t b = 0; self && hist < PROM_HIST_COUNT && b <= S_BUCKETS_MAX;
         b++) {
        n += atomic_load_explicit(&((prom_t *) self)->hists[hist].buckets[b],
                                  memory_order_relaxed);
    }
    return n;
}

uint64_t
prom_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* ----------------------------------------------------------------- pools */

void
prom_pools_begin(prom_t *self)
{
    if (self) {
        self->working++;
    }
}

/* The entry of pool `name`, registered when new; NULL when full. */
static s_pool_t *
s_pool(prom_t *self, const char *name)
{
    size_t n = atomic_load_explicit(&self->npools, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(self->pools[i].name, name) == 0) {
            return &self->pools[i];
        }
    }
    if (n == PROM_POOLS_MAX) {
        return NULL;
    }
    /* Only the loop registers; the lock keeps the rule that a name is
     * complete before a reader can see its entry should that change. */
    pthread_mutex_lock(&self->pool_lock);
    s_pool_t *pool = &self->pools[n];
    snprintf(pool->name, sizeof pool->name, "%s", name);
    atomic_store_explicit(&self->npools, n + 1, memory_order_release);
    pthread_mutex_unlock(&self->pool_lock);
    return pool;
}

int
prom_pool_set(prom_t *self, const char *pool, uint32_t used, uint32_t slots)
{
    if (!self || strlen(pool) >= PROM_POOL_NAME) {
        return -1;
    }
    s_pool_t *p = s_pool(self, pool);
    if (!p) {
        return -1;
    }
    atomic_store_explicit(&p->used, used, memory_order_relaxed);
    atomic_store_explicit(&p->slots, slots, memory_order_relaxed);
    atomic_store_explicit(&p->gen, self->working, memory_order_relaxed);
    return 0;
}

void
prom_pools_end(prom_t *self)
{
    if (self) {
        atomic_store_explicit(&self->shown, self->working,
                              memory_order_relaxed);
    }
}

/* ---------------------------------------------------------------- render */

/* A label value as the format wants it: \\, \" and \n escaped. */
static void
s_escape(FILE *out, const char *value)
{
    for (const char *c = value; *c; c++) {
        if (*c == '\\' || *c == '"') {
            fputc('\\', out);
            fputc(*c, out);
        } else if (*c == '\n') {
            fputs("\\n", out);
        } else {
            fputc(*c, out);
        }
    }
}

static void
s_header(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The value name of label index i of set `values`; NULL: not shown. */
static const char *
s_label_value(s_labels_t values, size_t i)
{
    switch (values) {
        case S_L_TASK_FINAL:
            return i < TASK_STATE_COUNT && state_task_is_final(i)
                       ? state_task_name(i)
                       : NULL;
        case S_L_RUN_FINAL:
            return i < RUN_STATE_COUNT && state_run_is_final(i)
                       ? state_run_name(i)
                       : NULL;
        case S_L_RUN_ACTIVE:
            return i == RUN_QUEUED || i == RUN_RUNNING ? state_run_name(i)
                                                       : NULL;
        case S_L_CAUSE:
            return i < PROM_CAUSE_COUNT ? s_causes[i] : NULL;
        case S_L_DROP:
            return i < S_DROPS ? s_drops[i] : NULL;
        case S_L_WORKER:
            return i < S_WORKER_STATES ? fleet_state_name(i) : NULL;
        default:
            return NULL;
    }
}

static void
s_render_metric(FILE *out, const prom_t *self, prom_metric_t m)
{
    const s_metric_t *def = &s_metrics[m];
    s_header(out, def->name, def->type, def->help);
    for (size_t i = 0; i < PROM_LABELS_MAX; i++) {
        const char *value = s_label_value(def->values, i);
        if (def->values != S_L_NONE && !value) {
            continue;
        }
        fputs(def->name, out);
        if (value) {
            fprintf(out, "{%s=\"", def->label);
            s_escape(out, value);
            fputs("\"}", out);
        }
        fprintf(out, " %" PRId64 "\n", prom_get(self, m, i));
        if (def->values == S_L_NONE) {
            break;
        }
    }
}

static void
s_render_hist(FILE *out, const prom_t *self, prom_hist_t h)
{
    const s_hist_def_t *def = &s_hists[h];
    prom_t *mut = (prom_t *) self;
    s_header(out, def->name, "histogram", def->help);
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= def->nbounds; b++) {
        cumulative += atomic_load_explicit(&mut->hists[h].buckets[b],
                                           memory_order_relaxed);
        if (b < def->nbounds) {
            fprintf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", def->name,
                    (double) def->bounds[b] / 1e6, cumulative);
        } else {
            fprintf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", def->name,
                    cumulative);
        }
    }
    uint64_t sum =
        atomic_load_explicit(&mut->hists[h].sum_us, memory_order_relaxed);
    fprintf(out, "%s_sum %.6f\n%s_count %" PRIu64 "\n", def->name,
            (double) sum / 1e6, def->name, cumulative);
}

/* One pool gauge: every pool shown now, with `used` or its slots. */
static void
s_render_pools(FILE *out, const prom_t *self, bool used)
{
    prom_t *mut = (prom_t *) self;
    const char *name = used ? "sluice_pool_slots_used" : "sluice_pool_slots";
    s_header(out, name, "gauge",
             used ? "Slots of a pool held by running task instances."
                  : "Slots a pool has.");
    size_t n = atomic_load_explicit(&mut->npools, memory_order_acquire);
    uint64_t shown = atomic_load_explicit(&mut->shown, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        const s_pool_t *p = &self->pools[i];
        if (shown == 0 || atomic_load_explicit(&mut->pools[i].gen,
                                               memory_order_relaxed) < shown) {
            continue;
        }
        fprintf(out, "%s{pool=\"", name);
        s_escape(out, p->name);
        fprintf(out, "\"} %" PRIu32 "\n",
                atomic_load_explicit(used ? &mut->pools[i].used
                                          : &mut->pools[i].slots,
                                     memory_order_relaxed));
    }
}

size_t
prom_render(const prom_t *self, char **text_out)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out) {
        abort(); /* out of memory, as xalloc does */
    }
    for (size_t m = 0; m < PROM_METRIC_COUNT; m++) {
        s_render_metric(out, self, (prom_metric_t) m);
    }
    for (size_t h = 0; h < PROM_HIST_COUNT; h++) {
        s_render_hist(out, self, (prom_hist_t) h);
    }
    s_render_pools(out, self, true);
    s_render_pools(out, self, false);
    fclose(out);
    *text_out = text;
    return size;
}
