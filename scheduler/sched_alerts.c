/* sched_alerts — the scheduler's side of alerts: routes checked and kept
 * when a DAG is applied, events queued by the result observer in the
 * turn's transaction, and each turn the outcomes of the delivery thread
 * written back and the due alerts handed to it (alert_send.c), under the
 * per-target rate limit; `alerts list` and `alerts test`. */
#include <curl/curl.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "common/alert.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/alert_send.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_alerts.h"

/* Alerts handed to the thread per turn at most. */
#define ALERTS_PER_TURN 32

/* While deliveries are in flight, the loop looks for outcomes this often. */
#define ALERTS_POLL_MS 100

/* What the loop remembers of an alert the thread is delivering. */
typedef struct {
    uint32_t tries;
    int64_t created_at;
} inflight_t;

int
sched_alerts_start(sched_t *self, errbuf_t *err)
{
    /* No targets, nothing to deliver: no thread, and libcurl (with its TLS
     * library, several MB) is never loaded. */
    if (self->config->ntargets == 0) {
        return 0;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        errbuf_set(err, "libcurl failed to start");
        return -1;
    }
    self->alert_send = alert_send_new(err);
    if (!self->alert_send) {
        return -1;
    }
    self->alert_rate = alert_rate_new(self->config->alert_rate);
    self->alert_inflight = zhashx_new();
    zhashx_set_destructor(self->alert_inflight,
                          (zhashx_destructor_fn *) zstr_free);
    self->alert_due = clock_wall_ms(); /* whatever waits from before */
    return 0;
}

void
sched_alerts_stop(sched_t *self)
{
    if (!self->alert_send) {
        return;
    }
    alert_send_destroy(&self->alert_send);
    alert_rate_destroy(&self->alert_rate);
    zhashx_destroy(&self->alert_inflight);
    curl_global_cleanup();
}

/* ------------------------------------------------------------- routes */

int
sched_alerts_check_dag(sched_t *self,
                       const char *filename,
                       const dag_t *dag,
                       errbuf_t *err)
{
    if (*dag_expect_success_by(dag) && !*dag_schedule(dag)) {
        errbuf_set(err,
                   "%s: 'expect' needs a 'schedule': it checks the run of "
                   "each data interval; add one or remove 'expect'",
                   filename);
        return -1;
    }
    for (size_t i = 0; i < dag_alert_route_count(dag); i++) {
        const dag_alert_route_t *r = dag_alert_route(dag, i);
        for (size_t t = 0; t < r->nto; t++) {
            if (config_target(self->config, r->to[t])) {
                continue;
            }
            char known[512] = "";
            for (size_t k = 0; k < self->config->ntargets; k++) {
                strncat(known, k ? ", " : "", sizeof known - strlen(known) - 1);
                strncat(known, self->config->targets[k].name,
                        sizeof known - strlen(known) - 1);
            }
            errbuf_set(err,
                       "%s: 'alerts' route %zu sends to target '%s', which the "
                       "scheduler's config does not define; %s%s",
                       filename, i + 1, r->to[t],
                       *known ? "defined targets: " : "",
                       *known ? known
                              : "add it under 'alert_targets' in config.yaml "
                                "and restart the scheduler");
            return -1;
        }
    }
    return 0;
}

/* The targets an event of `kind` of DAG `dag` goes to: its own routes,
 * else the config's default route. Caller owns the list. */
static zlistx_t *
s_targets(sched_t *self, const char *dag, alert_kind_t kind, errbuf_t *err)
{
    zlistx_t *targets = zlistx_new();
    zlistx_set_destructor(targets, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator(targets, (zlistx_comparator_fn *) strcmp);
    bool has_routes = false;
    if (store_alert_routes_get(self->store, dag, ALERT_BIT(kind), targets,
                               &has_routes, err) < 0) {
        zlistx_destroy(&targets);
        return NULL;
    }
    if (!has_routes && (self->config->default_on & ALERT_BIT(kind))) {
        for (size_t i = 0; i < self->config->ndefault_to; i++) {
            zlistx_add_end(targets, xstrdup(self->config->default_to[i]));
        }
    }
    return targets;
}

int
sched_alerts_queue(sched_t *self,
                   alert_event_t *ev,
                   const char *dedupe,
                   errbuf_t *err)
{
    zlistx_t *targets = s_targets(self, ev->dag, ev->kind, err);
    if (!targets) {
        return -1;
    }
    int rc = 0;
    for (char *name = zlistx_first(targets); rc == 0 && name;
         name = zlistx_next(targets)) {
        const config_target_t *t = config_target(self->config, name);
        if (!t) {
            log_warn("DAG '%s' routes alerts to target '%s', which the config "
                     "no longer defines; alert dropped",
                     ev->dag, name);
            continue;
        }
        uint8_t raw[16];
        char uid[33];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(uid, sizeof uid, raw, sizeof raw);
        ev->id = uid;
        char *body = t->slack ? alert_event_slack(ev) : alert_event_json(ev);
        store_alert_t a = {.uid = uid,
                           .dag = ev->dag,
                           .run_id = ev->run_id,
                           .task_id = ev->task,
                           .kind = alert_kind_name(ev->kind),
                           .target = name,
                           .body = body,
                           .dedupe = dedupe};
        bool added = false;
        rc = store_alert_add(self->store, &a, ev->at_ms, &added, err);
        free(body);
        if (added) {
            self->alert_due = ev->at_ms;
        }
    }
    zlistx_destroy(&targets);
    return rc;
}

/* ------------------------------------------------------------ observer */

static bool
s_state_is(const char *state, const char *a, const char *b)
{
    return state && (!strcmp(state, a) || (b && !strcmp(state, b)));
}

/* The kinds a result raises, as ALERT_BIT set. */
static unsigned
s_kinds(const sched_result_t *r, const store_alert_ctx_t *ctx)
{
    unsigned kinds = 0;
    if (s_state_is(ctx->task_state, "up_for_retry", NULL)) {
        kinds |= ALERT_BIT(ALERT_RETRY);
    }
    if (s_state_is(ctx->task_state, "failed", "timed_out")) {
        kinds |= ALERT_BIT(ALERT_FAILURE);
    }
    const char *summary = r->res->validation_summary;
    if (summary && *summary && !r->success) {
        kinds |= ALERT_BIT(ALERT_VALIDATION_BREACH);
    }
    if (r->res->n_validation_drift > 0) {
        kinds |= ALERT_BIT(ALERT_DRIFT);
    }
    if (s_state_is(ctx->run_state, "success", NULL)) {
        kinds |= ALERT_BIT(ALERT_SUCCESS);
    }
    return kinds;
}

static char *
s_cause(const sched_result_t *r, const store_alert_ctx_t *ctx, alert_kind_t k)
{
    if (k == ALERT_SUCCESS) {
        return xstrdup("the run succeeded");
    }
    if ((k == ALERT_VALIDATION_BREACH || k == ALERT_DRIFT) &&
        r->res->validation_summary) {
        return xstrdup(r->res->validation_summary);
    }
    if (ctx->cause && !strcmp(ctx->cause, "exit")) {
        return xasprintf("exit %d%s%s", ctx->exit_code, *ctx->error ? ": " : "",
                         ctx->error);
    }
    return xasprintf("%s%s%s", ctx->cause, *ctx->error ? ": " : "", ctx->error);
}

/* True when no route of dag's (or the default one) names any of kinds. */
static bool
s_nobody_listens(
    sched_t *self, const char *dag, unsigned kinds, errbuf_t *err, int *rc)
{
    *rc = 0;
    for (int k = 0; k < ALERT_KIND_COUNT; k++) {
        if (!(kinds & ALERT_BIT(k))) {
            continue;
        }
        zlistx_t *targets = s_targets(self, dag, (alert_kind_t) k, err);
        if (!targets) {
            *rc = -1;
            return true;
        }
        size_t n = zlistx_size(targets);
        zlistx_destroy(&targets);
        if (n) {
            return false;
        }
    }
    return true;
}

static int
s_queue_kinds(sched_t *self,
              const sched_result_t *r,
              const store_alert_ctx_t *ctx,
              unsigned kinds,
              errbuf_t *err)
{
    char *log = NULL;
    if (store_alert_log_tail(self->store, r->res->attempt_id, &log, err) < 0) {
        return -1;
    }
    int rc = 0;
    for (int k = 0; rc == 0 && k < ALERT_KIND_COUNT; k++) {
        if (!(kinds & ALERT_BIT(k))) {
            continue;
        }
        bool run_level = k == ALERT_SUCCESS;
        char *cause = s_cause(r, ctx, (alert_kind_t) k);
        alert_event_t ev = {.kind = (alert_kind_t) k,
                            .dag = r->dag,
                            .run_id = ctx->run_id,
                            .logical_date = ctx->logical_date,
                            .task = run_level ? "" : ctx->task_id,
                            .attempt = run_level ? 0 : ctx->number,
                            .cause = cause,
                            .at_ms = clock_wall_ms(),
                            .log = run_level ? "" : log};
        rc = sched_alerts_queue(self, &ev, NULL, err);
        free(cause);
    }
    free(log);
    return rc;
}

int
sched_alerts_on_result(void *arg, const sched_result_t *result, errbuf_t *err)
{
    sched_t *self = arg;
    if (!result->dag) {
        return 0;
    }
    /* Most DAGs route nothing: one indexed read, and done. */
    bool has_routes = false;
    zlistx_t *any = zlistx_new();
    zlistx_set_destructor(any, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator(any, (zlistx_comparator_fn *) strcmp);
    int found = store_alert_routes_get(self->store, result->dag, ~0u, any,
                                       &has_routes, err);
    zlistx_destroy(&any);
    if (found < 0) {
        return -1;
    }
    if (!has_routes && self->config->ndefault_to == 0) {
        return 0;
    }
    store_alert_ctx_t ctx;
    if (store_alert_ctx(self->store, result->res->attempt_id, &ctx, err) < 0) {
        return -1;
    }
    unsigned kinds = s_kinds(result, &ctx);
    int rc = 0;
    if (kinds && !s_nobody_listens(self, result->dag, kinds, err, &rc)) {
        rc = s_queue_kinds(self, result, &ctx, kinds, err);
    }
    store_alert_ctx_clear(&ctx);
    return rc;
}

int
sched_alerts_on_lost(void *arg,
                     const char *dag,
                     uint64_t attempt_id,
                     errbuf_t *err)
{
    /* No Result came: an empty one (no validation, no drift) with the
     * attempt's id lets the store's view of the task decide the kind. */
    Sluice__Result res = SLUICE__RESULT__INIT;
    res.attempt_id = attempt_id;
    sched_result_t lost = {.res = &res, .success = false, .dag = dag};
    return sched_alerts_on_result(arg, &lost, err);
}

/* ----------------------------------------------------------- delivery */

static int
s_record(sched_t *self,
         uint64_t id,
         bool ok,
         const char *error,
         int64_t now,
         errbuf_t *err)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRIu64, id);
    inflight_t *f = zhashx_lookup(self->alert_inflight, key);
    uint32_t tries = f ? f->tries + 1 : 1;
    int64_t created = f ? f->created_at : now;
    zhashx_delete(self->alert_inflight, key);
    prom_add(self->prom, ok ? PROM_ALERTS_SENT : PROM_ALERTS_FAILED, 0, 1);
    if (ok) {
        log_info("alert %" PRIu64 " delivered", id);
        return store_alert_outcome(self->store, id, true, NULL, 0, now, err);
    }
    int64_t next = now + alert_backoff_ms(tries);
    if (created + (int64_t) self->config->alert_retry_for_ms <= now) {
        next = 0;
        log_error("alert %" PRIu64 " given up after %u tries: %s", id, tries,
                  error);
    } else {
        log_warn("alert %" PRIu64 " not delivered (try %u, next in %" PRId64
                 " ms): %s",
                 id, tries, next - now, error);
        if (next < self->alert_due) {
            self->alert_due = next;
        }
    }
    return store_alert_outcome(self->store, id, false, error, next, now, err);
}

typedef struct {
    sched_t *self;
    int64_t now;
    int64_t now_mono;
    errbuf_t *err;
} due_arg_t;

static int
s_hand_over(void *arg, const store_alert_t *a)
{
    due_arg_t *d = arg;
    sched_t *self = d->self;
    char key[24];
    snprintf(key, sizeof key, "%" PRIu64, a->id);
    if (zhashx_lookup(self->alert_inflight, key)) {
        return 0;
    }
    const config_target_t *t = config_target(self->config, a->target);
    if (!t) {
        return store_alert_outcome(self->store, a->id, false,
                                   "the target is no longer in the config", 0,
                                   d->now, d->err);
    }
    int64_t retry_at = 0;
    if (!alert_rate_take(self->alert_rate, a->target, d->now_mono, &retry_at)) {
        return store_alert_defer(self->store, a->id,
                                 d->now + (retry_at - d->now_mono), d->err);
    }
    inflight_t *f = xcalloc(1, sizeof *f);
    f->tries = a->tries;
    f->created_at = a->created_at;
    zhashx_insert(self->alert_inflight, key, f);
    alert_send_push(self->alert_send, a->id, a->uid, t, a->body);
    return 0;
}

int
sched_alerts_step(sched_t *self, int64_t now_mono, errbuf_t *err)
{
    if (!self->alert_send) {
        return 0;
    }
    int64_t now = clock_wall_ms();
    uint64_t id;
    bool ok;
    char *error;
    while (alert_send_pop(self->alert_send, &id, &ok, &error)) {
        int rc = s_record(self, id, ok, error, now, err);
        free(error);
        if (rc < 0) {
            return -1;
        }
    }
    if (self->alert_due < 0 || self->alert_due > now) {
        return 0;
    }
    due_arg_t d = {self, now, now_mono, err};
    if (store_alerts_due(self->store, now, ALERTS_PER_TURN, s_hand_over, &d,
                         err) < 0 ||
        store_alerts_next(self->store, &self->alert_due, err) < 0) {
        return -1;
    }
    if (self->alert_due >= 0 && self->alert_due <= now) {
        /* more than one turn's worth, or all of it in flight */
        self->alert_due = now + ALERTS_POLL_MS;
    }
    return 0;
}

int64_t
sched_alerts_next(sched_t *self, int64_t now_mono)
{
    if (!self->alert_send) {
        return -1;
    }
    int64_t next = -1;
    if (zhashx_size(self->alert_inflight) > 0) {
        next = now_mono + ALERTS_POLL_MS;
    }
    if (self->alert_due >= 0) {
        int64_t due = now_mono + (self->alert_due - clock_wall_ms());
        if (next < 0 || due < next) {
            next = due;
        }
    }
    return next;
}

/* ----------------------------------------------------------- requests */

typedef struct {
    Sluice__AlertsListRep *rep;
    size_t cap;
} list_arg_t;

static int
s_list_one(void *arg, const store_alert_t *a)
{
    list_arg_t *l = arg;
    Sluice__AlertsListRep *rep = l->rep;
    if (rep->n_alerts == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        rep->alerts = xrealloc(rep->alerts, l->cap * sizeof *rep->alerts);
    }
    Sluice__AlertInfo *info = xmalloc(sizeof *info);
    sluice__alert_info__init(info);
    info->id = a->id;
    info->uid = xstrdup(a->uid);
    info->dag = xstrdup(a->dag);
    info->run_id = a->run_id;
    info->task_id = xstrdup(a->task_id);
    info->kind = xstrdup(a->kind);
    info->target = xstrdup(a->target);
    info->state = xstrdup(a->state);
    info->tries = a->tries;
    info->created_ms = (uint64_t) a->created_at;
    info->sent_ms = (uint64_t) a->sent_at;
    info->next_ms = (uint64_t) a->next_at;
    info->error = xstrdup(a->error);
    rep->alerts[rep->n_alerts++] = info;
    return 0;
}

Sluice__Reply *
sched_alerts_list(store_t *store, const Sluice__Request *req)
{
    const Sluice__AlertsListReq *q = req->alerts_list;
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_ALERTS_LIST);
    rep->alerts_list = xmalloc(sizeof *rep->alerts_list);
    sluice__alerts_list_rep__init(rep->alerts_list);
    list_arg_t l = {rep->alerts_list, 0};
    errbuf_t err;
    if (store_alerts_list(store, q->failed, q->limit ? q->limit : 100,
                          s_list_one, &l, &err) < 0) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    return rep;
}

Sluice__Reply *
sched_alerts_test(sched_t *self, const Sluice__Request *req)
{
    const char *name = req->alerts_test->target;
    if (!config_target(self->config, name)) {
        char known[512] = "";
        for (size_t k = 0; k < self->config->ntargets; k++) {
            strncat(known, k ? ", " : "", sizeof known - strlen(known) - 1);
            strncat(known, self->config->targets[k].name,
                    sizeof known - strlen(known) - 1);
        }
        return api_error(req->request_id, API_E_NOT_FOUND,
                         "no alert target '%s' in the scheduler's config; %s%s",
                         name, *known ? "defined: " : "",
                         *known ? known : "add one under 'alert_targets'");
    }
    const config_target_t *t = config_target(self->config, name);
    uint8_t raw[16];
    char uid[33];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(uid, sizeof uid, raw, sizeof raw);
    alert_event_t ev = {.id = uid,
                        .kind = ALERT_FAILURE,
                        .dag = "example",
                        .logical_date = "",
                        .task = "",
                        .cause = "a sample sent by 'sluice alerts test'",
                        .at_ms = clock_wall_ms(),
                        .log = "sample log line 1\nsample log line 2\n",
                        .test = true};
    char *body = t->slack ? alert_event_slack(&ev) : alert_event_json(&ev);
    store_alert_t a = {.uid = uid,
                       .dag = "",
                       .run_id = 0,
                       .task_id = "",
                       .dedupe = uid,
                       .kind = "test",
                       .target = name,
                       .body = body};
    errbuf_t err;
    int rc = store_alert_add(self->store, &a, ev.at_ms, NULL, &err);
    free(body);
    if (rc < 0) {
        sched_fail_turn(self, &err);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    self->alert_due = ev.at_ms;
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_ALERTS_TEST);
    rep->alerts_test = xmalloc(sizeof *rep->alerts_test);
    sluice__alerts_test_rep__init(rep->alerts_test);
    rep->alerts_test->uid = xstrdup(uid);
    rep->alerts_test->target = xstrdup(name);
    return rep;
}
