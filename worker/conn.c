/* conn — see conn.h and proto/PROTOCOL.md (the worker's dialog). */
#include "worker/conn.h"

#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/version.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/codes.h"

#define CONN_DROP_LOG_MS  10000 /* one drop report per reason per 10 s */
#define CONN_BACKOFF_MIN  1000
#define CONN_BACKOFF_MAX  30000
#define CONN_MAX_MSG      (32 << 20)
#define CONN_LINGER_MS    500
#define CONN_DROP_REASONS 8 /* indexed by -ENV_E* */

struct conn_t {
    char *name;     /* owned; the name tasks must be addressed to */
    char *hostname; /* owned */
    char *endpoint; /* owned, "tcp://host:port" */
    uint8_t sched_pub[KEYS_PUBLIC_SIZE]; /* the only trusted signer */
    uint8_t sched_curve[CURVE_KEY_SIZE]; /* its pinned CURVE key */
    const keys_t *keys;                  /* borrowed: signs what we send */
    const curve_t *curve;                /* borrowed: our transport key */
    char *token; /* owned: join token, sent in Register until welcomed */
    uint32_t heartbeat_flag_ms; /* 0 = follow Welcome */
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    char **labels; /* owned */
    size_t label_count;
    uint64_t session; /* random per process */

    conn_state_t state;
    zsock_t *sock;         /* owned DEALER; NULL while backing off */
    int64_t welcomed_mono; /* when this socket got its Welcome; 0 before */
    uint32_t hb_ms;        /* the scheduler's heartbeat */
    uint32_t liveness;
    int64_t offset_ms;  /* scheduler wall - local wall */
    int64_t heard_mono; /* last valid message from the scheduler */
    int64_t next_hb_mono;
    int64_t reconnect_mono; /* when to dial again while sock is NULL */
    int64_t backoff_ms;

    uint64_t drops[CONN_DROP_REASONS];
    int64_t drop_logged[CONN_DROP_REASONS];
    uint64_t send_failures;      /* xzmq_send refused a message */
    int64_t send_failure_logged; /* monotonic ms of the last warning */
    int64_t resend_mono; /* a send failed: resend what is kept then; 0 = no */

    env_batch_t *pending; /* owned: what this loop turn sends (conn_flush) */
    int peer_minor;       /* the scheduler's minor (its Welcome); 0 before */
    zlistx_t *sealed;     /* owned: conn_flush's envelopes, empty between */
};

/* ------------------------------------------------------- state machine */

/* s_can[from][to]. A lost link in DRAINING stays DRAINING (the socket
 * dials again while attempts finish); STOPPING is the end. */
static const bool s_can[CONN_STATE_COUNT][CONN_STATE_COUNT] = {
    /*                  CONN   WAIT   REG    DRAIN  STOP */
    [CONN_CONNECTING] = {true, true, true, true, true},
    [CONN_WAITING] = {true, true, true, true, true},
    [CONN_REGISTERED] = {true, true, true, true, true},
    [CONN_DRAINING] = {false, false, false, true, true},
    [CONN_STOPPING] = {false, false, false, false, false},
};

static const char *const s_names[CONN_STATE_COUNT] = {
    [CONN_CONNECTING] = "connecting", [CONN_WAITING] = "waiting for admission",
    [CONN_REGISTERED] = "registered", [CONN_DRAINING] = "draining",
    [CONN_STOPPING] = "stopping",
};

bool
conn_state_can(conn_state_t from, conn_state_t to)
{
    if ((unsigned) from >= CONN_STATE_COUNT ||
        (unsigned) to >= CONN_STATE_COUNT) {
        return false;
    }
    return s_can[from][to];
}

const char *
conn_state_name(conn_state_t state)
{
    if ((unsigned) state >= CONN_STATE_COUNT) {
        return "unknown";
    }
    return s_names[state];
}

/* Every change of state, checked against the table. */
static int
s_set_state(conn_t *self, conn_state_t to)
{
    if (!conn_state_can(self->state, to)) {
        log_error("worker '%s': bug: connection state %s cannot become %s; "
                  "ignored",
                  self->name, conn_state_name(self->state),
                  conn_state_name(to));
        return -1;
    }
    if (self->state != to) {
        log_flag(PROTO, "worker '%s': connection %s -> %s", self->name,
                 conn_state_name(self->state), conn_state_name(to));
    }
    self->state = to;
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

conn_t *
conn_new(const conn_config_t *config)
{
    assert(config);
    conn_t *self = xcalloc(1, sizeof *self);
    self->name = xstrdup(config->name);
    self->hostname = xstrdup(config->hostname);
    self->endpoint = xstrdup(config->endpoint);
    memcpy(self->sched_pub, config->sched_pub, KEYS_PUBLIC_SIZE);
    memcpy(self->sched_curve, config->sched_curve, CURVE_KEY_SIZE);
    self->keys = config->keys;
    self->curve = config->curve;
    self->token = config->token ? xstrdup(config->token) : NULL;
    self->heartbeat_flag_ms = config->heartbeat_ms;
    self->cpus = config->cpus;
    self->memory_mb = config->memory_mb;
    self->gpus = config->gpus;
    self->labels = xcalloc(config->label_count + 1, sizeof *self->labels);
    for (size_t i = 0; i < config->label_count; i++) {
        self->labels[self->label_count++] = xstrdup(config->labels[i]);
    }
    randombytes_buf(&self->session, sizeof self->session);
    self->state = CONN_CONNECTING;
    self->hb_ms = config->heartbeat_ms ? config->heartbeat_ms : 1000;
    self->liveness = 3;
    self->backoff_ms = CONN_BACKOFF_MIN;
    self->pending = env_batch_new();
    self->sealed = zlistx_new();
    return self;
}

void
conn_destroy(conn_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    conn_t *self = *self_p;
    zsock_destroy(&self->sock);
    env_batch_destroy(&self->pending);
    zlistx_destroy(&self->sealed);
    if (self->token) {
        sodium_memzero(self->token, strlen(self->token));
        free(self->token);
    }
    for (size_t i = 0; i < self->label_count; i++) {
        free(self->labels[i]);
    }
    free(self->labels);
    free(self->endpoint);
    free(self->hostname);
    free(self->name);
    free(self);
    *self_p = NULL;
}

conn_state_t
conn_state(const conn_t *self)
{
    return self->state;
}

const char *
conn_name(const conn_t *self)
{
    return self->name;
}

bool
conn_registered(const conn_t *self)
{
    return self->sock && self->welcomed_mono != 0 &&
           (self->state == CONN_REGISTERED || self->state == CONN_DRAINING);
}

bool
conn_leaving(const conn_t *self)
{
    return self->state == CONN_DRAINING || self->state == CONN_STOPPING;
}

bool
conn_done(const conn_t *self)
{
    return self->state == CONN_STOPPING;
}

int64_t
conn_sched_now(const conn_t *self)
{
    return clock_wall_ms() + self->offset_ms;
}

/* ------------------------------------------------------------- sending */

static void
s_send_failed(conn_t *self, const char *what)
{
    self->send_failures++;
    int64_t now = clock_mono_ms();
    if (now - self->send_failure_logged >= CONN_DROP_LOG_MS) {
        self->send_failure_logged = now;
        log_warn("worker '%s': cannot send %s now: %s (%" PRIu64
                 " sends failed so far)",
                 self->name, what, zmq_strerror(zmq_errno()),
                 self->send_failures);
    }
}

/* Seals and sends one message now, alone (Register: the scheduler reads
 * it before it knows what we speak). */
static void
s_send_now(conn_t *self, int type, const ProtobufCMessage *body)
{
    zmsg_t *msg = env_seal(type, body, self->keys);
    if (xzmq_send(&msg, self->sock) < 0) {
        s_send_failed(self, env_type_name(type));
    } else {
        log_flag(PROTO, "worker '%s': sent %s", self->name,
                 env_type_name(type));
    }
    zmsg_destroy(&msg);
}

void
conn_send(conn_t *self, int type, const ProtobufCMessage *body)
{
    if (!self->sock) {
        log_flag(PROTO, "worker '%s': not connected, %s not sent", self->name,
                 env_type_name(type));
        return;
    }
    env_batch_add(self->pending, type, body);
    if (env_batch_count(self->pending) >= ENV_BATCH_MAX) {
        conn_flush(self); /* a full batch goes now */
    }
}

/* Drops what waits: the socket it was meant for is gone. */
static void
s_pending_drop(conn_t *self)
{
    if (env_batch_count(self->pending) > 0) {
        env_batch_destroy(&self->pending);
        self->pending = env_batch_new();
    }
}

void
conn_flush(conn_t *self)
{
    size_t count = env_batch_count(self->pending);
    if (count == 0) {
        return;
    }
    if (!self->sock) {
        s_pending_drop(self);
        return;
    }
    size_t n = env_batch_seal(self->pending, self->keys, self->peer_minor,
                              self->sealed);
    for (zmsg_t *msg = zlistx_first(self->sealed); msg;
         msg = zlistx_next(self->sealed)) {
        if (xzmq_send(&msg, self->sock) < 0) {
            /* Results and kept log chunks go again after the next Welcome. */
            char what[80];
            snprintf(what, sizeof what, "an envelope of this turn's %zu",
                     count);
            s_send_failed(self, what);
            zmsg_destroy(&msg);
            if (!self->resend_mono) {
                self->resend_mono =
                    clock_mono_ms() + (self->hb_ms ? self->hb_ms : 1000);
            }
        }
    }
    zlistx_purge(self->sealed);
    log_flag(PROTO, "worker '%s': sent %zu messages in %zu envelopes",
             self->name, count, n);
}

void
conn_send_free(conn_t *self, int type, ProtobufCMessage *body)
{
    conn_send(self, type, body);
    protobuf_c_message_free_unpacked(body, NULL);
}

static uint64_t *
s_ids_dup(const uint64_t *src, size_t n, size_t *count)
{
    uint64_t *ids = xcalloc(n + 1, sizeof *ids);
    if (n) {
        memcpy(ids, src, n * sizeof *ids);
    }
    *count = n;
    return ids;
}

static Sluice__Resources *
s_resources_new(const conn_t *self)
{
    Sluice__Resources *res = xmalloc(sizeof *res);
    *res = (Sluice__Resources) SLUICE__RESOURCES__INIT;
    res->cpus = self->cpus;
    res->memory_mb = self->memory_mb;
    res->gpus = self->gpus;
    res->n_labels = self->label_count;
    res->labels = xcalloc(self->label_count + 1, sizeof *res->labels);
    for (size_t i = 0; i < self->label_count; i++) {
        res->labels[i] = xstrdup(self->labels[i]);
    }
    return res;
}

static void
s_send_register(conn_t *self, const conn_load_t *load)
{
    Sluice__Register *reg = xmalloc(sizeof *reg);
    *reg = (Sluice__Register) SLUICE__REGISTER__INIT;
    reg->name = xstrdup(self->name);
    reg->hostname = xstrdup(self->hostname);
    reg->slots = load->slots;
    reg->free_slots = load->free_slots;
    reg->resources = s_resources_new(self);
    reg->running = s_ids_dup(load->running, load->n_running, &reg->n_running);
    reg->prefetch = load->prefetch;
    reg->queued = s_ids_dup(load->queued, load->n_queued, &reg->n_queued);
    reg->wall_ms = (uint64_t) clock_wall_ms();
    reg->session = self->session;
    reg->software = xstrdup("sluice " SLUICE_VERSION);
    reg->token = xstrdup(self->token ? self->token : "");
    s_send_now(self, SLUICE__MSG_TYPE__MSG_REGISTER, &reg->base);
    protobuf_c_message_free_unpacked(&reg->base, NULL);
}

void
conn_heartbeat(conn_t *self, const conn_load_t *load)
{
    Sluice__Heartbeat *hb = xmalloc(sizeof *hb);
    *hb = (Sluice__Heartbeat) SLUICE__HEARTBEAT__INIT;
    hb->free_slots = load->free_slots;
    hb->running = s_ids_dup(load->running, load->n_running, &hb->n_running);
    hb->queued = s_ids_dup(load->queued, load->n_queued, &hb->n_queued);
    hb->prefetch = load->prefetch;
    hb->wall_ms = (uint64_t) clock_wall_ms();
    conn_send_free(self, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb->base);
    uint32_t every =
        self->heartbeat_flag_ms ? self->heartbeat_flag_ms : self->hb_ms;
    self->next_hb_mono = clock_mono_ms() + every;
}

void
conn_heard_heartbeat(conn_t *self, const Sluice__Heartbeat *hb)
{
    if (hb->heartbeat_ms && hb->heartbeat_ms != self->hb_ms) {
        log_info("worker '%s': the scheduler asks for a heartbeat every "
                 "%u ms (was %u ms)",
                 self->name, hb->heartbeat_ms, self->hb_ms);
        self->hb_ms = hb->heartbeat_ms;
    }
}

/* ----------------------------------------------------------- the socket */

static void
s_connect(conn_t *self, const conn_load_t *load)
{
    self->sock = zsock_new(ZMQ_DEALER);
    assert(self->sock);
    zsock_set_linger(self->sock, CONN_LINGER_MS);
    zsock_set_maxmsgsize(self->sock, CONN_MAX_MSG);
    zsock_set_sndtimeo(self->sock, 0); /* never block the loop on a send */
    curve_set_client(self->curve, self->sock, self->sched_curve);
    if (zsock_connect(self->sock, "%s", self->endpoint) < 0) {
        log_error("worker '%s': cannot connect to '%s': %s", self->name,
                  self->endpoint, zmq_strerror(zmq_errno()));
    }
    self->welcomed_mono = 0;
    self->peer_minor = 0; /* single messages until its Welcome says more */
    s_pending_drop(self);
    self->heard_mono = clock_mono_ms();
    if (self->state == CONN_WAITING) { /* said once when the wait began */
        log_debug("worker '%s': asking %s again for admission", self->name,
                  self->endpoint);
    } else {
        log_info("worker '%s': connecting to %s", self->name, self->endpoint);
    }
    s_send_register(self, load);
}

/* Closes the socket; a fresh one dials after the backoff, which grows. */
static void
s_close(conn_t *self)
{
    zsock_destroy(&self->sock);
    s_pending_drop(self);
    self->welcomed_mono = 0;
    self->reconnect_mono = clock_mono_ms() + self->backoff_ms;
}

static void
s_backoff_grow(conn_t *self)
{
    self->backoff_ms *= 2;
    if (self->backoff_ms > CONN_BACKOFF_MAX) {
        self->backoff_ms = CONN_BACKOFF_MAX;
    }
}

void
conn_lost(conn_t *self, const char *why)
{
    s_close(self);
    if (self->state != CONN_DRAINING) {
        s_set_state(self, CONN_CONNECTING);
    }
    char wait[32];
    log_warn("worker '%s': lost the scheduler at %s (%s); reconnecting in %s, "
             "running attempts go on",
             self->name, self->endpoint, why,
             clock_fmt_duration(self->backoff_ms, wait, sizeof wait));
    s_backoff_grow(self);
}

static int64_t
s_liveness_deadline(const conn_t *self)
{
    return self->heard_mono + (int64_t) self->hb_ms * self->liveness;
}

void
conn_tick(conn_t *self, const conn_load_t *load)
{
    if (conn_done(self)) {
        return;
    }
    int64_t now = clock_mono_ms();
    if (!self->sock) {
        if (now >= self->reconnect_mono) {
            s_connect(self, load);
        }
        return;
    }
    bool registered = conn_registered(self);
    if (now >= s_liveness_deadline(self)) {
        conn_lost(self, registered ? "missed heartbeats" : "no welcome");
        return;
    }
    if (registered && now >= self->next_hb_mono) {
        conn_heartbeat(self, load);
    }
}

static int64_t
s_min_deadline(int64_t a, int64_t b)
{
    return a < 0 || (b >= 0 && b < a) ? b : a;
}

int64_t
conn_next_deadline(const conn_t *self)
{
    if (!self->sock) {
        return self->reconnect_mono;
    }
    int64_t next = s_liveness_deadline(self);
    if (conn_registered(self)) {
        next = s_min_deadline(next, self->next_hb_mono);
        next = s_min_deadline(next, self->resend_mono ? self->resend_mono : -1);
    }
    return next;
}

bool
conn_resend_due(conn_t *self)
{
    if (!self->resend_mono || !self->sock || !conn_registered(self) ||
        clock_mono_ms() < self->resend_mono) {
        return false;
    }
    self->resend_mono = 0;
    return true;
}

void *
conn_pollable(const conn_t *self)
{
    return self->sock ? zsock_resolve(self->sock) : NULL;
}

/* ------------------------------------------------------------ receiving */

static bool
s_trust(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    conn_t *self = arg;
    return sodium_memcmp(signer, self->sched_pub, KEYS_PUBLIC_SIZE) == 0;
}

void
conn_count_drop(conn_t *self, int code, const errbuf_t *err)
{
    int index = -code;
    if (index < 0 || index >= CONN_DROP_REASONS) {
        index = 0;
    }
    self->drops[index]++;
    int64_t now = clock_mono_ms();
    if (self->drop_logged[index] &&
        now - self->drop_logged[index] < CONN_DROP_LOG_MS) {
        return;
    }
    self->drop_logged[index] = now;
    log_warn("worker '%s': dropped a message from the scheduler socket "
             "(%s): %s; %" PRIu64 " such drops so far",
             self->name, env_strerror(code), errbuf_msg(err),
             self->drops[index]);
}

void
conn_drop_summary(const conn_t *self)
{
    char line[512] = "";
    size_t len = 0;
    for (int i = 0; i < CONN_DROP_REASONS; i++) {
        if (self->drops[i] && len < sizeof line) {
            len += (size_t) snprintf(line + len, sizeof line - len,
                                     "%s%s %" PRIu64, len ? ", " : "",
                                     env_strerror(-i), self->drops[i]);
        }
    }
    if (len > 0) {
        log_info("worker '%s': dropped messages since start: %s", self->name,
                 line);
    }
}

bool
conn_readable(const conn_t *self)
{
    return self->sock && !conn_done(self) &&
           (zsock_events(self->sock) & ZMQ_POLLIN);
}

int
conn_recv(conn_t *self, env_msg_t *out)
{
    memset(out, 0, sizeof *out);
    zmsg_t *msg = xzmq_recv(self->sock);
    if (!msg) {
        return -1;
    }
    if (zmsg_size(msg) == ENV_FRAMES + 1) {
        zframe_t *first = zmsg_first(msg);
        if (zframe_size(first) == 0) { /* a REQ-style empty delimiter */
            zframe_t *gap = zmsg_pop(msg);
            zframe_destroy(&gap);
        }
    }
    errbuf_t err;
    errbuf_clear(&err);
    int rc = env_open(msg, s_trust, self, out, &err);
    zmsg_destroy(&msg);
    if (rc != ENV_OK) {
        conn_count_drop(self, rc, &err);
        return -1;
    }
    self->heard_mono = clock_mono_ms();
    if (out->type == SLUICE__MSG_TYPE__MSG_WELCOME) {
        self->peer_minor = out->minor; /* what we may send it */
    }
    log_flag(PROTO, "worker '%s': received %s", self->name,
             env_type_name(out->type));
    return 0;
}

/* -------------------------------------------------- what the scheduler says */

void
conn_welcomed(conn_t *self, const Sluice__Welcome *w)
{
    self->offset_ms = (int64_t) w->wall_ms - clock_wall_ms();
    self->hb_ms = w->heartbeat_ms ? w->heartbeat_ms : 1000;
    self->liveness = w->liveness ? w->liveness : 3;
    if (w->worker && *w->worker && strcmp(w->worker, self->name) != 0) {
        log_warn("worker '%s': the scheduler registered us as '%s'", self->name,
                 w->worker);
        free(self->name);
        self->name = xstrdup(w->worker);
    }
    if (self->state != CONN_DRAINING) {
        s_set_state(self, CONN_REGISTERED);
    }
    self->welcomed_mono = clock_mono_ms();
    self->resend_mono = 0; /* the Welcome's resend covers it */
    self->backoff_ms = CONN_BACKOFF_MIN;
    if (self->token) {
        /* Our key is accepted now: the token is not needed again. */
        sodium_memzero(self->token, strlen(self->token));
        free(self->token);
        self->token = NULL;
    }
    log_info("worker '%s': registered with %s (heartbeat %u ms x %u, "
             "clock offset %+" PRId64 " ms)",
             self->name, self->endpoint, self->hb_ms, self->liveness,
             self->offset_ms);
}

/* Pending: said once per wait; asks again soon, so that an accept takes
 * effect quickly. */
static void
s_wait_for_admission(conn_t *self)
{
    if (self->state != CONN_WAITING && self->state != CONN_DRAINING) {
        char fp[KEYS_FP_SIZE];
        keys_fingerprint(curve_public(self->curve), fp); /* as keys list */
        log_info("worker '%s': waiting for admission: on the scheduler host "
                 "run 'sluice keys accept %s', or restart this worker with "
                 "--token-file FILE (a 0600 file holding a token from 'sluice "
                 "token create')",
                 self->name, fp);
        s_set_state(self, CONN_WAITING);
    }
    self->backoff_ms = CONN_BACKOFF_MIN;
    s_close(self);
    s_backoff_grow(self);
}

int
conn_refused(conn_t *self, const Sluice__Refuse *r)
{
    const char *reason = r->reason ? r->reason : "";
    if (r->code == REFUSE_E_VERSION) {
        log_error("worker '%s': the scheduler refused this worker's protocol "
                  "version %d.%d (it speaks %u.%u): %s; install a matching "
                  "sluice version",
                  self->name, ENV_MAJOR, ENV_MINOR, r->major, r->minor, reason);
        s_set_state(self, CONN_STOPPING);
        return -1;
    }
    if (r->code == REFUSE_E_PENDING) {
        s_wait_for_admission(self);
        return 0;
    }
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(curve_public(self->curve), fp); /* what keys list shows */
    log_error("worker '%s': the scheduler refused this worker (code %u): %s "
              "(transport key %s)",
              self->name, r->code, reason, fp);
    conn_lost(self, "refused");
    return 0;
}

void
conn_drain(conn_t *self)
{
    s_set_state(self, CONN_DRAINING);
}

void
conn_stop(conn_t *self, const char *reason)
{
    Sluice__Goodbye *msg = xmalloc(sizeof *msg);
    *msg = (Sluice__Goodbye) SLUICE__GOODBYE__INIT;
    msg->reason = xstrdup(reason);
    conn_send_free(self, SLUICE__MSG_TYPE__MSG_GOODBYE, &msg->base);
    conn_flush(self); /* the loop ends: what waits goes now */
    s_set_state(self, CONN_STOPPING);
}
