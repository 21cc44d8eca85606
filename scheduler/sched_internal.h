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
#include "scheduler/fleet.h"
#include "scheduler/plan.h"
#include "scheduler/store.h"

#define SCHED_DROP_KINDS 8

typedef struct {
    char *dir;                            /* state directory, owned */
    config_t *config;                     /* owned */
    keys_t *key;                          /* scheduler signing key, owned */
    uint8_t client_key[KEYS_PUBLIC_SIZE]; /* the local CLI's key */
    store_t *store;                       /* owned */
    plan_t *plan;                         /* owned */
    fleet_t *fleet;                       /* owned */
    zsock_t *workers;                     /* ROUTER for workers, owned */
    zsock_t *clients;                     /* ROUTER for clients, owned */
    zlistx_t *outgoing;                   /* sched_out_t, sent after commit */
    zhashx_t *acks;                       /* worker name -> zlistx of ids */
    int64_t started;                      /* monotonic ms */
    int64_t last_heartbeat;               /* monotonic ms */
    uint64_t drops[SCHED_DROP_KINDS];     /* dropped messages per ENV_E code */
    int64_t drop_logged[SCHED_DROP_KINDS];
    bool turn_error;   /* a handler failed to write */
    errbuf_t turn_err; /* ... and why */
} sched_t;

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

#endif
