/* oldpeer — test-only peers of other protocol versions, for rolling
 * upgrades and refusals (t_forged.sh, t_batch_interop.sh).
 *
 *   oldpeer --connect EP --scheduler-key HEX --scheduler-curve-key HEX
 *       A peer of major 2: sends a Register whose version frame says 2.0,
 *       waits (5 s) for the answer and prints the Refuse reason. Exit 0
 *       when a Refuse with code 1 came back.
 *
 *   oldpeer --worker-1.0 --join LINE --name NAME [--tasks N]
 *       A protocol-1.0 worker with N slots (default 3): registers with
 *       version 1.0 and the line's join token, runs nothing but answers
 *       every Task with a single 1.0 Result (exit 0), heartbeats, and waits
 *       (30 s) for N tasks and the acks of their results. Exit 0 when they
 *       came and every message arrived as its own envelope (no batch).
 *
 *   oldpeer --scheduler-1.0 --bind tcp://127.0.0.1:PORT --join-file FILE
 *           [--tasks N]
 *       A protocol-1.0 scheduler for one real worker: binds a CURVE ROUTER
 *       with keys of its own, writes the join line to FILE, welcomes the
 *       worker with version 1.0, sends it N tasks (`echo`), acks their
 *       results and waits (30 s). Exit 0 when N results came and nothing
 *       the worker sent was a batch.
 *
 *   oldpeer --tampered-batch --join LINE --name NAME
 *       A current (1.1) worker: registers, waits for one Task, then sends
 *       its log chunk ("TAMPERED") and Result in one batch with one byte of
 *       an item flipped after signing, then (after 1.5 s without an ack)
 *       the same items ("VALID") in a good batch. Exit 0 when the tampered
 *       batch got no ack and the good one did.
 *
 * Exit 1 when the check fails, 2 on bad usage. */
#include <assert.h>
#include <czmq.h>
#include <getopt.h>
#include <stdlib.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/curve.h"
#include "common/join.h"
#include "common/keys.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/envelope.h"

#define OLD_WAIT_MS  30000
#define OLD_HB_MS    200
#define OLD_MAX_TASK 64

typedef struct {
    const char *connect, *key_hex, *curve_hex; /* major-2 mode */
    const char *join, *name, *bind, *join_file;
    int mode; /* 0 major 2, 'w' worker 1.0, 's' scheduler 1.0, 't' tampered */
    int tasks;
} old_opts_t;

/* One end of the dialog. */
typedef struct {
    zsock_t *sock;
    zframe_t *peer; /* ROUTER: the worker's routing id */
    keys_t *key;    /* what we sign with */
    int minor;      /* what we seal as: 0 (1.0) or ENV_MINOR */
    uint8_t trusted[KEYS_PUBLIC_SIZE]; /* the only signer we accept */
    bool trust_any;                    /* until the peer's key is known */
    int batches, singles;              /* envelopes received */
    uint64_t running[OLD_MAX_TASK];    /* worker modes: attempts held */
    size_t nrunning;
    uint64_t acked[OLD_MAX_TASK];
    size_t nacked;
} old_t;

/* ------------------------------------------------------------- wire */

/* The five frames of a message sealed as version 1.minor: what a peer of
 * that version sends (env_seal always says ENV_MINOR). */
static zmsg_t *
s_seal_as(int type, const ProtobufCMessage *body, const keys_t *key, int minor)
{
    if (minor == ENV_MINOR) {
        return env_seal(type, body, key);
    }
    size_t size = protobuf_c_message_get_packed_size(body);
    uint8_t *bytes = xmalloc(3 + size + 1);
    bytes[0] = ENV_MAJOR;
    bytes[1] = (uint8_t) minor;
    bytes[2] = (uint8_t) type;
    protobuf_c_message_pack(body, bytes + 3);
    uint8_t sig[KEYS_SIG_SIZE];
    keys_sign(key, bytes, 3 + size, sig);
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, bytes, 2);
    zmsg_addmem(msg, bytes + 2, 1);
    zmsg_addmem(msg, bytes + 3, size);
    zmsg_addmem(msg, keys_public(key), KEYS_PUBLIC_SIZE);
    zmsg_addmem(msg, sig, KEYS_SIG_SIZE);
    free(bytes);
    return msg;
}

static void
s_send_msg(old_t *self, zmsg_t *msg)
{
    if (self->peer) {
        zmsg_pushmem(msg, zframe_data(self->peer), zframe_size(self->peer));
    }
    xzmq_send(&msg, self->sock);
}

static void
s_send(old_t *self, int type, const ProtobufCMessage *body)
{
    s_send_msg(self, s_seal_as(type, body, self->key, self->minor));
}

static bool
s_trust(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    old_t *self = arg;
    return self->trust_any ||
           memcmp(signer, self->trusted, KEYS_PUBLIC_SIZE) == 0;
}

/* One message within timeout_ms, opened into out: its type, or -1. */
static int
s_recv(old_t *self, int timeout_ms, env_msg_t *out)
{
    memset(out, 0, sizeof *out);
    zsock_set_rcvtimeo(self->sock, timeout_ms);
    zmsg_t *msg = xzmq_recv(self->sock);
    if (!msg) {
        return -1;
    }
    if (zsock_type(self->sock) == ZMQ_ROUTER) {
        zframe_t *from = zmsg_pop(msg);
        zframe_destroy(&self->peer);
        self->peer = from;
    }
    errbuf_t err;
    int rc = env_open(msg, s_trust, self, out, &err);
    zmsg_destroy(&msg);
    if (rc != ENV_OK) {
        printf("oldpeer: dropped a message: %s\n", errbuf_msg(&err));
        return -1;
    }
    if (out->type == SLUICE__MSG_TYPE__MSG_BATCH) {
        self->batches++;
    } else {
        self->singles++;
    }
    return out->type;
}

/* ------------------------------------------------------ worker modes */

static void
s_heartbeat(old_t *self, uint32_t free_slots)
{
    Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
    hb.wall_ms = (uint64_t) clock_wall_ms();
    hb.free_slots = free_slots;
    hb.running = self->running;
    hb.n_running = self->nrunning;
    s_send(self, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb.base);
}

static void
s_acked(old_t *self, const uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n && self->nacked < OLD_MAX_TASK; i++) {
        self->acked[self->nacked++] = ids[i];
    }
}

static bool
s_is_acked(const old_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->nacked; i++) {
        if (self->acked[i] == id) {
            return true;
        }
    }
    return false;
}

static Sluice__Result
s_result(uint64_t attempt_id, uint32_t free_slots)
{
    Sluice__Result res = SLUICE__RESULT__INIT;
    res.attempt_id = attempt_id;
    res.outcome = SLUICE__OUTCOME__OUTCOME_EXITED;
    res.exit_code = 0;
    res.started_ms = res.ended_ms = (uint64_t) clock_wall_ms();
    res.free_slots = free_slots;
    return res;
}

/* A worker's DEALER to the scheduler of join line `line`, registered as
 * name with slots; 0 once welcomed. */
static int
s_join(old_t *self, const char *line, const char *name, uint32_t slots)
{
    join_t join;
    errbuf_t err;
    if (join_parse(line, &join, &err) < 0) {
        fprintf(stderr, "oldpeer: %s\n", errbuf_msg(&err));
        return -1;
    }
    curve_t *curve = curve_generate();
    self->sock = zsock_new(ZMQ_DEALER);
    curve_set_client(curve, self->sock, join.curve);
    zsock_connect(self->sock, "%s", join.endpoint);
    curve_destroy(&curve);
    memcpy(self->trusted, join.pub, KEYS_PUBLIC_SIZE);
    Sluice__Register reg = SLUICE__REGISTER__INIT;
    reg.name = (char *) name;
    reg.hostname = "oldpeer";
    reg.slots = reg.free_slots = slots;
    reg.wall_ms = (uint64_t) clock_wall_ms();
    reg.software = self->minor ? "oldpeer 1.1" : "oldpeer 1.0";
    reg.token = join.token ? join.token : "";
    s_send(self, SLUICE__MSG_TYPE__MSG_REGISTER, &reg.base);
    join_clear(&join);
    env_msg_t m;
    int type = s_recv(self, 10000, &m);
    env_msg_clear(&m);
    if (type != SLUICE__MSG_TYPE__MSG_WELCOME) {
        printf("oldpeer: no welcome (got %s)\n",
               type < 0 ? "nothing" : env_type_name(type));
        return -1;
    }
    printf("oldpeer: welcomed as a %s worker\n", self->minor ? "1.1" : "1.0");
    return 0;
}

/* Worker 1.0: one message (never a batch item: it does not know them). */
static void
s_worker_on(old_t *self, const env_msg_t *m, const char *name, int slots)
{
    if (m->type == SLUICE__MSG_TYPE__MSG_TASK) {
        const Sluice__Task *t = (const Sluice__Task *) m->body;
        s_acked(self, t->acks, t->n_acks);
        if (strcmp(t->worker, name) != 0 || self->nrunning >= OLD_MAX_TASK) {
            printf("oldpeer: task for '%s' refused\n", t->worker);
            return;
        }
        printf("oldpeer: task attempt %" PRIu64 " in its own envelope\n",
               t->attempt_id);
        self->running[self->nrunning++] = t->attempt_id;
        Sluice__Result res = s_result(t->attempt_id, (uint32_t) slots);
        s_send(self, SLUICE__MSG_TYPE__MSG_RESULT, &res.base);
    } else if (m->type == SLUICE__MSG_TYPE__MSG_RESULT_ACK) {
        const Sluice__ResultAck *a = (const Sluice__ResultAck *) m->body;
        s_acked(self, a->attempt_ids, a->n_attempt_ids);
    }
}

static bool
s_all_acked(const old_t *self, size_t want)
{
    if (self->nrunning < want) {
        return false;
    }
    for (size_t i = 0; i < self->nrunning; i++) {
        if (!s_is_acked(self, self->running[i])) {
            return false;
        }
    }
    return true;
}

static int
s_worker10(old_t *self, const old_opts_t *o)
{
    self->minor = 0;
    if (s_join(self, o->join, o->name, (uint32_t) o->tasks) < 0) {
        return 1;
    }
    int64_t end = clock_mono_ms() + OLD_WAIT_MS, next_hb = 0;
    while (clock_mono_ms() < end && !s_all_acked(self, (size_t) o->tasks)) {
        if (clock_mono_ms() >= next_hb) {
            s_heartbeat(self, (uint32_t) o->tasks);
            next_hb = clock_mono_ms() + OLD_HB_MS;
        }
        env_msg_t m;
        if (s_recv(self, 50, &m) >= 0) {
            s_worker_on(self, &m, o->name, o->tasks);
        }
        env_msg_clear(&m);
    }
    bool ok = s_all_acked(self, (size_t) o->tasks) && self->batches == 0;
    printf("oldpeer: %zu tasks, %zu acks, %d single envelopes, %d batches: "
           "%s\n",
           self->nrunning, self->nacked, self->singles, self->batches,
           ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

/* ------------------------------------------------------ tampered batch */

/* The attempt's log chunk (text) and Result in one batch, sealed as 1.1;
 * with tamper, one byte of the last item is flipped after signing. */
static void
s_send_batch(old_t *self, uint64_t attempt_id, const char *text, bool tamper)
{
    env_batch_t *batch = env_batch_new();
    Sluice__LogChunk chunk = SLUICE__LOG_CHUNK__INIT;
    chunk.attempt_id = attempt_id;
    chunk.stream = 1;
    chunk.seq = 1;
    chunk.data.data = (uint8_t *) text;
    chunk.data.len = strlen(text);
    chunk.wall_ms = (uint64_t) clock_wall_ms();
    env_batch_add(batch, SLUICE__MSG_TYPE__MSG_LOG, &chunk.base);
    Sluice__Result res = s_result(attempt_id, 1);
    res.log_chunks = 1;
    env_batch_add(batch, SLUICE__MSG_TYPE__MSG_RESULT, &res.base);
    zlistx_t *out = zlistx_new();
    env_batch_seal(batch, self->key, ENV_MINOR, out);
    zmsg_t *msg = zlistx_first(out);
    assert(zlistx_size(out) == 1);
    if (tamper) {
        zframe_t *body = zmsg_first(msg);
        body = zmsg_next(msg);
        body = zmsg_next(msg); /* version, type, body */
        zframe_data(body)[zframe_size(body) - 1] ^= 0x01;
    }
    s_send_msg(self, msg);
    zlistx_destroy(&out);
    env_batch_destroy(&batch);
}

static void
s_tampered_on(old_t *self, const env_msg_t *m)
{
    if (m->type == SLUICE__MSG_TYPE__MSG_BATCH) {
        for (size_t i = 0; i < m->nitems; i++) {
            s_tampered_on(self, &m->items[i]);
        }
    } else if (m->type == SLUICE__MSG_TYPE__MSG_TASK && self->nrunning == 0) {
        const Sluice__Task *t = (const Sluice__Task *) m->body;
        self->running[self->nrunning++] = t->attempt_id;
    } else if (m->type == SLUICE__MSG_TYPE__MSG_TASK) {
        const Sluice__Task *t = (const Sluice__Task *) m->body;
        s_acked(self, t->acks, t->n_acks);
    } else if (m->type == SLUICE__MSG_TYPE__MSG_RESULT_ACK) {
        const Sluice__ResultAck *a = (const Sluice__ResultAck *) m->body;
        s_acked(self, a->attempt_ids, a->n_attempt_ids);
    }
}

/* Heartbeats and reads until `until` (monotonic ms) or, with stop_on_ack,
 * until the running attempt is acked. */
static void
s_tampered_wait(old_t *self, int64_t until, bool want_task)
{
    int64_t next_hb = 0;
    while (clock_mono_ms() < until) {
        if (want_task && self->nrunning > 0) {
            return;
        }
        if (!want_task && self->nrunning &&
            s_is_acked(self, self->running[0])) {
            return;
        }
        if (clock_mono_ms() >= next_hb) {
            s_heartbeat(self, self->nrunning ? 0 : 1);
            next_hb = clock_mono_ms() + OLD_HB_MS;
        }
        env_msg_t m;
        if (s_recv(self, 50, &m) >= 0) {
            s_tampered_on(self, &m);
        }
        env_msg_clear(&m);
    }
}

static int
s_tampered(old_t *self, const old_opts_t *o)
{
    self->minor = ENV_MINOR;
    if (s_join(self, o->join, o->name, 1) < 0) {
        return 1;
    }
    s_tampered_wait(self, clock_mono_ms() + OLD_WAIT_MS, true);
    if (self->nrunning == 0) {
        printf("oldpeer: no task came\n");
        return 1;
    }
    uint64_t id = self->running[0];
    s_send_batch(self, id, "TAMPERED\n", true);
    s_tampered_wait(self, clock_mono_ms() + 1500, false);
    bool tampered_acked = s_is_acked(self, id);
    printf("oldpeer: tampered batch for attempt %" PRIu64 ": %s\n", id,
           tampered_acked ? "ACKED" : "no ack");
    s_send_batch(self, id, "VALID\n", false);
    s_tampered_wait(self, clock_mono_ms() + 10000, false);
    bool valid_acked = s_is_acked(self, id);
    printf("oldpeer: good batch for attempt %" PRIu64 ": %s\n", id,
           valid_acked ? "acked" : "NO ACK");
    return !tampered_acked && valid_acked ? 0 : 1;
}

/* ---------------------------------------------------- scheduler 1.0 */

/* Writes the join line for our keys at the bound port to path (through a
 * temporary file, so a reader never sees half of it). */
static int
s_write_join(old_t *self,
             const curve_t *curve,
             const char *bind,
             const char *path)
{
    const char *host_port = strstr(bind, "://");
    host_port = host_port ? host_port + 3 : bind;
    char *line =
        join_format(host_port, keys_public(self->key), curve_public(curve));
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = f && fprintf(f, "%s\n", line) > 0 && fclose(f) == 0 &&
                     rename(tmp, path) == 0
                 ? 0
                 : -1;
    free(tmp);
    free(line);
    return rc;
}

static void
s_send_task(old_t *self, const char *worker, int i)
{
    uint8_t nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    char command[64], task_id[16];
    snprintf(command, sizeof command, "echo oldpeer-task-%d", i);
    snprintf(task_id, sizeof task_id, "t%d", i);
    Sluice__Task t = SLUICE__TASK__INIT;
    t.worker = (char *) worker;
    t.issued_ms = (uint64_t) clock_wall_ms();
    t.expires_ms = t.issued_ms + 60000;
    t.nonce.data = nonce;
    t.nonce.len = sizeof nonce;
    t.attempt_id = 1000 + (uint64_t) i;
    t.run_id = 1;
    t.dag = "old";
    t.task_id = task_id;
    t.attempt = 1;
    t.command = command;
    t.timeout_ms = 10000;
    t.kill_grace_ms = 1000;
    t.logical_date = "2026-01-01";
    t.kind = "command";
    s_send(self, SLUICE__MSG_TYPE__MSG_TASK, &t.base);
}

/* The worker's Register (any signer): its name into name; 0 when it came. */
static int
s_await_register(old_t *self, char *name, size_t size)
{
    int64_t end = clock_mono_ms() + OLD_WAIT_MS;
    while (clock_mono_ms() < end) {
        env_msg_t m;
        if (s_recv(self, 200, &m) == SLUICE__MSG_TYPE__MSG_REGISTER) {
            const Sluice__Register *reg = (const Sluice__Register *) m.body;
            snprintf(name, size, "%s", reg->name);
            memcpy(self->trusted, m.signer, KEYS_PUBLIC_SIZE);
            self->trust_any = false;
            printf("oldpeer: worker '%s' registered speaking %u.%u\n", name,
                   m.major, m.minor);
            env_msg_clear(&m);
            return 0;
        }
        env_msg_clear(&m);
    }
    return -1;
}

static void
s_welcome(old_t *self, const char *name)
{
    Sluice__Welcome w = SLUICE__WELCOME__INIT;
    w.worker = (char *) name;
    w.heartbeat_ms = 300;
    w.liveness = 10;
    w.wall_ms = (uint64_t) clock_wall_ms();
    s_send(self, SLUICE__MSG_TYPE__MSG_WELCOME, &w.base);
}

/* What the worker sent: counts results (acking each alone) and chunks. */
static void
s_sched_on(old_t *self, const env_msg_t *m, int *results, int *chunks)
{
    if (m->type == SLUICE__MSG_TYPE__MSG_BATCH) {
        for (size_t i = 0; i < m->nitems; i++) {
            s_sched_on(self, &m->items[i], results, chunks);
        }
    } else if (m->type == SLUICE__MSG_TYPE__MSG_LOG) {
        (*chunks)++;
    } else if (m->type == SLUICE__MSG_TYPE__MSG_RESULT) {
        uint64_t id = ((const Sluice__Result *) m->body)->attempt_id;
        (*results)++;
        Sluice__ResultAck ack = SLUICE__RESULT_ACK__INIT;
        ack.n_attempt_ids = 1;
        ack.attempt_ids = &id;
        s_send(self, SLUICE__MSG_TYPE__MSG_RESULT_ACK, &ack.base);
    }
}

/* Heartbeats and reads until want results came and one more second
 * passed (what comes after them must not be a batch either). */
static void
s_sched_collect(old_t *self, int want, int *results, int *chunks)
{
    int64_t end = clock_mono_ms() + OLD_WAIT_MS, next_hb = 0;
    while (clock_mono_ms() < end) {
        if (*results >= want && end > clock_mono_ms() + 1000) {
            end = clock_mono_ms() + 1000;
        }
        if (clock_mono_ms() >= next_hb) {
            Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
            hb.wall_ms = (uint64_t) clock_wall_ms();
            s_send(self, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb.base);
            next_hb = clock_mono_ms() + 300;
        }
        env_msg_t m;
        if (s_recv(self, 50, &m) >= 0) {
            s_sched_on(self, &m, results, chunks);
        }
        env_msg_clear(&m);
    }
}

static int
s_scheduler10(old_t *self, const old_opts_t *o)
{
    self->minor = 0;
    self->trust_any = true;
    curve_t *curve = curve_generate();
    self->sock = zsock_new(ZMQ_ROUTER);
    zsock_set_linger(self->sock, 1000);
    curve_set_server(curve, self->sock, "worker");
    if (zsock_bind(self->sock, "%s", o->bind) < 0 ||
        s_write_join(self, curve, o->bind, o->join_file) < 0) {
        fprintf(stderr, "oldpeer: cannot bind '%s' or write '%s'\n", o->bind,
                o->join_file);
        curve_destroy(&curve);
        return 2;
    }
    curve_destroy(&curve);
    char name[128];
    if (s_await_register(self, name, sizeof name) < 0) {
        printf("oldpeer: no register came\n");
        return 1;
    }
    s_welcome(self, name);
    for (int i = 0; i < o->tasks; i++) {
        s_send_task(self, name, i);
    }
    int results = 0, chunks = 0;
    s_sched_collect(self, o->tasks, &results, &chunks);
    bool ok = results == o->tasks && self->batches == 0;
    printf("oldpeer: %d results, %d log chunks, %d single envelopes, %d "
           "batches: %s\n",
           results, chunks, self->singles, self->batches, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

/* ------------------------------------------------------------ major 2 */

static int
s_major2(old_t *self, const old_opts_t *o)
{
    uint8_t scheduler_curve[CURVE_KEY_SIZE];
    if (!o->key_hex || keys_public_from_hex(o->key_hex, self->trusted) < 0 ||
        !o->curve_hex || curve_from_hex(o->curve_hex, scheduler_curve) < 0) {
        return 2;
    }
    curve_t *curve = curve_generate();
    self->sock = zsock_new(ZMQ_DEALER);
    curve_set_client(curve, self->sock, scheduler_curve);
    zsock_connect(self->sock, "%s", o->connect);
    curve_destroy(&curve);

    Sluice__Register reg = SLUICE__REGISTER__INIT;
    reg.name = "oldpeer";
    reg.slots = 1;
    zmsg_t *msg =
        env_seal(SLUICE__MSG_TYPE__MSG_REGISTER, &reg.base, self->key);
    zframe_t *version = zmsg_first(msg);
    uint8_t future[2] = {2, 0};
    zframe_reset(version, future, sizeof future);
    xzmq_send(&msg, self->sock);

    int rc = 1;
    env_msg_t env;
    int type = s_recv(self, 5000, &env);
    if (type < 0) {
        printf("oldpeer: no answer within 5 s\n");
    } else if (type == SLUICE__MSG_TYPE__MSG_REFUSE) {
        const Sluice__Refuse *refuse = (const Sluice__Refuse *) env.body;
        printf("oldpeer: refused (code %u, scheduler speaks %u.%u): %s\n",
               refuse->code, refuse->major, refuse->minor, refuse->reason);
        rc = refuse->code == 1 ? 0 : 1;
    } else {
        printf("oldpeer: answered with %s, not refuse\n", env_type_name(type));
    }
    env_msg_clear(&env);
    return rc;
}

/* ---------------------------------------------------------------- main */

static int
s_opts(int argc, char **argv, old_opts_t *o)
{
    static const struct option longs[] = {
        {"connect", required_argument, NULL, 'c'},
        {"scheduler-key", required_argument, NULL, 'k'},
        {"scheduler-curve-key", required_argument, NULL, 'u'},
        {"worker-1.0", no_argument, NULL, 'w'},
        {"scheduler-1.0", no_argument, NULL, 's'},
        {"tampered-batch", no_argument, NULL, 't'},
        {"join", required_argument, NULL, 'j'},
        {"name", required_argument, NULL, 'n'},
        {"bind", required_argument, NULL, 'b'},
        {"join-file", required_argument, NULL, 'f'},
        {"tasks", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->tasks = 3;
    o->name = "oldpeer";
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
            case 'c':
                o->connect = optarg;
                break;
            case 'k':
                o->key_hex = optarg;
                break;
            case 'u':
                o->curve_hex = optarg;
                break;
            case 'w':
            case 's':
            case 't':
                o->mode = c;
                break;
            case 'j':
                o->join = optarg;
                break;
            case 'n':
                o->name = optarg;
                break;
            case 'b':
                o->bind = optarg;
                break;
            case 'f':
                o->join_file = optarg;
                break;
            case 'N':
                o->tasks = atoi(optarg);
                break;
            default:
                return -1;
        }
    }
    bool tasks_ok = o->tasks > 0 && o->tasks <= OLD_MAX_TASK;
    switch (o->mode) {
        case 'w':
        case 't':
            return o->join && tasks_ok ? 0 : -1;
        case 's':
            return o->bind && o->join_file && tasks_ok ? 0 : -1;
        default:
            return o->connect && o->key_hex && o->curve_hex ? 0 : -1;
    }
}

int
main(int argc, char **argv)
{
    old_opts_t o;
    if (s_opts(argc, argv, &o) < 0 || sodium_init() < 0) {
        fprintf(stderr,
                "usage: oldpeer --connect EP --scheduler-key HEX "
                "--scheduler-curve-key HEX\n"
                "       oldpeer --worker-1.0 --join LINE --name NAME "
                "[--tasks N]\n"
                "       oldpeer --scheduler-1.0 --bind EP --join-file FILE "
                "[--tasks N]\n"
                "       oldpeer --tampered-batch --join LINE --name NAME\n");
        return 2;
    }
    zsys_handler_set(NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    old_t self;
    memset(&self, 0, sizeof self);
    self.key = keys_generate();
    int rc = o.mode == 'w'   ? s_worker10(&self, &o)
             : o.mode == 's' ? s_scheduler10(&self, &o)
             : o.mode == 't' ? s_tampered(&self, &o)
                             : s_major2(&self, &o);
    if (rc == 2) {
        fprintf(stderr, "oldpeer: bad usage\n");
    }
    zframe_destroy(&self.peer);
    zsock_destroy(&self.sock);
    keys_destroy(&self.key);
    return rc;
}
