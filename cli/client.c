#include "cli/client.h"

#include <assert.h>
#include <czmq.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/curve.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/envelope.h"

/* What the handshake monitor has seen on the connection. */
#define S_HANDSHAKE_NONE    0 /* nothing yet: maybe nobody listens */
#define S_HANDSHAKE_DONE    1 /* a scheduler with the pinned key accepted us */
#define S_HANDSHAKE_REFUSED 2 /* the scheduler refused our key (ZAP) */

struct client_t {
    char *dir;                           /* owned: the state directory */
    char *endpoint;                      /* owned: what we dialled */
    keys_t *key;                         /* owned: our signing key */
    uint8_t scheduler[KEYS_PUBLIC_SIZE]; /* the pinned scheduler key */
    uint8_t sched_curve[CURVE_KEY_SIZE]; /* its pinned CURVE key */
    curve_t *curve;                      /* owned: ours, from key */
    zsock_t *sock;                       /* owned: DEALER */
    zsock_t *monitor;                    /* owned: PAIR on sock's handshakes,
                                            NULL when unavailable */
    int handshake;                       /* S_HANDSHAKE_*: what it said */
    zpoller_t *poller;                   /* owned: on sock */
    uint64_t next_id;                    /* request_id of the next call */
    int error;                           /* CLIENT_E* of the last call */
};

/* The endpoint to dial for a socket bound at `bind`: a wildcard host
 * ("*", "0.0.0.0") is dialled on loopback. Caller owns the result. */
static char *
s_dial_endpoint(const char *bind)
{
    const char *scheme = strstr(bind, "://");
    const char *colon = strrchr(bind, ':');
    if (!scheme || !colon || colon < scheme + 3) {
        return xstrdup(bind);
    }
    const char *host = scheme + 3;
    size_t host_len = (size_t) (colon - host);
    if ((host_len == 1 && host[0] == '*') ||
        (host_len == 7 && strncmp(host, "0.0.0.0", 7) == 0)) {
        return xasprintf("%.*s127.0.0.1%s", (int) (host - bind), bind, colon);
    }
    return xstrdup(bind);
}

/* The scheduler's CURVE key (DIR/scheduler.curve.pub) and ours, converted
 * from our signing key: trusting client.pub trusts our connection too. */
static int
s_load_curve(client_t *self, errbuf_t *err)
{
    char *path = statedir_path(self->dir, STATEDIR_SCHEDULER_CURVE ".pub");
    int rc = 0;
    if (!statedir_exists(path)) {
        errbuf_set(err,
                   "no transport key of the scheduler in '%s'; start the "
                   "scheduler once (it creates %s), or copy it from the "
                   "scheduler host",
                   self->dir, STATEDIR_SCHEDULER_CURVE ".pub");
        rc = -1;
    } else {
        rc = curve_load_public(path, self->sched_curve, err);
    }
    free(path);
    if (rc == 0) {
        self->curve = curve_from_keys(self->key);
    }
    return rc;
}

/* Loads config, our key and the scheduler's public key from self->dir. */
static int
s_load_state(client_t *self, errbuf_t *err)
{
    char *key_path = statedir_path(self->dir, STATEDIR_CLIENT_KEY);
    char *pub_path = statedir_path(self->dir, STATEDIR_SCHEDULER_PUB);
    char *cfg_path = statedir_path(self->dir, STATEDIR_CONFIG);
    config_t *config = NULL;
    int rc = -1;
    if (!statedir_exists(key_path) || !statedir_exists(pub_path)) {
        errbuf_set(err,
                   "no sluice state in '%s'; run 'sluice init --dir %s' "
                   "first (or set SLUICE_DIR)",
                   self->dir, self->dir);
        goto done;
    }
    config = config_load(cfg_path, err);
    if (!config) {
        goto done;
    }
    self->endpoint = s_dial_endpoint(config->client_listen);
    self->key = keys_load(key_path, err);
    if (!self->key || keys_load_public(pub_path, self->scheduler, err) < 0 ||
        s_load_curve(self, err) < 0) {
        goto done;
    }
    rc = 0;
done:
    config_destroy(&config);
    free(key_path);
    free(pub_path);
    free(cfg_path);
    return rc;
}

/* Watches the socket's handshakes, so that a scheduler that refuses our key
 * (ZAP), one that is there but busy, and one that is not there are told
 * apart. Optional: without it all three look like silence. */
static void
s_monitor(client_t *self)
{
    char *endpoint = xasprintf("inproc://sluice-client-monitor-%p", self);
    if (zmq_socket_monitor(zsock_resolve(self->sock), endpoint,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_DISCONNECTED) == 0) {
        self->monitor = zsock_new_pair(endpoint);
        if (self->monitor) {
            zsock_set_rcvtimeo(self->monitor, 0);
        }
    }
    free(endpoint);
}

client_t *
client_open(const char *dir_flag, errbuf_t *err)
{
    client_t *self = xcalloc(1, sizeof *self);
    self->dir = statedir_resolve(dir_flag);
    if (s_load_state(self, err) < 0) {
        client_destroy(&self);
        return NULL;
    }
    self->sock = zsock_new(ZMQ_DEALER);
    if (!self->sock) {
        errbuf_set(err, "cannot create a ZeroMQ socket: %s",
                   zmq_strerror(zmq_errno()));
        client_destroy(&self);
        return NULL;
    }
    zsock_set_linger(self->sock, 0);
    curve_set_client(self->curve, self->sock, self->sched_curve);
    s_monitor(self);
    if (zsock_connect(self->sock, "%s", self->endpoint) < 0) {
        errbuf_set(err,
                   "cannot dial the scheduler at '%s': %s; check "
                   "client_listen in %s/" STATEDIR_CONFIG,
                   self->endpoint, zmq_strerror(zmq_errno()), self->dir);
        client_destroy(&self);
        return NULL;
    }
    self->poller = zpoller_new(self->sock, self->monitor, NULL);
    self->next_id = ((uint64_t) clock_wall_ms() << 16) ^ (uint64_t) getpid();
    return self;
}

void
client_destroy(client_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    client_t *self = *self_p;
    zpoller_destroy(&self->poller);
    if (self->monitor) {
        zmq_socket_monitor(zsock_resolve(self->sock), NULL, 0);
        zsock_destroy(&self->monitor);
    }
    zsock_destroy(&self->sock);
    keys_destroy(&self->key);
    curve_destroy(&self->curve);
    free(self->endpoint);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

/* Trust only the scheduler key pinned at init. */
static bool
s_trust_scheduler(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    const client_t *self = arg;
    return memcmp(signer, self->scheduler, KEYS_PUBLIC_SIZE) == 0;
}

/* Looks at one received message: returns the reply to request `id` (owned)
 * or NULL to keep waiting; sets *refused (and err) for a Refuse. */
static Sluice__Reply *
s_accept(client_t *self, zmsg_t *msg, uint64_t id, bool *refused, errbuf_t *err)
{
    /* A ROUTER peer may put an empty delimiter before the envelope. */
    if (zmsg_size(msg) == ENV_FRAMES + 1 && zframe_size(zmsg_first(msg)) == 0) {
        zframe_t *empty = zmsg_pop(msg);
        zframe_destroy(&empty);
    }
    env_msg_t env;
    errbuf_t why;
    if (env_open(msg, s_trust_scheduler, self, &env, &why) != ENV_OK) {
        log_debug("dropped a message from the scheduler: %s", errbuf_msg(&why));
        return NULL;
    }
    Sluice__Reply *reply = NULL;
    if (env.type == SLUICE__MSG_TYPE__MSG_REFUSE) {
        Sluice__Refuse *refuse = (Sluice__Refuse *) env.body;
        errbuf_set(err, "the scheduler refused this client: %s",
                   refuse->reason);
        *refused = true;
    } else if (env.type == SLUICE__MSG_TYPE__MSG_REPLY &&
               ((Sluice__Reply *) env.body)->request_id == id) {
        reply = (Sluice__Reply *) env.body;
        env.body = NULL; /* ours now */
    }
    env_msg_clear(&env);
    return reply;
}

/* Reads one monitor event (a frame with the event number first, then the
 * endpoint) into self->handshake. */
static void
s_read_handshake(client_t *self)
{
    zmsg_t *event = xzmq_recv(self->monitor);
    zframe_t *head = event ? zmsg_first(event) : NULL;
    uint16_t number = 0;
    if (head && zframe_size(head) >= sizeof number) {
        memcpy(&number, zframe_data(head), sizeof number);
    }
    if (number == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        self->handshake = S_HANDSHAKE_DONE;
    } else if (number == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        self->handshake = S_HANDSHAKE_REFUSED;
    } else if (number == ZMQ_EVENT_DISCONNECTED) {
        self->handshake = S_HANDSHAKE_NONE; /* it went away */
    }
    zmsg_destroy(&event);
}

static void
s_refused_key(client_t *self, errbuf_t *err)
{
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(keys_public(self->key), hex);
    self->error = CLIENT_EREFUSED;
    errbuf_set(err,
               "the scheduler at %s refused this client's key; ask an "
               "operator to run 'sluice keys add-client %s --role viewer' "
               "(or operator)",
               self->endpoint, hex);
}

/* The wait ends CLIENT_TIMEOUT_MS after the start while nobody has
 * answered the handshake, CLIENT_BUSY_TIMEOUT_MS after it once a scheduler
 * has: a busy scheduler is not a missing one. */
static int64_t
s_deadline(const client_t *self, int64_t start)
{
    return start + (self->handshake == S_HANDSHAKE_DONE ? CLIENT_BUSY_TIMEOUT_MS
                                                        : CLIENT_TIMEOUT_MS);
}

/* Waits for the reply to request `id` until the deadline. */
static Sluice__Reply *
s_wait_reply(client_t *self, uint64_t id, errbuf_t *err)
{
    int64_t start = clock_mono_ms();
    bool refused = false;
    for (int64_t left;
         (left = s_deadline(self, start) - clock_mono_ms()) > 0;) {
        void *ready = zpoller_wait(self->poller, (int) left);
        if (!ready && zpoller_terminated(self->poller)) {
            self->error = CLIENT_EINTR;
            errbuf_set(err, "interrupted");
            return NULL;
        }
        if (ready && ready == self->monitor) {
            s_read_handshake(self);
            if (self->handshake == S_HANDSHAKE_REFUSED) {
                s_refused_key(self, err);
                return NULL;
            }
            continue;
        }
        zmsg_t *msg = ready ? xzmq_recv(self->sock) : NULL;
        if (!msg) {
            continue;
        }
        Sluice__Reply *reply = s_accept(self, msg, id, &refused, err);
        zmsg_destroy(&msg);
        if (reply || refused) {
            self->error = reply ? CLIENT_OK : CLIENT_EREFUSED;
            return reply;
        }
    }
    self->error = CLIENT_ETIMEOUT;
    if (self->handshake == S_HANDSHAKE_DONE) {
        errbuf_set(err,
                   "the scheduler at %s accepted the connection but did not "
                   "answer within %d s; it may be overloaded or stuck: see "
                   "its log",
                   self->endpoint, CLIENT_BUSY_TIMEOUT_MS / 1000);
    } else {
        errbuf_set(err,
                   "no scheduler is answering at %s; start it with 'sluice "
                   "scheduler --dir %s'",
                   self->endpoint, self->dir);
    }
    return NULL;
}

Sluice__Reply *
client_call(client_t *self, Sluice__Request *req, errbuf_t *err)
{
    assert(self && req);
    self->error = CLIENT_ESEND;
    req->request_id = self->next_id++;
    zmsg_t *msg =
        env_seal(SLUICE__MSG_TYPE__MSG_REQUEST, &req->base, self->key);
    if (!msg) {
        errbuf_set(err, "cannot encode the request; this is a bug in sluice");
        return NULL;
    }
    /* DEALER send never blocks for long on a dead peer: it queues until
     * the high-water mark, and LINGER 0 drops the queue at exit. */
    if (xzmq_send(&msg, self->sock) < 0) {
        zmsg_destroy(&msg);
        errbuf_set(err, "cannot send to the scheduler at %s: %s",
                   self->endpoint, zmq_strerror(zmq_errno()));
        return NULL;
    }
    return s_wait_reply(self, req->request_id, err);
}

const char *
client_dir(const client_t *self)
{
    return self->dir;
}

const char *
client_endpoint(const client_t *self)
{
    return self->endpoint;
}

int
client_error(const client_t *self)
{
    return self->error;
}
