/* sched_worker — the scheduler's side of the worker protocol: one handler
 * per message type, reached through a table. A Result of a current
 * attempt is applied to the plan between the result observers (see
 * sched_observe): the features that keep something of it register there
 * instead of being called from here. */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_audit.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_runs.h"
#include "scheduler/store/store_workers.h"

/* --------------------------------------------------------------- helpers */

/* The registered worker a message came from: by routing id, else by its
 * (verified) key, adopting the new routing id after a reconnect. */
static fleet_worker_t *
s_sender(sched_t *self, zframe_t *from, const env_msg_t *env)
{
    fleet_worker_t *worker = fleet_by_routing(self->fleet, from);
    if (worker &&
        memcmp(fleet_public_key(worker), env->signer, KEYS_PUBLIC_SIZE) == 0) {
        return worker;
    }
    worker = fleet_by_key(self->fleet, env->signer);
    if (!worker || fleet_state(worker) != FLEET_CONNECTED) {
        return NULL;
    }
    fleet_set_routing(worker, from);
    return worker;
}

/* True when attempt_id is in flight on this worker, as `what` (a message
 * that came in env) says. One about an attempt in flight on another worker
 * is another worker's business: it is counted and audited (sched_identity)
 * and changes nothing. One about an attempt no longer in flight is the
 * caller's to handle as stale. */
static bool
s_mine(sched_t *self,
       const fleet_worker_t *worker,
       const env_msg_t *env,
       uint64_t attempt_id,
       const char *what)
{
    const char *owner = plan_attempt_worker(self->plan, attempt_id);
    if (!owner || strcmp(owner, fleet_name(worker)) == 0) {
        return owner != NULL;
    }
    char detail[256];
    snprintf(detail, sizeof detail,
             "worker '%s' sent %s about attempt %" PRIu64 ", which runs on "
             "worker '%s'; ignored",
             fleet_name(worker), what, attempt_id, owner);
    sched_identity_refused(self, env->signer, SCHED_ID_NOT_OWN, detail);
    return false;
}

/* The worker started these attempts: the prefetched ones among them leave
 * dispatched for running. Ids not in flight here change nothing. */
static void
s_started(sched_t *self,
          const fleet_worker_t *worker,
          const env_msg_t *env,
          const uint64_t *ids,
          size_t n)
{
    errbuf_t err;
    for (size_t i = 0; i < n; i++) {
        if (s_mine(self, worker, env, ids[i], "a running list") &&
            plan_attempt_started(self->plan, ids[i], clock_wall_ms(), &err) <
                0) {
            sched_fail_turn(self, &err);
            return;
        }
    }
}

/* What the worker holds, running and prefetched: an attempt it stops
 * listing for a whole window is lost (fleet_overdue). */
static void
s_report_held(fleet_worker_t *worker,
              const uint64_t *running,
              size_t nrunning,
              const uint64_t *queued,
              size_t nqueued)
{
    uint64_t *all = xcalloc(nrunning + nqueued + 1, sizeof *all);
    if (nrunning) {
        memcpy(all, running, nrunning * sizeof *all);
    }
    if (nqueued) {
        memcpy(all + nrunning, queued, nqueued * sizeof *all);
    }
    fleet_report_running(worker, all, nrunning + nqueued, clock_mono_ms());
    free(all);
}

/* The window a worker offers, capped by our `prefetch` setting. */
static uint32_t
s_prefetch(const sched_t *self, uint32_t offered)
{
    return offered < self->config->prefetch ? offered : self->config->prefetch;
}

static void
s_labels_join(const Sluice__Resources *res, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; res && i < res->n_labels; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", i ? "," : "", res->labels[i]);
    }
}

/* --------------------------------------------------------------- register */

/* Keeps the attempts the worker still holds that are its own in flight;
 * appends the others to cancel[]. */
static size_t
s_adopt(sched_t *self,
        fleet_worker_t *worker,
        const env_msg_t *env,
        const uint64_t *ids,
        size_t n,
        uint64_t *cancel)
{
    size_t ncancel = 0;
    for (size_t i = 0; i < n; i++) {
        const char *owner = plan_attempt_worker(self->plan, ids[i]);
        if (!owner) {
            cancel[ncancel++] = ids[i]; /* no longer current */
        } else if (!s_mine(self, worker, env, ids[i], "a register")) {
            continue; /* another worker's: nothing to cancel here */
        } else if (!fleet_has_attempt(worker, ids[i])) {
            fleet_assign(worker, ids[i], NULL, clock_mono_ms());
        }
    }
    return ncancel;
}

static void
s_welcome(sched_t *self,
          zframe_t *to,
          fleet_worker_t *worker,
          const env_msg_t *env)
{
    const Sluice__Register *reg = (const Sluice__Register *) env->body;
    uint64_t *cancel =
        xcalloc(reg->n_running + reg->n_queued + 1, sizeof *cancel);
    size_t ncancel =
        s_adopt(self, worker, env, reg->running, reg->n_running, cancel);
    ncancel += s_adopt(self, worker, env, reg->queued, reg->n_queued,
                       cancel + ncancel);
    s_started(self, worker, env, reg->running, reg->n_running);
    s_report_held(worker, reg->running, reg->n_running, reg->queued,
                  reg->n_queued);
    Sluice__Welcome welcome = SLUICE__WELCOME__INIT;
    welcome.worker = reg->name;
    welcome.heartbeat_ms = self->worker_hb_ms;
    welcome.liveness = self->config->liveness;
    welcome.wall_ms = (uint64_t) clock_wall_ms();
    welcome.log_cap_bytes = self->config->log_cap_bytes;
    welcome.n_cancel = ncancel;
    welcome.cancel = cancel;
    sched_send(self, self->workers, to, SLUICE__MSG_TYPE__MSG_WELCOME,
               &welcome.base, 0);
    free(cancel);
}

static void
s_on_register(sched_t *self, zframe_t *from, env_msg_t *env)
{
    const Sluice__Register *reg = (const Sluice__Register *) env->body;
    if (!reg->name || !*reg->name || reg->slots == 0) {
        sched_refuse(self, self->workers, from, REFUSE_E_MALFORMED,
                     "register needs a name and at least 1 slot");
        return;
    }
    char labels[512];
    s_labels_join(reg->resources, labels, sizeof labels);
    fleet_info_t info = {
        .name = reg->name,
        .hostname = reg->hostname,
        .public_key = env->signer,
        .slots = reg->slots,
        .free_slots = reg->free_slots,
        .prefetch = s_prefetch(self, reg->prefetch),
        .cpus = reg->resources ? reg->resources->cpus : 0,
        .memory_mb = reg->resources ? reg->resources->memory_mb : 0,
        .gpus = reg->resources ? reg->resources->gpus : 0,
        .labels = labels,
    };
    fleet_worker_t *worker =
        fleet_register(self->fleet, &info, from, clock_mono_ms());
    if (!worker) {
        char reason[256];
        snprintf(reason, sizeof reason,
                 "worker name '%s' is in use by a connected worker with "
                 "another key; start this one with a different --name",
                 reg->name);
        log_warn("%s", reason);
        sched_refuse(self, self->workers, from, REFUSE_E_NOT_ADMITTED, reason);
        return;
    }
    fleet_set_minor(worker, env->minor); /* what we may send it */
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(env->signer, hex);
    int64_t now = clock_wall_ms();
    store_worker_t row = {.name = reg->name,
                          .hostname = reg->hostname,
                          .public_hex = hex,
                          .state = "connected",
                          .slots = reg->slots,
                          .cpus = info.cpus,
                          .memory_mb = info.memory_mb,
                          .gpus = info.gpus,
                          .labels = labels,
                          .now = now};
    errbuf_t err;
    if (store_worker_upsert(self->store, &row, &err) < 0 ||
        store_event(self->store, now, "worker", "worker_registered", reg->name,
                    reg->hostname, &err) < 0) {
        sched_fail_turn(self, &err);
        return;
    }
    int64_t skew = (int64_t) reg->wall_ms - now;
    log_info("worker '%s' registered from %s: %u slots, %" PRIu64
             " MB, clock skew %+" PRId64 " ms, %zu attempts still running",
             reg->name, reg->hostname, reg->slots, info.memory_mb, skew,
             reg->n_running);
    s_welcome(self, from, worker, env);
}

/* ------------------------------------------------------------- heartbeat */

static void
s_on_heartbeat(sched_t *self, fleet_worker_t *worker, env_msg_t *env)
{
    const Sluice__Heartbeat *hb = (const Sluice__Heartbeat *) env->body;
    s_started(self, worker, env, hb->running, hb->n_running);
    s_report_held(worker, hb->running, hb->n_running, hb->queued, hb->n_queued);
    fleet_report_free(worker, hb->free_slots);
    fleet_set_prefetch(worker, s_prefetch(self, hb->prefetch));
}

/* ------------------------------------------------------------------- logs */

static void
s_on_log(sched_t *self, fleet_worker_t *worker, env_msg_t *env)
{
    const Sluice__LogChunk *chunk = (const Sluice__LogChunk *) env->body;
    if (!s_mine(self, worker, env, chunk->attempt_id, "a log chunk") ||
        !plan_attempt_log(self->plan, chunk->attempt_id, chunk->seq,
                          chunk->data.len,
                          self->config->log_cap_bytes + 4096)) {
        return; /* not this worker's attempt in flight, a duplicate, or
                   over the cap */
    }
    size_t len = chunk->data.len;
    uint8_t *masked = sched_secrets_mask(self, chunk->attempt_id, chunk->seq,
                                         chunk->stream, chunk->data.data, &len);
    errbuf_t err;
    if (store_log_append(self->store, chunk->attempt_id, chunk->seq,
                         (int) chunk->stream, (int64_t) chunk->wall_ms,
                         masked ? masked : chunk->data.data, len, &err) < 0) {
        sched_fail_turn(self, &err);
    }
    free(masked);
}

/* ----------------------------------------------------------------- result */

static attempt_state_t
s_attempt_state(const Sluice__Result *result)
{
    switch (result->outcome) {
        case SLUICE__OUTCOME__OUTCOME_EXITED:
            return result->exit_code == 0 && !result->outputs_missing
                       ? ATTEMPT_SUCCESS
                       : ATTEMPT_FAILED;
        case SLUICE__OUTCOME__OUTCOME_TIMED_OUT:
            return ATTEMPT_TIMED_OUT;
        case SLUICE__OUTCOME__OUTCOME_CANCELLED:
            return ATTEMPT_CANCELLED;
        default:
            return ATTEMPT_FAILED;
    }
}

/* The structured cause of a failed attempt, as retry_on names it; NULL for
 * a success. */
static const char *
s_cause(const Sluice__Result *result)
{
    switch (result->outcome) {
        case SLUICE__OUTCOME__OUTCOME_EXITED:
            if (result->exit_code == 0 && !result->outputs_missing) {
                return NULL; /* and every declared output written */
            }
            return "exit";
        case SLUICE__OUTCOME__OUTCOME_SIGNALED:
            return "signal";
        case SLUICE__OUTCOME__OUTCOME_TIMED_OUT:
            return "timeout";
        case SLUICE__OUTCOME__OUTCOME_CANCELLED:
            return "cancelled";
        case SLUICE__OUTCOME__OUTCOME_OOM:
            return "oom";
        case SLUICE__OUTCOME__OUTCOME_REFUSED:
            return "refused";
        default:
            return "spawn";
    }
}

/* The Result says how many chunks the worker sent; fewer arrived means
 * the stored log has a gap, which the operator should hear about. */
static void
s_check_log_complete(sched_t *self,
                     fleet_worker_t *worker,
                     const Sluice__Result *res)
{
    uint64_t got = plan_attempt_log_seq(self->plan, res->attempt_id);
    if (res->log_chunks > got) {
        log_warn("attempt %" PRIu64 ": the log chunks after %" PRIu64
                 " of the %" PRIu64 " that worker '%s' sent did not arrive; "
                 "its stored log is incomplete",
                 res->attempt_id, got, res->log_chunks, fleet_name(worker));
    }
}

void
sched_observe(sched_t *self,
              const char *name,
              sched_phase_t phase,
              sched_result_fn *fn,
              void *arg)
{
    assert(self->nobservers < SCHED_OBSERVERS_MAX);
    self->observers[self->nobservers++] =
        (sched_observer_t){.name = name, .phase = phase, .fn = fn, .arg = arg};
}

/* Runs the observers of one phase in order; the first failure stops them
 * (the turn is rolled back). */
static int
s_notify(sched_t *self,
         sched_phase_t phase,
         const sched_result_t *result,
         errbuf_t *err)
{
    for (size_t i = 0; i < self->nobservers; i++) {
        const sched_observer_t *o = &self->observers[i];
        if (o->phase == phase && o->fn(o->arg, result, err) < 0) {
            log_flag(STORE, "attempt %" PRIu64 ": result observer '%s' failed",
                     result->res->attempt_id, o->name);
            return -1;
        }
    }
    return 0;
}

static plan_result_t
s_plan_result(const Sluice__Result *res)
{
    return (plan_result_t){
        .state = s_attempt_state(res),
        .cause = s_cause(res),
        .exit_code = res->outcome == SLUICE__OUTCOME__OUTCOME_EXITED
                         ? res->exit_code
                         : -1,
        .signal = res->signal,
        .started_at = (int64_t) res->started_ms,
        .ended_at = (int64_t) res->ended_ms,
        .duration_ms = (int64_t) res->duration_ms,
        .peak_rss_kb = res->peak_rss_kb,
        .error = res->error,
        .branch = (const char *const *) res->branch,
        .nbranch = res->n_branch,
        .branch_read = res->branch_read,
    };
}

/* The result of the attempt this worker runs: the observers before and
 * after the plan applies it. Returns 0, PLAN_STALE, or -1 with err. */
static int
s_apply_result(sched_t *self,
               fleet_worker_t *worker,
               env_msg_t *env,
               errbuf_t *err)
{
    const Sluice__Result *res = (const Sluice__Result *) env->body;
    sched_result_keep(self, env); /* for 'sluice verify' */
    s_check_log_complete(self, worker, res);
    plan_result_t result = s_plan_result(res);
    const char *dag = plan_attempt_dag(self->plan, res->attempt_id);
    char *producer = dag ? xstrdup(dag) : NULL; /* gone once applied */
    sched_result_t observed = {.res = res,
                               .success = result.state == ATTEMPT_SUCCESS,
                               .dag = producer};
    int rc = s_notify(self, SCHED_BEFORE_APPLY, &observed, err);
    if (rc == 0) {
        rc =
            plan_attempt_result(self->plan, res->attempt_id, fleet_name(worker),
                                &result, clock_wall_ms(), err);
    }
    if (rc == 0) {
        sched_prom_result(self, &result);
        rc = s_notify(self, SCHED_AFTER_APPLY, &observed, err);
    }
    free(producer);
    return rc;
}

static void
s_on_result(sched_t *self, fleet_worker_t *worker, env_msg_t *env)
{
    const Sluice__Result *res = (const Sluice__Result *) env->body;
    s_started(self, worker, env, res->started, res->n_started);
    const char *owner = plan_attempt_worker(self->plan, res->attempt_id);
    if (owner && !s_mine(self, worker, env, res->attempt_id, "a result")) {
        /* Acked so that it is not sent again; recorded nowhere. */
        fleet_report_free(worker, res->free_slots);
        sched_ack_later(self, fleet_name(worker), res->attempt_id);
        return;
    }
    bool mine = owner != NULL;
    errbuf_t err;
    int rc = mine ? s_apply_result(self, worker, env, &err)
                  : store_attempt_stale(self->store, res->attempt_id,
                                        fleet_name(worker),
                                        "result from a worker the attempt "
                                        "was not assigned to (or no longer "
                                        "current)",
                                        clock_wall_ms(), &err);
    if (rc < 0) {
        sched_fail_turn(self, &err);
        return;
    }
    uint64_t quiet = 0;
    if ((!mine || rc == PLAN_STALE) &&
        sched_identity_say(self, "stale_result", fleet_name(worker), &quiet)) {
        log_info("stale result for attempt %" PRIu64 " from worker '%s' "
                 "recorded; it changes nothing (%" PRIu64 " more from this "
                 "worker not logged in the minute before)",
                 res->attempt_id, fleet_name(worker), quiet);
    }
    fleet_release(self->fleet, fleet_name(worker), res->attempt_id);
    fleet_report_free(worker, res->free_slots);
    sched_ack_later(self, fleet_name(worker), res->attempt_id);
}

void
sched_return_held(sched_t *self, fleet_worker_t *worker)
{
    zlistx_t *ids = zlistx_new();
    fleet_worker_attempts(worker, ids);
    for (void *id = zlistx_first(ids); id && fleet_routing(worker);
         id = zlistx_next(ids)) {
        uint64_t attempt_id = (uint64_t) (uintptr_t) id;
        if (!plan_attempt_held(self->plan, attempt_id)) {
            continue;
        }
        Sluice__Cancel cancel = SLUICE__CANCEL__INIT;
        cancel.attempt_id = attempt_id;
        cancel.reason = "given back: the worker is draining";
        sched_send(self, self->workers, fleet_routing(worker),
                   SLUICE__MSG_TYPE__MSG_CANCEL, &cancel.base, 0);
    }
    zlistx_destroy(&ids);
}

/* ---------------------------------------------------- refused and goodbye */

static void
s_on_task_refused(sched_t *self, fleet_worker_t *worker, env_msg_t *env)
{
    const Sluice__TaskRefused *refused =
        (const Sluice__TaskRefused *) env->body;
    fleet_report_free(worker, refused->free_slots);
    if (!s_mine(self, worker, env, refused->attempt_id, "a task refusal")) {
        /* Only the worker an attempt was sent to may give it back; one no
         * longer in flight is already settled. */
        log_flag(PROTO,
                 "worker '%s' refused attempt %" PRIu64 ", which is not in "
                 "flight there; ignored",
                 fleet_name(worker), refused->attempt_id);
        return;
    }
    log_warn("worker '%s' refused attempt %" PRIu64 ": %s", fleet_name(worker),
             refused->attempt_id, refused->reason);
    fleet_set_prefetch(worker, 0);
    char reason[512];
    snprintf(reason, sizeof reason, "refused by worker '%s': %s",
             fleet_name(worker), refused->reason);
    errbuf_t err;
    if (sched_attempt_lost(self, refused->attempt_id, "refused", reason,
                           clock_wall_ms(), &err) < 0) {
        sched_fail_turn(self, &err);
    }
    fleet_release(self->fleet, fleet_name(worker), refused->attempt_id);
}

static void
s_on_goodbye(sched_t *self, fleet_worker_t *worker, env_msg_t *env)
{
    const Sluice__Goodbye *bye = (const Sluice__Goodbye *) env->body;
    const char *name = fleet_name(worker);
    log_info("worker '%s' left: %s", name, bye->reason);
    zlistx_t *ids = zlistx_new();
    fleet_worker_attempts(worker, ids);
    int64_t now = clock_wall_ms();
    errbuf_t err;
    int rc = store_worker_set_state(self->store, name, "gone", now, &err);
    if (rc == 0) {
        rc = store_event(self->store, now, "worker", "worker_left", name,
                         bye->reason, &err);
    }
    if (rc == 0 && fleet_draining(worker)) {
        /* The drain is over: started again later, it takes work. */
        rc = store_worker_set_admin(self->store, name, "", &err);
    }
    for (void *id = zlistx_first(ids); id && rc == 0; id = zlistx_next(ids)) {
        uint64_t attempt_id = (uint64_t) (uintptr_t) id;
        rc = sched_attempt_lost(self, attempt_id, "lost", "worker left", now,
                                &err) < 0
                 ? -1
                 : 0;
        fleet_release(self->fleet, name, attempt_id);
    }
    zlistx_destroy(&ids);
    fleet_set_state(worker, FLEET_GONE);
    if (rc < 0) {
        sched_fail_turn(self, &err);
    }
}

static void
s_on_refuse(sched_t *self, fleet_worker_t *worker, env_msg_t *env)
{
    (void) self;
    const Sluice__Refuse *refuse = (const Sluice__Refuse *) env->body;
    log_warn("worker '%s' refused us (code %u): %s", fleet_name(worker),
             refuse->code, refuse->reason);
}

/* --------------------------------------------------------------- dispatch */

typedef void(s_handler_fn)(sched_t *, fleet_worker_t *, env_msg_t *);

static const struct {
    int type;
    s_handler_fn *handle;
} s_handlers[] = {
    {SLUICE__MSG_TYPE__MSG_HEARTBEAT, s_on_heartbeat},
    {SLUICE__MSG_TYPE__MSG_LOG, s_on_log},
    {SLUICE__MSG_TYPE__MSG_RESULT, s_on_result},
    {SLUICE__MSG_TYPE__MSG_TASK_REFUSED, s_on_task_refused},
    {SLUICE__MSG_TYPE__MSG_GOODBYE, s_on_goodbye},
    {SLUICE__MSG_TYPE__MSG_REFUSE, s_on_refuse},
};

/* A Result this scheduler already handled came again: it is acked only
 * over the signer's own connection (its worker sending again a result
 * whose ack it lost), never recorded again. */
static void
s_ack_again(sched_t *self, zframe_t *from, const env_msg_t *env)
{
    fleet_worker_t *own = fleet_by_routing(self->fleet, from);
    if (own &&
        memcmp(fleet_public_key(own), env->signer, KEYS_PUBLIC_SIZE) == 0) {
        sched_ack_later(self, fleet_name(own),
                        ((const Sluice__Result *) env->body)->attempt_id);
    }
}

/* One message other than Register, alone or a batch's item. seen is
 * sched_result_seen for a Result (-1: not looked up yet). */
static void
s_on_message(sched_t *self, zframe_t *from, env_msg_t *env, int seen)
{
    if (env->type == SLUICE__MSG_TYPE__MSG_RESULT) {
        if (seen < 0) {
            seen = sched_result_seen(self, env);
        }
        if (seen == STORE_KEPT_SAME) {
            sched_result_replayed(self, env);
        }
        if (seen != STORE_KEPT_NONE) {
            s_ack_again(self, from, env);
            return;
        }
    }
    fleet_worker_t *worker = s_sender(self, from, env);
    if (!worker) {
        sched_drop(self, "worker", ENV_EUNTRUSTED,
                   "message from a worker that is not registered");
        return;
    }
    fleet_heard(worker, clock_mono_ms());
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers[0]; i++) {
        if (s_handlers[i].type == env->type) {
            s_handlers[i].handle(self, worker, env);
            return;
        }
    }
    sched_drop(self, "worker", ENV_EMALFORMED,
               "message type not used on the worker socket");
}

/* A batch (verified whole by env_open): its items in order, each as if it
 * had come alone. The same batch again (a Result in it already stored
 * under its signature) is refused whole, counted once. */
static void
s_on_batch(sched_t *self, zframe_t *from, env_msg_t *batch)
{
    int *seen = xcalloc(batch->nitems, sizeof *seen);
    bool replayed = false;
    for (size_t i = 0; i < batch->nitems; i++) {
        bool result = batch->items[i].type == SLUICE__MSG_TYPE__MSG_RESULT;
        seen[i] = result ? sched_result_seen(self, &batch->items[i]) : -1;
        if (seen[i] == STORE_KEPT_SAME && !replayed) {
            replayed = true;
            sched_result_replayed(self, &batch->items[i]);
        }
    }
    for (size_t i = 0; i < batch->nitems; i++) {
        env_msg_t *item = &batch->items[i];
        if (replayed) {
            if (item->type == SLUICE__MSG_TYPE__MSG_RESULT) {
                s_ack_again(self, from, item);
            }
        } else if (item->type == SLUICE__MSG_TYPE__MSG_REGISTER) {
            sched_drop(self, "worker", ENV_EMALFORMED,
                       "a register inside a batch (it must come alone)");
        } else {
            s_on_message(self, from, item, seen[i]);
        }
    }
    free(seen);
}

void
sched_on_worker(sched_t *self, zframe_t *from, env_msg_t *env)
{
    log_flag(PROTO, "worker socket: %s", env_type_name(env->type));
    if (!sched_keys_admit_worker(self, from, env)) {
        return; /* not admitted: refused or dropped there */
    }
    if (env->type == SLUICE__MSG_TYPE__MSG_REGISTER) {
        s_on_register(self, from, env);
    } else if (env->type == SLUICE__MSG_TYPE__MSG_BATCH) {
        s_on_batch(self, from, env);
    } else {
        s_on_message(self, from, env, -1);
    }
}
