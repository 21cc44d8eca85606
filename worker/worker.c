/* worker — the worker daemon; see worker.h and proto/sluice.proto.
 *
 * One thread, one loop: zmq_poll over the connection's socket (conn.h),
 * the SIGCHLD self-pipe and every running attempt's pipes (jobs.h). The
 * loop owns the worker's context and is the only module that calls both:
 * it hands each message from the scheduler to its handler, drives the
 * timers and runs the stop sequence (drain, grace, last acks, goodbye). */
#include "worker/worker.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/curve.h"
#include "common/errbuf.h"
#include "common/join.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "proto/envelope.h"
#include "worker/conn.h"
#include "worker/exec.h"
#include "worker/gpus.h"
#include "worker/jobs.h"
#include "worker/logkeep.h"
#include "worker/mem.h"
#include "worker/options.h"
#include "worker/outbox.h"
#include "worker/uids.h"
#include "worker/workdirs.h"

#define WORKER_EXIT_OK     0
#define WORKER_EXIT_FAIL   1
#define WORKER_EXIT_USAGE  2
#define WORKER_ACK_WAIT_MS 3000 /* at shutdown, for the last ResultAcks */
#define WORKER_RECV_BATCH  256  /* messages per loop turn */
#define WORKER_GPU_WAIT_MS 5000 /* for `nvidia-smi -L` at start */

/* The worker's context: what it has, and the loop's stop sequence. */
typedef struct {
    char *name; /* owned; the name it starts with (conn_name after) */
    uint32_t slots;
    uint64_t grace_ms;
    uint64_t log_cap_own; /* --log-cap */
    uint32_t cpus;
    uint64_t memory_mb;
    char **labels; /* owned */
    size_t label_count;
    gpus_t *gpus;     /* owned: which attempt holds which device */
    char *oom_events; /* owned: the cgroup's OOM-kill counter, or NULL */
    char *work_root;  /* owned, DIR/work */
    /* owned: who every task runs as (--run-as); NULL = as this process,
     * or each attempt as its own uid from uids */
    exec_user_t *run_as;
    uids_t *uids;      /* owned: a root worker's per-attempt uids, or NULL */
    char **data_roots; /* owned, resolved: --data-root */
    size_t ndata_roots;
    keys_t *keys;         /* owned */
    curve_t *curve;       /* owned: our transport key */
    outbox_t *outbox;     /* owned */
    logkeep_t *logkeep;   /* owned: log chunks of unacknowledged attempts */
    conn_t *conn;         /* owned: the connection and its state */
    jobs_t *jobs;         /* owned: the attempts running here */
    workdirs_t *workdirs; /* owned: ended attempts' dirs, removed or kept */

    int64_t stop_deadline; /* grace end, monotonic, while draining */
    bool killed_rest;      /* the grace ended: running attempts cancelled */
    int64_t ack_deadline;  /* 0 until all attempts ended */
    int exit_code;
} worker_t;

/* The interrupt flag (STYLE.md 6): set by SIGTERM/SIGINT. */
static volatile sig_atomic_t s_signals;

static void
s_on_signal(int sig)
{
    (void) sig;
    s_signals++;
}

static const char *
s_name(const worker_t *self)
{
    return conn_name(self->conn);
}

/* Sends a heartbeat with what runs here now. */
static void
s_heartbeat(worker_t *self)
{
    conn_load_t load;
    jobs_load(self->jobs, &load);
    conn_heartbeat(self->conn, &load);
    free(load.running);
}

static void
s_conn_tick(worker_t *self)
{
    conn_load_t load;
    jobs_load(self->jobs, &load);
    conn_tick(self->conn, &load);
    free(load.running);
}

/* ------------------------------------------------------------ handlers */

static void s_begin_stop(worker_t *self);

static void
s_on_welcome(worker_t *self, const env_msg_t *msg)
{
    const Sluice__Welcome *w = (const Sluice__Welcome *) msg->body;
    uint64_t log_cap = self->log_cap_own;
    if (w->log_cap_bytes && w->log_cap_bytes < log_cap) {
        log_cap = w->log_cap_bytes;
    }
    jobs_set_log_cap(self->jobs, log_cap);
    conn_welcomed(self->conn, w);
    for (size_t i = 0; i < w->n_cancel; i++) {
        jobs_cancel(self->jobs, w->cancel[i],
                    "no longer current at the scheduler");
    }
    /* Log chunks before results, as on the first connection; results
     * before the heartbeat: their free_slots are as old as they are, and
     * the heartbeat after them tells the scheduler what is free now. */
    jobs_resend(self->jobs);
    s_heartbeat(self);
}

static void
s_on_task(worker_t *self, const env_msg_t *msg)
{
    jobs_on_task(self->jobs, (const Sluice__Task *) msg->body);
}

static void
s_on_cancel(worker_t *self, const env_msg_t *msg)
{
    const Sluice__Cancel *c = (const Sluice__Cancel *) msg->body;
    jobs_cancel(self->jobs, c->attempt_id,
                c->reason && *c->reason ? c->reason
                                        : "cancelled by the scheduler");
}

static void
s_on_result_ack(worker_t *self, const env_msg_t *msg)
{
    const Sluice__ResultAck *ack = (const Sluice__ResultAck *) msg->body;
    jobs_ack(self->jobs, ack->attempt_ids, ack->n_attempt_ids);
}

static void
s_on_heartbeat(worker_t *self, const env_msg_t *msg)
{
    conn_heard_heartbeat(self->conn, (const Sluice__Heartbeat *) msg->body);
}

static void
s_on_goodbye(worker_t *self, const env_msg_t *msg)
{
    const Sluice__Goodbye *bye = (const Sluice__Goodbye *) msg->body;
    log_info("worker '%s': the scheduler said goodbye (%s)", s_name(self),
             bye->reason ? bye->reason : "");
    if (bye->leave) {
        s_begin_stop(self); /* drained: leave as on SIGTERM */
        return;
    }
    conn_lost(self->conn, "scheduler said goodbye");
}

static void
s_on_refuse(worker_t *self, const env_msg_t *msg)
{
    if (conn_refused(self->conn, (const Sluice__Refuse *) msg->body) < 0) {
        self->exit_code = WORKER_EXIT_FAIL;
    }
}

typedef void(s_handler_fn)(worker_t *self, const env_msg_t *msg);

static const struct {
    int type;
    s_handler_fn *handler;
} s_handlers[] = {
    {SLUICE__MSG_TYPE__MSG_WELCOME, s_on_welcome},
    {SLUICE__MSG_TYPE__MSG_HEARTBEAT, s_on_heartbeat},
    {SLUICE__MSG_TYPE__MSG_TASK, s_on_task},
    {SLUICE__MSG_TYPE__MSG_RESULT_ACK, s_on_result_ack},
    {SLUICE__MSG_TYPE__MSG_CANCEL, s_on_cancel},
    {SLUICE__MSG_TYPE__MSG_GOODBYE, s_on_goodbye},
    {SLUICE__MSG_TYPE__MSG_REFUSE, s_on_refuse},
};

static void
s_dispatch(worker_t *self, const env_msg_t *msg)
{
    if (msg->type == SLUICE__MSG_TYPE__MSG_BATCH) {
        /* Verified whole; each item as if it had come alone, in order. */
        for (size_t i = 0; i < msg->nitems && !conn_done(self->conn); i++) {
            s_dispatch(self, &msg->items[i]);
        }
        return;
    }
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers[0]; i++) {
        if (s_handlers[i].type == msg->type) {
            s_handlers[i].handler(self, msg);
            return;
        }
    }
    /* Signed by the scheduler but not meant for a worker: counted. */
    errbuf_t err;
    errbuf_set(&err, "a %s message is not used on the worker socket",
               env_type_name(msg->type));
    conn_count_drop(self->conn, ENV_EMALFORMED, &err);
}

static void
s_recv_all(worker_t *self)
{
    for (int i = 0; i < WORKER_RECV_BATCH && conn_readable(self->conn); i++) {
        env_msg_t opened;
        if (conn_recv(self->conn, &opened) == 0) {
            s_dispatch(self, &opened);
            env_msg_clear(&opened);
        }
    }
}

/* ------------------------------------------------------------ loop */

static void
s_begin_stop(worker_t *self)
{
    if (conn_leaving(self->conn)) {
        if (!self->killed_rest && jobs_count(self->jobs) > 0) {
            log_warn("worker '%s': second signal: killing running attempts",
                     s_name(self));
            self->stop_deadline = clock_mono_ms();
        }
        return;
    }
    conn_drain(self->conn);
    jobs_return_held(self->jobs, "the worker is stopping");
    self->stop_deadline = clock_mono_ms() + (int64_t) self->grace_ms;
    char grace[32];
    log_info("worker '%s': stopping: no new work; waiting up to %s for %zu "
             "running attempts",
             s_name(self),
             clock_fmt_duration((int64_t) self->grace_ms, grace, sizeof grace),
             jobs_count(self->jobs));
    if (conn_registered(self->conn)) {
        s_heartbeat(self); /* tells the scheduler: 0 free slots */
    }
}

static void
s_stop_progress(worker_t *self)
{
    if (conn_state(self->conn) != CONN_DRAINING) {
        return;
    }
    int64_t now = clock_mono_ms();
    if (jobs_count(self->jobs) > 0) {
        if (!self->killed_rest && now >= self->stop_deadline) {
            self->killed_rest = true;
            jobs_cancel_all(self->jobs, "worker shutting down");
        }
        return;
    }
    if (self->ack_deadline == 0) {
        self->ack_deadline = now + WORKER_ACK_WAIT_MS;
    }
    size_t unacked = outbox_size(self->outbox);
    if (unacked == 0 || now >= self->ack_deadline ||
        !conn_registered(self->conn)) {
        if (unacked > 0) {
            log_warn("worker '%s': %zu results not acknowledged yet; they "
                     "stay in the outbox for the next start",
                     s_name(self), unacked);
        }
        conn_stop(self->conn, "worker shutting down");
    }
}

static int64_t
s_min_deadline(int64_t a, int64_t b)
{
    return a < 0 || (b >= 0 && b < a) ? b : a;
}

/* ms until the loop has timed work, capped at one second. */
static long
s_poll_timeout(const worker_t *self)
{
    int64_t now = clock_mono_ms();
    int64_t next = now + 1000;
    next = s_min_deadline(next, conn_next_deadline(self->conn));
    next = s_min_deadline(next, jobs_next_deadline(self->jobs));
    next = s_min_deadline(next, workdirs_next_deadline(self->workdirs));
    if (conn_state(self->conn) == CONN_DRAINING) {
        next = s_min_deadline(next, self->stop_deadline);
        if (self->ack_deadline) {
            next = s_min_deadline(next, self->ack_deadline);
        }
    }
    return next > now ? (long) (next - now) : 0;
}

static void
s_poll(worker_t *self)
{
    size_t nfds = 2 * jobs_count(self->jobs);
    int *fds = xcalloc(nfds + 1, sizeof *fds);
    nfds = jobs_fds(self->jobs, fds, nfds);
    zmq_pollitem_t *items = xcalloc(nfds + 2, sizeof *items);
    size_t n = 0;
    void *sock = conn_pollable(self->conn);
    if (sock) {
        items[n++] = (zmq_pollitem_t){sock, 0, ZMQ_POLLIN, 0};
    }
    items[n++] = (zmq_pollitem_t){NULL, exec_wake_fd(), ZMQ_POLLIN, 0};
    for (size_t i = 0; i < nfds; i++) {
        items[n++] = (zmq_pollitem_t){NULL, fds[i], ZMQ_POLLIN, 0};
    }
    zmq_poll(items, (int) n, s_poll_timeout(self)); /* EINTR: loop on */
    free(items);
    free(fds);
}

static void
s_loop(worker_t *self)
{
    sig_atomic_t seen = s_signals;
    s_conn_tick(self); /* dials at once */
    while (!conn_done(self->conn)) {
        s_poll(self);
        if (s_signals != seen) {
            seen = s_signals;
            s_begin_stop(self);
        }
        s_recv_all(self);
        exec_wake_drain();
        jobs_service(self->jobs);
        workdirs_service(self->workdirs);
        if (!conn_done(self->conn)) {
            s_conn_tick(self);
            s_stop_progress(self);
        }
        if (conn_resend_due(self->conn)) {
            jobs_resend(self->jobs);
        }
        conn_flush(self->conn); /* what this turn made ready, together */
    }
}

/* Every drop count since start, at exit: the drop log shows only the
 * first of each kind per interval. */
static void
s_drop_summary(const worker_t *self)
{
    conn_drop_summary(self->conn);
    if (logkeep_dropped(self->logkeep)) {
        log_info("worker '%s': %" PRIu64 " log chunks were sent once but not "
                 "kept for re-sending (over %u MiB kept)",
                 s_name(self), logkeep_dropped(self->logkeep),
                 LOGKEEP_MAX_BYTES >> 20);
    }
}

/* ------------------------------------------------------------ setup */

static keys_t *
s_load_key(const char *dir, errbuf_t *err)
{
    char *path = statedir_path(dir, STATEDIR_WORKER_KEY);
    char *pub = statedir_path(dir, STATEDIR_WORKER_PUB);
    keys_t *keys = NULL;
    if (statedir_exists(path)) {
        keys = keys_load(path, err);
    } else {
        keys = keys_generate();
        if (keys_save(keys, path, pub, err) < 0) {
            keys_destroy(&keys);
        }
    }
    free(path);
    free(pub);
    return keys;
}

static void
s_labels_split(worker_t *self, const char *text)
{
    if (!text || !*text) {
        return;
    }
    char *copy = xstrdup(text);
    char *save = NULL;
    for (char *l = strtok_r(copy, ", ", &save); l;
         l = strtok_r(NULL, ", ", &save)) {
        self->labels = xrealloc(self->labels,
                                (self->label_count + 1) * sizeof *self->labels);
        self->labels[self->label_count++] = xstrdup(l);
    }
    free(copy);
}

static void
s_resources(worker_t *self, const options_t *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    self->cpus = cores > 0 ? (uint32_t) cores : 1;
    struct sysinfo si;
    if (sysinfo(&si) == 0) {
        self->memory_mb = (uint64_t) si.totalram * si.mem_unit / (1024 * 1024);
    }
    self->slots = o->slots ? o->slots : self->cpus;
    s_labels_split(self, o->labels);
    uint32_t gpus =
        o->gpus_set ? o->gpus : gpus_detect("nvidia-smi", WORKER_GPU_WAIT_MS);
    self->gpus = gpus_new(gpus);
    self->oom_events = mem_oom_events_path();
}

/* The connection to the scheduler named by target, and the jobs that
 * send through it. */
static void
s_parts_new(worker_t *self, const options_t *o, const join_t *target)
{
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    conn_config_t cc = {.name = self->name,
                        .hostname = host,
                        .endpoint = target->endpoint,
                        .sched_pub = target->pub,
                        .sched_curve = target->curve,
                        .keys = self->keys,
                        .curve = self->curve,
                        .token = target->token,
                        .heartbeat_ms = o->heartbeat_ms,
                        .cpus = self->cpus,
                        .memory_mb = self->memory_mb,
                        .gpus = gpus_count(self->gpus),
                        .labels = (const char *const *) self->labels,
                        .label_count = self->label_count};
    self->conn = conn_new(&cc);
    jobs_config_t jc = {.slots = self->slots,
                        .prefetch = o->prefetch,
                        .work_root = self->work_root,
                        .workdirs = self->workdirs,
                        .hash_timeout_ms = o->hash_timeout_ms,
                        .run_as = self->run_as,
                        .uids = self->uids,
                        .data_roots = self->data_roots,
                        .ndata_roots = self->ndata_roots,
                        .oom_events = self->oom_events,
                        .log_cap = o->log_cap,
                        .gpus = self->gpus,
                        .outbox = self->outbox,
                        .logkeep = self->logkeep,
                        .conn = self->conn};
    self->jobs = jobs_new(&jc);
}

static void s_destroy(worker_t **self_p);

/* Who tasks run as: a root worker gives each attempt its own uid from
 * --run-as-range unless --run-as names one account for all; any other
 * worker runs them as itself. */
static int
s_users(worker_t *self, const options_t *o, errbuf_t *err)
{
    if (o->run_as && o->run_as_range) {
        errbuf_set(err, "--run-as and --run-as-range exclude each other; "
                        "give one of them");
        return -1;
    }
    if (geteuid() != 0 && o->run_as_range) {
        errbuf_set(err,
                   "--run-as-range needs a worker started as root; this one "
                   "runs as uid %u and runs its tasks as itself, so drop "
                   "--run-as-range or start the worker as root",
                   (unsigned) geteuid());
        return -1;
    }
    if (geteuid() != 0 || o->run_as) {
        return exec_run_as(o->run_as, &self->run_as, err);
    }
    uid_t first = UIDS_DEFAULT_FIRST, last = UIDS_DEFAULT_LAST;
    if (o->run_as_range &&
        uids_parse_range(o->run_as_range, &first, &last, err) < 0) {
        return -1;
    }
    if ((uint64_t) last - first < self->slots) {
        errbuf_set(err,
                   "--run-as-range %u-%u has fewer uids than the %u slots "
                   "(its first number is the tasks' group); widen it or "
                   "lower --slots",
                   (unsigned) first, (unsigned) last, self->slots);
        return -1;
    }
    self->uids = uids_new(first, last, NULL, err);
    return self->uids ? 0 : -1;
}

/* Resolves every --data-root (each must exist): the paths of attempts are
 * compared with what the roots really are. */
static int
s_data_roots(worker_t *self, const options_t *o, errbuf_t *err)
{
    self->data_roots = xcalloc(o->ndata_roots + 1, sizeof *self->data_roots);
    for (size_t i = 0; i < o->ndata_roots; i++) {
        char *real = realpath(o->data_roots[i], NULL);
        if (!real) {
            errbuf_set(err, "--data-root '%s': %s; create it or name another",
                       o->data_roots[i], strerror(errno));
            return -1;
        }
        self->data_roots[self->ndata_roots++] = real;
    }
    return 0;
}

/* The users tasks run as, and the work root they can reach. */
static int
s_isolation(worker_t *self, const options_t *o, const char *dir, errbuf_t *err)
{
    if (s_users(self, o, err) < 0 || s_data_roots(self, o, err) < 0) {
        return -1;
    }
    char who[96];
    if (self->run_as) {
        snprintf(who, sizeof who, "user '%s'", self->run_as->name);
    } else {
        snprintf(who, sizeof who, "the attempts' uids");
    }
    return exec_work_root_prepare(dir, self->work_root,
                                  self->run_as || self->uids ? who : NULL, err);
}

static worker_t *
s_new(const options_t *o, errbuf_t *err)
{
    worker_t *self = xcalloc(1, sizeof *self);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    self->name = xstrdup(o->name ? o->name : host);
    self->grace_ms = o->grace_ms;
    self->log_cap_own = o->log_cap;
    s_resources(self, o);
    self->logkeep = logkeep_new(LOGKEEP_MAX_BYTES);
    char *dir = statedir_resolve(o->dir);
    char *outbox_dir = statedir_path(dir, STATEDIR_OUTBOX);
    self->work_root = statedir_path(dir, STATEDIR_WORK);
    join_t target;
    if (options_target(o, &target, err) < 0 || statedir_create(dir, err) < 0 ||
        statedir_check_dir(dir, err) < 0 ||
        !(self->keys = s_load_key(dir, err)) ||
        !(self->curve = curve_ensure(dir, STATEDIR_WORKER_CURVE, NULL, err)) ||
        !(self->outbox = outbox_open(outbox_dir, err)) ||
        s_isolation(self, o, dir, err) < 0) {
        s_destroy(&self);
    } else {
        self->workdirs = workdirs_new(self->work_root, o->keep_failed_ms,
                                      o->keep_failed_max);
        s_parts_new(self, o, &target);
    }
    if (target.token) {
        sodium_memzero(target.token, strlen(target.token));
    }
    join_clear(&target);
    free(outbox_dir);
    free(dir);
    return self;
}

static void
s_destroy(worker_t **self_p)
{
    if (!*self_p) {
        return;
    }
    worker_t *self = *self_p;
    jobs_destroy(&self->jobs);
    workdirs_destroy(&self->workdirs);
    conn_destroy(&self->conn);
    gpus_destroy(&self->gpus);
    free(self->oom_events);
    for (size_t i = 0; i < self->label_count; i++) {
        free(self->labels[i]);
    }
    free(self->labels);
    outbox_destroy(&self->outbox);
    logkeep_destroy(&self->logkeep);
    keys_destroy(&self->keys);
    curve_destroy(&self->curve);
    free(self->run_as);
    uids_destroy(&self->uids);
    for (size_t i = 0; i < self->ndata_roots; i++) {
        free(self->data_roots[i]);
    }
    free(self->data_roots);
    free(self->work_root);
    free(self->name);
    free(self);
    *self_p = NULL;
}

/* Our own SIGTERM/SIGINT handling: czmq must not install its handler. */
static void
s_signals_install(void)
{
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: wake zmq_poll */
    sigaction(SIGINT, &sa, NULL);
    exec_wake_fd();
}

static void
s_log_start(const worker_t *self)
{
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(keys_public(self->keys), fp);
    log_info("worker '%s': %u slots, %u cpus, %" PRIu64 " MB, %u GPUs, key %s, "
             "%zu results in the outbox",
             s_name(self), self->slots, self->cpus, self->memory_mb,
             gpus_count(self->gpus), fp, outbox_size(self->outbox));
    if (self->run_as) {
        log_info("worker '%s': tasks run as user '%s' (uid %u)", s_name(self),
                 self->run_as->name, (unsigned) self->run_as->uid);
    }
    if (self->uids) {
        log_info("worker '%s': each attempt runs as its own uid from %s, "
                 "in group %u",
                 s_name(self), uids_range(self->uids),
                 (unsigned) uids_group(self->uids));
    }
    for (size_t i = 0; i < self->ndata_roots; i++) {
        log_info("worker '%s': data root '%s'", s_name(self),
                 self->data_roots[i]);
    }
}

int
worker_main(int argc, char **argv)
{
    umask(077); /* keys, outbox and work dirs: owner only */
    log_init("worker", LOG_LEVEL_INFO);
    if (getenv("SLUICE_DEBUG")) {
        log_set_flags(log_flags_parse(getenv("SLUICE_DEBUG")));
        log_set_level(LOG_LEVEL_DEBUG);
    }
    options_t opts;
    errbuf_t err;
    errbuf_clear(&err);
    if (options_parse(&opts, argc, argv, &err) < 0) {
        fprintf(stderr, "sluice worker: %s\n", errbuf_msg(&err));
        options_clear(&opts);
        return WORKER_EXIT_USAGE;
    }
    if (opts.help) {
        options_usage(stdout);
        options_clear(&opts);
        return WORKER_EXIT_OK;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "sluice worker: libsodium failed to initialise\n");
        options_clear(&opts);
        return WORKER_EXIT_FAIL;
    }
    s_signals_install();
    worker_t *self = s_new(&opts, &err);
    options_clear(&opts);
    if (!self) {
        fprintf(stderr, "sluice worker: %s\n", errbuf_msg(&err));
        return WORKER_EXIT_FAIL;
    }
    s_log_start(self);
    s_loop(self);
    int code = self->exit_code;
    s_drop_summary(self);
    log_info("worker '%s': stopped", s_name(self));
    s_destroy(&self);
    return code;
}
