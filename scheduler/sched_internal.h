/* sched_internal — the scheduler context shared by the daemon's own files.
 * Not a public contract. Calls go one way, top to bottom:
 *
 *   sched.c            the loop: receive, timers, dispatch, commit, send
 *   sched_worker.c     worker messages; calls the result observers
 *   sched_client.c     client requests, routed through one table
 *   sched_audit.c  sched_keys.c  sched_secrets.c  sched_triggers.c
 *   sched_identity.c
 *   sched_metrics.c  sched_autoscale.c              features
 *   sched_lineage.c  sched_reports.c    features that need only the store
 *   sched_out.c        what a turn produces: sends, acks, failure, drops
 */
#ifndef SLUICE_SCHED_INTERNAL_H
#define SLUICE_SCHED_INTERNAL_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/alert.h"
#include "common/config.h"
#include "common/errbuf.h"
#include "common/keys.h"
#include "proto/codes.h"
#include "proto/envelope.h"
#include "common/curve.h"
#include "scheduler/admit.h"
#include "scheduler/fleet.h"
#include "scheduler/plan.h"
#include "scheduler/prom.h"
#include "scheduler/sched.h"
#include "scheduler/schedule.h"
#include "scheduler/secrets.h"
#include "scheduler/store/store.h"

#define SCHED_DROP_KINDS 8

/* What sched_identity counts: messages from an admitted worker's key
 * that tried to act for another worker. */
typedef enum {
    SCHED_ID_NOT_OWN = 0, /* about an attempt in flight on another worker */
    SCHED_ID_NAME,        /* a Register under a name not bound to the key */
    SCHED_ID_KINDS
} sched_identity_kind_t;

/* Result observers at most (see sched_observe). */
#define SCHED_OBSERVERS_MAX 16

/* A Result of the attempt currently assigned to its sender, as the
 * observers see it. */
typedef struct {
    const Sluice__Result *res; /* borrowed */
    bool success;              /* exited 0 with every declared output */
    const char *dag;           /* DAG of the attempt's run; NULL if unknown */
} sched_result_t;

/* When an observer runs: before the plan applies the result (the attempt
 * is still current), or after it applied it (not for a stale one). */
typedef enum {
    SCHED_BEFORE_APPLY,
    SCHED_AFTER_APPLY,
} sched_phase_t;

/* An observer writes what its feature keeps of a result, inside the
 * turn's transaction; -1 with err fails the whole turn. arg is what was
 * registered with it. */
typedef int(sched_result_fn)(void *arg,
                             const sched_result_t *result,
                             errbuf_t *err);

typedef struct {
    const char *name; /* for the log, e.g. "lineage" */
    sched_phase_t phase;
    sched_result_fn *fn;
    void *arg; /* borrowed */
} sched_observer_t;

/* The role a client request needs; a viewer's requests change nothing. */
typedef enum {
    SCHED_VIEWER,
    SCHED_OPERATOR,
} sched_role_t;

struct sched_t {
    char *dir;                            /* state directory, owned */
    config_t *config;                     /* owned */
    keys_t *key;                          /* scheduler signing key, owned */
    uint8_t client_key[KEYS_PUBLIC_SIZE]; /* the local CLI's key */
    store_t *store;                       /* owned */
    plan_t *plan;                         /* owned */
    fleet_t *fleet;                       /* owned */
    zsock_t *workers;                     /* ROUTER for workers, owned */
    zsock_t *clients;                     /* ROUTER for clients, owned */
    zpoller_t *poller;                    /* both sockets and ZAP, owned */
    zlistx_t *outgoing;                   /* per peer, sent after commit */
    zhashx_t *out_peers;                  /* the same, by socket+routing */
    bool heartbeat_due;       /* sched_heartbeat_all: goes at the next flush */
    zhashx_t *acks;           /* worker name -> zlistx of ids */
    int64_t started;          /* monotonic ms */
    int64_t last_heartbeat;   /* monotonic ms */
    int64_t last_pace;        /* ... of the last s_pace_workers */
    uint32_t worker_hb_ms;    /* the interval workers are told to beat at */
    uint32_t window_hb_ms;    /* the one liveness counts with: the longest
                                told within the last window */
    int64_t window_shrink_at; /* monotonic ms it may come down; -1 none */
    int64_t upkeep_at; /* monotonic ms of the next liveness and drain pass */
    int64_t expiry_at; /* ... and the first liveness window that ends then;
                          -1 when no worker is live */
    uint64_t drops[SCHED_DROP_KINDS]; /* dropped messages per ENV_E code */
    int64_t drop_logged[SCHED_DROP_KINDS];
    uint64_t identity[SCHED_ID_KINDS]; /* refused per kind (sched_identity) */
    struct reportlimit_t *identity_audit; /* per signing key: when it was
                                             last audited; owned */
    sched_observer_t observers[SCHED_OBSERVERS_MAX]; /* in call order */
    size_t nobservers;
    secrets_t *secrets; /* sealed secrets (sched_secrets.c), owned */
    zhashx_t *maskers;  /* attempt id text -> log masker, owned */
    admit_t *admit;     /* ZAP handler, key decisions (sched_keys.c) */
    curve_t *curve;     /* scheduler's CURVE key, owned */
    uint8_t peer_curve[CURVE_KEY_SIZE]; /* CURVE key of the connection the
                                           message being handled came on */
    bool peer_known;                 /* ... false when its metadata had none */
    struct autoscale_t *autoscale;   /* NULL when off, owned */
    int64_t autoscale_last;          /* monotonic ms of its last step */
    struct alert_send_t *alert_send; /* delivery thread, owned */
    struct alert_rate_t *alert_rate; /* per-target limit, owned */
    zhashx_t *alert_inflight;        /* alert id text -> tries, owned */
    int64_t alert_due;               /* wall ms an alert is due; -1 none */
    int64_t alert_check_next;        /* monotonic ms of the next time check */
    zhashx_t *expects;    /* DAG -> its resolved schedule (sched_deadlines.c) */
    schedule_t *schedule; /* scheduled DAGs (sched_schedule.c) */
    int64_t backfill_at;  /* wall ms to look at backfills; -1 = none go on */
    struct prom_t *prom;  /* Prometheus metrics (sched_prom.c), owned */
    bool turn_error;      /* a handler failed to write */
    errbuf_t turn_err;    /* ... and why */
    const char *actor;    /* who sent the request being handled, for audit
                             lines (sched_actor); borrowed, NULL between */
    struct http_t *http;  /* the HTTP server, NULL when off; owned */
    struct http_loop_t *http_loop; /* its calls to this loop; owned */
};

/* ------------------------------------------------------------ sched_out
 * What one turn produces, kept until it commits. */

/* Creates (stop: frees) the outgoing queue and the ack batches. */
void sched_out_start(sched_t *self);

void sched_out_stop(sched_t *self);

/* Queues body to routing id `to` (borrowed) on `socket`, sent after this
 * turn commits: everything a turn queues for one peer is sealed together
 * at flush (one signature for a worker that speaks batches; Welcome and
 * Refuse go alone). request_id != 0 marks a client reply. */
void sched_send(sched_t *self,
                zsock_t *socket,
                zframe_t *to,
                int type,
                const ProtobufCMessage *body,
                uint64_t request_id);

/* Queues a Refuse (code: REFUSE_E_*) with our protocol version. */
void sched_refuse(sched_t *self,
                  zsock_t *socket,
                  zframe_t *to,
                  uint32_t code,
                  const char *reason);

/* An empty reply of kind op for request_id; caller owns and fills it. */
Sluice__Reply *sched_reply(uint64_t request_id, Sluice__Reply__OpCase op);

/* How long a worker may stay silent before it is lost (ms): the interval
 * it was told to beat at, times liveness. */
int64_t sched_liveness_window(const sched_t *self);

/* Queues the scheduler's heartbeat to every connected worker, sent at
 * flush: inside the batch of a worker that gets something else this turn,
 * else as one envelope sealed once for all of them (its body names no
 * worker), so that an idle fleet costs one signature per interval. */
void sched_heartbeat_all(sched_t *self);

/* ------------------------------------------------------------ sched_http
 * The HTTP server (scheduler/http.h) beside the loop (sched_http.c). */

/* Starts it when http_listen is set, and adds its loop socket to the
 * poller; -1 with err (the port is taken: the message says what to set). */
int sched_http_start(sched_t *self, errbuf_t *err);

/* Inside the turn: answers the HTTP server's waiting calls; their replies
 * go at sched_http_release. */
void sched_http_take(sched_t *self);

/* After the turn: sends those replies, or failure (not NULL: the commit
 * failed) instead. */
void sched_http_release(sched_t *self, const char *failure);

/* Stops the server (its threads end) and frees the loop socket. */
void sched_http_stop(sched_t *self);

/* Who sent the request being handled, for audit lines: "client" for the
 * CLI's (its key is in the refusal lines), "api token 'NAME'" for HTTP. */
static inline const char *
sched_actor(const sched_t *self)
{
    return self->actor ? self->actor : "client";
}

/* Answers req for an HTTP caller of role, by the same request table and
 * role rule as the CLI's requests. Caller owns the reply. */
Sluice__Reply *sched_answer_as(sched_t *self,
                               const Sluice__Request *req,
                               sched_role_t role,
                               const char *actor);

/* The turn committed: seals what it queued, per peer and in order, and
 * sends it. */
void sched_out_flush(sched_t *self);

/* The turn failed to commit (why): drops what it queued; a client whose
 * reply was queued gets an ErrorRep with the reason instead. */
void sched_out_discard(sched_t *self, const errbuf_t *why);

/* A handler's store write failed: the whole turn is rolled back. */
void sched_fail_turn(sched_t *self, const errbuf_t *err);

/* True (err set to the first failure) when a handler failed this turn;
 * clears the failure for the next turn. */
bool sched_turn_failed(sched_t *self, errbuf_t *err);

/* Counts a dropped message and logs it at most once per interval. */
void sched_drop(sched_t *self,
                const char *socket_name,
                int code,
                const char *detail);

/* One line with every drop count since start (the drop log shows only
 * the first of each kind per interval). */
void sched_drop_summary(const sched_t *self);

/* Result acks, batched per worker and sent after the commit. */
void sched_ack_later(sched_t *self, const char *worker, uint64_t attempt_id);

/* Queues one ResultAck per worker with acks waiting. */
void sched_queue_acks(sched_t *self);

/* Removes and returns (caller owns *ids_p) the acks waiting for `worker`,
 * so they can ride on a Task instead of their own signed message. */
size_t sched_take_acks(sched_t *self, const char *worker, uint64_t **ids_p);

/* ------------------------------------------------ worker and client side */

/* Handlers for one opened message; env is borrowed. A batch's items are
 * handled in order, each as if it had come alone from `from`. */
void sched_on_worker(sched_t *self, zframe_t *from, env_msg_t *env);

void sched_on_client(sched_t *self, zframe_t *from, env_msg_t *env);

/* The worker drains: asks it to give back every attempt it holds but has
 * not started (a Cancel each), so they run elsewhere now, not after what
 * it runs; they come back as cancelled results and are queued again
 * without counting a retry. */
void sched_return_held(sched_t *self, fleet_worker_t *worker);

/* Adds fn to the observers of committed results, called in the order
 * added within its phase. Aborts past SCHED_OBSERVERS_MAX (our bug). */
void sched_observe(sched_t *self,
                   const char *name,
                   sched_phase_t phase,
                   sched_result_fn *fn,
                   void *arg);

/* --------------------------------------------------------- sched_secrets
 * Opened at start (refusing a key file that group or others can read),
 * handed to each new plan for dispatch. */
int sched_secrets_start(sched_t *self, errbuf_t *err);

void sched_secrets_plan(sched_t *self);

void sched_secrets_stop(sched_t *self);

/* Masks secret values in a log chunk of an attempt whose task uses
 * secrets: returns the bytes to store (caller owns; *len updated), or NULL
 * to store the chunk as it came. */
uint8_t *sched_secrets_mask(sched_t *self,
                            uint64_t attempt_id,
                            uint64_t seq,
                            unsigned stream,
                            const void *data,
                            size_t *len);

/* Result observer (arg: sched_t): the attempt ended, so what masking held
 * back is stored and its masker forgotten. */
int
sched_secrets_on_result(void *arg, const sched_result_t *result, errbuf_t *err);

/* secret set, list, rm. Caller owns the reply. */
Sluice__Reply *sched_secret_set(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_secret_list(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_secret_rm(sched_t *self, const Sluice__Request *req);

/* ----------------------------------------------------------- sched_pools
 * pool set (operator), list (viewer), rm (operator: refused while some
 * of its slots are in use). Caller owns the reply. */
Sluice__Reply *sched_pool_set(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_pool_list(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_pool_rm(sched_t *self, const Sluice__Request *req);

/* ------------------------------------------------------- sched_apitokens
 * API tokens of the HTTP API: create, list, revoke (operator). Caller
 * owns the reply. */
Sluice__Reply *sched_apitoken_create(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_apitoken_list(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_apitoken_revoke(sched_t *self, const Sluice__Request *req);

/* ----------------------------------------------------------- sched_audit
 * Client roles and signed results. The local CLI's key is an operator
 * from start; other client keys are trusted with their role. */
int sched_audit_start(sched_t *self, errbuf_t *err);

/* True when signer may send requests: the local CLI or a known client. */
bool sched_client_trusted(sched_t *self, const uint8_t *signer);

/* True when env's signer has the role `needed` for req. Else writes the
 * refusal to the event table and sets *refusal (an ErrorRep
 * API_E_REFUSED, caller owns). */
bool sched_authorize(sched_t *self,
                     const env_msg_t *env,
                     const Sluice__Request *req,
                     sched_role_t needed,
                     Sluice__Reply **refusal);

/* client add, verify, verify events. Caller owns the reply. */
Sluice__Reply *sched_client_add(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_verify(store_t *store, const Sluice__Request *req);

Sluice__Reply *sched_verify_events(store_t *store, const Sluice__Request *req);

/* How a Result (alone or a batch's item) stands against the one kept
 * with its attempt: STORE_KEPT_SAME (the same signature: the same message
 * again), STORE_KEPT_OTHER (its worker sending it again under another
 * signature, e.g. in a new batch after a reconnect) or STORE_KEPT_NONE
 * (new; also when the store fails, which fails the turn). */
int sched_result_seen(sched_t *self, const env_msg_t *env);

/* Counts (ENV_EREPLAYED) and logs a Result received again with the very
 * signature already stored. */
void sched_result_replayed(sched_t *self, const env_msg_t *env);

/* Stores the signed bytes (env_signed: a batch's for an item), signature
 * and signer of a Result with its attempt (the first one only). */
void sched_result_keep(sched_t *self, const env_msg_t *env);

/* ------------------------------------------------------------ sched_keys
 * Transport and admission. */

/* Loads (or creates, with a log line) the scheduler's CURVE key, opens the
 * admission cache, lists the local CLI's key as an operator and binds the
 * ZAP handler. Call before the sockets are bound. */
int sched_keys_start(sched_t *self, errbuf_t *err);

void sched_keys_stop(sched_t *self);

/* Makes a ROUTER a CURVE server checked by ZAP under `domain`. */
void sched_keys_secure(sched_t *self, zsock_t *socket, const char *domain);

/* Notes the CURVE key of the connection msg came on (its "User-Id"). */
void sched_keys_peer(sched_t *self, zmsg_t *msg);

/* False (after refusing or dropping it) when the message may not be
 * handled: only accepted keys bound to the signer may talk; a pending key
 * may send a Register with a valid join token. */
bool sched_keys_admit_worker(sched_t *self, zframe_t *from, env_msg_t *env);

/* False when the client connection's key was revoked or rejected since
 * its handshake, or the connection has no CURVE key. */
bool sched_keys_admit_client(sched_t *self);

/* keys list, keys decide, token create. Caller owns the reply. */
Sluice__Reply *sched_keys_list(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_keys_decide(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_token_create(sched_t *self, const Sluice__Request *req);

/* keys rename FROM TO (operator). Caller owns the reply. */
Sluice__Reply *sched_keys_rename(sched_t *self, const Sluice__Request *req);

/* -------------------------------------------------------- sched_identity
 * A worker acts only for itself. */

/* A message from admitted signing key `signer` that tried to act for
 * another worker changed nothing: counts it under `kind`, and writes
 * `detail` to the audit log (events) and the log at most once per key a
 * minute, with the count suppressed since. */
void sched_identity_refused(sched_t *self,
                            const uint8_t *signer,
                            sched_identity_kind_t kind,
                            const char *detail);

/* Whether to log `kind` about `who` now: once a minute per kind and who,
 * with *suppressed set to what was left unsaid since. */
bool sched_identity_say(sched_t *self,
                        const char *kind,
                        const char *who,
                        uint64_t *suppressed);

/* After a restart: the workers an operator drained (stored) are draining
 * again, shown by 'sluice workers' before they come back. */
int sched_identity_restore(sched_t *self, errbuf_t *err);

/* Drains worker and stores it (a Register never changes that); the drain
 * ends when the worker leaves. -1 with err on a store failure. */
int sched_identity_drain(sched_t *self, fleet_worker_t *worker, errbuf_t *err);

/* Frees what sched_identity_refused keeps. */
void sched_identity_stop(sched_t *self);

/* metrics: a request naming no DAG, task or run gets the scheduler's own
 * counters; any other is read from the store (api_read). Caller owns the
 * reply. */
Sluice__Reply *sched_identity_metrics(sched_t *self,
                                      const Sluice__Request *req);

/* ------------------------------------------------------------ sched_prom
 * The Prometheus registry (prom.h): created with the scheduler, read by
 * the HTTP server's threads. */
void sched_prom_start(sched_t *self);

void sched_prom_stop(sched_t *self);

/* A new plan: its limits count finished tasks and runs into the registry. */
void sched_prom_plan(sched_t *self);

/* A turn committed (its commit began at prom_clock_us()
 * commit_started_us): the commit time and the queue and run gauges; with
 * walk, the workers, pools and autoscaler too. */
void sched_prom_committed(sched_t *self, uint64_t commit_started_us, bool walk);

/* d was sent at monotonic ms now: how long it waited queued. */
void
sched_prom_dispatched(sched_t *self, const plan_dispatch_t *d, int64_t now);

/* The plan applied a worker's result: its run time, and its cause when it
 * failed. */
void sched_prom_result(sched_t *self, const plan_result_t *result);

/* plan_attempt_lost, counted as a failed attempt of `cause` ("lost",
 * "refused") when the attempt was current. */
int sched_attempt_lost(sched_t *self,
                       uint64_t attempt_id,
                       const char *cause,
                       const char *reason,
                       int64_t now,
                       errbuf_t *err);

/* --------------------------------------------------------- sched_lineage
 * Needs only the store. */

/* Result observer (arg: store_t): records the dataset versions a Result
 * names (outputs only after a success). */
int
sched_lineage_on_result(void *arg, const sched_result_t *result, errbuf_t *err);

/* lineage and datasets (read-only). Caller owns the reply. */
Sluice__Reply *sched_lineage(store_t *store, const Sluice__Request *req);

Sluice__Reply *sched_datasets(store_t *store, const Sluice__Request *req);

/* --------------------------------------------------------- sched_reports
 * Validation reports; needs only the store. */

/* Result observer (arg: store_t): keeps the validation report and, after
 * a success, its dataset's drift profile. */
int
sched_reports_on_result(void *arg, const sched_result_t *result, errbuf_t *err);

/* The drift profile of the previous validated version of the dataset a
 * validate task reads (owned, "" when none). */
char *sched_reports_profile(store_t *store, const plan_dispatch_t *d);

/* report (read-only). Caller owns the reply. */
Sluice__Reply *sched_report(store_t *store, const Sluice__Request *req);

/* --------------------------------------------------------- sched_metrics */

/* Result observer (arg: store_t): stores the metrics a Result carries. */
int
sched_metrics_on_result(void *arg, const sched_result_t *result, errbuf_t *err);

/* Result observer (arg: store_t): stores the JSON result of a success,
 * before the plan applies it, so the tasks it makes ready can read it. */
int
sched_results_on_result(void *arg, const sched_result_t *result, errbuf_t *err);

/* Result observer (arg: sched_t): a success becomes a cache entry. */
int
sched_cache_on_result(void *arg, const sched_result_t *result, errbuf_t *err);

/* -------------------------------------------------------- sched_triggers
 * Dataset triggers: a DAG runs when a new version of a dataset it names
 * is produced. */

/* A DAG was applied: remembers the datasets that trigger it. */
int sched_triggers_dag_applied(store_t *store, const dag_t *dag, errbuf_t *err);

/* Result observer (arg: sched_t): after a success, triggers the DAGs that
 * name one of its outputs, except the DAG that wrote it (a loop;
 * logged). */
int sched_triggers_on_result(void *arg,
                             const sched_result_t *result,
                             errbuf_t *err);

/* ------------------------------------------------------- sched_deadlines
 * sla, deadline and expect: checked in the loop, each miss recorded once
 * (an event) and alerted through sched_alerts_queue. */

void sched_deadlines_start(sched_t *self);

void sched_deadlines_stop(sched_t *self);

/* At most once a second, in the turn's transaction. */
int sched_deadlines_check(sched_t *self, int64_t now_mono, errbuf_t *err);

/* Monotonic ms of the next check. */
int64_t sched_deadlines_next(sched_t *self);

/* Result observer (arg: sched_t), after apply: a run that just ended
 * after its deadline is a miss too. */
int sched_deadlines_on_result(void *arg,
                              const sched_result_t *result,
                              errbuf_t *err);

/* ------------------------------------------------------- sched_autoscale
 * One step every SCHED_AUTOSCALE_STEP_MS at most, inside the turn's
 * transaction. */
#define SCHED_AUTOSCALE_STEP_MS 500

int sched_autoscale_start(sched_t *self, errbuf_t *err);

void sched_autoscale_stop(sched_t *self);

void sched_autoscale_step(sched_t *self, int64_t now);

/* Monotonic ms of the next step; -1 when the autoscaler is off. */
int64_t sched_autoscale_next(sched_t *self);

/* autoscale status (read-only). Caller owns the reply. */
Sluice__Reply *sched_autoscale_status(sched_t *self,
                                      const Sluice__Request *req);

/* ---------------------------------------------------------- sched_alerts
 * Alerts: queued by the result observer in the turn's transaction,
 * delivered by a thread of their own (alert_send.c). */

/* Starts the delivery thread when the config names alert targets (else
 * nothing can be delivered and libcurl is not loaded); whatever was
 * queued before is due. */
int sched_alerts_start(sched_t *self, errbuf_t *err);

void sched_alerts_stop(sched_t *self);

/* -1 with err ("FILE: ...") when dag's routes name a target the config
 * does not define. */
int sched_alerts_check_dag(sched_t *self,
                           const char *filename,
                           const dag_t *dag,
                           errbuf_t *err);

/* Result observer (arg: sched_t), after the plan applied it: queues the
 * failure, retry, validation_breach, drift and success alerts it raises,
 * once per (run, task, kind, target). */
int
sched_alerts_on_result(void *arg, const sched_result_t *result, errbuf_t *err);

/* Plan hook (arg: sched_t, plan_set_lost_hook): a lost attempt failed its
 * task or put it up for retry; queues the failure or retry alert as a
 * Result would have. */
int sched_alerts_on_lost(void *arg,
                         const char *dag,
                         uint64_t attempt_id,
                         errbuf_t *err);

/* Records the thread's outcomes and hands it the due alerts; in the
 * turn's transaction. */
int sched_alerts_step(sched_t *self, int64_t now_mono, errbuf_t *err);

/* Monotonic ms the loop should wake for alerts; -1 when nothing waits. */
int64_t sched_alerts_next(sched_t *self, int64_t now_mono);

/* Queues ev (its id set here) to every target its DAG routes its kind to
 * (else the config's default route), once per dedupe key (NULL: run, task
 * and kind) and target. */
int sched_alerts_queue(sched_t *self,
                       alert_event_t *ev,
                       const char *dedupe,
                       errbuf_t *err);

/* alerts list (read-only) and alerts test. Caller owns the reply. */
Sluice__Reply *sched_alerts_list(store_t *store, const Sluice__Request *req);

Sluice__Reply *sched_alerts_test(sched_t *self, const Sluice__Request *req);

/* ---- sched_runs.c: runs for schedules ---- */

/* Retries run run_id (as `sluice retry`): task_id, or
 * with "" every task that did not succeed; *reopened counts the tasks
 * back to pending. STORE_ENOTFOUND or -1 with err set. */
int sched_retry_run(sched_t *self,
                    uint64_t run_id,
                    const char *task_id,
                    uint32_t *reopened,
                    errbuf_t *err);

/* The zone of a DAG (its own, else the config's); caller owns it. */
tz_t *sched_schedule_zone(sched_t *self, const char *dag_zone, errbuf_t *err);

/* Records run_id's logical date and interval in the store and the plan. */
int sched_schedule_tag(sched_t *self,
                       uint64_t run_id,
                       const tz_t *tz,
                       int64_t logical,
                       int64_t start,
                       int64_t end,
                       errbuf_t *err);

/* `at`, or the first millisecond after it no run of `dag` has as its
 * logical date; -1 with err set when the store fails. */
int64_t sched_schedule_free_logical(sched_t *self,
                                    const char *dag,
                                    int64_t at,
                                    errbuf_t *err);

/* Gives a run rebuilt after a restart its time templates. */
void sched_schedule_restored(sched_t *self, const store_run_row_t *row);

/* The current version of stored DAG `name`, parsed under the file name
 * it was applied from, so that messages about it (a param's declaration)
 * cite that file. 0 and *dag_out (caller owns); STORE_ENOTFOUND when
 * there is no such DAG; -1 when the store fails or it no longer parses;
 * err set either way. */
int sched_dag_current(sched_t *self,
                      const char *name,
                      dag_t **dag_out,
                      errbuf_t *err);

/* Makes one run of DAG `name` for interval iv (trigger "scheduled" or
 * "backfill"): its current version, default params. */
int sched_schedule_run(sched_t *self,
                       const char *name,
                       const tz_t *tz,
                       const schedule_interval_t *iv,
                       const char *trigger,
                       uint64_t *run_id,
                       errbuf_t *err);

/* ---- sched_schedule.c: schedules ---- */

/* Creates and destroys self->schedule. */
void sched_schedule_start(sched_t *self);

void sched_schedule_stop(sched_t *self);

/* The schedule table re-reads the DAGs at the next turn (a DAG was
 * applied, or the turn failed). */
void sched_schedule_invalidate(sched_t *self);

/* A new version of dag (borrowed, parsed by the caller) was applied:
 * invalidates the schedule table, telling it what the version holds so
 * that it need not parse it again. */
void sched_schedule_applied(sched_t *self, const dag_t *dag);

/* In the turn's transaction: creates the runs of due intervals. */
int sched_schedule_tick(sched_t *self, int64_t now_wall, errbuf_t *err);

/* Milliseconds until the next scheduled run is due; -1 when none is. */
int64_t sched_schedule_wait(sched_t *self, int64_t now_wall);

/* Client requests: dag pause/unpause (operator), dag next (viewer), and
 * dag list/show with the schedule's columns (viewer). */
Sluice__Reply *sched_dag_pause(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_dag_next(sched_t *self, const Sluice__Request *req);

Sluice__Reply *sched_dag_read(sched_t *self, const Sluice__Request *req);

/* ---- sched_schedule.c: backfills ---- */

/* In the turn's transaction: moves every backfill on (new runs up to its
 * max_active). */
int sched_backfill_tick(sched_t *self, int64_t now_wall, errbuf_t *err);

/* Milliseconds until backfills should be looked at again; -1 when none
 * goes on. */
int64_t sched_backfill_wait(sched_t *self, int64_t now_wall);

/* `sluice backfill` (operator): starts one, lists it (dry run), or reports
 * on one (status_id). */
Sluice__Reply *sched_backfill(sched_t *self, const Sluice__Request *req);

#endif
