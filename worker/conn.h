/* conn — the worker's connection to the scheduler: one DEALER socket, the
 * state it is in, heartbeats both ways, and what it sends and receives.
 *
 * The connection follows the Paranoid Pirate pattern: silence for
 * liveness x heartbeat drops the socket and a fresh one registers again
 * after a growing backoff, while running attempts go on. Every change of
 * state goes through one function that checks conn_state_can: an illegal
 * change is refused and logged as a bug.
 *
 *   CONNECTING --Welcome--> REGISTERED --lost--> CONNECTING
 *   CONNECTING --Refuse(pending)--> WAITING --Welcome--> REGISTERED
 *   any but STOPPING --stop asked--> DRAINING --all done--> STOPPING
 *   any but STOPPING --Refuse(version)--> STOPPING
 *
 * Below job handling (jobs.h): it knows nothing of attempts, and what it
 * reports about them (free slots, running ids) is handed in. */
#ifndef SLUICE_CONN_H
#define SLUICE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/curve.h"
#include "common/errbuf.h"
#include "common/keys.h"
#include "proto/envelope.h"

typedef enum {
    CONN_CONNECTING = 0, /* dialling, or backing off before the next dial */
    CONN_WAITING,        /* refused as pending: asks again until accepted */
    CONN_REGISTERED,     /* welcomed: heartbeats flow, tasks may come */
    CONN_DRAINING,       /* leaving: no new work, results wait for acks */
    CONN_STOPPING,       /* done: the loop ends */
} conn_state_t;

#define CONN_STATE_COUNT 5

typedef struct conn_t conn_t;

/* What the connection needs to start. Pointers are borrowed for the
 * conn_new call, except keys and curve, borrowed for conn_t's life. */
typedef struct {
    const char *name;           /* the name tasks must be addressed to */
    const char *hostname;       /* sent in Register */
    const char *endpoint;       /* "tcp://host:port" */
    const uint8_t *sched_pub;   /* KEYS_PUBLIC_SIZE: the only trusted signer */
    const uint8_t *sched_curve; /* CURVE_KEY_SIZE: its pinned CURVE key */
    const keys_t *keys;         /* our signing key */
    const curve_t *curve;       /* our transport key */
    const char *token;          /* join token until welcomed, or NULL */
    uint32_t heartbeat_ms;      /* --heartbeat-ms; 0 = the scheduler's */
    uint32_t cpus;              /* resources for Register */
    uint64_t memory_mb;
    uint32_t gpus;
    const char *const *labels;
    size_t label_count;
} conn_config_t;

/* What Register and Heartbeat report about attempts; borrowed. */
typedef struct {
    uint32_t slots;
    uint32_t free_slots;
    uint64_t *running; /* attempt ids running here */
    size_t n_running;
    uint32_t prefetch; /* tasks it holds beyond its free slots */
    uint64_t *queued;  /* attempt ids held (prefetched), not started yet */
    size_t n_queued;
} conn_load_t;

/* Whether the state machine allows from -> to. */
bool conn_state_can(conn_state_t from, conn_state_t to);

/* "connecting", "waiting for admission", ... for logs. */
const char *conn_state_name(conn_state_t state);

/* A connection in CONNECTING that dials at the first conn_tick; owned by
 * the caller. */
conn_t *conn_new(const conn_config_t *config);

/* Closes the socket and frees; accepts NULL and a NULL *self_p. */
void conn_destroy(conn_t **self_p);

conn_state_t conn_state(const conn_t *self);

/* The name the scheduler knows us by (a Welcome may change it); borrowed
 * until the next Welcome. */
const char *conn_name(const conn_t *self);

/* True once the current socket was welcomed (REGISTERED, or DRAINING
 * after a Welcome): heartbeats flow and acks can come. */
bool conn_registered(const conn_t *self);

/* True in DRAINING and STOPPING: no new work. */
bool conn_leaving(const conn_t *self);

/* True in STOPPING: the loop ends. */
bool conn_done(const conn_t *self);

/* The scheduler's wall clock now, in ms, by the offset of its Welcome. */
int64_t conn_sched_now(const conn_t *self);

/* Dials when a backoff ended (sending Register with load), drops a silent
 * socket, sends a heartbeat when one is due. */
void conn_tick(conn_t *self, const conn_load_t *load);

/* The earliest monotonic ms at which conn_tick has work. */
int64_t conn_next_deadline(const conn_t *self);

/* The socket for zmq_poll, NULL while backing off; borrowed. */
void *conn_pollable(const conn_t *self);

/* Queues a message for this loop turn's conn_flush (dropped when not
 * connected: results and kept log chunks go again after the next
 * Welcome). */
void conn_send(conn_t *self, int type, const ProtobufCMessage *body);

/* Sends what this turn queued, at the end of every loop turn (nothing
 * waits to fill a batch): one envelope signed once when the scheduler
 * speaks batches (its Welcome's minor), else one per message. A failure
 * is counted and logged once per interval. */
void conn_flush(conn_t *self);

/* True once, a heartbeat after a send failed on a socket that stays up
 * (a full queue): what the outbox and logkeep hold must go again, since no
 * new Welcome will ask for it. */
bool conn_resend_due(conn_t *self);

/* conn_send, then frees the heap-built body. */
void conn_send_free(conn_t *self, int type, ProtobufCMessage *body);

/* Sends a Heartbeat with load now and times the next one. */
void conn_heartbeat(conn_t *self, const conn_load_t *load);

/* True while a message waits on the socket. */
bool conn_readable(const conn_t *self);

/* Receives one message and opens it (verified, from the scheduler) into
 * out: 0, and the caller clears out with env_msg_clear; -1 when nothing
 * came or it was dropped (counted). */
int conn_recv(conn_t *self, env_msg_t *out);

/* Counts a dropped message and logs the reason once per interval. */
void conn_count_drop(conn_t *self, int code, const errbuf_t *err);

/* Logs every drop count since start (at exit). */
void conn_drop_summary(const conn_t *self);

/* The scheduler's Heartbeat: a heartbeat_ms in it is the interval to
 * beat at (and to expect the scheduler at) from now on. */
void conn_heard_heartbeat(conn_t *self, const Sluice__Heartbeat *hb);

/* A Welcome: takes the scheduler's clock, heartbeat and name, forgets
 * the token, and enters REGISTERED (or stays DRAINING). */
void conn_welcomed(conn_t *self, const Sluice__Welcome *welcome);

/* A Refuse: waits for admission (pending), stops (version mismatch,
 * returns -1), or drops the socket and dials again later. */
int conn_refused(conn_t *self, const Sluice__Refuse *refuse);

/* Drops the socket and logs why; a fresh one dials after the backoff. */
void conn_lost(conn_t *self, const char *why);

/* Enters DRAINING: no new work from now on. */
void conn_drain(conn_t *self);

/* Sends Goodbye (when connected) and enters STOPPING. */
void conn_stop(conn_t *self, const char *reason);

#endif
