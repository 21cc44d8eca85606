/* sched_autoscale — the scheduler's side of the autoscaler: the
 * provider from the config, one step per turn at most every
 * SCHED_AUTOSCALE_STEP_MS, fresh join tokens, drains, events, and the
 * `autoscale status` request. */
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/join.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/autoscale/autoscale.h"
#include "scheduler/autoscale/autoscale_async.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_workers.h"

/* The command and slurm providers may be absent from a build: then they
 * cannot be chosen. */
#pragma weak autoscale_command_new
#pragma weak autoscale_slurm_new

/* ---------------------------------------------------------------- hooks */

static char *
s_join(void *arg, errbuf_t *err)
{
    sched_t *self = arg;
    char token[ADMIT_TOKEN_SIZE];
    int64_t now = clock_wall_ms();
    /* Unused tokens die soon after the launch counts as failed. */
    uint64_t ttl = self->config->launch_timeout_ms * 2 + 60000;
    if (admit_token_create(self->admit, ttl, 1, now, token, err) < 0) {
        sched_fail_turn(self, err);
        return NULL;
    }
    char *host_port =
        join_advertised(self->config->listen, self->config->advertise);
    char *line = join_format(host_port, keys_public(self->key),
                             curve_public(self->curve));
    char *join = xasprintf("%s?token=%s", line, token);
    free(line);
    free(host_port);
    return join;
}

static void
s_drain_worker(void *arg, const char *name)
{
    sched_t *self = arg;
    fleet_worker_t *worker = fleet_by_name(self->fleet, name);
    if (!worker) {
        return;
    }
    errbuf_t err;
    if (store_worker_set_state(self->store, name, "draining", clock_wall_ms(),
                               &err) < 0 ||
        sched_identity_drain(self, worker, &err) < 0) {
        sched_fail_turn(self, &err);
    }
    sched_return_held(self, worker);
}

static void
s_event(void *arg, const char *kind, const char *subject, const char *detail)
{
    sched_t *self = arg;
    errbuf_t err;
    if (store_event(self->store, clock_wall_ms(), "autoscaler", kind, subject,
                    detail, &err) < 0) {
        sched_fail_turn(self, &err);
    }
}

/* ---------------------------------------------------------------- start */

static autoscale_provider_t *
s_provider(sched_t *self, errbuf_t *err)
{
    const config_t *c = self->config;
    const char *name = c->autoscale_provider;
    if (!strcmp(name, "local")) {
        char self_exe[PATH_MAX] = "";
        ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
        self_exe[n > 0 ? n : 0] = '\0';
        char *dir = xasprintf("%s/autoscale", self->dir);
        autoscale_provider_t *p = autoscale_local_new(
            *c->autoscale_sluice ? c->autoscale_sluice : self_exe, dir, err);
        free(dir);
        return p;
    }
    /* The operator's programs and sbatch may take long: on a thread of
     * their own, the scheduler's loop never waits for them. */
    bool command = !strcmp(name, "command") && autoscale_command_new;
    bool slurm = !strcmp(name, "slurm") && autoscale_slurm_new;
    if (command || slurm) {
        autoscale_provider_t *blocking =
            command ? autoscale_command_new(c->autoscale_command, err)
                    : autoscale_slurm_new(c->autoscale_partition, err);
        autoscale_provider_t *p =
            blocking ? autoscale_async_new(&blocking, err) : NULL;
        if (blocking) {
            autoscale_provider_destroy(&blocking); /* no thread started */
        }
        return p;
    }
    errbuf_set(err,
               "autoscale_provider '%s' is not one this build has; use none, "
               "local, command or slurm",
               name);
    return NULL;
}

int
sched_autoscale_start(sched_t *self, errbuf_t *err)
{
    const config_t *c = self->config;
    if (!strcmp(c->autoscale_provider, "none") || !*c->autoscale_provider) {
        return 0;
    }
    autoscale_provider_t *provider = s_provider(self, err);
    if (!provider) {
        return -1;
    }
    autoscale_policy_t policy = {
        .min_workers = c->min_workers,
        .max_workers = c->max_workers,
        .max_launch_per_step = c->max_launch_per_step,
        .scale_up_delay_ms = c->scale_up_delay_ms,
        .idle_timeout_ms = c->idle_timeout_ms,
        .cooldown_ms = c->cooldown_ms,
        .launch_timeout_ms = c->launch_timeout_ms,
    };
    autoscale_hooks_t hooks = {
        .arg = self, .join = s_join, .drain = s_drain_worker, .event = s_event};
    self->autoscale =
        autoscale_new(&policy, c->worker_shapes, &provider, &hooks, err);
    if (!self->autoscale) {
        autoscale_provider_destroy(&provider);
        return -1;
    }
    if (autoscale_reconcile(self->autoscale, clock_mono_ms(), err) < 0) {
        log_warn("autoscaler: cannot list the provider's workers: %s",
                 errbuf_msg(err));
    }
    log_info("autoscaler on: provider %s, %u to %u workers, shapes '%s'",
             c->autoscale_provider, c->min_workers, c->max_workers,
             c->worker_shapes);
    return 0;
}

void
sched_autoscale_stop(sched_t *self)
{
    autoscale_destroy(&self->autoscale);
}

/* ----------------------------------------------------------------- step */

typedef struct {
    autoscale_task_t *tasks;
    size_t n, cap;
    zlistx_t *keys; /* owned strings the tasks point to */
} s_demand_t;

static void
s_ready(void *arg, uint64_t run_id, const dag_task_t *task)
{
    s_demand_t *d = arg;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->tasks = xrealloc(d->tasks, d->cap * sizeof *d->tasks);
    }
    char *key = xasprintf("%" PRIu64 "/%s", run_id, task->id);
    zlistx_add_end(d->keys, key);
    d->tasks[d->n++] = (autoscale_task_t){.key = key,
                                          .id = task->id,
                                          .cpus = task->cpus,
                                          .memory_mb = task->memory_mb,
                                          .gpus = task->gpus,
                                          .nlabels = task->nlabels,
                                          .labels = task->labels};
}

static autoscale_worker_t *
s_workers(sched_t *self, size_t *n)
{
    size_t cap = 16, count = 0;
    autoscale_worker_t *out = xcalloc(cap, sizeof *out);
    zlistx_t *ids = zlistx_new();
    for (fleet_worker_t *w = fleet_first(self->fleet); w;
         w = fleet_next(self->fleet)) {
        if (count == cap) {
            cap *= 2;
            out = xrealloc(out, cap * sizeof *out);
        }
        zlistx_purge(ids);
        fleet_worker_attempts(w, ids);
        out[count++] =
            (autoscale_worker_t){.name = fleet_name(w),
                                 .connected = fleet_state(w) == FLEET_CONNECTED,
                                 .draining = fleet_draining(w),
                                 .running = (uint32_t) zlistx_size(ids)};
    }
    zlistx_destroy(&ids);
    *n = count;
    return out;
}

int64_t
sched_autoscale_next(sched_t *self)
{
    return self->autoscale ? self->autoscale_last + SCHED_AUTOSCALE_STEP_MS
                           : -1;
}

void
sched_autoscale_step(sched_t *self, int64_t now)
{
    if (!self->autoscale || now < sched_autoscale_next(self)) {
        return;
    }
    self->autoscale_last = now;
    autoscale_local_reap(autoscale_provider(self->autoscale));
    s_demand_t demand = {.keys = zlistx_new()};
    zlistx_set_destructor(demand.keys, (zlistx_destructor_fn *) zstr_free);
    plan_each_startable(self->plan, s_ready, &demand);
    size_t nworkers = 0;
    autoscale_worker_t *workers = s_workers(self, &nworkers);
    autoscale_step(self->autoscale, now, demand.tasks, demand.n, workers,
                   nworkers);
    free(workers);
    free(demand.tasks);
    zlistx_destroy(&demand.keys);
}

/* --------------------------------------------------------------- status */

Sluice__Reply *
sched_autoscale_status(sched_t *self, const Sluice__Request *req)
{
    Sluice__AutoscaleStatusRep *out = xmalloc(sizeof *out);
    sluice__autoscale_status_rep__init(out);
    if (self->autoscale) {
        autoscale_status(self->autoscale, clock_mono_ms(), out);
    } else {
        out->provider = xstrdup("none");
        out->min_workers = self->config->min_workers;
        out->max_workers = self->config->max_workers;
        out->waiting = (uint32_t) plan_ready_count(self->plan);
    }
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_AUTOSCALE_STATUS);
    rep->autoscale_status = out;
    return rep;
}
