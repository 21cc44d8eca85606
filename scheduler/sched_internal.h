/* sched_internal — the scheduler context shared by the daemon's own files
 * (sched.c: loop and lifecycle; sched_worker.c: worker messages;
 * sched_client.c: client requests). Not a public contract. */
#ifndef SLUICE_SCHED_INTERNAL_H
#define SLUICE_SCHED_INTERNAL_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/errbuf.h"
#include "common/keys.h"
#include "proto/envelope.h"
#include "common/curve.h"
#include "scheduler/admit.h"
#include "scheduler/fleet.h"
#include "scheduler/plan.h"
#include "scheduler/sched.h"
#include "scheduler/secrets.h"
#include "scheduler/store/store.h"

#define SCHED_DROP_KINDS 8

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
    zlistx_t *outgoing;                   /* sched_out_t, sent after commit */
    zhashx_t *acks;                       /* worker name -> zlistx of ids */
    int64_t started;                      /* monotonic ms */
    int64_t last_heartbeat;               /* monotonic ms */
    uint64_t drops[SCHED_DROP_KINDS];     /* dropped messages per ENV_E code */
    int64_t drop_logged[SCHED_DROP_KINDS];
    secrets_t *secrets; /* sealed secrets (sched_secrets.c), owned */
    zhashx_t *maskers;  /* attempt id text -> log masker, owned */
    admit_t *admit;     /* ZAP handler, key decisions (sched_keys.c) */
    curve_t *curve;     /* scheduler's CURVE key, owned */
    uint8_t peer_curve[CURVE_KEY_SIZE]; /* CURVE key of the connection the
                                           message being handled came on */
    bool peer_known;               /* ... false when its metadata had none */
    struct autoscale_t *autoscale; /* issue 6; NULL when off, owned */
    int64_t autoscale_last;        /* monotonic ms of its last step */
    bool turn_error;               /* a handler failed to write */
    errbuf_t turn_err;             /* ... and why */
};

/* Seals body and queues it to routing id `to`, sent after this turn
 * commits. request_id != 0 marks a client reply. */
void sched_send(sched_t *self,
                zsock_t *socket,
                zframe_t *to,
                int type,
                const ProtobufCMessage *body,
                uint64_t request_id);

/* Counts a dropped message and logs it at most once per interval. */
void sched_drop(sched_t *self,
                const char *socket_name,
                int code,
                const char *detail);

/* A handler's store write failed: the whole turn is rolled back. */
void sched_fail_turn(sched_t *self, const errbuf_t *err);

/* Handlers for one opened message; env is borrowed. */
void sched_on_worker(sched_t *self, zframe_t *from, env_msg_t *env);

void sched_on_client(sched_t *self, zframe_t *from, env_msg_t *env);

/* Result acks, batched per worker and sent after the commit. */
zhashx_t *sched_acks_new(void);

void sched_queue_acks(sched_t *self);

/* Removes and returns (caller owns *ids_p) the acks waiting for `worker`,
 * so they can ride on a Task instead of their own signed message. */
size_t sched_take_acks(sched_t *self, const char *worker, uint64_t **ids_p);

/* Secrets (sched_secrets.c): opened at start (refusing a key file that
 * group or others can read), handed to each new plan for dispatch. */
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

/* The attempt ended: stores what masking held back, forgets the masker. */
int
sched_secrets_attempt_end(sched_t *self, uint64_t attempt_id, errbuf_t *err);

/* The secret verbs; NULL when req is not one. Caller owns the reply. */
Sluice__Reply *sched_secrets_request(sched_t *self, const Sluice__Request *req);

/* Integrity (sched_audit.c, issue 4 part B). The local CLI's key is an
 * operator from start; other client keys are trusted with their role. */
int sched_audit_start(sched_t *self, errbuf_t *err);

/* True when signer may send requests: the local CLI or a known client. */
bool sched_client_trusted(sched_t *self, const uint8_t *signer);

/* NULL when env's signer may run req; else an ErrorRep (code 3, caller
 * owns) and the refusal is written to the event table. */
Sluice__Reply *sched_authorize(sched_t *self,
                               const env_msg_t *env,
                               const Sluice__Request *req);

/* Answers verify, verify_events and client_add; NULL for other ops.
 * Caller owns the reply. */
Sluice__Reply *sched_audit_request(sched_t *self,
                                   const env_msg_t *env,
                                   const Sluice__Request *req);

/* True when a Result's signature is the one already stored with its
 * attempt: the same message again, counted (ENV_EREPLAYED) and refused. */
bool sched_result_replayed(sched_t *self, const env_msg_t *env);

/* Stores the signed bytes, signature and signer of a Result with its
 * attempt (the first one only). */
void sched_result_keep(sched_t *self, const env_msg_t *env);

/* Transport and admission (sched_keys.c, issue 4 part A). */

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

/* keys list / decide, token create; NULL for other ops. Caller owns. */
Sluice__Reply *sched_keys_request(sched_t *self, const Sluice__Request *req);

/* Lineage (sched_lineage.c, issue 5 part F). Records the dataset versions
 * a current attempt's Result names (outputs only after a success). */
int
sched_lineage_result(sched_t *self, const Sluice__Result *res, errbuf_t *err);

/* lineage and datasets (read-only); NULL for other ops. Caller owns. */
Sluice__Reply *sched_lineage_request(sched_t *self, const Sluice__Request *req);

/* Metrics, caching and dataset triggers (sched_metrics.c, issue 5 part
 * G). A DAG was applied: remember the datasets that trigger it. */
int sched_g_dag_applied(sched_t *self, const dag_t *dag, errbuf_t *err);

/* Before plan_attempt_result of a current attempt: stores its metrics
 * and, on success, its cache entry; *producer gets (owned) the DAG of its
 * run on success, else NULL. */
int sched_g_result_before(sched_t *self,
                          const Sluice__Result *res,
                          bool success,
                          char **producer,
                          errbuf_t *err);

/* After a success was applied: triggers the DAGs that name one of its
 * outputs, except `producer` itself (a loop; logged). */
int sched_g_result_after(sched_t *self,
                         const Sluice__Result *res,
                         const char *producer,
                         errbuf_t *err);

/* Starts a run of stored DAG `name` with its default params and today's
 * date, recording why (trigger) and by which dataset version. */
int sched_g_trigger(sched_t *self,
                    const char *name,
                    const char *trigger,
                    const char *triggered_by,
                    uint64_t *run_id,
                    errbuf_t *err);

/* Validation reports (sched_reports.c, issue 5 part E). Keeps the report
 * of a current attempt and, after a success, its dataset's drift profile. */
int sched_reports_result(sched_t *self,
                         const Sluice__Result *res,
                         bool success,
                         errbuf_t *err);

/* The drift profile of the previous validated version of the dataset a
 * validate task reads (owned, "" when none). */
char *sched_reports_profile(sched_t *self, const plan_dispatch_t *d);

/* report (read-only); NULL for other ops. Caller owns. */
Sluice__Reply *sched_reports_request(sched_t *self, const Sluice__Request *req);

/* Autoscaler (sched_autoscale.c, issue 6): one step every
 * SCHED_AUTOSCALE_STEP_MS at most, inside the turn's transaction. */
#define SCHED_AUTOSCALE_STEP_MS 500

int sched_autoscale_start(sched_t *self, errbuf_t *err);

void sched_autoscale_stop(sched_t *self);

void sched_autoscale_step(sched_t *self, int64_t now);

/* Monotonic ms of the next step; -1 when the autoscaler is off. */
int64_t sched_autoscale_next(sched_t *self);

/* autoscale status (read-only); NULL for other ops. Caller owns. */
Sluice__Reply *sched_autoscale_request(sched_t *self,
                                       const Sluice__Request *req);

#endif
