/* sched_out — what one turn of the scheduler produces, kept until the turn
 * commits: the messages to send (replies, tasks, acks, refusals), the
 * result acks batched per worker, the first store failure of a handler,
 * and the counts of dropped messages. The loop and every handler use it;
 * it calls nothing above it. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"

/* At most one drop line per kind in this interval. */
#define S_DROP_LOG_MS 10000

/* ------------------------------------------------------------- outgoing
 *
 * Nothing is sealed when it is queued: a turn's messages to one peer (a
 * socket and a routing id) wait in that peer's batches, in order, and at
 * flush each batch is sealed once with what the peer speaks (a MSG_BATCH
 * signed once for a worker that speaks batches, single envelopes for
 * anyone else). Welcome and Refuse are never batched: each goes alone, in
 * its place in the order. */

typedef struct {
    zsock_t *socket;       /* borrowed */
    zframe_t *to;          /* routing id, owned */
    zlistx_t *batches;     /* env_batch_t, owned, in order */
    bool open;             /* the last batch takes more items */
    zlistx_t *request_ids; /* client replies queued (uintptr_t): answered
                              with an error if the turn fails */
} s_peer_t;

static void
s_batch_free(void **item)
{
    env_batch_destroy((env_batch_t **) item);
}

static void
s_peer_free(void **item)
{
    s_peer_t *peer = *item;
    if (peer) {
        zframe_destroy(&peer->to);
        zlistx_destroy(&peer->batches);
        zlistx_destroy(&peer->request_ids);
        free(peer);
        *item = NULL;
    }
}

static void
s_ids_free(void **item)
{
    zlistx_destroy((zlistx_t **) item);
}

/* The queues of one turn: peers in the order first sent to, and the same
 * peers by "socket/routing-hex". */
static void
s_out_new(sched_t *self)
{
    self->outgoing = zlistx_new();
    zlistx_set_destructor(self->outgoing, s_peer_free);
    self->out_peers = zhashx_new(); /* values borrowed from outgoing */
}

static void
s_out_free(sched_t *self)
{
    zhashx_destroy(&self->out_peers);
    zlistx_destroy(&self->outgoing);
}

void
sched_out_start(sched_t *self)
{
    s_out_new(self);
    self->acks = zhashx_new();
    zhashx_set_destructor(self->acks, s_ids_free);
}

void
sched_out_stop(sched_t *self)
{
    s_out_free(self);
    zhashx_destroy(&self->acks);
}

/* "socket/routing-hex": the key of a peer in out_peers (caller frees). */
static char *
s_peer_key(zsock_t *socket, zframe_t *to)
{
    char *hex = zframe_strhex(to);
    char *key = xasprintf("%p/%s", (void *) socket, hex);
    free(hex);
    return key;
}

static s_peer_t *
s_peer(sched_t *self, zsock_t *socket, zframe_t *to)
{
    char *key = s_peer_key(socket, to);
    s_peer_t *peer = zhashx_lookup(self->out_peers, key);
    if (!peer) {
        peer = xcalloc(1, sizeof *peer);
        peer->socket = socket;
        peer->to = zframe_dup(to);
        peer->batches = zlistx_new();
        zlistx_set_destructor(peer->batches, s_batch_free);
        peer->request_ids = zlistx_new();
        zlistx_add_end(self->outgoing, peer);
        zhashx_insert(self->out_peers, key, peer);
    }
    free(key);
    return peer;
}

/* Messages a peer must be able to read before it knows what we speak. */
static bool
s_alone(int type)
{
    return type == SLUICE__MSG_TYPE__MSG_WELCOME ||
           type == SLUICE__MSG_TYPE__MSG_REFUSE;
}

void
sched_send(sched_t *self,
           zsock_t *socket,
           zframe_t *to,
           int type,
           const ProtobufCMessage *body,
           uint64_t request_id)
{
    s_peer_t *peer = s_peer(self, socket, to);
    bool alone = s_alone(type);
    env_batch_t *batch = peer->open ? zlistx_last(peer->batches) : NULL;
    if (!batch || alone || env_batch_count(batch) >= ENV_BATCH_MAX) {
        batch = env_batch_new();
        zlistx_add_end(peer->batches, batch);
    }
    env_batch_add(batch, type, body);
    peer->open = !alone;
    if (request_id) {
        zlistx_add_end(peer->request_ids, (void *) (uintptr_t) request_id);
    }
}

void
sched_refuse(sched_t *self,
             zsock_t *socket,
             zframe_t *to,
             uint32_t code,
             const char *reason)
{
    Sluice__Refuse refuse = SLUICE__REFUSE__INIT;
    refuse.code = code;
    refuse.reason = (char *) reason;
    refuse.major = ENV_MAJOR;
    refuse.minor = ENV_MINOR;
    sched_send(self, socket, to, SLUICE__MSG_TYPE__MSG_REFUSE, &refuse.base, 0);
}

Sluice__Reply *
sched_reply(uint64_t request_id, Sluice__Reply__OpCase op)
{
    Sluice__Reply *rep = xmalloc(sizeof *rep);
    sluice__reply__init(rep);
    rep->request_id = request_id;
    rep->op_case = op;
    return rep;
}

/* What the peer speaks: a registered worker's Register minor; 0 (single
 * messages) for clients and for anyone not registered. */
static int
s_peer_minor(sched_t *self, const s_peer_t *peer)
{
    if (peer->socket != self->workers) {
        return 0;
    }
    fleet_worker_t *worker = fleet_by_routing(self->fleet, peer->to);
    return worker ? fleet_minor(worker) : 0;
}

static void
s_peer_flush(sched_t *self, s_peer_t *peer, zlistx_t *sealed)
{
    int minor = s_peer_minor(self, peer);
    for (env_batch_t *batch = zlistx_first(peer->batches); batch;
         batch = zlistx_next(peer->batches)) {
        env_batch_seal(batch, self->key, minor, sealed);
    }
    for (zmsg_t *msg = zlistx_first(sealed); msg; msg = zlistx_next(sealed)) {
        zmsg_pushmem(msg, zframe_data(peer->to), zframe_size(peer->to));
        xzmq_send(&msg, peer->socket);
    }
    zlistx_purge(sealed);
}

void
sched_heartbeat_all(sched_t *self)
{
    self->heartbeat_due = true;
}

/* A connected worker's heartbeat: into its batch when it has one this
 * turn, else a copy of `shared`, sealed the first time it is needed. */
static void
s_heartbeat_one(sched_t *self,
                fleet_worker_t *worker,
                const Sluice__Heartbeat *hb,
                zmsg_t **shared)
{
    zframe_t *to = fleet_routing(worker);
    char *key = s_peer_key(self->workers, to);
    bool busy = zhashx_lookup(self->out_peers, key) != NULL;
    free(key);
    if (busy) {
        sched_send(self, self->workers, to, SLUICE__MSG_TYPE__MSG_HEARTBEAT,
                   &hb->base, 0);
        return;
    }
    if (!*shared) {
        *shared =
            env_seal(SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb->base, self->key);
    }
    zmsg_t *msg = zmsg_dup(*shared);
    zmsg_pushmem(msg, zframe_data(to), zframe_size(to));
    xzmq_send(&msg, self->workers);
}

static void
s_heartbeats_flush(sched_t *self)
{
    if (!self->heartbeat_due) {
        return;
    }
    self->heartbeat_due = false;
    Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
    hb.wall_ms = (uint64_t) clock_wall_ms();
    hb.heartbeat_ms = self->worker_hb_ms;
    zmsg_t *shared = NULL;
    for (fleet_worker_t *w = fleet_first(self->fleet); w;
         w = fleet_next(self->fleet)) {
        if (fleet_state(w) == FLEET_CONNECTED && fleet_routing(w)) {
            s_heartbeat_one(self, w, &hb, &shared);
        }
    }
    zmsg_destroy(&shared);
}

void
sched_out_flush(sched_t *self)
{
    s_heartbeats_flush(self);
    zlistx_t *sealed = zlistx_new(); /* zmsg_t, sent (and nulled) at once */
    for (s_peer_t *peer = zlistx_first(self->outgoing); peer;
         peer = zlistx_next(self->outgoing)) {
        s_peer_flush(self, peer, sealed);
    }
    zlistx_destroy(&sealed);
    s_out_free(self);
    s_out_new(self);
}

/* Clients get the reason instead of a reply; workers get no ack, so they
 * keep their results and send them again. */
void
sched_out_discard(sched_t *self, const errbuf_t *why)
{
    self->heartbeat_due = false; /* dropped with the turn: the next
                                    interval sends one */
    zlistx_t *failed = self->outgoing;
    self->outgoing = NULL;
    zhashx_destroy(&self->out_peers);
    s_out_new(self);
    for (s_peer_t *peer = zlistx_first(failed); peer;
         peer = zlistx_next(failed)) {
        if (peer->socket != self->clients) {
            continue;
        }
        for (void *id = zlistx_first(peer->request_ids); id;
             id = zlistx_next(peer->request_ids)) {
            Sluice__Reply *rep =
                api_error((uint64_t) (uintptr_t) id, API_E_STORE_FULL, "%s",
                          errbuf_msg(why));
            sched_send(self, self->clients, peer->to,
                       SLUICE__MSG_TYPE__MSG_REPLY, &rep->base, 0);
            protobuf_c_message_free_unpacked(&rep->base, NULL);
        }
    }
    zlistx_destroy(&failed);
}

/* ---------------------------------------------------------- turn errors */

void
sched_fail_turn(sched_t *self, const errbuf_t *err)
{
    if (!self->turn_error) {
        self->turn_error = true;
        self->turn_err = *err;
    }
}

bool
sched_turn_failed(sched_t *self, errbuf_t *err)
{
    bool failed = self->turn_error;
    if (failed) {
        *err = self->turn_err;
    }
    self->turn_error = false;
    return failed;
}

/* ------------------------------------------------------------ drop log */

void
sched_drop(sched_t *self, const char *socket_name, int code, const char *detail)
{
    int slot = -code;
    if (slot < 0 || slot >= SCHED_DROP_KINDS) {
        slot = 0;
    }
    self->drops[slot]++;
    prom_drop(self->prom, code);
    int64_t now = clock_mono_ms();
    if (now - self->drop_logged[slot] >= S_DROP_LOG_MS) {
        self->drop_logged[slot] = now;
        log_warn("dropped a message on the %s socket (%s, %" PRIu64
                 " so far): %s",
                 socket_name, env_strerror(code), self->drops[slot], detail);
    }
}

void
sched_drop_summary(const sched_t *self)
{
    char line[512] = "";
    size_t len = 0;
    for (int slot = 0; slot < SCHED_DROP_KINDS; slot++) {
        if (self->drops[slot] && len < sizeof line) {
            len += (size_t) snprintf(line + len, sizeof line - len,
                                     "%s%s %" PRIu64, len ? ", " : "",
                                     env_strerror(-slot), self->drops[slot]);
        }
    }
    if (len > 0) {
        log_info("dropped messages since start: %s", line);
    }
}

/* ------------------------------------------------------------------ acks */

void
sched_ack_later(sched_t *self, const char *worker, uint64_t attempt_id)
{
    zlistx_t *ids = zhashx_lookup(self->acks, worker);
    if (!ids) {
        ids = zlistx_new();
        zhashx_insert(self->acks, worker, ids);
    }
    zlistx_add_end(ids, (void *) (uintptr_t) attempt_id);
}

size_t
sched_take_acks(sched_t *self, const char *worker, uint64_t **ids_p)
{
    zlistx_t *ids = zhashx_lookup(self->acks, worker);
    size_t n = ids ? zlistx_size(ids) : 0;
    *ids_p = n ? xcalloc(n, sizeof **ids_p) : NULL;
    size_t i = 0;
    for (void *id = ids ? zlistx_first(ids) : NULL; id; id = zlistx_next(ids)) {
        (*ids_p)[i++] = (uint64_t) (uintptr_t) id;
    }
    zhashx_delete(self->acks, worker);
    return n;
}

void
sched_queue_acks(sched_t *self)
{
    zlistx_t *names = zhashx_keys(self->acks);
    for (const char *name = zlistx_first(names); name;
         name = zlistx_next(names)) {
        fleet_worker_t *worker = fleet_by_name(self->fleet, name);
        uint64_t *ids = NULL;
        size_t n = sched_take_acks(self, name, &ids);
        if (worker && fleet_routing(worker)) {
            Sluice__ResultAck ack = SLUICE__RESULT_ACK__INIT;
            ack.n_attempt_ids = n;
            ack.attempt_ids = ids;
            sched_send(self, self->workers, fleet_routing(worker),
                       SLUICE__MSG_TYPE__MSG_RESULT_ACK, &ack.base, 0);
        }
        /* else: it sends the results again when it is back */
        free(ids);
    }
    zlistx_destroy(&names);
}
