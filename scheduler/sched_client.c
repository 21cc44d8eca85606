/* sched_client — the scheduler's side of the client protocol: one table
 * says, for each request, the role it needs and the handler that answers
 * it. The role check and its audit happen once, before the handler.
 * Requests that only read the store go to handlers that take the store
 * (the control API, api.c, and the read-only features); requests that
 * change state (apply, trigger, cancel, drain, retry) and live views
 * (workers) are handled here, inside the turn's transaction. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/dtime.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_alerts.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_metrics.h"
#include "scheduler/store/store_runs.h"
#include "scheduler/store/store_workers.h"

/* ------------------------------------------------------------ dag apply */

/* All parse errors as one message, one per line. Caller owns the result. */
static char *
s_join_errors(zlist_t *errors)
{
    size_t size = 1;
    for (char *e = zlist_first(errors); e; e = zlist_next(errors)) {
        size += strlen(e) + 1;
    }
    char *text = xcalloc(1, size);
    for (char *e = zlist_first(errors); e; e = zlist_next(errors)) {
        if (*text) {
            strcat(text, "\n");
        }
        strcat(text, e);
    }
    return text;
}

static Sluice__Reply *
s_dag_apply(sched_t *self, const Sluice__Request *req)
{
    const Sluice__DagApplyReq *apply = req->dag_apply;
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse(apply->filename, apply->source,
                           strlen(apply->source), errors);
    if (!dag) {
        char *text = s_join_errors(errors);
        zlist_destroy(&errors);
        Sluice__Reply *rep =
            api_error(req->request_id, API_E_BAD_REQUEST, "%s", text);
        free(text);
        return rep;
    }
    zlist_destroy(&errors);
    int64_t now = clock_wall_ms();
    bool changed = false;
    errbuf_t err;
    if (sched_alerts_check_dag(self, apply->filename, dag, &err) < 0) {
        dag_destroy(&dag);
        return api_error(req->request_id, API_E_BAD_REQUEST, "%s",
                         errbuf_msg(&err));
    }
    if (store_dag_put(self->store, dag_name(dag), dag_version(dag),
                      apply->source, apply->filename, now, &changed,
                      &err) < 0 ||
        (changed &&
         store_event(self->store, now, sched_actor(self), "dag_applied",
                     dag_name(dag), dag_version(dag), &err) < 0) ||
        sched_triggers_dag_applied(self->store, dag, &err) < 0 ||
        store_alert_dag_put(self->store, dag_name(dag), dag, &err) < 0) {
        sched_fail_turn(self, &err);
        dag_destroy(&dag);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_DAG_APPLY);
    rep->dag_apply = xmalloc(sizeof *rep->dag_apply);
    sluice__dag_apply_rep__init(rep->dag_apply);
    rep->dag_apply->name = xstrdup(dag_name(dag));
    rep->dag_apply->version = xstrdup(dag_version(dag));
    rep->dag_apply->changed = changed;
    rep->dag_apply->tasks = (uint32_t) dag_task_count(dag);
    if (changed) {
        log_info("DAG '%s' applied, version %.12s", dag_name(dag),
                 dag_version(dag));
        sched_schedule_applied(self, dag);
    }
    dag_destroy(&dag);
    return rep;
}

/* --------------------------------------------------------------- trigger */

/* The DAG's params, the request's over the defaults, each checked
 * against its declaration (dag_params_resolve); -1 with err set when the
 * request names an undeclared param or gives a value its rules refuse. */
static int
s_effective_params(const dag_t *dag,
                   const Sluice__TriggerReq *trigger,
                   dag_kv_t *params,
                   errbuf_t *err)
{
    dag_kv_t *given = xcalloc(trigger->n_params + 1, sizeof *given);
    for (size_t j = 0; j < trigger->n_params; j++) {
        given[j].name = trigger->params[j]->name;
        given[j].value = trigger->params[j]->value;
    }
    int rc = dag_params_resolve(dag, given, trigger->n_params, params, err);
    free(given);
    return rc;
}

static Sluice__Reply *
s_trigger_reply(uint64_t request_id,
                uint64_t run_id,
                const char *dag,
                const char *version)
{
    Sluice__Reply *rep = sched_reply(request_id, SLUICE__REPLY__OP_TRIGGER);
    rep->trigger = xmalloc(sizeof *rep->trigger);
    sluice__trigger_rep__init(rep->trigger);
    rep->trigger->run_id = run_id;
    rep->trigger->dag = xstrdup(dag);
    rep->trigger->version = xstrdup(version);
    return rep;
}

/* A manual run's logical date: --logical-date, else the trigger time;
 * its {{ ds }}: --date, else the logical date's day in the DAG's zone. */
typedef struct {
    tz_t *tz; /* owned: the DAG's zone */
    int64_t logical;
    char ds[16];
} trigger_time_t;

/* Fills *when; 0, or an API_E_* code with err set. */
static int
s_trigger_time(sched_t *self,
               const dag_t *dag,
               const Sluice__TriggerReq *trigger,
               trigger_time_t *when,
               errbuf_t *err)
{
    memset(when, 0, sizeof *when);
    if (!(when->tz = sched_schedule_zone(self, dag_timezone(dag), err))) {
        return API_E_BAD_REQUEST;
    }
    const char *at = trigger->logical_time;
    uint64_t run_id;
    run_state_t state;
    if (at && *at) {
        if (dtime_parse(at, when->tz, &when->logical, err) < 0) {
            errbuf_prefix(err, "--logical-date");
            return API_E_BAD_REQUEST;
        }
        if (store_run_by_logical(self->store, dag_name(dag), when->logical,
                                 &run_id, &state, err) == 0) {
            errbuf_set(err,
                       "DAG '%s' already has run %" PRIu64 " with logical "
                       "date %s; retry it with 'sluice retry %" PRIu64
                       "' or choose another --logical-date",
                       dag_name(dag), run_id, at, run_id);
            return API_E_BAD_REQUEST;
        }
    } else if ((when->logical = sched_schedule_free_logical(
                    self, dag_name(dag), clock_wall_ms(), err)) < 0) {
        return API_E_INTERNAL;
    }
    if (trigger->logical_date && *trigger->logical_date) {
        snprintf(when->ds, sizeof when->ds, "%s", trigger->logical_date);
    } else {
        tz_format_date(when->tz, when->logical, when->ds, sizeof when->ds);
    }
    return 0;
}

static Sluice__Reply *
s_trigger(sched_t *self, const Sluice__Request *req)
{
    const Sluice__TriggerReq *trigger = req->trigger;
    errbuf_t err;
    dag_t *dag = NULL;
    int found = sched_dag_current(self, trigger->dag, &dag, &err);
    if (found == STORE_ENOTFOUND) {
        return api_error(req->request_id, API_E_NOT_FOUND,
                         "DAG '%s' is not applied; apply it with 'sluice dag "
                         "apply FILE' (see 'sluice dag list')",
                         trigger->dag);
    }
    if (found != 0) {
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    trigger_time_t when;
    int code = s_trigger_time(self, dag, trigger, &when, &err);
    if (code != 0) {
        tz_destroy(&when.tz);
        dag_destroy(&dag);
        return api_error(req->request_id, (uint32_t) code, "%s",
                         errbuf_msg(&err));
    }
    dag_kv_t *params = xcalloc(dag_param_count(dag) + 1, sizeof *params);
    Sluice__Reply *rep = NULL;
    uint64_t run_id = 0;
    char *name = xstrdup(dag_name(dag));
    char *version = xstrdup(dag_version(dag));
    int64_t now = clock_wall_ms();
    if (s_effective_params(dag, trigger, params, &err) < 0) {
        rep = api_error(req->request_id, API_E_BAD_REQUEST, "%s",
                        errbuf_msg(&err));
        dag_destroy(&dag);
    } else if (plan_trigger(self->plan, &dag, params, dag_param_count(dag),
                            when.ds, "manual", now, &run_id, &err) < 0) {
        dag_destroy(&dag);
        sched_fail_turn(self, &err);
        rep =
            api_error(req->request_id, API_E_INTERNAL, "%s", errbuf_msg(&err));
    } else {
        char subject[32];
        snprintf(subject, sizeof subject, "run %" PRIu64, run_id);
        if (sched_schedule_tag(self, run_id, when.tz, when.logical,
                               when.logical, when.logical, &err) < 0 ||
            store_event(self->store, now, sched_actor(self), "trigger", subject,
                        name, &err) < 0 ||
            (trigger->no_cache &&
             store_run_extras_put(self->store, run_id, true, "", &err) < 0)) {
            sched_fail_turn(self, &err);
        }
        log_info("run %" PRIu64 " of '%s' triggered", run_id, name);
        rep = s_trigger_reply(req->request_id, run_id, name, version);
    }
    free(params);
    free(name);
    free(version);
    tz_destroy(&when.tz);
    return rep;
}

/* ---------------------------------------------------------------- cancel */

static void
s_send_cancels(sched_t *self, zlistx_t *running)
{
    for (void *id = zlistx_first(running); id; id = zlistx_next(running)) {
        uint64_t attempt_id = (uint64_t) (uintptr_t) id;
        const char *name = plan_attempt_worker(self->plan, attempt_id);
        fleet_worker_t *worker = name ? fleet_by_name(self->fleet, name) : NULL;
        if (!worker || !fleet_routing(worker)) {
            continue;
        }
        Sluice__Cancel cancel = SLUICE__CANCEL__INIT;
        cancel.attempt_id = attempt_id;
        cancel.reason = "run cancelled";
        sched_send(self, self->workers, fleet_routing(worker),
                   SLUICE__MSG_TYPE__MSG_CANCEL, &cancel.base, 0);
    }
}

static Sluice__Reply *
s_cancel(sched_t *self, const Sluice__Request *req)
{
    uint64_t run_id = req->cancel->run_id;
    zlistx_t *running = zlistx_new();
    uint32_t cancelled = 0;
    int64_t now = clock_wall_ms();
    errbuf_t err;
    Sluice__Reply *rep;
    if (plan_cancel_run(self->plan, run_id, running, &cancelled, now, &err) <
        0) {
        rep =
            api_error(req->request_id, API_E_NOT_FOUND, "%s", errbuf_msg(&err));
    } else {
        s_send_cancels(self, running);
        char subject[32];
        snprintf(subject, sizeof subject, "run %" PRIu64, run_id);
        if (store_event(self->store, now, sched_actor(self), "cancel", subject,
                        "", &err) < 0) {
            sched_fail_turn(self, &err);
        }
        log_info("run %" PRIu64 " cancelled: %u tasks, %zu running attempts "
                 "told to stop",
                 run_id, cancelled, zlistx_size(running));
        rep = sched_reply(req->request_id, SLUICE__REPLY__OP_CANCEL);
        rep->cancel = xmalloc(sizeof *rep->cancel);
        sluice__cancel_rep__init(rep->cancel);
        rep->cancel->run_id = run_id;
        rep->cancel->state = xstrdup("cancelled");
        rep->cancel->cancelled_tasks = cancelled;
    }
    zlistx_destroy(&running);
    return rep;
}

/* --------------------------------------------------------------- workers */

static Sluice__WorkerInfo *
s_worker_info(fleet_worker_t *worker)
{
    Sluice__WorkerInfo *info = xmalloc(sizeof *info);
    sluice__worker_info__init(info);
    info->name = xstrdup(fleet_name(worker));
    info->hostname = xstrdup(fleet_hostname(worker));
    info->state = xstrdup(fleet_status(worker));
    info->slots = fleet_slots(worker);
    info->free_slots = fleet_free(worker);
    info->resources = xmalloc(sizeof *info->resources);
    sluice__resources__init(info->resources);
    info->resources->cpus = fleet_cpus(worker);
    info->resources->memory_mb = fleet_memory_mb(worker);
    info->resources->gpus = fleet_gpus(worker);
    int64_t ago = clock_mono_ms() - fleet_last_heard(worker);
    info->last_seen_ms = (uint64_t) (clock_wall_ms() - ago);
    info->first_seen_ms = (uint64_t) fleet_first_seen(worker);
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(fleet_public_key(worker), fp);
    info->fingerprint = xstrdup(fp);
    zlistx_t *ids = zlistx_new();
    fleet_worker_attempts(worker, ids);
    info->n_running = zlistx_size(ids);
    info->running = xcalloc(info->n_running + 1, sizeof *info->running);
    size_t i = 0;
    for (void *id = zlistx_first(ids); id; id = zlistx_next(ids)) {
        info->running[i++] = (uint64_t) (uintptr_t) id;
    }
    zlistx_destroy(&ids);
    return info;
}

static Sluice__Reply *
s_workers(sched_t *self, const Sluice__Request *req)
{
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_WORKERS);
    rep->workers = xmalloc(sizeof *rep->workers);
    sluice__workers_rep__init(rep->workers);
    size_t n = 0;
    for (fleet_worker_t *w = fleet_first(self->fleet); w;
         w = fleet_next(self->fleet)) {
        n++;
    }
    rep->workers->workers = xcalloc(n + 1, sizeof *rep->workers->workers);
    for (fleet_worker_t *w = fleet_first(self->fleet); w;
         w = fleet_next(self->fleet)) {
        rep->workers->workers[rep->workers->n_workers++] = s_worker_info(w);
    }
    return rep;
}

/* ----------------------------------------------------------------- drain */

static Sluice__Reply *
s_drain(sched_t *self, const Sluice__Request *req)
{
    const char *name = req->drain->worker;
    fleet_worker_t *worker = fleet_by_name(self->fleet, name);
    if (!worker || fleet_state(worker) != FLEET_CONNECTED) {
        return api_error(req->request_id, API_E_NOT_FOUND,
                         "worker '%s' is not connected; see 'sluice workers'",
                         name);
    }
    int64_t now = clock_wall_ms();
    errbuf_t err;
    if (store_worker_set_state(self->store, name, "draining", now, &err) < 0 ||
        store_event(self->store, now, sched_actor(self), "drain", name, "",
                    &err) < 0 ||
        sched_identity_drain(self, worker, &err) < 0) {
        sched_fail_turn(self, &err);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    sched_return_held(self, worker);
    zlistx_t *ids = zlistx_new();
    fleet_worker_attempts(worker, ids);
    log_info("worker '%s' draining: no new tasks; it leaves when its %zu "
             "running attempts end",
             name, zlistx_size(ids));
    Sluice__Reply *rep = sched_reply(req->request_id, SLUICE__REPLY__OP_DRAIN);
    rep->drain = xmalloc(sizeof *rep->drain);
    sluice__drain_rep__init(rep->drain);
    rep->drain->worker = xstrdup(name);
    rep->drain->state = xstrdup("draining");
    rep->drain->running = (uint32_t) zlistx_size(ids);
    zlistx_destroy(&ids);
    return rep;
}

/* ----------------------------------------------------------------- retry */

static Sluice__Reply *
s_retry(sched_t *self, const Sluice__Request *req)
{
    const Sluice__RetryReq *retry = req->retry;
    errbuf_t err;
    errbuf_clear(&err);
    int64_t now = clock_wall_ms();
    uint32_t reopened = 0;
    int rc =
        sched_retry_run(self, retry->run_id, retry->task_id, &reopened, &err);
    if (rc < 0) {
        return api_error(req->request_id,
                         rc == STORE_ENOTFOUND ? API_E_NOT_FOUND
                                               : API_E_BAD_REQUEST,
                         "%s", errbuf_msg(&err));
    }
    char subject[32];
    snprintf(subject, sizeof subject, "run %" PRIu64, retry->run_id);
    if (store_event(self->store, now, sched_actor(self), "retry", subject,
                    retry->task_id, &err) < 0) {
        sched_fail_turn(self, &err);
    }
    log_info("run %" PRIu64 " retried: %u tasks back to pending", retry->run_id,
             reopened);
    Sluice__Reply *rep = sched_reply(req->request_id, SLUICE__REPLY__OP_RETRY);
    rep->retry = xmalloc(sizeof *rep->retry);
    sluice__retry_rep__init(rep->retry);
    rep->retry->run_id = retry->run_id;
    rep->retry->reopened = reopened;
    return rep;
}

/* An active run's counts come from the planner, not from its rows. */
static Sluice__Reply *
s_run_show(sched_t *self, const Sluice__Request *req)
{
    uint32_t counts[TASK_STATE_COUNT];
    bool active = plan_run_counts(self->plan, req->run_show->run_id, counts);
    return api_run_show(self->store, req, active ? counts : NULL);
}

/* --------------------------------------------------------------- routing */

typedef Sluice__Reply *(s_handle_fn) (sched_t *self,
                                      const Sluice__Request *req);
typedef Sluice__Reply *(s_read_fn) (store_t *store, const Sluice__Request *req);

/* Every request: the role it needs and the one handler that answers it,
 * either over the scheduler (handle) or over the store only (read). A
 * request missing here needs the operator role and is answered as
 * unknown, so a new op is closed to viewers until it is listed. */
static const struct {
    Sluice__Request__OpCase op;
    sched_role_t role;
    s_handle_fn *handle;
    s_read_fn *read;
} s_requests[] = {
    {SLUICE__REQUEST__OP_DAG_LIST, SCHED_VIEWER, sched_dag_read, NULL},
    {SLUICE__REQUEST__OP_DAG_SHOW, SCHED_VIEWER, sched_dag_read, NULL},
    {SLUICE__REQUEST__OP_DAG_NEXT, SCHED_VIEWER, sched_dag_next, NULL},
    {SLUICE__REQUEST__OP_RUNS, SCHED_VIEWER, NULL, api_read},
    {SLUICE__REQUEST__OP_RUN_SHOW, SCHED_VIEWER, s_run_show, NULL},
    {SLUICE__REQUEST__OP_LOGS, SCHED_VIEWER, NULL, api_read},
    {SLUICE__REQUEST__OP_METRICS, SCHED_VIEWER, sched_identity_metrics, NULL},
    {SLUICE__REQUEST__OP_VERIFY, SCHED_VIEWER, NULL, sched_verify},
    {SLUICE__REQUEST__OP_VERIFY_EVENTS, SCHED_VIEWER, NULL,
     sched_verify_events},
    {SLUICE__REQUEST__OP_LINEAGE, SCHED_VIEWER, NULL, sched_lineage},
    {SLUICE__REQUEST__OP_DATASETS, SCHED_VIEWER, NULL, sched_datasets},
    {SLUICE__REQUEST__OP_REPORT, SCHED_VIEWER, NULL, sched_report},
    {SLUICE__REQUEST__OP_WORKERS, SCHED_VIEWER, s_workers, NULL},
    {SLUICE__REQUEST__OP_AUTOSCALE_STATUS, SCHED_VIEWER, sched_autoscale_status,
     NULL},
    {SLUICE__REQUEST__OP_ALERTS_LIST, SCHED_VIEWER, NULL, sched_alerts_list},
    {SLUICE__REQUEST__OP_DAG_APPLY, SCHED_OPERATOR, s_dag_apply, NULL},
    {SLUICE__REQUEST__OP_TRIGGER, SCHED_OPERATOR, s_trigger, NULL},
    {SLUICE__REQUEST__OP_DAG_PAUSE, SCHED_OPERATOR, sched_dag_pause, NULL},
    {SLUICE__REQUEST__OP_BACKFILL, SCHED_OPERATOR, sched_backfill, NULL},
    {SLUICE__REQUEST__OP_CANCEL, SCHED_OPERATOR, s_cancel, NULL},
    {SLUICE__REQUEST__OP_DRAIN, SCHED_OPERATOR, s_drain, NULL},
    {SLUICE__REQUEST__OP_RETRY, SCHED_OPERATOR, s_retry, NULL},
    {SLUICE__REQUEST__OP_SECRET_SET, SCHED_OPERATOR, sched_secret_set, NULL},
    {SLUICE__REQUEST__OP_SECRET_LIST, SCHED_OPERATOR, sched_secret_list, NULL},
    {SLUICE__REQUEST__OP_SECRET_RM, SCHED_OPERATOR, sched_secret_rm, NULL},
    {SLUICE__REQUEST__OP_KEYS_LIST, SCHED_OPERATOR, sched_keys_list, NULL},
    {SLUICE__REQUEST__OP_KEYS_DECIDE, SCHED_OPERATOR, sched_keys_decide, NULL},
    {SLUICE__REQUEST__OP_KEYS_RENAME, SCHED_OPERATOR, sched_keys_rename, NULL},
    {SLUICE__REQUEST__OP_TOKEN_CREATE, SCHED_OPERATOR, sched_token_create,
     NULL},
    {SLUICE__REQUEST__OP_CLIENT_ADD, SCHED_OPERATOR, sched_client_add, NULL},
    {SLUICE__REQUEST__OP_POOL_SET, SCHED_OPERATOR, sched_pool_set, NULL},
    {SLUICE__REQUEST__OP_POOL_LIST, SCHED_VIEWER, sched_pool_list, NULL},
    {SLUICE__REQUEST__OP_POOL_RM, SCHED_OPERATOR, sched_pool_rm, NULL},
    {SLUICE__REQUEST__OP_ALERTS_TEST, SCHED_OPERATOR, sched_alerts_test, NULL},
    {SLUICE__REQUEST__OP_API_TOKEN_CREATE, SCHED_OPERATOR,
     sched_apitoken_create, NULL},
    {SLUICE__REQUEST__OP_API_TOKEN_LIST, SCHED_OPERATOR, sched_apitoken_list,
     NULL},
    {SLUICE__REQUEST__OP_API_TOKEN_REVOKE, SCHED_OPERATOR,
     sched_apitoken_revoke, NULL},
};

/* Authorizes req against its entry (NULL: not listed), then answers it.
 * Caller owns the reply. */
static Sluice__Reply *
s_answer(sched_t *self, const env_msg_t *env, const Sluice__Request *req)
{
    size_t i = 0;
    size_t count = sizeof s_requests / sizeof s_requests[0];
    while (i < count && s_requests[i].op != req->op_case) {
        i++;
    }
    sched_role_t needed = i < count ? s_requests[i].role : SCHED_OPERATOR;
    Sluice__Reply *refusal = NULL;
    if (!sched_authorize(self, env, req, needed, &refusal)) {
        return refusal;
    }
    if (i == count) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "unknown request; is this sluice older than the "
                         "client?");
    }
    return s_requests[i].handle ? s_requests[i].handle(self, req)
                                : s_requests[i].read(self->store, req);
}

Sluice__Reply *
sched_answer_as(sched_t *self,
                const Sluice__Request *req,
                sched_role_t role,
                const char *actor)
{
    size_t i = 0;
    size_t count = sizeof s_requests / sizeof s_requests[0];
    while (i < count && s_requests[i].op != req->op_case) {
        i++;
    }
    if (i == count) {
        return api_error(req->request_id, API_E_BAD_REQUEST, "unknown request");
    }
    if (s_requests[i].role == SCHED_OPERATOR && role != SCHED_OPERATOR) {
        log_warn("refused a request from %s: needs the operator role", actor);
        return api_error(req->request_id, API_E_REFUSED,
                         "this needs the operator role and %s is a viewer",
                         actor);
    }
    self->actor = actor;
    Sluice__Reply *rep = s_requests[i].handle
                             ? s_requests[i].handle(self, req)
                             : s_requests[i].read(self->store, req);
    self->actor = NULL;
    return rep;
}

void
sched_on_client(sched_t *self, zframe_t *from, env_msg_t *env)
{
    if (env->type == SLUICE__MSG_TYPE__MSG_BATCH) {
        for (size_t i = 0; i < env->nitems; i++) { /* each as if alone */
            sched_on_client(self, from, &env->items[i]);
        }
        return;
    }
    if (env->type != SLUICE__MSG_TYPE__MSG_REQUEST) {
        sched_drop(self, "client", ENV_EMALFORMED,
                   "message type not used on the client socket");
        return;
    }
    if (!sched_keys_admit_client(self)) {
        return;
    }
    const Sluice__Request *req = (const Sluice__Request *) env->body;
    Sluice__Reply *rep = s_answer(self, env, req);
    sched_send(self, self->clients, from, SLUICE__MSG_TYPE__MSG_REPLY,
               &rep->base, req->request_id ? req->request_id : 1);
    protobuf_c_message_free_unpacked(&rep->base, NULL);
}
