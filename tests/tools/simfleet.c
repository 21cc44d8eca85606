/* simfleet — N simulated workers in one process, to measure the scheduler
 * alone at fleet scale (make bench-scale).
 *
 *   simfleet --join LINE --token TOKEN [--workers 1000] [--slots 4]
 *            [--prefetch 1] [--delay-ms 0] [--name-prefix sim]
 *            [--batch on|off] [--duration-s 0] [--ramp-ms 1000]
 *            [--progress-ms 2000] [--io-threads 1]
 *
 * Each simulated worker has its own Ed25519 signing key and CURVE key pair
 * and its own DEALER connection (a CURVE client pinning the scheduler's
 * key from the join line). It registers with the join token, heartbeats at
 * the interval its Welcome names, and answers every Task with a signed
 * success Result at once (or --delay-ms after it started). It holds up to
 * --prefetch tasks beyond its free slots (Register.prefetch), lists them in
 * Heartbeat.queued and reports the ones it starts in Result.started. It
 * speaks the protocol only through proto/ (envelope.h).
 *
 * Batches: what one simulated worker has ready in one loop turn goes out
 * as one env_batch_seal. --batch on (the default) sends batches whenever
 * the Welcome's version says minor >= ENV_MINOR_BATCH; off never sends
 * them (a 1.0 fleet). A heartbeat_ms in the scheduler's Heartbeat is the
 * interval to beat at from then on, as for a real worker.
 *
 * One thread serves every simulated worker: epoll over the sockets'
 * ZMQ_FDs, so a loop turn costs what is ready rather than the fleet's
 * size, and one sweep over all of them at most every SIM_SWEEP_MS for
 * timed work (heartbeats, delayed results, redials). Run it with an
 * open-files limit of about 3 per worker (it raises its own soft limit).
 *
 * It is a load generator, not a worker: it runs nothing, keeps no outbox
 * across restarts and remembers no task nonces (a Task is refused only
 * when misaddressed or expired). Unacknowledged results are sent again
 * after a re-Welcome.
 *
 * stderr: progress every --progress-ms and the line
 *   "simfleet: all N workers registered" once they are.
 * stdout at exit: one summary line of key=value pairs.
 * Exit 0 on SIGINT/SIGTERM or --duration-s, 1 when no worker could
 * register (version refused, token refused), 2 on bad usage. */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/curve.h"
#include "common/errbuf.h"
#include "common/join.h"
#include "common/keys.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/codes.h"
#include "proto/envelope.h"

#define SIM_RECV_MAX     64   /* messages read per socket per turn */
#define SIM_REDIAL_MS    1000 /* after a lost link or a pending refusal */
#define SIM_LINGER_MS    100  /* Goodbye's last chance at exit */
#define SIM_MAX_MSG      (32 << 20)
#define SIM_POLL_MAX_MS  100 /* signals and progress stay timely */
#define SIM_WAKE_NEVER   INT64_MAX
#define SIM_MEMORY_MB    4096
#define SIM_WELCOME_MS   15000 /* a Register's wait for its Welcome */
#define SIM_SWEEP_MS     5     /* least time between two timed sweeps */
#define SIM_SAY_REFUSALS 5     /* refusals printed; the rest are counted */
#define SIM_STALL_MS     500   /* a turn this late: this process stalled */
#define SIM_EPOLL_MAX    1024  /* readiness events taken per wait */

typedef enum {
    SIM_IDLE = 0,   /* no socket: dials at redial_mono */
    SIM_DIALED,     /* Register sent, no Welcome yet */
    SIM_REGISTERED, /* welcomed: heartbeats flow, tasks come */
    SIM_STOPPED,    /* refused for good (version, token): never dials */
} sim_state_t;

typedef enum {
    SIM_BATCH_ON,
    SIM_BATCH_OFF
} sim_batch_t;

typedef struct {
    const char *join;
    const char *token;
    const char *prefix;
    uint32_t workers;
    uint32_t slots;
    uint32_t prefetch;
    uint32_t delay_ms;
    uint32_t duration_s;
    uint32_t ramp_ms;
    uint32_t progress_ms;
    uint32_t io_threads;
    sim_batch_t batch;
} sim_opts_t;

/* One attempt held: running (due set) or prefetched (waiting for a slot). */
typedef struct {
    uint64_t attempt_id;
    int64_t due_mono;    /* running: when its result is due */
    uint64_t started_ms; /* running: wall clock at start */
    bool prefetched;     /* held while no slot was free */
} sim_job_t;

/* A result sent and not yet acknowledged: enough to send it again. */
typedef struct {
    uint64_t attempt_id;
    uint64_t started_ms;
    uint64_t ended_ms;
} sim_done_t;

/* A growable array of T, owned. */
#define SIM_VEC(T)                                                             \
    struct {                                                                   \
        T *at;                                                                 \
        size_t len, cap;                                                       \
    }

typedef struct {
    char name[64];
    keys_t *keys;   /* owned: signs what it sends */
    curve_t *curve; /* owned: its transport key */
    zsock_t *sock;  /* owned DEALER; NULL while idle */
    sim_state_t state;
    int peer_minor;      /* the scheduler's minor, from its Welcome */
    bool token_done;     /* welcomed once: the token is not sent again */
    int64_t redial_mono; /* SIM_IDLE: when to dial */
    int64_t heard_mono;  /* last valid message from the scheduler */
    int64_t next_hb_mono;
    uint32_t hb_ms, liveness;
    bool active;                 /* got messages this turn: service it */
    bool queued;                 /* in sim_t.todo */
    SIM_VEC(sim_job_t) running;  /* at most slots */
    SIM_VEC(sim_job_t) held;     /* prefetched, in arrival order */
    SIM_VEC(uint64_t) started;   /* held ones started since last report */
    SIM_VEC(sim_done_t) unacked; /* results sent, not acknowledged */
    env_batch_t *out;            /* owned: what this turn has ready */
} sim_worker_t;

typedef struct {
    uint64_t tasks;      /* Tasks accepted */
    uint64_t results;    /* Results sent (first time) */
    uint64_t resent;     /* Results sent again after a re-Welcome */
    uint64_t acks;       /* results acknowledged */
    uint64_t refused;    /* Tasks refused (misaddressed, expired) */
    uint64_t envelopes;  /* envelopes sent */
    uint64_t batches;    /* of them, MSG_BATCH envelopes */
    uint64_t heartbeats; /* Heartbeats sent */
    uint64_t dials;      /* Registers sent */
    uint64_t lost;       /* links dropped for silence or by the scheduler */
    uint64_t drops;      /* messages that did not open */
    uint64_t max_held;   /* most tasks one worker held beyond its slots */
    uint64_t refusals;   /* Refuse messages from the scheduler */
    uint64_t stalls;     /* turns this process itself came late to */
} sim_stats_t;

typedef struct {
    sim_opts_t o;
    join_t target;   /* endpoint and pinned keys; owned */
    sim_worker_t *w; /* o.workers of them, owned */
    int epfd;        /* epoll over every socket's ZMQ_FD; owned */
    uint32_t *todo;  /* workers whose ZMQ_EVENTS to look at next turn */
    uint32_t *cur;   /* the ones this turn looks at */
    size_t ntodo;
    uint32_t registered; /* workers in SIM_REGISTERED */
    bool all_said;       /* "all N registered" printed */
    int64_t start_mono;
    int64_t wake_mono; /* earliest timed work over all workers */
    sim_stats_t st;
    zlistx_t *sealed; /* scratch for env_batch_seal */
} sim_t;

static volatile sig_atomic_t s_interrupted;

static void
s_on_signal(int sig)
{
    (void) sig;
    s_interrupted = 1;
}

/* --------------------------------------------------------------- vectors */

#define SIM_PUSH(v, item)                                                      \
    do {                                                                       \
        if ((v).len == (v).cap) {                                              \
            (v).cap = (v).cap ? (v).cap * 2 : 8;                               \
            (v).at = xrealloc((v).at, (v).cap * sizeof *(v).at);               \
        }                                                                      \
        (v).at[(v).len++] = (item);                                            \
    } while (0)

/* Removes entry i of v, keeping the order (held tasks start in order). */
#define SIM_REMOVE(v, i)                                                       \
    do {                                                                       \
        memmove(&(v).at[(i)], &(v).at[(i) + 1],                                \
                ((v).len - (i) -1) * sizeof *(v).at);                          \
        (v).len--;                                                             \
    } while (0)

/* ----------------------------------------------------------------- usage */

static int
s_usage(void)
{
    fprintf(stderr, "usage: simfleet --join LINE --token TOKEN [--workers N] "
                    "[--slots N]\n"
                    "                [--prefetch N] [--delay-ms MS] "
                    "[--name-prefix NAME]\n"
                    "                [--batch on|off] [--duration-s S] "
                    "[--ramp-ms MS]\n"
                    "                [--progress-ms MS] [--io-threads N]\n"
                    "  LINE is what 'sluice join-line' prints "
                    "(sluice://HOST:PORT/SIGNHEX/CURVEHEX)\n");
    return 2;
}

static bool
s_uint(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *end || v < min || v > max) {
        return false;
    }
    *out = (uint32_t) v;
    return true;
}

static bool
s_batch_mode(const char *text, sim_batch_t *out)
{
    static const char *const names[] = {"on", "off"};
    for (int i = 0; i < 2; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (sim_batch_t) i;
            return true;
        }
    }
    return false;
}

static void
s_opts_default(sim_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->prefix = "sim";
    o->workers = 1000;
    o->slots = 4;
    o->prefetch = 1;
    o->ramp_ms = 1000;
    o->progress_ms = 2000;
    o->io_threads = 1;
}

/* One option's value into o; false when it is not valid. */
static bool
s_opt_set(sim_opts_t *o, int c, const char *v)
{
    switch (c) {
        case 'j':
            o->join = v;
            return true;
        case 't':
            o->token = v;
            return true;
        case 'n':
            o->prefix = v;
            return *v != '\0';
        case 'w':
            return s_uint(v, 1, 100000, &o->workers);
        case 's':
            return s_uint(v, 1, 1024, &o->slots);
        case 'p':
            return s_uint(v, 0, 1024, &o->prefetch);
        case 'd':
            return s_uint(v, 0, 3600000, &o->delay_ms);
        case 'D':
            return s_uint(v, 0, 86400, &o->duration_s);
        case 'r':
            return s_uint(v, 0, 600000, &o->ramp_ms);
        case 'P':
            return s_uint(v, 0, 3600000, &o->progress_ms);
        case 'i':
            return s_uint(v, 1, 64, &o->io_threads);
        case 'b':
            return s_batch_mode(v, &o->batch);
        default:
            return false;
    }
}

static int
s_opts(int argc, char **argv, sim_opts_t *o)
{
    static const struct option longs[] = {
        {"join", required_argument, NULL, 'j'},
        {"token", required_argument, NULL, 't'},
        {"name-prefix", required_argument, NULL, 'n'},
        {"workers", required_argument, NULL, 'w'},
        {"slots", required_argument, NULL, 's'},
        {"prefetch", required_argument, NULL, 'p'},
        {"delay-ms", required_argument, NULL, 'd'},
        {"duration-s", required_argument, NULL, 'D'},
        {"ramp-ms", required_argument, NULL, 'r'},
        {"progress-ms", required_argument, NULL, 'P'},
        {"io-threads", required_argument, NULL, 'i'},
        {"batch", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0}};
    s_opts_default(o);
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (!s_opt_set(o, c, optarg)) {
            if (c != '?') {
                fprintf(stderr, "simfleet: bad value '%s'\n", optarg);
            }
            return -1;
        }
    }
    if (optind != argc || !o->join) {
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------------- setup */

/* Room for every socket: czmq's default stops at 1023 sockets, and each
 * worker needs a descriptor for its connection and one for its mailbox. */
static void
s_limits(const sim_opts_t *o)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t need = (rlim_t) o->workers * 3 + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        fprintf(stderr,
                "simfleet: warning: %u workers need about %llu open files, "
                "the limit is %llu; raise it with 'ulimit -n %llu'\n",
                o->workers, (unsigned long long) need,
                (unsigned long long) rl.rlim_cur, (unsigned long long) need);
    }
    zsys_set_max_sockets(0); /* 0: as many as libzmq allows */
    zsys_set_io_threads(o->io_threads);
    zsys_set_linger(SIM_LINGER_MS);
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: wakes epoll_wait */
    sigaction(SIGINT, &sa, NULL);
}

static sim_t *
s_new(const sim_opts_t *o, errbuf_t *err)
{
    join_t target;
    if (join_parse(o->join, &target, err) < 0) {
        errbuf_prefix(err, "--join");
        return NULL;
    }
    if (o->token) {
        free(target.token);
        target.token = xstrdup(o->token);
    }
    sim_t *self = xcalloc(1, sizeof *self);
    self->o = *o;
    self->target = target;
    self->w = xcalloc(o->workers, sizeof *self->w);
    self->todo = xcalloc(o->workers, sizeof *self->todo);
    self->cur = xcalloc(o->workers, sizeof *self->cur);
    self->epfd = epoll_create1(EPOLL_CLOEXEC);
    assert(self->epfd >= 0);
    self->sealed = zlistx_new();
    self->start_mono = clock_mono_ms();
    for (uint32_t i = 0; i < o->workers; i++) {
        sim_worker_t *w = &self->w[i];
        snprintf(w->name, sizeof w->name, "%s-%05u", o->prefix, i + 1);
        w->keys = keys_generate();
        w->curve = curve_generate();
        w->out = env_batch_new();
        w->hb_ms = 1000;
        w->liveness = 3;
        /* First dials spread over the ramp, not all in one instant. */
        w->redial_mono = self->start_mono + (int64_t) o->ramp_ms * i /
                                                (o->workers ? o->workers : 1);
    }
    self->wake_mono = self->start_mono;
    return self;
}

static void
s_destroy(sim_t **self_p)
{
    sim_t *self = *self_p;
    if (!self) {
        return;
    }
    for (uint32_t i = 0; i < self->o.workers; i++) {
        sim_worker_t *w = &self->w[i];
        zsock_destroy(&w->sock);
        keys_destroy(&w->keys);
        curve_destroy(&w->curve);
        env_batch_destroy(&w->out);
        free(w->running.at);
        free(w->held.at);
        free(w->started.at);
        free(w->unacked.at);
    }
    free(self->w);
    free(self->todo);
    free(self->cur);
    close(self->epfd);
    zlistx_destroy(&self->sealed);
    if (self->target.token) {
        sodium_memzero(self->target.token, strlen(self->target.token));
    }
    join_clear(&self->target);
    free(self);
    *self_p = NULL;
}

/* ------------------------------------------------------------ readiness
 * Each socket's ZMQ_FD is in one epoll set, so a turn costs what is ready,
 * not the fleet's size. ZMQ_FD only signals that ZMQ_EVENTS may have
 * changed, and a send or receive can use up that signal: every worker that
 * was read or sent on is looked at again (ZMQ_EVENTS) the next turn. */

static void
s_todo(sim_t *self, sim_worker_t *w)
{
    if (!w->queued) {
        w->queued = true;
        self->todo[self->ntodo++] = (uint32_t) (w - self->w);
    }
}

static void
s_watch(sim_t *self, sim_worker_t *w, int op)
{
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u32 = (uint32_t) (w - self->w)};
    if (epoll_ctl(self->epfd, op, zsock_fd(w->sock), &ev) < 0) {
        fprintf(stderr, "simfleet: %s: epoll_ctl: %s\n", w->name,
                strerror(errno));
    }
}

/* ------------------------------------------------------------- sending */

/* The minor to seal for: below ENV_MINOR_BATCH means one envelope each. */
static int
s_seal_minor(const sim_t *self, const sim_worker_t *w)
{
    return self->o.batch == SIM_BATCH_OFF ? 0 : w->peer_minor;
}

/* Sends what w has ready this turn: one batch, or single envelopes. */
static void
s_flush(sim_t *self, sim_worker_t *w)
{
    size_t n = env_batch_count(w->out);
    if (n == 0) {
        return;
    }
    if (!w->sock) {
        env_batch_destroy(&w->out); /* nowhere to go: dropped */
        w->out = env_batch_new();
        return;
    }
    size_t sent =
        env_batch_seal(w->out, w->keys, s_seal_minor(self, w), self->sealed);
    if (sent == 1 && n > 1) {
        self->st.batches++;
    }
    for (zmsg_t *msg = zlistx_first(self->sealed); msg;
         msg = zlistx_next(self->sealed)) {
        if (xzmq_send(&msg, w->sock) == 0) {
            self->st.envelopes++;
        }
    }
    zlistx_purge(self->sealed);
    s_todo(self, w);
}

static uint64_t *
s_ids_of(const sim_job_t *jobs, size_t n, size_t *count)
{
    uint64_t *ids = xcalloc(n + 1, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        ids[i] = jobs[i].attempt_id;
    }
    *count = n;
    return ids;
}

static uint32_t
s_free_slots(const sim_t *self, const sim_worker_t *w)
{
    return self->o.slots > w->running.len
               ? self->o.slots - (uint32_t) w->running.len
               : 0;
}

/* Register goes alone, at once: nothing else is sent before a Welcome. */
static void
s_send_register(sim_t *self, sim_worker_t *w)
{
    Sluice__Resources res = SLUICE__RESOURCES__INIT;
    res.cpus = self->o.slots;
    res.memory_mb = SIM_MEMORY_MB;
    Sluice__Register reg = SLUICE__REGISTER__INIT;
    reg.name = w->name;
    reg.hostname = "simfleet";
    reg.slots = self->o.slots;
    reg.free_slots = s_free_slots(self, w);
    reg.resources = &res;
    reg.running = s_ids_of(w->running.at, w->running.len, &reg.n_running);
    reg.queued = s_ids_of(w->held.at, w->held.len, &reg.n_queued);
    reg.wall_ms = (uint64_t) clock_wall_ms();
    reg.session = (uint64_t) (uintptr_t) w ^ (uint64_t) self->start_mono;
    reg.software = "sluice simfleet";
    reg.token = !w->token_done && self->target.token ? self->target.token : "";
    reg.prefetch = self->o.prefetch;
    zmsg_t *msg = env_seal(SLUICE__MSG_TYPE__MSG_REGISTER, &reg.base, w->keys);
    if (msg && xzmq_send(&msg, w->sock) == 0) {
        self->st.envelopes++;
    }
    zmsg_destroy(&msg);
    free(reg.running);
    free(reg.queued);
    self->st.dials++;
}

static void
s_add_heartbeat(sim_t *self, sim_worker_t *w, int64_t now)
{
    Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
    hb.free_slots = s_free_slots(self, w);
    hb.running = s_ids_of(w->running.at, w->running.len, &hb.n_running);
    hb.queued = s_ids_of(w->held.at, w->held.len, &hb.n_queued);
    hb.wall_ms = (uint64_t) clock_wall_ms();
    env_batch_add(w->out, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb.base);
    free(hb.running);
    free(hb.queued);
    w->started.len = 0; /* the running list reports them */
    w->next_hb_mono = now + w->hb_ms;
    self->st.heartbeats++;
}

/* A success Result; started lists the held tasks started since the last
 * report (only the first Result of a turn carries them). */
static void
s_add_result(sim_t *self, sim_worker_t *w, const sim_done_t *done)
{
    Sluice__Result res = SLUICE__RESULT__INIT;
    res.attempt_id = done->attempt_id;
    res.outcome = SLUICE__OUTCOME__OUTCOME_EXITED;
    res.exit_code = 0;
    res.started_ms = done->started_ms;
    res.ended_ms = done->ended_ms;
    res.duration_ms = done->ended_ms - done->started_ms;
    res.free_slots = s_free_slots(self, w);
    res.error = "";
    res.n_started = w->started.len;
    res.started = w->started.at;
    env_batch_add(w->out, SLUICE__MSG_TYPE__MSG_RESULT, &res.base);
    w->started.len = 0;
}

static void
s_add_refused(sim_t *self, sim_worker_t *w, uint64_t id, const char *why)
{
    Sluice__TaskRefused msg = SLUICE__TASK_REFUSED__INIT;
    msg.attempt_id = id;
    msg.reason = (char *) why;
    msg.free_slots = s_free_slots(self, w);
    env_batch_add(w->out, SLUICE__MSG_TYPE__MSG_TASK_REFUSED, &msg.base);
    self->st.refused++;
}

/* --------------------------------------------------------- the socket */

static void
s_dial(sim_t *self, sim_worker_t *w, int64_t now)
{
    w->sock = zsock_new(ZMQ_DEALER);
    assert(w->sock);
    zsock_set_linger(w->sock, SIM_LINGER_MS);
    zsock_set_maxmsgsize(w->sock, SIM_MAX_MSG);
    zsock_set_sndtimeo(w->sock, 0);
    zsock_set_rcvtimeo(w->sock, 0);
    zsock_set_sndhwm(w->sock, 10000);
    curve_set_client(w->curve, w->sock, self->target.curve);
    if (zsock_connect(w->sock, "%s", self->target.endpoint) < 0) {
        fprintf(stderr, "simfleet: %s: cannot connect to '%s': %s\n", w->name,
                self->target.endpoint, zmq_strerror(zmq_errno()));
    }
    w->state = SIM_DIALED;
    w->heard_mono = now;
    s_watch(self, w, EPOLL_CTL_ADD);
    s_send_register(self, w);
    s_todo(self, w);
}

/* Drops the socket; dials again after SIM_REDIAL_MS (never when stopped). */
static void
s_hang_up(sim_t *self, sim_worker_t *w, sim_state_t to, int64_t now)
{
    if (w->state == SIM_REGISTERED) {
        self->registered--;
    }
    s_watch(self, w, EPOLL_CTL_DEL);
    zsock_destroy(&w->sock);
    env_batch_destroy(&w->out);
    w->out = env_batch_new();
    w->state = to;
    w->redial_mono = now + SIM_REDIAL_MS + (int64_t) randombytes_uniform(500);
}

/* ----------------------------------------------------------- receiving */

static bool
s_trust(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    return sodium_memcmp(signer, arg, KEYS_PUBLIC_SIZE) == 0;
}

static void
s_forget_attempt(sim_worker_t *w, uint64_t id)
{
    for (size_t i = 0; i < w->running.len; i++) {
        if (w->running.at[i].attempt_id == id) {
            SIM_REMOVE(w->running, i);
            return;
        }
    }
    for (size_t i = 0; i < w->held.len; i++) {
        if (w->held.at[i].attempt_id == id) {
            SIM_REMOVE(w->held, i);
            return;
        }
    }
}

static void
s_ack(sim_t *self, sim_worker_t *w, const uint64_t *ids, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < w->unacked.len; i++) {
            if (w->unacked.at[i].attempt_id == ids[k]) {
                w->unacked.at[i] = w->unacked.at[--w->unacked.len];
                self->st.acks++;
                break;
            }
        }
    }
}

static void
s_on_welcome(sim_t *self, sim_worker_t *w, const env_msg_t *msg, int64_t now)
{
    const Sluice__Welcome *welcome = (const Sluice__Welcome *) msg->body;
    w->peer_minor = msg->major == ENV_MAJOR ? msg->minor : 0;
    w->hb_ms = welcome->heartbeat_ms ? welcome->heartbeat_ms : 1000;
    w->liveness = welcome->liveness ? welcome->liveness : 3;
    for (size_t i = 0; i < welcome->n_cancel; i++) {
        s_forget_attempt(w, welcome->cancel[i]);
    }
    if (w->state != SIM_REGISTERED) {
        self->registered++;
    }
    w->state = SIM_REGISTERED;
    w->token_done = true;
    for (size_t i = 0; i < w->unacked.len; i++) {
        s_add_result(self, w, &w->unacked.at[i]);
        self->st.resent++;
    }
    s_add_heartbeat(self, w, now);
}

static void
s_on_task(sim_t *self, sim_worker_t *w, const env_msg_t *msg)
{
    const Sluice__Task *task = (const Sluice__Task *) msg->body;
    s_ack(self, w, task->acks, task->n_acks);
    if (!task->worker || strcmp(task->worker, w->name) != 0) {
        s_add_refused(self, w, task->attempt_id,
                      "task is addressed to "
                      "another worker");
        return;
    }
    if ((int64_t) task->expires_ms < clock_wall_ms()) {
        s_add_refused(self, w, task->attempt_id, "task expired");
        return;
    }
    sim_job_t job = {.attempt_id = task->attempt_id};
    SIM_PUSH(w->held, job); /* s_service starts it when a slot is free */
    self->st.tasks++;
}

static void
s_on_goodbye(sim_t *self, sim_worker_t *w, const env_msg_t *msg, int64_t now)
{
    const Sluice__Goodbye *bye = (const Sluice__Goodbye *) msg->body;
    self->st.lost++;
    s_hang_up(self, w, bye->leave ? SIM_STOPPED : SIM_IDLE, now);
}

static void
s_on_refuse(sim_t *self, sim_worker_t *w, const env_msg_t *msg, int64_t now)
{
    const Sluice__Refuse *r = (const Sluice__Refuse *) msg->body;
    if (self->st.refusals++ < SIM_SAY_REFUSALS) {
        fprintf(stderr, "simfleet: %s: refused (code %u): %s\n", w->name,
                r->code, r->reason ? r->reason : "");
    }
    bool final = r->code == REFUSE_E_VERSION ||
                 (r->code == REFUSE_E_NOT_ADMITTED && !w->token_done);
    s_hang_up(self, w, final ? SIM_STOPPED : SIM_IDLE, now);
}

/* One opened message (or batch item) from the scheduler. */
static void
s_on_message(sim_t *self, sim_worker_t *w, const env_msg_t *msg, int64_t now)
{
    switch (msg->type) {
        case SLUICE__MSG_TYPE__MSG_WELCOME:
            s_on_welcome(self, w, msg, now);
            break;
        case SLUICE__MSG_TYPE__MSG_TASK:
            s_on_task(self, w, msg);
            break;
        case SLUICE__MSG_TYPE__MSG_RESULT_ACK: {
            const Sluice__ResultAck *ack =
                (const Sluice__ResultAck *) msg->body;
            s_ack(self, w, ack->attempt_ids, ack->n_attempt_ids);
            break;
        }
        case SLUICE__MSG_TYPE__MSG_CANCEL:
            s_forget_attempt(w,
                             ((const Sluice__Cancel *) msg->body)->attempt_id);
            break;
        case SLUICE__MSG_TYPE__MSG_GOODBYE:
            s_on_goodbye(self, w, msg, now);
            break;
        case SLUICE__MSG_TYPE__MSG_REFUSE:
            s_on_refuse(self, w, msg, now);
            break;
        case SLUICE__MSG_TYPE__MSG_HEARTBEAT: {
            uint32_t every =
                ((const Sluice__Heartbeat *) msg->body)->heartbeat_ms;
            w->hb_ms = every ? every : w->hb_ms;
            break;
        }
        default:
            break;
    }
}

/* Reads what waits on w's socket; false once the socket is gone. */
static void
s_recv(sim_t *self, sim_worker_t *w, int64_t now)
{
    for (int n = 0; n < SIM_RECV_MAX && w->sock; n++) {
        zmsg_t *raw = xzmq_recv(w->sock);
        if (!raw) {
            return;
        }
        env_msg_t msg;
        errbuf_t err;
        errbuf_clear(&err);
        int rc = env_open(raw, s_trust, self->target.pub, &msg, &err);
        zmsg_destroy(&raw);
        if (rc != ENV_OK) {
            if (self->st.drops++ == 0) {
                fprintf(stderr, "simfleet: %s: dropped a message: %s\n",
                        w->name, errbuf_msg(&err));
            }
            continue;
        }
        w->heard_mono = now;
        w->active = true;
        if (msg.type == SLUICE__MSG_TYPE__MSG_BATCH) {
            for (size_t i = 0; i < msg.nitems && w->sock; i++) {
                s_on_message(self, w, &msg.items[i], now);
            }
        } else {
            s_on_message(self, w, &msg, now);
        }
        env_msg_clear(&msg);
    }
    if (w->sock) {
        s_todo(self, w); /* more may wait, or the signal was used up */
    }
}

/* ------------------------------------------------------------- service */

/* Moves held tasks into free slots; with no delay they are due at once.
 * The ones still waiting then are prefetched: Result.started reports
 * them when they start. */
static void
s_start_held(sim_t *self, sim_worker_t *w, int64_t now)
{
    while (w->held.len > 0 && w->running.len < self->o.slots) {
        sim_job_t job = w->held.at[0];
        SIM_REMOVE(w->held, 0);
        job.due_mono = now + self->o.delay_ms;
        job.started_ms = (uint64_t) clock_wall_ms();
        SIM_PUSH(w->running, job);
        if (job.prefetched) {
            SIM_PUSH(w->started, job.attempt_id);
        }
    }
    for (size_t i = 0; i < w->held.len; i++) {
        w->held.at[i].prefetched = true;
    }
}

/* Ends the running jobs that are due, and starts held ones in their
 * slots, until nothing more is due now. */
static void
s_run_jobs(sim_t *self, sim_worker_t *w, int64_t now)
{
    s_start_held(self, w, now);
    if (w->held.len > self->st.max_held) {
        self->st.max_held = w->held.len;
    }
    size_t bound = w->running.len + w->held.len + 1;
    for (size_t round = 0; round < bound; round++) {
        bool ended = false;
        for (size_t i = 0; i < w->running.len;) {
            if (w->running.at[i].due_mono > now) {
                i++;
                continue;
            }
            sim_done_t done = {w->running.at[i].attempt_id,
                               w->running.at[i].started_ms,
                               (uint64_t) clock_wall_ms()};
            w->running.at[i] = w->running.at[--w->running.len];
            SIM_PUSH(w->unacked, done);
            self->st.results++;
            ended = true;
        }
        if (!ended) {
            break;
        }
        s_start_held(self, w, now);
    }
}

/* Results of what ended this turn; free_slots as it is after the turn. */
static void
s_add_results(sim_t *self, sim_worker_t *w, size_t from)
{
    for (size_t i = from; i < w->unacked.len; i++) {
        s_add_result(self, w, &w->unacked.at[i]);
    }
}

static int64_t
s_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Everything timed for one worker; returns its next deadline. */
static int64_t
s_service(sim_t *self, sim_worker_t *w, int64_t now)
{
    if (w->state == SIM_STOPPED) {
        return SIM_WAKE_NEVER;
    }
    if (w->state == SIM_IDLE) {
        if (now < w->redial_mono) {
            return w->redial_mono;
        }
        s_dial(self, w, now);
    }
    int64_t silence = w->state == SIM_REGISTERED
                          ? (int64_t) w->hb_ms * w->liveness
                          : SIM_WELCOME_MS;
    if (now >= w->heard_mono + silence) {
        self->st.lost++;
        s_hang_up(self, w, SIM_IDLE, now);
        return w->redial_mono;
    }
    int64_t next = w->heard_mono + silence;
    if (w->state == SIM_REGISTERED) {
        size_t before = w->unacked.len;
        s_run_jobs(self, w, now);
        s_add_results(self, w, before);
        if (now >= w->next_hb_mono) {
            s_add_heartbeat(self, w, now);
        }
        next = s_min(next, w->next_hb_mono);
        for (size_t i = 0; i < w->running.len; i++) {
            next = s_min(next, w->running.at[i].due_mono);
        }
    }
    s_flush(self, w);
    return next;
}

/* ---------------------------------------------------------------- loop */

static void
s_progress(sim_t *self, int64_t now, bool final)
{
    double secs = (double) (now - self->start_mono) / 1000.0;
    fprintf(stderr,
            "simfleet: %.1f s: %u/%u registered, %" PRIu64 " tasks "
            "(%.0f/s), %" PRIu64 " acked, %" PRIu64 " refused, %" PRIu64
            " lost links%s\n",
            secs, self->registered, self->o.workers, self->st.tasks,
            secs > 0 ? (double) self->st.tasks / secs : 0.0, self->st.acks,
            self->st.refused, self->st.lost, final ? " (done)" : "");
}

/* Waits for readiness (not past the next timed work), then reads every
 * worker that epoll named or that the last turn touched. */
static void
s_turn_poll(sim_t *self, int64_t now)
{
    int64_t wait = self->wake_mono - now;
    wait = self->ntodo || wait < 0 ? 0 : s_min(wait, SIM_POLL_MAX_MS);
    struct epoll_event ev[SIM_EPOLL_MAX];
    int n = epoll_wait(self->epfd, ev, SIM_EPOLL_MAX, (int) wait);
    for (int i = 0; i < n; i++) {
        s_todo(self, &self->w[ev[i].data.u32]);
    }
    size_t ncur = self->ntodo;
    memcpy(self->cur, self->todo, ncur * sizeof *self->cur);
    self->ntodo = 0;
    int64_t t = clock_mono_ms();
    for (size_t i = 0; i < ncur; i++) {
        sim_worker_t *w = &self->w[self->cur[i]];
        w->queued = false;
        if (w->sock && (zsock_events(w->sock) & ZMQ_POLLIN)) {
            s_recv(self, w, t);
        }
    }
}

/* Services the workers that heard something, or all of them when timed
 * work is due (then also learns the next deadline). */
static void
s_turn_service(sim_t *self)
{
    int64_t now = clock_mono_ms();
    bool sweep = now >= self->wake_mono;
    int64_t next = SIM_WAKE_NEVER;
    for (uint32_t i = 0; i < self->o.workers; i++) {
        sim_worker_t *w = &self->w[i];
        if (sweep) {
            next = s_min(next, s_service(self, w, now));
        } else if (w->active) {
            self->wake_mono = s_min(self->wake_mono, s_service(self, w, now));
        }
        w->active = false;
    }
    if (sweep) {
        /* Timed work is coalesced: one sweep visits every worker. */
        self->wake_mono = next > now + SIM_SWEEP_MS ? next : now + SIM_SWEEP_MS;
    }
    if (!self->all_said && self->registered == self->o.workers) {
        self->all_said = true;
        fprintf(stderr, "simfleet: all %u workers registered in %.1f s\n",
                self->o.workers, (double) (now - self->start_mono) / 1000.0);
    }
}

static bool
s_any_alive(const sim_t *self)
{
    for (uint32_t i = 0; i < self->o.workers; i++) {
        if (self->w[i].state != SIM_STOPPED) {
            return true;
        }
    }
    return false;
}

/* This process did not run for `gap` ms (short of CPU: it shares the
 * machine with the scheduler it measures). What arrived meanwhile waits
 * unread, so that time does not count as the scheduler's silence. */
static void
s_forgive_stall(sim_t *self, int64_t gap)
{
    for (uint32_t i = 0; i < self->o.workers; i++) {
        self->w[i].heard_mono += gap;
    }
    self->st.stalls++;
}

static void
s_loop(sim_t *self)
{
    int64_t end = self->o.duration_s
                      ? self->start_mono + (int64_t) self->o.duration_s * 1000
                      : SIM_WAKE_NEVER;
    int64_t next_progress = self->start_mono + self->o.progress_ms;
    int64_t last = clock_mono_ms();
    while (!s_interrupted) {
        int64_t now = clock_mono_ms();
        if (now >= end || !s_any_alive(self)) {
            break;
        }
        if (now - last > SIM_POLL_MAX_MS + SIM_STALL_MS) {
            s_forgive_stall(self, now - last - SIM_POLL_MAX_MS);
        }
        last = now;
        s_turn_poll(self, now);
        s_turn_service(self);
        now = clock_mono_ms();
        if (self->o.progress_ms && now >= next_progress) {
            s_progress(self, now, false);
            next_progress = now + self->o.progress_ms;
        }
    }
}

/* Goodbye from every connected worker, so the scheduler need not wait for
 * their heartbeats to stop. */
static void
s_goodbye(sim_t *self)
{
    for (uint32_t i = 0; i < self->o.workers; i++) {
        sim_worker_t *w = &self->w[i];
        if (w->state == SIM_REGISTERED && w->sock) {
            Sluice__Goodbye bye = SLUICE__GOODBYE__INIT;
            bye.reason = "simfleet stopping";
            env_batch_add(w->out, SLUICE__MSG_TYPE__MSG_GOODBYE, &bye.base);
            s_flush(self, w);
        }
    }
}

static void
s_summary(const sim_t *self)
{
    const sim_stats_t *s = &self->st;
    double secs = (double) (clock_mono_ms() - self->start_mono) / 1000.0;
    printf("simfleet: workers=%u registered=%u slots=%u prefetch=%u "
           "tasks=%" PRIu64 " results=%" PRIu64 " resent=%" PRIu64
           " acked=%" PRIu64 " refused=%" PRIu64 " envelopes=%" PRIu64
           " batches=%" PRIu64 " heartbeats=%" PRIu64 " dials=%" PRIu64
           " lost=%" PRIu64 " drops=%" PRIu64 " max_held=%" PRIu64
           " stalls=%" PRIu64 " elapsed_s=%.1f\n",
           self->o.workers, self->registered, self->o.slots, self->o.prefetch,
           s->tasks, s->results, s->resent, s->acks, s->refused, s->envelopes,
           s->batches, s->heartbeats, s->dials, s->lost, s->drops, s->max_held,
           s->stalls, secs);
    fflush(stdout);
}

int
main(int argc, char **argv)
{
    sim_opts_t opts;
    if (s_opts(argc, argv, &opts) < 0) {
        return s_usage();
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "simfleet: libsodium failed to initialise\n");
        return 1;
    }
    s_limits(&opts);
    errbuf_t err;
    errbuf_clear(&err);
    sim_t *self = s_new(&opts, &err);
    if (!self) {
        fprintf(stderr, "simfleet: %s\n", errbuf_msg(&err));
        return 2;
    }
    fprintf(stderr, "simfleet: %u workers x %u slots (prefetch %u) -> %s\n",
            opts.workers, opts.slots, opts.prefetch, self->target.endpoint);
    s_loop(self);
    s_progress(self, clock_mono_ms(), true);
    int rc = s_any_alive(self) ? 0 : 1;
    s_goodbye(self);
    s_summary(self);
    s_destroy(&self);
    return rc;
}
