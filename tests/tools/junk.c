/* junk — sends hostile input to a scheduler or a worker, for t_hostile.sh.
 *
 *   junk attack --connect EP --socket worker|client [--client-key FILE]
 *               [--count N] [--curve-server-key PUBFILE] [--curve-cert FILE]
 *       Connects a DEALER to a scheduler socket and sends one of each kind
 *       (bad signature, unknown key, truncated frame, random bytes, wrong
 *       type for the socket), one oversized message on a connection of its
 *       own, then a flood of N junk messages (default 100000). Last it sends
 *       a version-9 envelope and waits (--sync-ms, 30 s) for the Refuse that
 *       answers it: the scheduler reads a connection in order, so then every
 *       message before it was handled. Prints what the scheduler should have
 *       counted: "expect malformed=A untrusted=B bad_signature=C version=D".
 *       Exit 0 after the Refuse, 3 when none came (e.g. CURVE refused us).
 *       With --curve-server-key (the scheduler's scheduler.curve.pub) it is
 *       a CURVE client: with the key in --curve-cert (a CURVE secret file),
 *       else the one of --client-key, else a fresh one (a stranger).
 *
 *   junk fake-scheduler --bind EP --key SCHEDULER_KEY --worker NAME
 *               --marker PATH [--count N] [--curve-cert SCHEDULER_CURVE]
 *       Plays the scheduler for one worker: welcomes it, sends an oversized
 *       message (the worker must come back and register again), each junk
 *       kind, a flood of N (with a heartbeat every 500), then a valid Task
 *       (`touch PATH`) that must still run. Exit 0 when its Result
 *       (success) came. --curve-cert: the scheduler's CURVE secret file,
 *       to be a CURVE server the worker accepts.
 *
 *   junk seeds --dir DIR
 *       Writes real envelopes (and broken ones) as fuzz_envelope seeds.
 *
 *   junk big-dag --dir STATE --size BYTES
 *       Sends, as the state directory's client, a DagApplyReq whose source
 *       is BYTES long; prints the reply. Exit 0 when it was refused.
 *
 * Exit 2 on bad usage. */
#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/curve.h"
#include "common/errbuf.h"
#include "common/keys.h"
#include "common/xalloc.h"
#include "proto/envelope.h"
#include "cli/client.h"

#define JUNK_OVERSIZE (33u << 20) /* past the daemons' 32 MiB bound */
#define JUNK_WAIT_MS  30000
#define JUNK_KINDS    8 /* indexed by -ENV_E*, like the daemons' counters */
#define JUNK_SEND_MS  20000

typedef struct {
    const char *connect, *socket, *client_key, *curve_server, *curve_cert;
    const char *bind, *key, *worker, *marker, *dir;
    long count, size, sync_ms;
} junk_opts_t;

typedef struct {
    keys_t *stranger; /* a key nobody trusts, owned */
    keys_t *trusted;  /* a key the target trusts, or NULL; owned */
    uint64_t expect[JUNK_KINDS];
    zframe_t *peer; /* fake-scheduler: the worker's routing id */
} junk_t;

/* ------------------------------------------------------------ messages */

static zmsg_t *
s_heartbeat(const keys_t *signer)
{
    Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
    hb.wall_ms = (uint64_t) clock_wall_ms();
    return env_seal(SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb.base, signer);
}

static zmsg_t *
s_request(const keys_t *signer)
{
    Sluice__Request req = SLUICE__REQUEST__INIT;
    Sluice__WorkersReq workers = SLUICE__WORKERS_REQ__INIT;
    req.request_id = 7;
    req.op_case = SLUICE__REQUEST__OP_WORKERS;
    req.workers = &workers;
    return env_seal(SLUICE__MSG_TYPE__MSG_REQUEST, &req.base, signer);
}

static zmsg_t *
s_task(const keys_t *signer, const char *worker, const char *command)
{
    uint8_t nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    int64_t now = clock_wall_ms();
    Sluice__Task t = SLUICE__TASK__INIT;
    t.worker = (char *) worker;
    t.issued_ms = (uint64_t) now;
    t.expires_ms = (uint64_t) now + 120000;
    t.nonce.data = nonce;
    t.nonce.len = sizeof nonce;
    t.attempt_id = 900;
    t.run_id = 1;
    t.dag = "junk";
    t.task_id = "t";
    t.attempt = 1;
    t.command = (char *) command;
    t.timeout_ms = 20000;
    t.kill_grace_ms = 1000;
    t.logical_date = "2026-01-01";
    t.kind = "command";
    return env_seal(SLUICE__MSG_TYPE__MSG_TASK, &t.base, signer);
}

/* A heartbeat whose signature has one bit flipped. */
static zmsg_t *
s_badsig(const keys_t *signer)
{
    zmsg_t *msg = s_heartbeat(signer);
    zframe_t *sig = zmsg_last(msg);
    zframe_data(sig)[7] ^= 0x10;
    return msg;
}

/* A valid envelope whose signature frame lost its second half. */
static zmsg_t *
s_truncated(const keys_t *signer)
{
    zmsg_t *msg = s_heartbeat(signer);
    zframe_t *sig = zmsg_last(msg);
    zframe_t *cut = zframe_new(zframe_data(sig), KEYS_SIG_SIZE / 2);
    zmsg_remove(msg, sig);
    zframe_destroy(&sig);
    zmsg_append(msg, &cut);
    return msg;
}

/* 1 to 8 frames of random bytes; the first is at least 3 bytes long, so it
 * is never read as a version (which would be answered with a Refuse) nor as
 * an empty delimiter (the worker drops one before a 5-frame envelope). */
static zmsg_t *
s_random(void)
{
    zmsg_t *msg = zmsg_new();
    uint32_t frames = 1 + randombytes_uniform(8);
    for (uint32_t i = 0; i < frames; i++) {
        uint8_t buf[96];
        size_t size = randombytes_uniform(sizeof buf);
        if (i == 0 && size <= 2) {
            size = 3; /* an empty one would be taken for a delimiter */
        }
        randombytes_buf(buf, size);
        zmsg_addmem(msg, buf, size);
    }
    return msg;
}

/* A well-formed envelope of another major version: answered with Refuse. */
static zmsg_t *
s_future(const keys_t *signer)
{
    zmsg_t *msg = s_heartbeat(signer);
    uint8_t future[2] = {9, 0};
    zframe_reset(zmsg_first(msg), future, sizeof future);
    return msg;
}

/* ---------------------------------------------------------------- send */

static int
s_send(zsock_t *sock, zframe_t *to, zmsg_t **msg_p)
{
    if (to) {
        zframe_t *copy = zframe_dup(to);
        zmsg_prepend(*msg_p, &copy);
    }
    if (zmsg_send(msg_p, sock) < 0) {
        zmsg_destroy(msg_p);
        fprintf(stderr, "junk: send failed: %s\n", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

/* Sends one junk message of flood slot i and tallies what it should cost. */
static int
s_flood_one(junk_t *self, zsock_t *sock, long i)
{
    zmsg_t *msg;
    switch (i % 4) {
        case 2:
            msg = s_badsig(self->stranger);
            self->expect[-ENV_EBADSIG]++;
            break;
        case 1:
            msg = s_truncated(self->stranger);
            self->expect[-ENV_EMALFORMED]++;
            break;
        default:
            msg = s_random();
            self->expect[-ENV_EMALFORMED]++;
            break;
    }
    return s_send(sock, self->peer, &msg);
}

static int
s_flood(junk_t *self, zsock_t *sock, long count)
{
    int64_t start = clock_mono_ms();
    for (long i = 0; i < count; i++) {
        if (s_flood_one(self, sock, i) < 0) {
            return -1;
        }
        /* As a fake scheduler, keep the worker's liveness window open. */
        if (self->peer && i % 500 == 0) {
            zmsg_t *hb = s_heartbeat(self->trusted);
            s_send(sock, self->peer, &hb);
        }
    }
    printf("flood: %ld junk messages sent in %" PRId64 " ms\n", count,
           clock_mono_ms() - start);
    return 0;
}

static void
s_print_expect(const junk_t *self)
{
    printf("expect malformed=%" PRIu64 " untrusted=%" PRIu64
           " bad_signature=%" PRIu64 " version=%" PRIu64 "\n",
           self->expect[-ENV_EMALFORMED], self->expect[-ENV_EUNTRUSTED],
           self->expect[-ENV_EBADSIG], self->expect[-ENV_EVERSION]);
}

/* ------------------------------------------------------------- options */

static int
s_opts(int argc, char **argv, junk_opts_t *o)
{
    static const struct option longs[] = {
        {"connect", required_argument, NULL, 'c'},
        {"socket", required_argument, NULL, 's'},
        {"client-key", required_argument, NULL, 'k'},
        {"curve-server-key", required_argument, NULL, 'z'},
        {"curve-cert", required_argument, NULL, 'Z'},
        {"bind", required_argument, NULL, 'b'},
        {"key", required_argument, NULL, 'K'},
        {"worker", required_argument, NULL, 'w'},
        {"marker", required_argument, NULL, 'm'},
        {"dir", required_argument, NULL, 'd'},
        {"count", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 'S'},
        {"sync-ms", required_argument, NULL, 'y'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->count = 100000;
    o->sync_ms = JUNK_WAIT_MS;
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
            case 'c':
                o->connect = optarg;
                break;
            case 's':
                o->socket = optarg;
                break;
            case 'k':
                o->client_key = optarg;
                break;
            case 'z':
                o->curve_server = optarg;
                break;
            case 'Z':
                o->curve_cert = optarg;
                break;
            case 'b':
                o->bind = optarg;
                break;
            case 'K':
                o->key = optarg;
                break;
            case 'w':
                o->worker = optarg;
                break;
            case 'm':
                o->marker = optarg;
                break;
            case 'd':
                o->dir = optarg;
                break;
            case 'n':
                o->count = atol(optarg);
                break;
            case 'y':
                o->sync_ms = atol(optarg);
                break;
            case 'S':
                o->size = atol(optarg);
                break;
            default:
                return -1;
        }
    }
    return o->count >= 0 && o->count <= 10000000 ? 0 : -1;
}

/* -------------------------------------------------------------- attack */

/* Makes sock a CURVE client of the scheduler whose public file is
 * o->curve_server: with the key in o->curve_cert (an admitted peer's
 * secret file), else the one converted from the client key, else a fresh
 * one (a stranger). -1 when a file cannot be read. */
static int
s_curve(const junk_opts_t *o, const keys_t *client, zsock_t *sock)
{
    errbuf_t err;
    uint8_t server[CURVE_KEY_SIZE];
    if (curve_load_public(o->curve_server, server, &err) < 0) {
        fprintf(stderr, "junk: %s\n", errbuf_msg(&err));
        return -1;
    }
    curve_t *curve = o->curve_cert ? curve_load(o->curve_cert, &err)
                     : client      ? curve_from_keys(client)
                                   : curve_generate();
    if (!curve) {
        fprintf(stderr, "junk: %s\n", errbuf_msg(&err));
        return -1;
    }
    curve_set_client(curve, sock, server);
    curve_destroy(&curve);
    return 0;
}

/* A DEALER to o->connect, a CURVE client when o->curve_server is set. */
static zsock_t *
s_dealer(const junk_opts_t *o, const keys_t *client)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(sock, 5000);
    zsock_set_sndtimeo(sock, JUNK_SEND_MS);
    zsock_set_sndhwm(sock, 0);
    if (o->curve_server && s_curve(o, client, sock) < 0) {
        zsock_destroy(&sock);
        return NULL;
    }
    if (zsock_connect(sock, "%s", o->connect) < 0) {
        fprintf(stderr, "junk: cannot connect to '%s'\n", o->connect);
        zsock_destroy(&sock);
    }
    return sock;
}

/* One message past the size bound, on a connection of its own: the
 * scheduler drops that connection, and nothing else. */
static void
s_oversized(const junk_opts_t *o, const keys_t *client)
{
    zsock_t *sock = s_dealer(o, client);
    if (!sock) {
        return;
    }
    zframe_t *big = zframe_new(NULL, JUNK_OVERSIZE);
    memset(zframe_data(big), 0x5a, JUNK_OVERSIZE);
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &big);
    s_send(sock, NULL, &msg);
    zclock_sleep(500); /* let it reach the peer before the socket closes */
    zsock_destroy(&sock);
    printf("oversized: sent one %u-byte message\n", JUNK_OVERSIZE);
}

/* Each kind once. The wrong type on the client socket is a Task signed by
 * the trusted client key; on the worker socket nothing of ours is trusted,
 * so a Request there is refused for its key first. */
static int
s_each_kind(junk_t *self, zsock_t *sock, bool client_socket)
{
    zmsg_t *msgs[5];
    msgs[0] = s_badsig(self->trusted ? self->trusted : self->stranger);
    self->expect[-ENV_EBADSIG]++;
    msgs[1] =
        client_socket ? s_request(self->stranger) : s_heartbeat(self->stranger);
    self->expect[-ENV_EUNTRUSTED]++;
    msgs[2] = s_truncated(self->stranger);
    self->expect[-ENV_EMALFORMED]++;
    msgs[3] = s_random();
    self->expect[-ENV_EMALFORMED]++;
    if (client_socket && self->trusted) {
        msgs[4] = s_task(self->trusted, "w1", "true");
        self->expect[-ENV_EMALFORMED]++;
    } else {
        msgs[4] = s_request(self->stranger);
        self->expect[-ENV_EUNTRUSTED]++;
    }
    int rc = 0;
    for (int i = 0; i < 5; i++) {
        if (rc == 0) {
            rc = s_send(sock, self->peer, &msgs[i]);
        } else {
            zmsg_destroy(&msgs[i]);
        }
    }
    return rc;
}

/* Sends a version-9 envelope and waits for its Refuse. */
static int
s_sync(junk_t *self, zsock_t *sock, long wait_ms)
{
    zmsg_t *msg = s_future(self->stranger);
    self->expect[-ENV_EVERSION]++;
    if (s_send(sock, NULL, &msg) < 0) {
        return -1;
    }
    int64_t start = clock_mono_ms();
    int64_t end = start + wait_ms;
    while (clock_mono_ms() < end) {
        zsock_set_rcvtimeo(sock, (int) (end - clock_mono_ms()));
        zmsg_t *answer = zmsg_recv(sock);
        if (!answer) {
            break;
        }
        env_msg_t env;
        errbuf_t err;
        int rc = env_open(answer, NULL, NULL, &env, &err);
        zmsg_destroy(&answer);
        bool refused = rc == ENV_OK && env.type == SLUICE__MSG_TYPE__MSG_REFUSE;
        env_msg_clear(&env);
        if (refused) {
            printf("sync: the scheduler answered the last message after "
                   "%" PRId64 " ms\n",
                   clock_mono_ms() - start);
            return 0;
        }
    }
    printf("sync: no answer within %ld ms\n", wait_ms);
    return -1;
}

static int
s_attack(junk_t *self, const junk_opts_t *o)
{
    if (!o->connect || !o->socket) {
        return 2;
    }
    bool client_socket = strcmp(o->socket, "client") == 0;
    errbuf_t err;
    if (o->client_key && !(self->trusted = keys_load(o->client_key, &err))) {
        fprintf(stderr, "junk: %s\n", errbuf_msg(&err));
        return 2;
    }
    s_oversized(o, self->trusted);
    zsock_t *sock = s_dealer(o, self->trusted);
    if (!sock) {
        return 1;
    }
    int rc = 3;
    if (s_each_kind(self, sock, client_socket) == 0 &&
        s_flood(self, sock, o->count) == 0 &&
        s_sync(self, sock, o->sync_ms) == 0) {
        rc = 0;
    }
    s_print_expect(self);
    zsock_set_linger(sock, 0);
    zsock_destroy(&sock);
    return rc;
}

/* ------------------------------------------------------ fake scheduler */

/* Makes router a CURVE server with the scheduler's transport secret in
 * path, so the worker's pinned CURVE key matches (no ZAP handler here:
 * any client is let in). */
static int
s_curve_server(const char *path, zsock_t *router)
{
    errbuf_t err;
    curve_t *curve = curve_load(path, &err);
    if (!curve) {
        fprintf(stderr, "junk: %s\n", errbuf_msg(&err));
        return -1;
    }
    curve_set_server(curve, router, "junk");
    curve_destroy(&curve);
    return 0;
}

/* Receives one message from the worker (timeout_ms at most), following
 * its routing id across reconnects. Returns its type, or -1. */
static int
s_recv_worker(junk_t *self, zsock_t *router, int timeout_ms, env_msg_t *out)
{
    memset(out, 0, sizeof *out);
    zsock_set_rcvtimeo(router, timeout_ms);
    zmsg_t *msg = zmsg_recv(router);
    if (!msg) {
        return -1;
    }
    zframe_t *from = zmsg_pop(msg);
    errbuf_t err;
    int rc = env_open(msg, NULL, NULL, out, &err);
    zmsg_destroy(&msg);
    if (rc != ENV_OK) {
        zframe_destroy(&from);
        return -1;
    }
    zframe_destroy(&self->peer);
    self->peer = from;
    return out->type;
}

/* The message of `type` in what came: itself, or an item of its batch (a
 * Result may travel with a heartbeat or log chunks). Borrowed from m. */
static const env_msg_t *
s_find_type(const env_msg_t *m, int type)
{
    if (m->type == type) {
        return m;
    }
    for (size_t i = 0; m->type == SLUICE__MSG_TYPE__MSG_BATCH && i < m->nitems;
         i++) {
        if (m->items[i].type == type) {
            return &m->items[i];
        }
    }
    return NULL;
}

/* Waits for a message of `type` from the worker: out holds what came and
 * *found (when not NULL) the message of that type in it. 0 when it came. */
static int
s_await(junk_t *self,
        zsock_t *router,
        int type,
        int64_t ms,
        env_msg_t *out,
        const env_msg_t **found)
{
    int64_t end = clock_mono_ms() + ms;
    while (clock_mono_ms() < end) {
        s_recv_worker(self, router, 200, out);
        const env_msg_t *hit = s_find_type(out, type);
        if (hit) {
            if (found) {
                *found = hit;
            }
            return 0;
        }
        env_msg_clear(out);
        zmsg_t *hb = s_heartbeat(self->trusted);
        if (self->peer) {
            s_send(router, self->peer, &hb);
        } else {
            zmsg_destroy(&hb);
        }
    }
    return -1;
}

static void
s_welcome(junk_t *self, zsock_t *router, const char *worker)
{
    Sluice__Welcome w = SLUICE__WELCOME__INIT;
    w.worker = (char *) worker;
    w.heartbeat_ms = 500;
    w.liveness = 4; /* a dead connection is noticed within 2 s */
    w.wall_ms = (uint64_t) clock_wall_ms();
    zmsg_t *msg =
        env_seal(SLUICE__MSG_TYPE__MSG_WELCOME, &w.base, self->trusted);
    s_send(router, self->peer, &msg);
}

/* The oversized message kills the worker's connection, and ZeroMQ does not
 * reconnect after a protocol error: the worker hears nothing for its
 * liveness window, starts a new connection and registers again. */
static int
s_fake_oversized(junk_t *self, zsock_t *router, const char *worker)
{
    zframe_t *big = zframe_new(NULL, JUNK_OVERSIZE);
    memset(zframe_data(big), 0x5a, JUNK_OVERSIZE);
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &big);
    s_send(router, self->peer, &msg);
    env_msg_t m;
    int rc =
        s_await(self, router, SLUICE__MSG_TYPE__MSG_REGISTER, 20000, &m, NULL);
    env_msg_clear(&m);
    printf("oversized: %s\n", rc == 0 ? "the worker registered again"
                                      : "the worker did not come back");
    if (rc == 0) {
        s_welcome(self, router, worker);
    }
    return rc;
}

static int
s_fake_each_kind(junk_t *self, zsock_t *router, const char *worker)
{
    zmsg_t *msgs[5];
    msgs[0] = s_badsig(self->trusted);
    self->expect[-ENV_EBADSIG]++;
    msgs[1] = s_task(self->stranger, worker, "touch /tmp/junk-never-runs");
    self->expect[-ENV_EUNTRUSTED]++;
    msgs[2] = s_truncated(self->trusted);
    msgs[3] = s_random();
    msgs[4] = s_request(self->trusted); /* signed, wrong type for a worker */
    self->expect[-ENV_EMALFORMED] += 3;
    int rc = 0;
    for (int i = 0; i < 5; i++) {
        if (rc == 0) {
            rc = s_send(router, self->peer, &msgs[i]);
        } else {
            zmsg_destroy(&msgs[i]);
        }
    }
    return rc;
}

/* Sends the valid task and waits for its Result; acks it. */
static int
s_fake_valid(junk_t *self, zsock_t *router, const junk_opts_t *o)
{
    char command[1100];
    snprintf(command, sizeof command, "touch %s", o->marker);
    zmsg_t *msg = s_task(self->trusted, o->worker, command);
    s_send(router, self->peer, &msg);
    env_msg_t m;
    const env_msg_t *found = NULL;
    if (s_await(self, router, SLUICE__MSG_TYPE__MSG_RESULT, 60000, &m, &found) <
        0) {
        printf("valid task: no result within 60 s\n");
        return -1;
    }
    const Sluice__Result *r = (const Sluice__Result *) found->body;
    printf("valid task: result outcome %d exit %d\n", r->outcome, r->exit_code);
    uint64_t id = r->attempt_id;
    bool ok =
        r->outcome == SLUICE__OUTCOME__OUTCOME_EXITED && r->exit_code == 0;
    env_msg_clear(&m);
    Sluice__ResultAck ack = SLUICE__RESULT_ACK__INIT;
    ack.n_attempt_ids = 1;
    ack.attempt_ids = &id;
    msg = env_seal(SLUICE__MSG_TYPE__MSG_RESULT_ACK, &ack.base, self->trusted);
    s_send(router, self->peer, &msg);
    zclock_sleep(300); /* let the ack leave before we close */
    return ok ? 0 : -1;
}

static int
s_fake_scheduler(junk_t *self, const junk_opts_t *o)
{
    if (!o->bind || !o->key || !o->worker || !o->marker) {
        return 2;
    }
    errbuf_t err;
    if (!(self->trusted = keys_load(o->key, &err))) {
        fprintf(stderr, "junk: %s\n", errbuf_msg(&err));
        return 2;
    }
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    zsock_set_linger(router, 1000);
    zsock_set_sndhwm(router, 0); /* queue the whole flood, drop nothing */
    if (o->curve_cert && s_curve_server(o->curve_cert, router) < 0) {
        zsock_destroy(&router);
        return 2;
    }
    if (zsock_bind(router, "%s", o->bind) < 0) {
        fprintf(stderr, "junk: cannot bind '%s'\n", o->bind);
        zsock_destroy(&router);
        return 1;
    }
    int rc = 1;
    env_msg_t m;
    if (s_await(self, router, SLUICE__MSG_TYPE__MSG_REGISTER, 10000, &m, NULL) <
        0) {
        fprintf(stderr, "junk: no Register within 10 s\n");
    } else {
        env_msg_clear(&m);
        s_welcome(self, router, o->worker);
        if (s_fake_oversized(self, router, o->worker) == 0 &&
            s_fake_each_kind(self, router, o->worker) == 0 &&
            s_flood(self, router, o->count) == 0 &&
            s_fake_valid(self, router, o) == 0) {
            rc = 0;
        }
    }
    s_print_expect(self);
    zsock_destroy(&router);
    return rc;
}

/* ------------------------------------------------------------- big dag */

static int
s_big_dag(const junk_opts_t *o)
{
    if (!o->dir || o->size <= 0) {
        return 2;
    }
    errbuf_t err;
    client_t *client = client_open(o->dir, &err);
    if (!client) {
        fprintf(stderr, "junk: %s\n", errbuf_msg(&err));
        return 2;
    }
    char *source = xmalloc((size_t) o->size + 1);
    memset(source, '#', (size_t) o->size);
    source[o->size] = '\0';
    Sluice__Request req = SLUICE__REQUEST__INIT;
    Sluice__DagApplyReq apply = SLUICE__DAG_APPLY_REQ__INIT;
    apply.filename = "big.yaml";
    apply.source = source;
    req.op_case = SLUICE__REQUEST__OP_DAG_APPLY;
    req.dag_apply = &apply;
    Sluice__Reply *rep = client_call(client, &req, &err);
    int rc = 1;
    if (!rep) {
        printf("big-dag: no reply: %s\n", errbuf_msg(&err));
    } else if (rep->op_case == SLUICE__REPLY__OP_ERROR) {
        printf("big-dag: refused: %s\n", rep->error->message);
        rc = 0;
    } else {
        printf("big-dag: accepted\n");
    }
    if (rep) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
    }
    free(source);
    client_destroy(&client);
    return rc;
}

/* --------------------------------------------------------------- seeds */

/* Writes msg in fuzz_envelope's raw layout: 0x00, then [len][bytes] per
 * frame (frames over 255 bytes are cut, which is junk worth having too). */
static void
s_seed_raw(const char *dir, const char *name, zmsg_t **msg_p)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputc(0, f);
        for (zframe_t *fr = zmsg_first(*msg_p); fr; fr = zmsg_next(*msg_p)) {
            size_t len = zframe_size(fr) > 255 ? 255 : zframe_size(fr);
            fputc((int) len, f);
            fwrite(zframe_data(fr), 1, len, f);
        }
        fclose(f);
    }
    free(path);
    zmsg_destroy(msg_p);
}

/* Writes msg in the "signed" layout: 0x80, type, body. */
static void
s_seed_signed(const char *dir, const char *name, zmsg_t **msg_p)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    zmsg_first(*msg_p); /* the version frame */
    zframe_t *type = zmsg_next(*msg_p);
    zframe_t *body = zmsg_next(*msg_p);
    if (f && type && body) {
        fputc(0x80, f);
        fputc(zframe_data(type)[0], f);
        fwrite(zframe_data(body), 1, zframe_size(body), f);
    }
    if (f) {
        fclose(f);
    }
    free(path);
    zmsg_destroy(msg_p);
}

static int
s_seeds(junk_t *self, const junk_opts_t *o)
{
    if (!o->dir) {
        return 2;
    }
    const keys_t *k = self->stranger;
    zmsg_t *m;
    m = s_heartbeat(k), s_seed_raw(o->dir, "raw-heartbeat", &m);
    m = s_request(k), s_seed_raw(o->dir, "raw-request", &m);
    m = s_task(k, "w1", "echo hi"), s_seed_raw(o->dir, "raw-task", &m);
    m = s_badsig(k), s_seed_raw(o->dir, "raw-badsig", &m);
    m = s_truncated(k), s_seed_raw(o->dir, "raw-truncated", &m);
    m = s_future(k), s_seed_raw(o->dir, "raw-future", &m);
    m = s_heartbeat(k), s_seed_signed(o->dir, "signed-heartbeat", &m);
    m = s_request(k), s_seed_signed(o->dir, "signed-request", &m);
    m = s_task(k, "w1", "echo hi"), s_seed_signed(o->dir, "signed-task", &m);
    return 0;
}

int
main(int argc, char **argv)
{
    junk_opts_t o;
    const char *mode = argc > 1 ? argv[1] : "";
    if (s_opts(argc - 1, argv + 1, &o) < 0 || sodium_init() < 0) {
        mode = "";
    }
    zsys_handler_set(NULL);
    junk_t self = {.stranger = keys_generate()};
    int rc = 2;
    if (strcmp(mode, "attack") == 0) {
        rc = s_attack(&self, &o);
    } else if (strcmp(mode, "fake-scheduler") == 0) {
        rc = s_fake_scheduler(&self, &o);
    } else if (strcmp(mode, "seeds") == 0) {
        rc = s_seeds(&self, &o);
    } else if (strcmp(mode, "big-dag") == 0) {
        rc = s_big_dag(&o);
    }
    if (rc == 2) {
        fprintf(stderr, "usage: junk attack|fake-scheduler|big-dag ...; see "
                        "the comment at the top of tests/tools/junk.c\n");
    }
    zframe_destroy(&self.peer);
    keys_destroy(&self.stranger);
    keys_destroy(&self.trusted);
    return rc;
}
