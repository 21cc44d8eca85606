/* peer — a stand-in worker or client for tests (see peer.h). */
#include "tests/unit/peer.h"

#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/envelope.h"

/* Longest single wait between two looks at the peer's socket: the
 * scheduler's turn gets this long to find work before the peer checks
 * whether its answer came. */
#define S_STEP_MS 5

/* A message that came while the peer waited for another type. */
typedef struct {
    int type;               /* Sluice__MsgType */
    ProtobufCMessage *body; /* owned */
} s_kept_t;

struct peer_t {
    char *name;                          /* owned: worker name, "client" */
    keys_t *key;                         /* owned: our signing key */
    curve_t *curve;                      /* owned: our CURVE key */
    uint8_t sched_pub[KEYS_PUBLIC_SIZE]; /* the scheduler key we trust */
    uint8_t sched_curve[CURVE_KEY_SIZE]; /* its CURVE key, pinned */
    zsock_t *sock;                       /* owned: DEALER, NULL before
                                            peer_connect */
    zlistx_t *kept;                      /* s_kept_t, oldest first */
    peer_drive_fn *drive;                /* NULL: just wait on sock */
    void *drive_arg;
    zlistx_t *acked;  /* attempt ids acknowledged, as uintptr_t */
    uint32_t slots;   /* from the last Register */
    uint64_t next_id; /* request_id of the next call */
    size_t batches;   /* MSG_BATCH envelopes received */
};

static void
s_kept_free(void **item)
{
    s_kept_t *kept = *item;
    if (kept) {
        protobuf_c_message_free_unpacked(kept->body, NULL);
        free(kept);
        *item = NULL;
    }
}

static peer_t *
s_new(const char *name, keys_t *key, curve_t *curve)
{
    peer_t *self = xcalloc(1, sizeof *self);
    self->name = xstrdup(name);
    self->key = key;
    self->curve = curve;
    self->kept = zlistx_new();
    zlistx_set_destructor(self->kept, s_kept_free);
    self->acked = zlistx_new();
    self->next_id = 1;
    return self;
}

peer_t *
peer_new_worker(const char *name,
                const uint8_t *sched_pub,
                const uint8_t *sched_curve)
{
    peer_t *self = s_new(name, keys_generate(), curve_generate());
    memcpy(self->sched_pub, sched_pub, KEYS_PUBLIC_SIZE);
    memcpy(self->sched_curve, sched_curve, CURVE_KEY_SIZE);
    return self;
}

peer_t *
peer_new_client(const char *dir, errbuf_t *err)
{
    char *key_path = statedir_path(dir, STATEDIR_CLIENT_KEY);
    char *pub_path = statedir_path(dir, STATEDIR_SCHEDULER_PUB);
    char *curve_path = statedir_path(dir, STATEDIR_SCHEDULER_CURVE ".pub");
    keys_t *key = keys_load(key_path, err);
    peer_t *self = NULL;
    if (key) {
        self = s_new("client", key, curve_from_keys(key));
        if (keys_load_public(pub_path, self->sched_pub, err) < 0 ||
            curve_load_public(curve_path, self->sched_curve, err) < 0) {
            peer_destroy(&self);
        }
    }
    free(key_path);
    free(pub_path);
    free(curve_path);
    return self;
}

void
peer_destroy(peer_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    peer_t *self = *self_p;
    zsock_destroy(&self->sock);
    zlistx_destroy(&self->kept);
    zlistx_destroy(&self->acked);
    keys_destroy(&self->key);
    curve_destroy(&self->curve);
    free(self->name);
    free(self);
    *self_p = NULL;
}

void
peer_set_driver(peer_t *self, peer_drive_fn *drive, void *arg)
{
    self->drive = drive;
    self->drive_arg = arg;
}

int
peer_connect(peer_t *self, const char *endpoint)
{
    zsock_destroy(&self->sock);
    zlistx_purge(self->kept);
    self->sock = zsock_new(ZMQ_DEALER);
    assert(self->sock);
    zsock_set_linger(self->sock, 0);
    curve_set_client(self->curve, self->sock, self->sched_curve);
    return zsock_connect(self->sock, "%s", endpoint) < 0 ? -1 : 0;
}

const uint8_t *
peer_public(const peer_t *self)
{
    return keys_public(self->key);
}

void
peer_send(peer_t *self, int type, const ProtobufCMessage *body)
{
    assert(self->sock);
    zmsg_t *msg = env_seal(type, body, self->key);
    int rc = xzmq_send(&msg, self->sock);
    assert(rc == 0);
    (void) rc;
}

void
peer_send_batch(peer_t *self, env_batch_t *batch)
{
    assert(self->sock);
    zlistx_t *sealed = zlistx_new();
    env_batch_seal(batch, self->key, ENV_MINOR, sealed);
    for (zmsg_t *msg = zlistx_first(sealed); msg; msg = zlistx_next(sealed)) {
        int rc = xzmq_send(&msg, self->sock);
        assert(rc == 0);
        (void) rc;
    }
    zlistx_destroy(&sealed);
}

/* --------------------------------------------------------------- receive */

static bool
s_trust_scheduler(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    const peer_t *self = arg;
    return memcmp(signer, self->sched_pub, KEYS_PUBLIC_SIZE) == 0;
}

/* Notes the attempts a ResultAck or a Task acknowledges. */
static void
s_note_acks(peer_t *self, const env_msg_t *env)
{
    const uint64_t *ids = NULL;
    size_t n = 0;
    if (env->type == SLUICE__MSG_TYPE__MSG_RESULT_ACK) {
        const Sluice__ResultAck *ack = (const Sluice__ResultAck *) env->body;
        ids = ack->attempt_ids;
        n = ack->n_attempt_ids;
    } else if (env->type == SLUICE__MSG_TYPE__MSG_TASK) {
        const Sluice__Task *task = (const Sluice__Task *) env->body;
        ids = task->acks;
        n = task->n_acks;
    }
    for (size_t i = 0; i < n; i++) {
        zlistx_add_end(self->acked, (void *) (uintptr_t) ids[i]);
    }
}

/* Keeps one opened message (alone, or a batch's item) and takes its body. */
static void
s_keep(peer_t *self, env_msg_t *env)
{
    s_note_acks(self, env);
    s_kept_t *kept = xcalloc(1, sizeof *kept);
    kept->type = env->type;
    kept->body = env->body;
    env->body = NULL; /* now kept's */
    zlistx_add_end(self->kept, kept);
}

/* Opens and keeps everything waiting on the socket (a batch's items one by
 * one). A message that does
 * not open is a scheduler bug in a test: said, then dropped. */
static void
s_read(peer_t *self)
{
    while (self->sock && (zsock_events(self->sock) & ZMQ_POLLIN)) {
        zmsg_t *msg = xzmq_recv(self->sock);
        if (!msg) {
            break;
        }
        env_msg_t env;
        errbuf_t err;
        int rc = env_open(msg, s_trust_scheduler, self, &env, &err);
        if (rc == ENV_OK) {
            bool batch = env.type == SLUICE__MSG_TYPE__MSG_BATCH;
            self->batches += batch;
            for (size_t i = 0; i < (batch ? env.nitems : 1); i++) {
                s_keep(self, batch ? &env.items[i] : &env); /* in order */
            }
            env_msg_clear(&env);
        } else {
            log_error("%s: dropped a message from the scheduler: %s",
                      self->name, errbuf_msg(&err));
        }
        zmsg_destroy(&msg);
    }
}

/* The oldest kept message of `type`, taken out of the list; NULL if none. */
static ProtobufCMessage *
s_take(peer_t *self, int type)
{
    for (s_kept_t *kept = zlistx_first(self->kept); kept;
         kept = zlistx_next(self->kept)) {
        if (kept->type == type) {
            ProtobufCMessage *body = kept->body;
            kept->body = NULL;
            zlistx_delete(self->kept, zlistx_cursor(self->kept));
            return body;
        }
    }
    return NULL;
}

/* Lets the scheduler run (or, with no driver, waits on our socket) for at
 * most ms. */
static void
s_wait(peer_t *self, int ms)
{
    if (self->drive) {
        self->drive(self->drive_arg, ms);
    } else {
        zpoller_t *poller = zpoller_new(self->sock, NULL);
        zpoller_wait(poller, ms);
        zpoller_destroy(&poller);
    }
}

size_t
peer_batches(const peer_t *self)
{
    return self->batches;
}

ProtobufCMessage *
peer_recv(peer_t *self, int type, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    while (true) {
        s_read(self);
        ProtobufCMessage *body = s_take(self, type);
        int64_t left = deadline - clock_mono_ms();
        if (body || left <= 0) {
            return body;
        }
        s_wait(self, left < S_STEP_MS ? (int) left : S_STEP_MS);
    }
}

/* ---------------------------------------------------------------- worker */

void
peer_register(peer_t *self,
              uint32_t slots,
              const char *token,
              const uint64_t *running,
              size_t nrunning)
{
    self->slots = slots;
    Sluice__Register reg = SLUICE__REGISTER__INIT;
    reg.name = self->name;
    reg.hostname = "peer.test";
    reg.slots = slots;
    reg.free_slots = nrunning < slots ? slots - (uint32_t) nrunning : 0;
    reg.n_running = nrunning;
    reg.running = (uint64_t *) running;
    reg.wall_ms = (uint64_t) clock_wall_ms();
    reg.session = randombytes_random();
    reg.software = "sluice unit test";
    reg.token = (char *) (token ? token : "");
    peer_send(self, SLUICE__MSG_TYPE__MSG_REGISTER, &reg.base);
}

void
peer_result(peer_t *self,
            uint64_t attempt_id,
            Sluice__Outcome outcome,
            int exit_code)
{
    uint64_t now = (uint64_t) clock_wall_ms();
    Sluice__Result res = SLUICE__RESULT__INIT;
    res.attempt_id = attempt_id;
    res.outcome = outcome;
    res.exit_code = exit_code;
    res.started_ms = now;
    res.ended_ms = now;
    res.free_slots = self->slots;
    peer_send(self, SLUICE__MSG_TYPE__MSG_RESULT, &res.base);
}

bool
peer_acked(peer_t *self, uint64_t attempt_id, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    while (true) {
        s_read(self);
        void *id = (void *) (uintptr_t) attempt_id;
        int64_t left = deadline - clock_mono_ms();
        if (zlistx_find(self->acked, id) || left <= 0) {
            return zlistx_find(self->acked, id) != NULL;
        }
        s_wait(self, left < S_STEP_MS ? (int) left : S_STEP_MS);
    }
}

/* ---------------------------------------------------------------- client */

Sluice__Reply *
peer_call(peer_t *self, Sluice__Request *req, int timeout_ms)
{
    req->request_id = self->next_id++;
    peer_send(self, SLUICE__MSG_TYPE__MSG_REQUEST, &req->base);
    int64_t deadline = clock_mono_ms() + timeout_ms;
    while (true) {
        int64_t left = deadline - clock_mono_ms();
        Sluice__Reply *rep = (Sluice__Reply *) peer_recv(
            self, SLUICE__MSG_TYPE__MSG_REPLY, left > 0 ? (int) left : 0);
        if (!rep || rep->request_id == req->request_id) {
            return rep;
        }
        /* the late reply to an earlier call that gave up */
        protobuf_c_message_free_unpacked(&rep->base, NULL);
    }
}
