/* impostor — a worker that was admitted and tries to act for another one
 * (t_identity.sh). It takes the keys of a real worker's state directory
 * (worker.key, worker.curve), so the scheduler sees an admitted key on an
 * admitted connection; what it claims is what is tried.
 *
 *   impostor --join LINE --dir WORKER_DIR --name NAME ACTION [--attempt ID]
 *
 * ACTION, after a Register as NAME (1 slot, nothing running):
 *   register   only that: prints "welcomed" or "refused: REASON"
 *   refuse     a TaskRefused for attempt ID
 *   result     a success Result for attempt ID
 *   log        a LogChunk ("IMPOSTOR") for attempt ID
 *   heartbeat  a Heartbeat that lists attempt ID as running
 * then listens for a second (printing any Task it is sent) and says
 * Goodbye.
 *
 *   impostor --dir WORKER_DIR --sign-result ID
 *       Prints, one per line in hex, the signed bytes, the signature and
 *       the signer key of a success Result for attempt ID signed with the
 *       directory's key, as the store keeps a Result (no scheduler needed).
 *
 * Exit 0 when welcomed and the action was sent, 3 when the Register was
 * refused or not answered, 4 when the scheduler sent it a task, 2 on bad
 * usage or keys that do not load. */
#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/curve.h"
#include "common/join.h"
#include "common/keys.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/envelope.h"

#define IMP_WAIT_MS   10000
#define IMP_LISTEN_MS 1000

typedef struct {
    const char *join, *dir, *name, *action;
    uint64_t attempt;
    bool sign_only;
} imp_opts_t;

typedef struct {
    zsock_t *sock;
    keys_t *key;
    uint8_t scheduler[KEYS_PUBLIC_SIZE];
    int tasks; /* Tasks the scheduler sent us */
} imp_t;

static void
s_usage(void)
{
    fprintf(stderr, "usage: impostor --join LINE --dir WORKER_DIR --name NAME "
                    "register|refuse|result|log|heartbeat [--attempt ID]\n"
                    "       impostor --dir WORKER_DIR --sign-result ID\n");
}

static void
s_send(imp_t *self, int type, const ProtobufCMessage *body)
{
    zmsg_t *msg = env_seal(type, body, self->key);
    xzmq_send(&msg, self->sock);
}

static bool
s_trust(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    imp_t *self = arg;
    return memcmp(signer, self->scheduler, KEYS_PUBLIC_SIZE) == 0;
}

/* One message within timeout_ms: its type (a batch's Tasks counted), or
 * -1. A Refuse's reason is printed. */
static int
s_recv(imp_t *self, int timeout_ms)
{
    zsock_set_rcvtimeo(self->sock, timeout_ms);
    zmsg_t *msg = xzmq_recv(self->sock);
    if (!msg) {
        return -1;
    }
    env_msg_t m;
    errbuf_t err;
    int rc = env_open(msg, s_trust, self, &m, &err);
    zmsg_destroy(&msg);
    if (rc != ENV_OK) {
        return -1;
    }
    bool batch = m.type == SLUICE__MSG_TYPE__MSG_BATCH;
    for (size_t i = 0; i < (batch ? m.nitems : 1); i++) {
        const env_msg_t *item = batch ? &m.items[i] : &m;
        if (item->type == SLUICE__MSG_TYPE__MSG_TASK) {
            printf("impostor: was sent attempt %" PRIu64 "\n",
                   ((const Sluice__Task *) item->body)->attempt_id);
            self->tasks++;
        } else if (item->type == SLUICE__MSG_TYPE__MSG_REFUSE) {
            printf("impostor: refused: %s\n",
                   ((const Sluice__Refuse *) item->body)->reason);
        }
    }
    int type = m.type;
    env_msg_clear(&m);
    return type;
}

static keys_t *
s_load_key(const char *dir)
{
    char *path = xasprintf("%s/worker.key", dir);
    errbuf_t err;
    keys_t *key = keys_load(path, &err);
    if (!key) {
        fprintf(stderr, "impostor: %s\n", errbuf_msg(&err));
    }
    free(path);
    return key;
}

/* Connects with the directory's CURVE key and registers as name: 0 once
 * welcomed, 3 when refused or not answered, 2 when keys do not load. */
static int
s_register(imp_t *self, const imp_opts_t *o)
{
    join_t join;
    errbuf_t err;
    char *path = xasprintf("%s/worker.curve", o->dir);
    curve_t *curve = curve_load(path, &err);
    free(path);
    if (!curve || join_parse(o->join, &join, &err) < 0) {
        fprintf(stderr, "impostor: %s\n", errbuf_msg(&err));
        curve_destroy(&curve);
        return 2;
    }
    self->sock = zsock_new(ZMQ_DEALER);
    curve_set_client(curve, self->sock, join.curve);
    zsock_connect(self->sock, "%s", join.endpoint);
    memcpy(self->scheduler, join.pub, KEYS_PUBLIC_SIZE);
    join_clear(&join);
    curve_destroy(&curve);
    Sluice__Register reg = SLUICE__REGISTER__INIT;
    reg.name = (char *) o->name;
    reg.hostname = "impostor";
    reg.slots = reg.free_slots = 1;
    reg.wall_ms = (uint64_t) clock_wall_ms();
    reg.software = "impostor";
    s_send(self, SLUICE__MSG_TYPE__MSG_REGISTER, &reg.base);
    int64_t end = clock_mono_ms() + IMP_WAIT_MS;
    while (clock_mono_ms() < end) {
        int type = s_recv(self, 200);
        if (type == SLUICE__MSG_TYPE__MSG_WELCOME) {
            printf("impostor: welcomed as '%s'\n", o->name);
            return 0;
        }
        if (type == SLUICE__MSG_TYPE__MSG_REFUSE) {
            return 3;
        }
    }
    printf("impostor: no answer to the register\n");
    return 3;
}

/* The message ACTION names, about attempt o->attempt. */
static int
s_act(imp_t *self, const imp_opts_t *o)
{
    uint64_t id = o->attempt;
    if (strcmp(o->action, "refuse") == 0) {
        Sluice__TaskRefused r = SLUICE__TASK_REFUSED__INIT;
        r.attempt_id = id;
        r.reason = "impostor";
        r.free_slots = 1;
        s_send(self, SLUICE__MSG_TYPE__MSG_TASK_REFUSED, &r.base);
    } else if (strcmp(o->action, "result") == 0) {
        Sluice__Result r = SLUICE__RESULT__INIT;
        r.attempt_id = id;
        r.outcome = SLUICE__OUTCOME__OUTCOME_EXITED;
        r.started_ms = r.ended_ms = (uint64_t) clock_wall_ms();
        r.free_slots = 1;
        s_send(self, SLUICE__MSG_TYPE__MSG_RESULT, &r.base);
    } else if (strcmp(o->action, "log") == 0) {
        Sluice__LogChunk c = SLUICE__LOG_CHUNK__INIT;
        c.attempt_id = id;
        c.stream = 1;
        c.seq = 1000; /* past what the real worker sent so far */
        c.data.data = (uint8_t *) "IMPOSTOR\n";
        c.data.len = strlen("IMPOSTOR\n");
        c.wall_ms = (uint64_t) clock_wall_ms();
        s_send(self, SLUICE__MSG_TYPE__MSG_LOG, &c.base);
    } else if (strcmp(o->action, "heartbeat") == 0) {
        Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
        hb.running = &id;
        hb.n_running = 1;
        hb.free_slots = 1;
        hb.wall_ms = (uint64_t) clock_wall_ms();
        s_send(self, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb.base);
    } else if (strcmp(o->action, "register") != 0) {
        s_usage();
        return 2;
    }
    printf("impostor: sent %s for attempt %" PRIu64 "\n", o->action, id);
    return 0;
}

/* Listens a while (a task sent to us is what an attack would win), then
 * leaves. */
static int
s_listen_and_leave(imp_t *self)
{
    int64_t end = clock_mono_ms() + IMP_LISTEN_MS;
    while (clock_mono_ms() < end) {
        s_recv(self, 100);
    }
    Sluice__Goodbye bye = SLUICE__GOODBYE__INIT;
    bye.reason = "impostor done";
    s_send(self, SLUICE__MSG_TYPE__MSG_GOODBYE, &bye.base);
    zclock_sleep(200); /* let it go out before the socket closes */
    return self->tasks ? 4 : 0;
}

/* A success Result for o->attempt signed with the directory's key, as the
 * store keeps one: signed bytes, signature, signer, in hex. The envelope's
 * frames are version, type, body (what is signed), signer, signature. */
static int
s_sign_result(imp_t *self, const imp_opts_t *o)
{
    Sluice__Result r = SLUICE__RESULT__INIT;
    r.attempt_id = o->attempt;
    r.outcome = SLUICE__OUTCOME__OUTCOME_EXITED;
    zmsg_t *msg = env_seal(SLUICE__MSG_TYPE__MSG_RESULT, &r.base, self->key);
    size_t n = zmsg_size(msg), i = 0;
    char *hex[8] = {NULL};
    for (zframe_t *f = zmsg_first(msg); f && i < 8; f = zmsg_next(msg)) {
        hex[i++] = zframe_strhex(f);
    }
    if (n != 5) {
        fprintf(stderr, "impostor: an envelope of %zu frames\n", n);
        return 2;
    }
    printf("%s%s%s\n%s\n%s\n", hex[0], hex[1], hex[2], hex[4], hex[3]);
    for (i = 0; i < n; i++) {
        free(hex[i]);
    }
    zmsg_destroy(&msg);
    return 0;
}

static int
s_parse(int argc, char **argv, imp_opts_t *o)
{
    static const struct option longs[] = {
        {"join", required_argument, NULL, 'j'},
        {"dir", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        {"attempt", required_argument, NULL, 'a'},
        {"sign-result", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
            case 'j':
                o->join = optarg;
                break;
            case 'd':
                o->dir = optarg;
                break;
            case 'n':
                o->name = optarg;
                break;
            case 'a':
                o->attempt = strtoull(optarg, NULL, 10);
                break;
            case 's':
                o->sign_only = true;
                o->attempt = strtoull(optarg, NULL, 10);
                break;
            default:
                return -1;
        }
    }
    o->action = optind < argc ? argv[optind] : NULL;
    if (!o->dir || (!o->sign_only && (!o->join || !o->name || !o->action))) {
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    imp_opts_t o = {0};
    if (s_parse(argc, argv, &o) < 0) {
        s_usage();
        return 2;
    }
    zsys_init();
    zsys_set_linger(200);
    imp_t self = {0};
    self.key = s_load_key(o.dir);
    if (!self.key) {
        return 2;
    }
    int rc = o.sign_only ? s_sign_result(&self, &o) : s_register(&self, &o);
    if (rc == 0 && !o.sign_only) {
        rc = s_act(&self, &o);
        if (rc == 0) {
            rc = s_listen_and_leave(&self);
        }
    }
    zsock_destroy(&self.sock);
    keys_destroy(&self.key);
    return rc;
}
