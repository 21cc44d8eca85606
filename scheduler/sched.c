/* sched — the scheduler daemon's event loop.
 *
 * One thread, one loop. Each turn: wait for a message or the next timer,
 * open one transaction, take every waiting message from both sockets, run
 * timers (heartbeats, lost workers, retries), dispatch ready tasks to free
 * slots, commit, and only then send what the turn produced (tasks, acks,
 * replies). Nothing is acknowledged before it is committed; a failed commit
 * drops the turn's output and rebuilds memory from the store. */
#include "scheduler/sched.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/dag.h"
#include "common/errbuf.h"
#include "common/join.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/version.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/envelope.h"
#include "scheduler/api.h"
#include "scheduler/fleet.h"
#include "scheduler/limits.h"
#include "scheduler/plan.h"
#include "scheduler/http_loop.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_runs.h"
#include "scheduler/store/store_workers.h"

/* Bounds on one turn, so a flood cannot starve timers or grow a txn: a
 * batch counts its items (the last one taken may go past the bound). */
#define SCHED_MAX_MSGS_PER_TURN 256
#define SCHED_MAX_MSG_SIZE      (32 * 1024 * 1024)

/* ---------------------------------------------------------------- trust */

static bool
s_trust_worker(void *arg, const uint8_t *signer, int type)
{
    sched_t *self = arg;
    /* Any key may register (admission comes with key acceptance); every
     * other message must come from a registered worker's key. */
    return type == SLUICE__MSG_TYPE__MSG_REGISTER ||
           fleet_key_known(self->fleet, signer);
}

static bool
s_trust_client(void *arg, const uint8_t *signer, int type)
{
    sched_t *self = arg;
    (void) type;
    /* The local CLI, or a key trusted with a role (sched_audit.c). */
    return sched_client_trusted(self, signer);
}

/* -------------------------------------------------------------- receive */

/* Pops the routing frame and opens the envelope; on a version mismatch
 * answers with Refuse so the peer can say why it was turned away. */
static int
s_open(sched_t *self,
       zsock_t *socket,
       const char *name,
       env_trust_fn *trust,
       zmsg_t *msg,
       zframe_t **from,
       env_msg_t *env)
{
    *from = zmsg_pop(msg);
    errbuf_t err;
    errbuf_clear(&err);
    int rc = *from ? env_open(msg, trust, self, env, &err) : ENV_EMALFORMED;
    if (rc == ENV_OK) {
        return 0;
    }
    sched_drop(self, name, rc, errbuf_msg(&err));
    if (rc == ENV_EVERSION) {
        sched_refuse(self, socket, *from, REFUSE_E_VERSION, err.msg);
    }
    zframe_destroy(from);
    return -1;
}

static void
s_drain(sched_t *self,
        zsock_t *socket,
        const char *name,
        env_trust_fn *trust,
        void (*handle)(sched_t *, zframe_t *, env_msg_t *),
        int *budget)
{
    while (*budget > 0 && (zsock_events(socket) & ZMQ_POLLIN)) {
        zmsg_t *msg = xzmq_recv(socket);
        if (!msg) {
            break;
        }
        (*budget)--;
        sched_keys_peer(self, msg); /* its connection's CURVE key */
        zframe_t *from;
        env_msg_t env;
        if (s_open(self, socket, name, trust, msg, &from, &env) == 0) {
            /* A batch counts as many messages as it holds items. */
            *budget -= env.nitems > 1 ? (int) env.nitems - 1 : 0;
            handle(self, from, &env);
            env_msg_clear(&env);
            zframe_destroy(&from);
        }
        zmsg_destroy(&msg);
    }
}

/* --------------------------------------------------------------- timers */

int64_t
sched_liveness_window(const sched_t *self)
{
    return (int64_t) self->window_hb_ms * self->config->liveness;
}

/* Workers beat every heartbeat_ms, or less often when the fleet would
 * send more than max_heartbeats_per_second together (each costs us one
 * signature check). Liveness counts with the longest interval told within
 * the last window, so that a worker not yet told a shorter one is not
 * lost for keeping to the longer one. */
static void
s_pace_workers(sched_t *self, int64_t now)
{
    uint64_t n = fleet_connected_count(self->fleet);
    uint64_t rate = self->config->max_heartbeats_per_second;
    uint64_t paced = rate ? (n * 1000 + rate - 1) / rate : 0;
    uint64_t want =
        paced > self->config->heartbeat_ms ? paced : self->config->heartbeat_ms;
    self->worker_hb_ms = (uint32_t) (want > UINT32_MAX ? UINT32_MAX : want);
    if (self->worker_hb_ms >= self->window_hb_ms) {
        self->window_hb_ms = self->worker_hb_ms;
        self->window_shrink_at = -1;
    } else if (self->window_shrink_at < 0) {
        self->window_shrink_at = now + sched_liveness_window(self);
    } else if (now >= self->window_shrink_at) {
        self->window_hb_ms = self->worker_hb_ms;
        self->window_shrink_at = -1;
    }
}

/* Every heartbeat_ms: the pace is looked at again; the workers hear from
 * us at their own pace (they expect us within it, times liveness), and at
 * once when it changed, so that none waits longer than it was told. */
static void
s_heartbeat(sched_t *self, int64_t now)
{
    if (now - self->last_pace < (int64_t) self->config->heartbeat_ms) {
        return;
    }
    self->last_pace = now;
    uint32_t told = self->worker_hb_ms;
    s_pace_workers(self, now);
    if (now - self->last_heartbeat >= (int64_t) self->worker_hb_ms ||
        self->worker_hb_ms != told) {
        self->last_heartbeat = now;
        sched_heartbeat_all(self);
    }
}

/* Re-queues attempts that will never report. */
static int
s_lose_attempts(sched_t *self,
                zlistx_t *ids,
                const char *reason,
                int64_t now_wall,
                errbuf_t *err)
{
    for (void *id = zlistx_first(ids); id; id = zlistx_next(ids)) {
        uint64_t attempt_id = (uint64_t) (uintptr_t) id;
        const char *worker = plan_attempt_worker(self->plan, attempt_id);
        char *name = xstrdup(worker);
        int rc =
            sched_attempt_lost(self, attempt_id, "lost", reason, now_wall, err);
        fleet_release(self->fleet, name, attempt_id);
        free(name);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

static int
s_check_liveness(sched_t *self, int64_t now, int64_t now_wall, errbuf_t *err)
{
    int64_t window = sched_liveness_window(self);
    zlistx_t *lost = zlistx_new();
    zlistx_set_destructor(lost, (zlistx_destructor_fn *) zstr_free);
    fleet_expire(self->fleet, now, window, lost);
    int rc = 0;
    for (char *name = zlistx_first(lost); name && rc == 0;
         name = zlistx_next(lost)) {
        log_warn("worker '%s' lost: nothing heard for %" PRId64 " ms", name,
                 window);
        zlistx_t *ids = zlistx_new();
        fleet_attempts(self->fleet, name, ids);
        rc = store_worker_set_state(self->store, name, "lost", now_wall, err);
        if (rc == 0) {
            rc = store_event(self->store, now_wall, "scheduler", "worker_lost",
                             name, "missed heartbeats", err);
        }
        if (rc == 0) {
            rc = s_lose_attempts(self, ids, "worker lost", now_wall, err);
        }
        zlistx_destroy(&ids);
    }
    zlistx_destroy(&lost);
    if (rc == 0) {
        zlistx_t *overdue = zlistx_new();
        fleet_overdue(self->fleet, now, window, overdue);
        rc = s_lose_attempts(self, overdue,
                             "worker stopped reporting the attempt", now_wall,
                             err);
        zlistx_destroy(&overdue);
    }
    return rc;
}

/* ------------------------------------------------------------- dispatch */

static void
s_send_task(sched_t *self, fleet_worker_t *worker, const plan_dispatch_t *d)
{
    uint8_t nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    Sluice__Task task = SLUICE__TASK__INIT;
    task.worker = (char *) fleet_name(worker);
    task.issued_ms = (uint64_t) clock_wall_ms();
    task.expires_ms = task.issued_ms + self->config->task_ttl_ms;
    task.nonce.data = nonce;
    task.nonce.len = sizeof nonce;
    task.attempt_id = d->attempt_id;
    task.run_id = d->run_id;
    task.dag = (char *) d->dag;
    task.task_id = (char *) d->task->id;
    task.attempt = d->attempt;
    task.command = d->command;
    task.n_argv = d->argc;
    task.argv = d->argv;
    task.timeout_ms = d->task->timeout_ms;
    task.kill_grace_ms = self->config->kill_grace_ms;
    task.logical_date = (char *) d->logical_date;
    task.kind = (char *) d->task->kind;
    task.limit_nofile = d->task->limit_nofile;
    task.limit_nproc = d->task->limit_nproc;
    task.n_inputs = d->ninputs;
    task.inputs = d->inputs;
    task.n_outputs = d->noutputs;
    task.outputs = d->outputs;
    char *profile = d->validate ? sched_reports_profile(self->store, d) : NULL;
    task.validate = d->validate;
    task.validate_profile = profile;
    Sluice__Resources res = SLUICE__RESOURCES__INIT;
    res.cpus = d->task->cpus;
    res.memory_mb = d->task->memory_mb;
    res.gpus = d->task->gpus;
    res.n_labels = d->task->nlabels;
    res.labels = (char **) d->task->labels;
    task.resources = &res;
    Sluice__EnvVar *vars = xcalloc(d->nenv + 1, sizeof *vars);
    Sluice__EnvVar **env = xcalloc(d->nenv + 1, sizeof *env);
    for (size_t i = 0; i < d->nenv; i++) {
        sluice__env_var__init(&vars[i]);
        vars[i].name = d->env_names[i];
        vars[i].value = d->env_values[i];
        env[i] = &vars[i];
    }
    task.n_env = d->nenv;
    task.env = env;
    task.n_acks = sched_take_acks(self, fleet_name(worker), &task.acks);
    sched_send(self, self->workers, fleet_routing(worker),
               SLUICE__MSG_TYPE__MSG_TASK, &task.base, 0);
    free(task.acks);
    free(env);
    free(vars);
    free(profile);
    log_flag(DISPATCH,
             "attempt %" PRIu64 " (run %" PRIu64 " task '%s' try %u) "
             "-> worker '%s'%s",
             d->attempt_id, d->run_id, d->task->id, d->attempt,
             fleet_name(worker), d->prefetched ? " (prefetched)" : "");
}

static fleet_need_t
s_need(const dag_task_t *task)
{
    return (fleet_need_t){.cpus = task->cpus,
                          .memory_mb = task->memory_mb,
                          .gpus = task->gpus,
                          .nlabels = task->nlabels,
                          .labels = task->labels};
}

static plan_place_t
s_place(void *arg,
        const dag_task_t *task,
        const char **worker,
        char *why,
        size_t size)
{
    sched_t *self = arg;
    if (!fleet_any_room(self->fleet)) {
        return PLAN_FULL;
    }
    fleet_need_t need = s_need(task);
    fleet_worker_t *w = fleet_place(self->fleet, &need, why, size);
    if (w) {
        *worker = fleet_name(w);
        return PLAN_PLACED;
    }
    /* No free slot fits it anywhere: a busy worker that could run it may
     * hold it, so that its next free slot finds it there. Not a sensor's
     * poke: held behind a long task it would look late, and keep its
     * fellow sensors from the slot that is free elsewhere. */
    w = strcmp(task->kind, "sensor") ? fleet_place_prefetch(self->fleet, &need)
                                     : NULL;
    if (!w) {
        return PLAN_WAIT;
    }
    *worker = fleet_name(w);
    return PLAN_PREFETCH;
}

static void
s_send(void *arg, const char *name, const plan_dispatch_t *d)
{
    sched_t *self = arg;
    fleet_worker_t *worker = fleet_by_name(self->fleet, name);
    fleet_need_t need = s_need(d->task);
    int64_t now = clock_mono_ms();
    fleet_assign(worker, d->attempt_id, &need, now);
    sched_prom_dispatched(self, d, now);
    s_send_task(self, worker, d);
}

static int
s_dispatch(sched_t *self, int64_t now_wall, errbuf_t *err)
{
    if (!plan_has_ready(self->plan) || !fleet_any_room(self->fleet)) {
        return 0;
    }
    return plan_dispatch_round(self->plan, s_place, s_send, self, now_wall,
                               err) < 0
               ? -1
               : 0;
}

/* A drained worker with nothing left to run is asked to leave. */
static void
s_release_drained(sched_t *self)
{
    fleet_worker_t *worker;
    while ((worker = fleet_next_drained(self->fleet))) {
        log_info("worker '%s' drained and idle: asking it to leave",
                 fleet_name(worker));
        Sluice__Goodbye bye = SLUICE__GOODBYE__INIT;
        bye.reason = "drained";
        bye.leave = true;
        sched_send(self, self->workers, fleet_routing(worker),
                   SLUICE__MSG_TYPE__MSG_GOODBYE, &bye.base, 0);
    }
}

/* ------------------------------------------------------------- recovery */

static void
s_on_restored_attempt(void *arg, uint64_t attempt_id, const char *worker)
{
    sched_t *self = arg;
    fleet_expect(self->fleet, worker, attempt_id, clock_mono_ms());
}

static int
s_restore_run(void *arg, const store_run_row_t *row)
{
    sched_t *self = arg;
    errbuf_t err;
    char *source =
        store_dag_source(self->store, row->dag, row->version, NULL, &err);
    dag_t *dag =
        source ? dag_parse(row->dag, source, strlen(source), NULL) : NULL;
    free(source);
    if (!dag) {
        log_error("run %" PRIu64 ": cannot reload DAG '%s' version %.12s; "
                  "the run stays as it is in the store",
                  row->run_id, row->dag, row->version);
        return 0;
    }
    int rc = plan_restore(self->plan, &dag, row, s_on_restored_attempt, self,
                          clock_wall_ms(), &err);
    dag_destroy(&dag);
    if (rc == 0) {
        sched_schedule_restored(self, row);
    }
    if (rc < 0) {
        log_error("run %" PRIu64 ": %s", row->run_id, errbuf_msg(&err));
    }
    return rc;
}

/* Rebuilds memory from the store: at start, and after a failed commit. */
static int
s_reload(sched_t *self, errbuf_t *err)
{
    plan_destroy(&self->plan);
    self->plan = plan_new(self->store);
    sched_secrets_plan(self);
    plan_set_lost_hook(self->plan, sched_alerts_on_lost, self);
    sched_prom_plan(self);
    fleet_clear_attempts(self->fleet);
    sched_schedule_invalidate(self);
    if (store_begin(self->store, err) < 0 ||
        limits_pools_load(plan_limits(self->plan), err) < 0 ||
        store_load_active(self->store, s_restore_run, self, err) < 0) {
        store_rollback(self->store);
        return -1;
    }
    return store_commit(self->store, err);
}

/* A commit failed (disk full, I/O error): nothing of this turn happened,
 * and memory is rebuilt from the store. */
static void
s_turn_failed(sched_t *self, const errbuf_t *why)
{
    log_error("store commit failed: %s", errbuf_msg(why));
    store_rollback(self->store);
    sched_out_discard(self, why);
    sched_http_release(self, errbuf_msg(why));
    errbuf_t err;
    if (s_reload(self, &err) < 0) {
        log_error("cannot reload state from the store: %s", errbuf_msg(&err));
    }
}

/* ----------------------------------------------------------------- turn */

/* Liveness and drains walk every worker: every S_UPKEEP_MS and when a
 * liveness window ends, not every turn, so that a busy loop's cost does
 * not grow with the fleet. */
#define S_UPKEEP_MS 50

static void
s_plan_upkeep(sched_t *self, int64_t now)
{
    int64_t window = sched_liveness_window(self);
    self->upkeep_at = now + S_UPKEEP_MS;
    self->expiry_at = fleet_next_expiry(self->fleet, window);
}

static int64_t
s_wait_ms(sched_t *self)
{
    int64_t now = clock_mono_ms();
    int64_t wait = self->last_pace + (int64_t) self->config->heartbeat_ms - now;
    int64_t due = plan_next_due(self->plan);
    if (due >= 0 && due - now < wait) {
        wait = due - now;
    }
    /* Wake when a worker's liveness window ends, so that a dead worker is
     * noticed within heartbeat_ms x liveness of its last message. */
    if (self->expiry_at >= 0 && self->expiry_at + 1 - now < wait) {
        wait = self->expiry_at + 1 - now;
    }
    int64_t step = sched_autoscale_next(self);
    if (step >= 0 && step - now < wait) {
        wait = step - now;
    }
    int64_t alerts = sched_alerts_next(self, now);
    if (alerts >= 0 && alerts - now < wait) {
        wait = alerts - now;
    }
    int64_t check = sched_deadlines_next(self);
    if (check - now < wait) {
        wait = check - now;
    }
    /* Wake when the next scheduled run is due (wall clock). */
    int64_t fire = sched_schedule_wait(self, clock_wall_ms());
    if (fire >= 0 && fire < wait) {
        wait = fire;
    }
    return wait < 0 ? 0 : wait;
}

static int
s_turn(sched_t *self)
{
    errbuf_t err;
    errbuf_clear(&err);
    if (store_begin(self->store, &err) < 0) {
        s_turn_failed(self, &err);
        return 0;
    }
    if (admit_serve(self->admit, clock_wall_ms(), &err) < 0) {
        sched_fail_turn(self, &err); /* ZAP handshakes waiting */
    }
    /* Before anything of this turn is queued: the delivery thread gets
     * only alerts already committed, so a turn that fails to commit has
     * sent none of its own. */
    if (sched_alerts_step(self, clock_mono_ms(), &err) < 0) {
        sched_fail_turn(self, &err);
    }
    /* A budget per socket: a flood on one cannot starve the other. */
    int budget = SCHED_MAX_MSGS_PER_TURN;
    s_drain(self, self->workers, "worker", s_trust_worker, sched_on_worker,
            &budget);
    budget = SCHED_MAX_MSGS_PER_TURN;
    s_drain(self, self->clients, "client", s_trust_client, sched_on_client,
            &budget);
    sched_http_take(self);
    int64_t now = clock_mono_ms();
    int64_t now_wall = clock_wall_ms();
    int rc = sched_turn_failed(self, &err) ? -1 : 0;
    bool upkeep = now >= self->upkeep_at ||
                  (self->expiry_at >= 0 && now > self->expiry_at);
    if (rc == 0 && upkeep) {
        rc = s_check_liveness(self, now, now_wall, &err);
    }
    if (rc == 0) {
        rc = plan_tick(self->plan, now, now_wall, &err);
    }
    if (rc == 0) {
        rc = sched_schedule_tick(self, now_wall, &err);
    }
    if (rc == 0) {
        rc = s_dispatch(self, now_wall, &err);
    }
    if (rc == 0) {
        rc = sched_deadlines_check(self, now, &err);
    }
    if (rc == 0) {
        sched_autoscale_step(self, now);
    }
    if (upkeep) {
        s_release_drained(self);
        s_plan_upkeep(self, now);
    }
    s_heartbeat(self, now);
    sched_queue_acks(self);
    /* Only the handlers' failures (taken above) undo the turn: what the
     * autoscaler's hooks could not write is dropped here. */
    errbuf_t late;
    (void) sched_turn_failed(self, &late);
    uint64_t commit_at = prom_clock_us();
    if (rc == 0 && store_commit(self->store, &err) == 0) {
        sched_prom_committed(self, commit_at, upkeep);
        sched_out_flush(self);
        sched_http_release(self, NULL);
        return 0;
    }
    s_turn_failed(self, &err);
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

static int
s_bind(sched_t *self,
       zsock_t **socket,
       const char *endpoint,
       const char *domain,
       errbuf_t *err)
{
    *socket = zsock_new(ZMQ_ROUTER);
    sched_keys_secure(self, *socket, domain); /* CURVE, checked by ZAP */
    zsock_set_maxmsgsize(*socket, SCHED_MAX_MSG_SIZE);
    zsock_set_sndhwm(*socket, 100000);
    zsock_set_rcvhwm(*socket, 100000);
    zsock_set_linger(*socket, 1000);
    if (zsock_bind(*socket, "%s", endpoint) < 0) {
        errbuf_set(err,
                   "cannot listen on %s: %s; is another scheduler running? "
                   "choose another port with --listen/--client-listen",
                   endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

/* store.db, when there is one, is private like the keys. */
static int
s_check_store_file(const char *dir, errbuf_t *err)
{
    char *db = statedir_path(dir, STATEDIR_STORE);
    int rc = statedir_exists(db) ? statedir_check_private(db, err) : 0;
    free(db);
    return rc;
}

static int
s_load_keys(sched_t *self, errbuf_t *err)
{
    char *key_path = statedir_path(self->dir, STATEDIR_SCHEDULER_KEY);
    char *client_path = statedir_path(self->dir, STATEDIR_CLIENT_PUB);
    int rc = -1;
    if (!statedir_exists(key_path)) {
        errbuf_set(err,
                   "no scheduler key in '%s'; run 'sluice init --dir %s' "
                   "first",
                   self->dir, self->dir);
    } else if (statedir_check_dir(self->dir, err) < 0 ||
               s_check_store_file(self->dir, err) < 0) {
        /* err says what to fix */
    } else if ((self->key = keys_load(key_path, err)) &&
               keys_load_public(client_path, self->client_key, err) == 0) {
        rc = 0;
    }
    free(key_path);
    free(client_path);
    return rc;
}

static int
s_start(sched_t *self, errbuf_t *err)
{
    if (s_load_keys(self, err) < 0) {
        return -1;
    }
    char *db = statedir_path(self->dir, STATEDIR_STORE);
    self->store = store_open(db, err);
    free(db);
    if (!self->store ||
        store_set_sync(self->store, strcmp(self->config->store_sync, "normal"),
                       err) < 0 ||
        sched_secrets_start(self, err) < 0) {
        return -1;
    }
    int64_t now_wall = clock_wall_ms();
    if (store_begin(self->store, err) < 0 ||
        store_workers_reset(self->store, now_wall, err) < 0 ||
        store_event(self->store, now_wall, "scheduler", "scheduler_started",
                    "scheduler", SLUICE_VERSION, err) < 0 ||
        store_commit(self->store, err) < 0) {
        return -1;
    }
    sched_schedule_start(self);
    if (sched_audit_start(self, err) < 0 || s_reload(self, err) < 0 ||
        sched_identity_restore(self, err) < 0) {
        return -1;
    }
    if (sched_keys_start(self, err) < 0 ||
        s_bind(self, &self->workers, self->config->listen, ADMIT_DOMAIN_WORKER,
               err) < 0 ||
        s_bind(self, &self->clients, self->config->client_listen,
               ADMIT_DOMAIN_CLIENT, err) < 0 ||
        sched_autoscale_start(self, err) < 0 ||
        sched_alerts_start(self, err) < 0 || sched_http_start(self, err) < 0) {
        return -1;
    }
    return 0;
}

/* Time the loop did not run beyond what it meant to (SIGSTOP, no CPU, a
 * slow fsync) would otherwise count as every worker's silence and make it
 * lost; a stall longer than a heartbeat is not held against them. */
static void
s_discount_stall(sched_t *self, int64_t late_ms)
{
    if (late_ms <= (int64_t) self->config->heartbeat_ms) {
        return;
    }
    fleet_discount(self->fleet, late_ms);
    log_warn("the scheduler did not run for %" PRId64 " ms (paused, short of "
             "CPU, or waiting on its disk); workers are not counted silent "
             "for that time",
             late_ms);
}

/* The features that keep something of a committed result, in the order
 * they run: before the plan applies it the attempt is still current (its
 * DAG, its secrets), after it the run has moved on. */
static void
s_observe_results(sched_t *self)
{
    sched_observe(self, "secret masking", SCHED_BEFORE_APPLY,
                  sched_secrets_on_result, self);
    sched_observe(self, "metrics", SCHED_BEFORE_APPLY, sched_metrics_on_result,
                  self->store);
    sched_observe(self, "task results", SCHED_BEFORE_APPLY,
                  sched_results_on_result, self->store);
    sched_observe(self, "cache", SCHED_BEFORE_APPLY, sched_cache_on_result,
                  self);
    sched_observe(self, "lineage", SCHED_AFTER_APPLY, sched_lineage_on_result,
                  self->store);
    sched_observe(self, "validation reports", SCHED_AFTER_APPLY,
                  sched_reports_on_result, self->store);
    sched_observe(self, "dataset triggers", SCHED_AFTER_APPLY,
                  sched_triggers_on_result, self);
    sched_observe(self, "alerts", SCHED_AFTER_APPLY, sched_alerts_on_result,
                  self);
    sched_observe(self, "deadlines", SCHED_AFTER_APPLY,
                  sched_deadlines_on_result, self);
}

sched_t *
sched_new(const char *dir, config_t **config_p, errbuf_t *err)
{
    assert(dir);
    assert(config_p && *config_p);
    sched_t *self = xcalloc(1, sizeof *self);
    self->dir = xstrdup(dir);
    self->config = *config_p;
    *config_p = NULL;
    self->fleet = fleet_new();
    sched_prom_start(self);
    sched_deadlines_start(self);
    sched_out_start(self);
    self->started = clock_mono_ms();
    self->last_heartbeat = 0;
    self->expiry_at = -1;
    self->worker_hb_ms = (uint32_t) self->config->heartbeat_ms;
    self->window_hb_ms = self->worker_hb_ms;
    self->window_shrink_at = -1;
    if (sodium_init() < 0) {
        errbuf_set(err, "libsodium failed to start");
        sched_destroy(&self);
        return NULL;
    }
    if (s_start(self, err) < 0) {
        sched_destroy(&self);
        return NULL;
    }
    s_observe_results(self);
    self->poller = zpoller_new(self->workers, self->clients,
                               admit_socket(self->admit), NULL);
    if (self->http_loop) {
        zpoller_add(self->poller, http_loop_socket(self->http_loop));
    }
    return self;
}

void
sched_destroy(sched_t **self_p)
{
    assert(self_p);
    sched_t *self = *self_p;
    if (!self) {
        return;
    }
    sched_http_stop(self);
    zpoller_destroy(&self->poller);
    zsock_destroy(&self->workers);
    zsock_destroy(&self->clients);
    sched_autoscale_stop(self);
    sched_alerts_stop(self);
    sched_deadlines_stop(self);
    sched_schedule_stop(self);
    plan_destroy(&self->plan);
    fleet_destroy(&self->fleet);
    sched_prom_stop(self);
    sched_secrets_stop(self);
    sched_keys_stop(self);
    store_destroy(&self->store);
    keys_destroy(&self->key);
    config_destroy(&self->config);
    sched_out_stop(self);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

const char *
sched_endpoint(sched_t *self, sched_socket_t which)
{
    assert(self);
    zsock_t *socket = which == SCHED_WORKERS ? self->workers : self->clients;
    return zsock_endpoint(socket);
}

int
sched_turn(sched_t *self, int timeout_ms)
{
    assert(self);
    if (zsys_interrupted) {
        return -1;
    }
    int64_t wait = s_wait_ms(self);
    if (timeout_ms >= 0 && timeout_ms < wait) {
        wait = timeout_ms;
    }
    int64_t wake_by = clock_mono_ms() + wait;
    zpoller_wait(self->poller, (int) wait);
    if (zpoller_terminated(self->poller)) {
        return -1;
    }
    s_discount_stall(self, clock_mono_ms() - wake_by);
    int64_t turn_start = clock_mono_ms();
    s_turn(self);
    s_discount_stall(self, clock_mono_ms() - turn_start);
    return 0;
}

int
sched_run(sched_t *self)
{
    assert(self);
    char *join = join_advertised(self->config->listen, self->config->advertise);
    char *line =
        join_format(join, keys_public(self->key), curve_public(self->curve));
    log_info("scheduler %s listening for workers on %s and clients on %s; "
             "%zu active runs",
             SLUICE_VERSION, self->config->listen, self->config->client_listen,
             plan_run_count(self->plan));
    log_info("workers join with: sluice worker --join %s", line);
    free(line);
    free(join);
    while (sched_turn(self, -1) == 0) {
    }
    log_info("scheduler stopping: committing and closing");
    s_turn(self);
    sched_drop_summary(self);
    return 0;
}

/* ------------------------------------------------------------------ main */

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice scheduler [--dir DIR] [--print-config] "
            "[--trust-client-key] [--SETTING VALUE]...\n\n"
            "Runs the scheduler daemon in the foreground until SIGINT or "
            "SIGTERM.\n\n"
            "  --dir DIR          state directory (default $SLUICE_DIR, else "
            "./.sluice)\n"
            "  --print-config     print the effective settings and exit\n"
            "  --trust-client-key trust DIR/client.pub as the local operator "
            "although\n"
            "                     it changed since the last start (audited)\n"
            "  --SETTING VALUE    override a setting of config.yaml, e.g.\n"
            "                     --listen tcp://*:7700 --client-listen "
            "tcp://127.0.0.1:7701\n"
            "                     --heartbeat-ms 1000 --liveness 3 "
            "--log-level debug\n"
            "                     --http-listen 127.0.0.1:7702 (the HTTP "
            "API, web UI and\n"
            "                     /metrics; \"\" turns them off)\n\n"
            "exit status: 0 stopped cleanly, 1 failed to start, 2 usage\n");
}

/* Applies the --SETTING VALUE pairs of argv to config; -1 (printed) on a
 * usage error. */
static int
s_parse_settings(config_t *config, int argc, char **argv)
{
    errbuf_t err;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print-config") == 0 ||
            strcmp(argv[i], "--trust-client-key") == 0) {
            continue;
        }
        if (strcmp(argv[i], "--dir") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr,
                    "sluice scheduler: unexpected argument '%s'; see "
                    "'sluice scheduler --help'\n",
                    argv[i]);
            return -1;
        }
        char *name = xstrdup(argv[i] + 2);
        for (char *p = name; *p; p++) {
            *p = *p == '-' ? '_' : *p;
        }
        int rc = config_set(config, name, argv[++i], &err);
        free(name);
        if (rc < 0) {
            fprintf(stderr, "sluice scheduler: %s\n", errbuf_msg(&err));
            return -1;
        }
    }
    return 0;
}

/* Parses flags into *dir_p and *config_p (both owned by the caller).
 * Returns -1 on a usage error (printed), 1 when the command is done (help,
 * print-config). */
static int
s_parse_args(int argc, char **argv, char **dir_p, config_t **config_p)
{
    const char *dir = NULL;
    bool print = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 1;
        } else if (strcmp(argv[i], "--print-config") == 0) {
            print = true;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        }
    }
    *dir_p = statedir_resolve(dir);
    char *path = statedir_path(*dir_p, STATEDIR_CONFIG);
    errbuf_t err;
    *config_p = config_load(path, &err);
    free(path);
    if (!*config_p) {
        fprintf(stderr, "sluice scheduler: %s\n", errbuf_msg(&err));
        return -1;
    }
    if (s_parse_settings(*config_p, argc, argv) < 0) {
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trust-client-key") == 0) {
            (*config_p)->trust_client_key = true;
        }
    }
    if (print) {
        config_print(*config_p, stdout);
        return 1;
    }
    return 0;
}

int
sched_main(int argc, char **argv)
{
    umask(077); /* store.db, its -wal and -shm, keys: owner only */
    char *dir = NULL;
    config_t *config = NULL;
    int rc = s_parse_args(argc, argv, &dir, &config);
    if (rc != 0) {
        config_destroy(&config);
        free(dir);
        return rc < 0 ? 2 : 0;
    }
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse(config->log_level, &level);
    log_init("scheduler", level);
    log_set_flags(log_flags_parse(getenv("SLUICE_DEBUG")));
    errbuf_t err;
    errbuf_clear(&err);
    sched_t *self = sched_new(dir, &config, &err);
    free(dir);
    if (!self) {
        fprintf(stderr, "sluice scheduler: %s\n", errbuf_msg(&err));
        return 1;
    }
    sched_run(self);
    sched_destroy(&self);
    log_info("scheduler stopped");
    return 0;
}
