/* sched_prom — what the loop tells the Prometheus registry (prom.h).
 *
 * Counters are added where things happen (limits for finished tasks and
 * runs, sched_drop, the alert outcomes); what is a state rather than an
 * event is copied here after each commit: the queue and run gauges every
 * turn (a few loads), the workers and pools only on upkeep turns, since
 * they walk the fleet and the pools. A turn that fails to commit may have
 * counted its events already: counters can run ahead of the store by that
 * turn, never behind. */
#include <inttypes.h>

#include "common/clock.h"
#include "scheduler/autoscale/autoscale.h"
#include "scheduler/limits.h"
#include "scheduler/prom.h"
#include "scheduler/sched_internal.h"

void
sched_prom_start(sched_t *self)
{
    self->prom = prom_new();
}

void
sched_prom_stop(sched_t *self)
{
    prom_destroy(&self->prom);
}

void
sched_prom_plan(sched_t *self)
{
    limits_set_prom(plan_limits(self->plan), self->prom);
}

static void
s_pool(void *arg, const char *pool, uint32_t slots, uint32_t used)
{
    prom_pool_set(arg, pool, used, slots);
}

/* Workers by state, the connected ones' slots, and the pools. */
static void
s_walk(sched_t *self)
{
    int64_t workers[FLEET_GONE + 1] = {0};
    int64_t slots = 0, free_slots = 0;
    for (fleet_worker_t *w = fleet_first(self->fleet); w;
         w = fleet_next(self->fleet)) {
        fleet_state_t state = fleet_state(w);
        workers[state <= FLEET_GONE ? state : FLEET_GONE]++;
        if (state == FLEET_CONNECTED) {
            slots += fleet_slots(w);
            free_slots += fleet_free(w);
        }
    }
    for (size_t i = 0; i <= FLEET_GONE; i++) {
        prom_set(self->prom, PROM_WORKERS, i, workers[i]);
    }
    prom_set(self->prom, PROM_WORKER_SLOTS, 0, slots);
    prom_set(self->prom, PROM_WORKER_SLOTS_FREE, 0, free_slots);
    prom_pools_begin(self->prom);
    limits_pool_each(plan_limits(self->plan), s_pool, self->prom);
    prom_pools_end(self->prom);
    if (self->autoscale) {
        autoscale_counts_t c = autoscale_counts(self->autoscale);
        prom_set(self->prom, PROM_AUTOSCALER_LAUNCHES, 0, (int64_t) c.launches);
        prom_set(self->prom, PROM_AUTOSCALER_LAUNCH_FAILURES, 0,
                 (int64_t) c.failed);
    }
}

void
sched_prom_committed(sched_t *self, uint64_t commit_started_us, bool walk)
{
    prom_observe(self->prom, PROM_H_STORE_COMMIT,
                 prom_clock_us() - commit_started_us);
    limits_totals_t t = limits_totals(plan_limits(self->plan));
    prom_set(self->prom, PROM_TASKS_QUEUED, 0,
             (int64_t) plan_ready_count(self->plan));
    prom_set(self->prom, PROM_TASKS_RUNNING, 0, t.in_flight);
    prom_set(self->prom, PROM_RUNS, RUN_QUEUED, t.runs_queued);
    prom_set(self->prom, PROM_RUNS, RUN_RUNNING, t.runs_running);
    if (walk) {
        s_walk(self);
    }
}

void
sched_prom_dispatched(sched_t *self, const plan_dispatch_t *d, int64_t now)
{
    int64_t waited = now - d->queued_mono;
    prom_observe(self->prom, PROM_H_DISPATCH_LATENCY,
                 waited > 0 ? (uint64_t) waited * 1000 : 0);
}

void
sched_prom_result(sched_t *self, const plan_result_t *result)
{
    if (result->duration_ms >= 0) {
        prom_observe(self->prom, PROM_H_TASK_DURATION,
                     (uint64_t) result->duration_ms * 1000);
    }
    if (result->state != ATTEMPT_SUCCESS) {
        prom_attempt_failed(self->prom, result->cause);
    }
}

int
sched_attempt_lost(sched_t *self,
                   uint64_t attempt_id,
                   const char *cause,
                   const char *reason,
                   int64_t now,
                   errbuf_t *err)
{
    int rc = plan_attempt_lost(self->plan, attempt_id, cause, reason, now, err);
    if (rc == 0) {
        prom_attempt_failed(self->prom, cause);
    }
    return rc;
}
