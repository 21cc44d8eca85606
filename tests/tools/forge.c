/* forge — a fake scheduler that tries to make a worker run forged tasks.
 *
 * Binds a ROUTER, waits (10 s at most) for the worker's Register, answers a
 * correct Welcome signed with the real scheduler key, then sends:
 *   a  a Task signed by the attacker's key
 *   b  a Task with the right key, addressed to another worker
 *   c  a Task that has already expired
 *   d  a valid Task
 *   e  the same valid Task again (a replay)
 * Forged commands are `touch MARKER.forged-X`, the valid one `touch
 * MARKER.valid`. It waits (10 s at most) for the valid task's Result, acks
 * it, and prints one line per case saying what came back. Exit 0 when the
 * valid Result arrived, 1 otherwise, 2 on bad usage.
 *
 * usage: forge --bind tcp://127.0.0.1:PORT --key SCHEDULER_KEY_FILE
 *              --attacker-key FILE --worker NAME --marker PATH
 * (a missing attacker key file is created) */
#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/errbuf.h"
#include "common/curve.h"
#include "common/xzmq.h"
#include "common/keys.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "proto/envelope.h"

#define FORGE_WAIT_MS 10000
#define FORGE_CASES   5
#define FORGE_VALID   3 /* index of case d */

typedef struct {
    char label;
    const char *what;
    uint64_t attempt_id;
    bool refused;
    char reason[256];
    bool result;
    int outcome;
    int exit_code;
} forge_case_t;

typedef struct {
    const char *bind, *key, *attacker_key, *worker, *marker;
} forge_opts_t;

typedef struct {
    zsock_t *router;
    zframe_t *peer; /* the worker's routing id */
    uint8_t worker_pub[KEYS_PUBLIC_SIZE];
    keys_t *sched;
    keys_t *attacker;
    forge_case_t cases[FORGE_CASES];
} forge_t;

static int
s_opts(int argc, char **argv, forge_opts_t *o)
{
    static const struct option longs[] = {
        {"bind", required_argument, NULL, 'b'},
        {"key", required_argument, NULL, 'k'},
        {"attacker-key", required_argument, NULL, 'a'},
        {"worker", required_argument, NULL, 'w'},
        {"marker", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
            case 'b':
                o->bind = optarg;
                break;
            case 'k':
                o->key = optarg;
                break;
            case 'a':
                o->attacker_key = optarg;
                break;
            case 'w':
                o->worker = optarg;
                break;
            case 'm':
                o->marker = optarg;
                break;
            default:
                return -1;
        }
    }
    return o->bind && o->key && o->attacker_key && o->worker && o->marker ? 0
                                                                          : -1;
}

static keys_t *
s_attacker(const char *path, errbuf_t *err)
{
    if (statedir_exists(path)) {
        return keys_load(path, err);
    }
    keys_t *keys = keys_generate();
    if (keys_save(keys, path, NULL, err) < 0) {
        keys_destroy(&keys);
    }
    return keys;
}

static void
s_send(forge_t *self,
       int type,
       const ProtobufCMessage *body,
       const keys_t *signer)
{
    zmsg_t *msg = env_seal(type, body, signer);
    zframe_t *to = zframe_dup(self->peer);
    zmsg_prepend(msg, &to);
    xzmq_send(&msg, self->router);
}

static bool
s_trust_worker(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    forge_t *self = arg;
    return memcmp(signer, self->worker_pub, KEYS_PUBLIC_SIZE) == 0;
}

/* Receives one message within timeout_ms; opens it (trusting any signer
 * until the worker's key is known). Returns the type, or -1. */
static int
s_recv(forge_t *self, int timeout_ms, env_msg_t *out, bool any_signer)
{
    zsock_set_rcvtimeo(self->router, timeout_ms);
    zmsg_t *msg = xzmq_recv(self->router);
    if (!msg) {
        return -1;
    }
    zframe_t *from = zmsg_pop(msg);
    errbuf_t err;
    int rc = env_open(msg, any_signer ? NULL : s_trust_worker, self, out, &err);
    zmsg_destroy(&msg);
    if (rc != ENV_OK) {
        fprintf(stderr, "forge: dropped a message: %s\n", errbuf_msg(&err));
        zframe_destroy(&from);
        return -1;
    }
    if (!self->peer) {
        self->peer = from;
    } else {
        zframe_destroy(&from);
    }
    return out->type;
}

static int
s_await_register(forge_t *self, const char *worker)
{
    int64_t end = clock_mono_ms() + FORGE_WAIT_MS;
    while (clock_mono_ms() < end) {
        env_msg_t m;
        memset(&m, 0, sizeof m);
        if (s_recv(self, 500, &m, true) == SLUICE__MSG_TYPE__MSG_REGISTER) {
            const Sluice__Register *reg = (const Sluice__Register *) m.body;
            memcpy(self->worker_pub, m.signer, KEYS_PUBLIC_SIZE);
            printf("register: worker '%s' with %u slots\n", reg->name,
                   reg->slots);
            bool ok = strcmp(reg->name, worker) == 0;
            env_msg_clear(&m);
            return ok ? 0 : -1;
        }
        env_msg_clear(&m);
    }
    return -1;
}

static void
s_welcome(forge_t *self, const char *worker)
{
    Sluice__Welcome w = SLUICE__WELCOME__INIT;
    w.worker = (char *) worker;
    w.heartbeat_ms = 1000;
    w.liveness = 10;
    w.wall_ms = (uint64_t) clock_wall_ms();
    s_send(self, SLUICE__MSG_TYPE__MSG_WELCOME, &w.base, self->sched);
}

static void
s_send_task(forge_t *self,
            const forge_opts_t *o,
            int index,
            const uint8_t *nonce)
{
    static const char *const suffix[] = {"forged-a", "forged-b", "forged-c",
                                         "valid", "forged-e"};
    char command[1200];
    snprintf(command, sizeof command, "touch %s.%s", o->marker, suffix[index]);
    int64_t now = clock_wall_ms();
    Sluice__Task t = SLUICE__TASK__INIT;
    t.worker = (char *) (index == 1 ? "someone-else" : o->worker);
    t.issued_ms = (uint64_t) (index == 2 ? now - 120000 : now);
    t.expires_ms = (uint64_t) (index == 2 ? now - 60000 : now + 60000);
    t.nonce.data = (uint8_t *) nonce;
    t.nonce.len = 16;
    t.attempt_id = self->cases[index].attempt_id;
    t.run_id = 1;
    t.dag = "forge";
    t.task_id = "t";
    t.attempt = 1;
    t.command = command;
    t.timeout_ms = 10000;
    t.kill_grace_ms = 1000;
    t.logical_date = "2026-01-01";
    t.kind = "command";
    s_send(self, SLUICE__MSG_TYPE__MSG_TASK, &t.base,
           index == 0 ? self->attacker : self->sched);
}

static void
s_send_all(forge_t *self, const forge_opts_t *o)
{
    uint8_t nonces[FORGE_CASES][16];
    randombytes_buf(nonces, sizeof nonces);
    memcpy(nonces[4], nonces[3], 16); /* e replays d */
    for (int i = 0; i < FORGE_CASES; i++) {
        s_send_task(self, o, i, nonces[i]);
    }
}

static void
s_on_reply(forge_t *self, const env_msg_t *m)
{
    if (m->type == SLUICE__MSG_TYPE__MSG_TASK_REFUSED) {
        const Sluice__TaskRefused *r = (const Sluice__TaskRefused *) m->body;
        /* Latest case first: the replay shares the valid task's id. */
        for (int i = FORGE_CASES - 1; i >= 0; i--) {
            forge_case_t *c = &self->cases[i];
            if (c->attempt_id == r->attempt_id && !c->refused) {
                c->refused = true;
                snprintf(c->reason, sizeof c->reason, "%s", r->reason);
                return;
            }
        }
    } else if (m->type == SLUICE__MSG_TYPE__MSG_RESULT) {
        const Sluice__Result *r = (const Sluice__Result *) m->body;
        for (int i = 0; i < FORGE_CASES; i++) {
            forge_case_t *c = &self->cases[i];
            if (c->attempt_id == r->attempt_id && !c->result) {
                c->result = true;
                c->outcome = r->outcome;
                c->exit_code = r->exit_code;
                break;
            }
        }
        uint64_t id = r->attempt_id;
        Sluice__ResultAck ack = SLUICE__RESULT_ACK__INIT;
        ack.n_attempt_ids = 1;
        ack.attempt_ids = &id;
        s_send(self, SLUICE__MSG_TYPE__MSG_RESULT_ACK, &ack.base, self->sched);
    }
}

/* Collects replies, heartbeating, until the valid Result and the replay's
 * refusal came, or the wait ends. */
static void
s_collect(forge_t *self)
{
    int64_t end = clock_mono_ms() + FORGE_WAIT_MS;
    int64_t next_hb = 0;
    while (clock_mono_ms() < end &&
           !(self->cases[FORGE_VALID].result && self->cases[4].refused &&
             self->cases[1].refused && self->cases[2].refused)) {
        if (clock_mono_ms() >= next_hb) {
            Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
            hb.wall_ms = (uint64_t) clock_wall_ms();
            s_send(self, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb.base,
                   self->sched);
            next_hb = clock_mono_ms() + 1000;
        }
        env_msg_t m;
        memset(&m, 0, sizeof m);
        int type = s_recv(self, 200, &m, false);
        if (type == SLUICE__MSG_TYPE__MSG_BATCH) {
            for (size_t i = 0; i < m.nitems; i++) { /* in order, as alone */
                s_on_reply(self, &m.items[i]);
            }
        } else if (type >= 0) {
            s_on_reply(self, &m);
        }
        env_msg_clear(&m);
    }
}

static void
s_report(const forge_t *self)
{
    for (int i = 0; i < FORGE_CASES; i++) {
        const forge_case_t *c = &self->cases[i];
        if (c->result) {
            printf("case %c (%s): result: outcome %d exit %d\n", c->label,
                   c->what, c->outcome, c->exit_code);
        } else if (c->refused) {
            printf("case %c (%s): refused: %s\n", c->label, c->what, c->reason);
        } else {
            printf("case %c (%s): no reply\n", c->label, c->what);
        }
    }
}

int
main(int argc, char **argv)
{
    forge_opts_t o;
    if (s_opts(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: forge --bind tcp://127.0.0.1:PORT --key "
                        "SCHEDULER_KEY_FILE --attacker-key FILE --worker NAME "
                        "--marker PATH\n");
        return 2;
    }
    forge_t self = {.cases = {{'a', "signed by an attacker", 101},
                              {'b', "addressed to another worker", 102},
                              {'c', "expired", 103},
                              {'d', "valid", 104},
                              {'e', "replay of d", 104}}};
    errbuf_t err;
    errbuf_clear(&err);
    self.sched = keys_load(o.key, &err);
    self.attacker = self.sched ? s_attacker(o.attacker_key, &err) : NULL;
    if (!self.sched || !self.attacker) {
        fprintf(stderr, "forge: %s\n", errbuf_msg(&err));
        return 2;
    }
    zsys_handler_set(NULL);
    self.router = zsock_new(ZMQ_ROUTER);
    zsock_set_linger(self.router, 1000);
    /* The worker pins the scheduler's CURVE key too: use the real one,
     * beside the signing key (scheduler.key -> scheduler.curve). */
    char *curve_path =
        xasprintf("%.*s.curve", (int) (strlen(o.key) - 4), o.key);
    curve_t *curve = curve_load(curve_path, &err);
    free(curve_path);
    if (!curve) {
        fprintf(stderr, "forge: %s\n", errbuf_msg(&err));
        return 2;
    }
    curve_set_server(curve, self.router, "worker");
    curve_destroy(&curve);
    int rc = 1;
    if (zsock_bind(self.router, "%s", o.bind) < 0) {
        fprintf(stderr, "forge: cannot bind '%s'\n", o.bind);
    } else if (s_await_register(&self, o.worker) < 0) {
        fprintf(stderr, "forge: no Register from worker '%s' within 10 s\n",
                o.worker);
    } else {
        s_welcome(&self, o.worker);
        s_send_all(&self, &o);
        s_collect(&self);
        s_report(&self);
        rc = self.cases[FORGE_VALID].result ? 0 : 1;
    }
    zframe_destroy(&self.peer);
    zsock_destroy(&self.router);
    keys_destroy(&self.sched);
    keys_destroy(&self.attacker);
    return rc;
}
