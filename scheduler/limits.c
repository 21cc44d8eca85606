/* limits — concurrency limits, pools and the order of ready tasks. */
#include "scheduler/limits.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "scheduler/store/store_pools.h"
#include "scheduler/prom.h"

/* Counts are kept in hashes of name -> count (the count is the item,
 * cast; a count of 0 is no entry). */
struct limits_t {
    store_t *store;         /* borrowed */
    zhashx_t *pools;        /* pool name -> slots + 1, as defined (a pool of
                           0 slots is paused, not absent) */
    zhashx_t *used;         /* pool name -> slots in use */
    zhashx_t *dag_runs;     /* DAG name -> runs running */
    zhashx_t *dag_task;     /* DAG name -> tasks running */
    zhashx_t *per_task;     /* "DAG\x1ftask" -> instances running */
    zhashx_t *queued;       /* DAG name -> zlistx_t of queued run ids, oldest
                           first; owned */
    limits_totals_t totals; /* over every DAG */
    prom_t *prom;           /* told of finished tasks and runs; borrowed,
                               NULL: none */
};

#define COUNT(p)   ((uint32_t) (uintptr_t) (p))
#define AS_ITEM(n) ((void *) (uintptr_t) (n))
/* A queued run's item: its id, with a high bit for a backfill run, so that
 * the list's order (by value) puts backfill runs after the others. */
#define BACKFILL_BIT (UINT64_C(1) << 62)
#define RUN_ITEM(n, backfill)                                                  \
    ((void *) (uintptr_t) ((n) | ((backfill) ? BACKFILL_BIT : 0)))
#define ITEM_RUN(p) ((uint64_t) (uintptr_t) (p) & ~BACKFILL_BIT)

static zhashx_t *
s_counts(void)
{
    zhashx_t *map = zhashx_new();
    zhashx_set_destructor(map, NULL);
    zhashx_set_duplicator(map, NULL);
    return map;
}

static void
s_list_free(void **item)
{
    zlistx_destroy((zlistx_t **) item);
}

limits_t *
limits_new(store_t *store)
{
    limits_t *self = xcalloc(1, sizeof *self);
    self->store = store;
    self->pools = s_counts();
    self->used = s_counts();
    self->dag_runs = s_counts();
    self->dag_task = s_counts();
    self->per_task = s_counts();
    self->queued = zhashx_new();
    zhashx_set_destructor(self->queued, s_list_free);
    return self;
}

void
limits_destroy(limits_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    limits_t *self = *self_p;
    zhashx_destroy(&self->pools);
    zhashx_destroy(&self->used);
    zhashx_destroy(&self->dag_runs);
    zhashx_destroy(&self->dag_task);
    zhashx_destroy(&self->per_task);
    zhashx_destroy(&self->queued);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- counts */

static uint32_t
s_get(zhashx_t *map, const char *key)
{
    return COUNT(zhashx_lookup(map, key));
}

/* Adds delta to a count; a count never goes below 0. */
static void
s_add(zhashx_t *map, const char *key, int64_t delta)
{
    int64_t n = (int64_t) s_get(map, key) + delta;
    if (n <= 0) {
        zhashx_delete(map, key);
    } else {
        zhashx_update(map, key, AS_ITEM(n));
    }
}

static void
s_task_key(char *buf, size_t size, const char *dag, const char *task)
{
    snprintf(buf, size, "%s\x1f%s", dag, task);
}

/* ----------------------------------------------------------------- pools */

static int
s_pool_loaded(void *arg, const store_pool_row_t *row)
{
    limits_t *self = arg;
    zhashx_update(self->pools, row->name, AS_ITEM(row->slots + 1));
    return 0;
}

int
limits_pools_load(limits_t *self, errbuf_t *err)
{
    zhashx_purge(self->pools);
    return store_pool_list(self->store, s_pool_loaded, self, err);
}

int
limits_pool_set(limits_t *self,
                const char *name,
                uint32_t slots,
                const char *description,
                int64_t now,
                errbuf_t *err)
{
    if (store_pool_set(self->store, name, slots, description, now, err) < 0) {
        return -1;
    }
    zhashx_update(self->pools, name, AS_ITEM(slots + 1));
    return 0;
}

int
limits_pool_rm(limits_t *self, const char *name, errbuf_t *err)
{
    uint32_t used = s_get(self->used, name);
    if (used > 0) {
        errbuf_set(err,
                   "pool '%s' has %" PRIu32 " slots in use; wait for its "
                   "tasks to end (or cancel their runs), then remove it",
                   name, used);
        return -1;
    }
    int rc = store_pool_rm(self->store, name, err);
    if (rc == 0) {
        errbuf_set(err, "there is no pool '%s'; see 'sluice pool list'", name);
    }
    if (rc <= 0) {
        return -1;
    }
    zhashx_delete(self->pools, name);
    return 0;
}

bool
limits_pool_get(limits_t *self,
                const char *name,
                uint32_t *slots,
                uint32_t *used)
{
    void *item = zhashx_lookup(self->pools, name);
    *slots = item ? COUNT(item) - 1 : 0;
    *used = s_get(self->used, name);
    return item != NULL;
}

uint32_t
limits_pool_used(limits_t *self, const char *pool)
{
    return s_get(self->used, pool);
}

void
limits_pool_each(limits_t *self, limits_pool_fn *fn, void *arg)
{
    for (void *item = zhashx_first(self->pools); item;
         item = zhashx_next(self->pools)) {
        const char *name = zhashx_cursor(self->pools);
        fn(arg, name, COUNT(item) - 1, s_get(self->used, name));
    }
}

/* ------------------------------------------------------------------ runs */

static int
s_id_compare(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) a, y = (uintptr_t) b;
    return x < y ? -1 : x > y;
}

static void
s_queued_add(limits_t *self, const char *dag, uint64_t run_id, bool backfill)
{
    zlistx_t *list = zhashx_lookup(self->queued, dag);
    if (!list) {
        list = zlistx_new();
        zlistx_set_comparator(list, s_id_compare);
        zhashx_insert(self->queued, dag, list);
    }
    /* Kept oldest first, backfill runs last: ids grow with creation, so
     * searching from the end finds the place at once. */
    zlistx_insert(list, RUN_ITEM(run_id, backfill), false);
}

static void
s_queued_remove(limits_t *self, const char *dag, uint64_t run_id, bool backfill)
{
    zlistx_t *list = zhashx_lookup(self->queued, dag);
    if (list && zlistx_find(list, RUN_ITEM(run_id, backfill))) {
        zlistx_delete(list, zlistx_cursor(list));
    }
    if (list && zlistx_size(list) == 0) {
        zhashx_delete(self->queued, dag);
    }
}

void
limits_run_added(limits_t *self,
                 const char *dag,
                 uint64_t run_id,
                 bool backfill,
                 run_state_t state)
{
    if (state == RUN_QUEUED) {
        s_queued_add(self, dag, run_id, backfill);
        self->totals.runs_queued++;
    } else if (state == RUN_RUNNING) {
        s_add(self->dag_runs, dag, 1);
        self->totals.runs_running++;
    }
}

void
limits_run_moved(limits_t *self,
                 const char *dag,
                 uint64_t run_id,
                 bool backfill,
                 run_state_t from,
                 run_state_t to)
{
    if (from == to) {
        return;
    }
    if (from == RUN_QUEUED) {
        s_queued_remove(self, dag, run_id, backfill);
        self->totals.runs_queued--;
    } else if (from == RUN_RUNNING) {
        s_add(self->dag_runs, dag, -1);
        self->totals.runs_running--;
    }
    limits_run_added(self, dag, run_id, backfill, to);
    prom_run_moved(self->prom, from, to);
}

uint32_t
limits_dag_runs(limits_t *self, const char *dag)
{
    return s_get(self->dag_runs, dag);
}

uint32_t
limits_dag_tasks(limits_t *self, const char *dag)
{
    return s_get(self->dag_task, dag);
}

/* ----------------------------------------------------------------- tasks */

static void
s_task_count(limits_t *self,
             const char *dag,
             const dag_task_t *task,
             int64_t delta)
{
    char key[512];
    s_task_key(key, sizeof key, dag, task->id);
    s_add(self->dag_task, dag, delta);
    s_add(self->per_task, key, delta);
    self->totals.in_flight += (uint32_t) delta;
    if (task->pool) {
        s_add(self->used, task->pool, delta * (int64_t) task->pool_slots);
    }
}

void
limits_task_moved(limits_t *self,
                  const char *dag,
                  const dag_task_t *task,
                  task_state_t from,
                  task_state_t to)
{
    if (from == to) {
        return;
    }
    /* A dispatched (prefetched) task already holds what a running one
     * does: it was admitted when it left the queue. */
    if (state_task_in_flight(from) && !state_task_in_flight(to)) {
        s_task_count(self, dag, task, -1);
    }
    if (!state_task_in_flight(from) && state_task_in_flight(to)) {
        s_task_count(self, dag, task, 1);
    }
    prom_task_moved(self->prom, from, to);
}

limits_totals_t
limits_totals(const limits_t *self)
{
    return self->totals;
}

void
limits_set_prom(limits_t *self, prom_t *prom)
{
    self->prom = prom;
}

/* ----------------------------------------------------------------- admit */

/* Whether run_id is among the first `room` queued runs of dag. */
static bool
s_run_in_turn(limits_t *self, const char *dag, uint64_t run_id, uint32_t room)
{
    zlistx_t *list = zhashx_lookup(self->queued, dag);
    uint32_t rank = 0;
    for (void *at = list ? zlistx_first(list) : NULL; at && rank < room;
         at = zlistx_next(list), rank++) {
        if (ITEM_RUN(at) == run_id) {
            return true;
        }
    }
    return !list; /* not tracked: nothing ahead of it */
}

static bool
s_pool_admit(limits_t *self, const dag_task_t *task, char *why, size_t size)
{
    uint32_t slots, used;
    if (!limits_pool_get(self, task->pool, &slots, &used)) {
        snprintf(why, size,
                 "pool '%s' does not exist; create it with 'sluice pool "
                 "set %s SLOTS'",
                 task->pool, task->pool);
        return false;
    }
    if (task->pool_slots > slots) {
        snprintf(
            why, size,
            "pool '%s' has %" PRIu32 " slots and the task takes "
            "%" PRIu32 "; raise them with 'sluice pool set %s %" PRIu32 "'",
            task->pool, slots, task->pool_slots, task->pool, task->pool_slots);
        return false;
    }
    if (used + task->pool_slots > slots) {
        snprintf(why, size, "pool '%s' %" PRIu32 "/%" PRIu32 " in use",
                 task->pool, used, slots);
        return false;
    }
    return true;
}

bool
limits_admit(limits_t *self,
             const dag_t *dag,
             uint64_t run_id,
             bool run_queued,
             const dag_task_t *task,
             char *why,
             size_t size)
{
    const char *name = dag_name(dag);
    uint32_t max_runs = dag_max_active_runs(dag);
    uint32_t runs = s_get(self->dag_runs, name);
    if (run_queued && (runs >= max_runs ||
                       !s_run_in_turn(self, name, run_id, max_runs - runs))) {
        snprintf(why, size, "max_active_runs %" PRIu32 " reached", max_runs);
        return false;
    }
    uint32_t max_tasks = dag_max_active_tasks(dag);
    if (max_tasks && s_get(self->dag_task, name) >= max_tasks) {
        snprintf(why, size, "max_active_tasks %" PRIu32 " reached", max_tasks);
        return false;
    }
    if (task->max_active) {
        char key[512];
        s_task_key(key, sizeof key, name, task->id);
        if (s_get(self->per_task, key) >= task->max_active) {
            snprintf(why, size, "max_active %" PRIu32 " of task '%s' reached",
                     task->max_active, task->id);
            return false;
        }
    }
    return !task->pool || s_pool_admit(self, task, why, size);
}

/* ------------------------------------------------------------------ order */

int64_t
limits_effective(int32_t priority, int64_t queued_mono, int64_t now)
{
    int64_t waited = now > queued_mono ? now - queued_mono : 0;
    return (int64_t) priority + waited / LIMITS_AGING_MS;
}

static int
s_ready_compare(const void *a, const void *b)
{
    const limits_ready_t *x = a, *y = b;
    if (x->backfill != y->backfill) {
        return x->backfill ? 1 : -1;
    }
    if (x->effective != y->effective) {
        return x->effective > y->effective ? -1 : 1;
    }
    if (x->queued_mono != y->queued_mono) {
        return x->queued_mono < y->queued_mono ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

bool
limits_ready_before(const limits_ready_t *x,
                    const limits_ready_t *y,
                    int64_t now_mono)
{
    limits_ready_t a = *x, b = *y;
    a.effective = limits_effective(a.priority, a.queued_mono, now_mono);
    b.effective = limits_effective(b.priority, b.queued_mono, now_mono);
    return s_ready_compare(&a, &b) < 0;
}

bool
limits_order(limits_ready_t *entries, size_t n, int64_t now_mono)
{
    bool mixed = false;
    for (size_t i = 1; i < n && !mixed; i++) {
        mixed = entries[i].priority != entries[0].priority ||
                entries[i].backfill != entries[0].backfill;
    }
    if (!mixed) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        entries[i].effective = limits_effective(
            entries[i].priority, entries[i].queued_mono, now_mono);
    }
    qsort(entries, n, sizeof *entries, s_ready_compare);
    return true;
}
