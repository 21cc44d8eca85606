/* worker — the worker daemon; see worker.h and proto/sluice.proto.
 *
 * One thread, one loop: zmq_poll over the DEALER socket, the SIGCHLD
 * self-pipe and every running attempt's pipes. The connection follows the
 * Paranoid Pirate pattern: silence for liveness x heartbeat drops the socket
 * and a fresh one registers again after a growing backoff, while running
 * attempts go on. Results are written to the outbox before they are sent and
 * resent after every Welcome until the scheduler acknowledges them. */
#include "worker/worker.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/errbuf.h"
#include "common/curve.h"
#include "common/join.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/statedir.h"
#include "common/version.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/envelope.h"
#include "common/datahash.h"
#include "worker/exec.h"
#include "worker/gpus.h"
#include "worker/mem.h"
#include "worker/validate.h"
#include "worker/logkeep.h"
#include "worker/outbox.h"

#define WORKER_EXIT_OK      0
#define WORKER_EXIT_FAIL    1
#define WORKER_EXIT_USAGE   2
#define WORKER_NONCE_SIZE   16
#define WORKER_NONCE_MAX    8192  /* remembered task nonces */
#define WORKER_RECENT_MAX   4096  /* remembered finished attempt ids */
#define WORKER_DROP_LOG_MS  10000 /* one drop report per reason per 10 s */
#define WORKER_BACKOFF_MIN  1000
#define WORKER_BACKOFF_MAX  30000
#define WORKER_ACK_WAIT_MS  3000 /* at shutdown, for the last ResultAcks */
#define WORKER_MAX_MSG      (32 << 20)
#define WORKER_LINGER_MS    500
#define WORKER_RECV_BATCH   256  /* messages per loop turn */
#define WORKER_DROP_REASONS 8    /* indexed by -ENV_E* */
#define WORKER_GPU_WAIT_MS  5000 /* for `nvidia-smi -L` at start */

typedef struct worker_t worker_t;

/* One running attempt. */
typedef struct {
    worker_t *owner; /* borrowed back pointer for the log callback */
    uint64_t attempt_id;
    uint64_t run_id;
    uint32_t attempt;
    char *task_id;  /* owned */
    char *gpus;     /* owned: the device indices it holds, "0,2" or "" */
    exec_t *exec;   /* owned */
    char *work_dir; /* F: owned; declared paths are relative to it */
    char **outputs; /* F: declared outputs, rendered; owned */
    size_t noutputs;
    datahash_ref_t *inputs; /* F: hashed before the start; owned */
    size_t ninputs;
    bool validate; /* E: kind validate: the built-in validator runs */
} job_t;

typedef struct {
    uint8_t nonce[WORKER_NONCE_SIZE];
    int64_t expires_ms; /* scheduler wall clock */
} nonce_t;

/* Settings from the command line. Strings are borrowed from argv except
 * endpoint (owned). */
typedef struct {
    const char *join;
    char *endpoint;
    const char *scheduler_key;
    const char *dir;
    const char *name;
    const char *labels;
    uint32_t slots;
    uint64_t grace_ms;
    uint64_t log_cap;
    uint32_t heartbeat_ms; /* 0 = the scheduler's */
    uint32_t gpus;         /* --gpus, when gpus_set */
    bool gpus_set;         /* else: count what nvidia-smi lists */
    /* --run-as USER; NULL: nobody when root, else the worker itself */
    const char *run_as;
    const char *token;           /* --token: a join token */
    const char *scheduler_curve; /* --scheduler-curve-key HEX or file */
    bool help;
} s_opts_t;

struct worker_t {
    char *name;     /* owned; the name tasks must be addressed to */
    char *hostname; /* owned */
    char *endpoint; /* owned, "tcp://host:port" */
    uint8_t sched_pub[KEYS_PUBLIC_SIZE]; /* the only trusted signer */
    uint8_t sched_curve[CURVE_KEY_SIZE]; /* its pinned CURVE key */
    curve_t *curve;                      /* owned: our transport key */
    char *token; /* owned: join token, sent in Register until welcomed */
    uint32_t slots;
    uint64_t grace_ms;
    uint64_t log_cap;           /* in force: the smaller of ours and the
                             scheduler's */
    uint64_t log_cap_own;       /* --log-cap */
    uint32_t heartbeat_flag_ms; /* 0 = follow Welcome */
    char **labels;              /* owned */
    size_t label_count;
    uint32_t cpus;
    uint64_t memory_mb;
    gpus_t *gpus;     /* owned: which attempt holds which device */
    char *oom_events; /* owned: the cgroup's OOM-kill counter, or NULL */
    char *work_root;  /* owned, DIR/work */
    /* owned: who tasks run as; NULL = as this process */
    exec_user_t *run_as;
    keys_t *keys;       /* owned */
    outbox_t *outbox;   /* owned */
    logkeep_t *logkeep; /* owned: log chunks of unacknowledged attempts */
    uint64_t session;   /* random per process */

    zsock_t *sock; /* owned DEALER; NULL while backing off */
    bool welcomed;
    uint32_t hb_ms; /* the scheduler's heartbeat */
    uint32_t liveness;
    int64_t offset_ms;  /* scheduler wall - local wall */
    int64_t heard_mono; /* last valid message from the scheduler */
    int64_t next_hb_mono;
    int64_t reconnect_mono; /* when to dial again while sock is NULL */
    int64_t backoff_ms;

    job_t **jobs; /* owned, job_count of slots */
    size_t job_count;
    nonce_t *nonces; /* owned, nonce_count of WORKER_NONCE_MAX */
    size_t nonce_count;
    uint64_t recent[WORKER_RECENT_MAX]; /* ring of finished attempt ids */
    size_t recent_next;

    uint64_t drops[WORKER_DROP_REASONS];
    int64_t drop_logged[WORKER_DROP_REASONS];
    uint64_t send_failures;      /* xzmq_send refused a message */
    int64_t send_failure_logged; /* monotonic ms of the last warning */

    bool stopping;         /* a signal came: no new work */
    int64_t stop_deadline; /* grace end, monotonic */
    bool killed_rest;
    int64_t ack_deadline; /* 0 until all attempts ended */
    bool done;
    int exit_code;
};

/* The interrupt flag (STYLE.md 6): set by SIGTERM/SIGINT. */
static volatile sig_atomic_t s_signals;

static void
s_on_signal(int sig)
{
    (void) sig;
    s_signals++;
}

/* ------------------------------------------------------------- messages */

static void
s_send(worker_t *self, int type, const ProtobufCMessage *body)
{
    if (!self->sock) {
        log_flag(PROTO, "worker '%s': not connected, %s not sent", self->name,
                 env_type_name(type));
        return;
    }
    zmsg_t *msg = env_seal(type, body, self->keys);
    if (!msg || xzmq_send(&msg, self->sock) < 0) {
        /* Results and kept log chunks go again after the next Welcome. */
        self->send_failures++;
        int64_t now = clock_mono_ms();
        if (now - self->send_failure_logged >= WORKER_DROP_LOG_MS) {
            self->send_failure_logged = now;
            log_warn("worker '%s': cannot send %s now: %s (%" PRIu64
                     " sends failed so far)",
                     self->name, env_type_name(type),
                     msg ? zmq_strerror(zmq_errno()) : "cannot encode it",
                     self->send_failures);
        }
    } else {
        log_flag(PROTO, "worker '%s': sent %s", self->name,
                 env_type_name(type));
    }
    zmsg_destroy(&msg);
}

/* Sends a heap-built message and frees it. */
static void
s_send_free(worker_t *self, int type, ProtobufCMessage *body)
{
    s_send(self, type, body);
    protobuf_c_message_free_unpacked(body, NULL);
}

static uint32_t
s_free_slots(const worker_t *self)
{
    if (self->stopping || self->job_count >= self->slots) {
        return 0;
    }
    return self->slots - (uint32_t) self->job_count;
}

static uint64_t *
s_running_ids(const worker_t *self, size_t *count)
{
    uint64_t *ids = xcalloc(self->job_count + 1, sizeof *ids);
    for (size_t i = 0; i < self->job_count; i++) {
        ids[i] = self->jobs[i]->attempt_id;
    }
    *count = self->job_count;
    return ids;
}

static void
s_send_register(worker_t *self)
{
    Sluice__Register *reg = xmalloc(sizeof *reg);
    *reg = (Sluice__Register) SLUICE__REGISTER__INIT;
    reg->name = xstrdup(self->name);
    reg->hostname = xstrdup(self->hostname);
    reg->slots = self->slots;
    reg->free_slots = s_free_slots(self);
    Sluice__Resources *res = xmalloc(sizeof *res);
    *res = (Sluice__Resources) SLUICE__RESOURCES__INIT;
    res->cpus = self->cpus;
    res->memory_mb = self->memory_mb;
    res->gpus = gpus_count(self->gpus);
    res->n_labels = self->label_count;
    res->labels = xcalloc(self->label_count + 1, sizeof *res->labels);
    for (size_t i = 0; i < self->label_count; i++) {
        res->labels[i] = xstrdup(self->labels[i]);
    }
    reg->resources = res;
    reg->running = s_running_ids(self, &reg->n_running);
    reg->wall_ms = (uint64_t) clock_wall_ms();
    reg->session = self->session;
    reg->software = xstrdup("sluice " SLUICE_VERSION);
    reg->token = xstrdup(self->token ? self->token : "");
    s_send_free(self, SLUICE__MSG_TYPE__MSG_REGISTER, &reg->base);
}

static void
s_send_heartbeat(worker_t *self)
{
    Sluice__Heartbeat *hb = xmalloc(sizeof *hb);
    *hb = (Sluice__Heartbeat) SLUICE__HEARTBEAT__INIT;
    hb->free_slots = s_free_slots(self);
    hb->running = s_running_ids(self, &hb->n_running);
    hb->wall_ms = (uint64_t) clock_wall_ms();
    s_send_free(self, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb->base);
    uint32_t every =
        self->heartbeat_flag_ms ? self->heartbeat_flag_ms : self->hb_ms;
    self->next_hb_mono = clock_mono_ms() + every;
}

static void
s_send_task_refused(worker_t *self, uint64_t attempt_id, const char *reason)
{
    Sluice__TaskRefused *msg = xmalloc(sizeof *msg);
    *msg = (Sluice__TaskRefused) SLUICE__TASK_REFUSED__INIT;
    msg->attempt_id = attempt_id;
    msg->reason = xstrdup(reason);
    msg->free_slots = s_free_slots(self);
    s_send_free(self, SLUICE__MSG_TYPE__MSG_TASK_REFUSED, &msg->base);
}

static void
s_send_goodbye(worker_t *self, const char *reason)
{
    Sluice__Goodbye *msg = xmalloc(sizeof *msg);
    *msg = (Sluice__Goodbye) SLUICE__GOODBYE__INIT;
    msg->reason = xstrdup(reason);
    s_send_free(self, SLUICE__MSG_TYPE__MSG_GOODBYE, &msg->base);
}

/* ----------------------------------------------------------- connection */

static void
s_connect(worker_t *self)
{
    self->sock = zsock_new(ZMQ_DEALER);
    assert(self->sock);
    zsock_set_linger(self->sock, WORKER_LINGER_MS);
    zsock_set_maxmsgsize(self->sock, WORKER_MAX_MSG);
    zsock_set_sndtimeo(self->sock, 0); /* never block the loop on a send */
    curve_set_client(self->curve, self->sock, self->sched_curve);
    if (zsock_connect(self->sock, "%s", self->endpoint) < 0) {
        log_error("worker '%s': cannot connect to '%s': %s", self->name,
                  self->endpoint, zmq_strerror(zmq_errno()));
    }
    self->welcomed = false;
    self->heard_mono = clock_mono_ms();
    log_info("worker '%s': connecting to %s", self->name, self->endpoint);
    s_send_register(self);
}

/* Drops the socket; a fresh one dials after the backoff. */
static void
s_disconnect(worker_t *self, const char *why)
{
    zsock_destroy(&self->sock);
    self->welcomed = false;
    self->reconnect_mono = clock_mono_ms() + self->backoff_ms;
    char wait[32];
    log_warn("worker '%s': lost the scheduler at %s (%s); reconnecting in %s, "
             "running attempts go on",
             self->name, self->endpoint, why,
             clock_fmt_duration(self->backoff_ms, wait, sizeof wait));
    self->backoff_ms *= 2;
    if (self->backoff_ms > WORKER_BACKOFF_MAX) {
        self->backoff_ms = WORKER_BACKOFF_MAX;
    }
}

static int64_t
s_liveness_deadline(const worker_t *self)
{
    return self->heard_mono + (int64_t) self->hb_ms * self->liveness;
}

static bool
s_trust(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    worker_t *self = arg;
    return sodium_memcmp(signer, self->sched_pub, KEYS_PUBLIC_SIZE) == 0;
}

static void
s_count_drop(worker_t *self, int code, const errbuf_t *err)
{
    int index = -code;
    if (index < 0 || index >= WORKER_DROP_REASONS) {
        index = 0;
    }
    self->drops[index]++;
    int64_t now = clock_mono_ms();
    if (self->drop_logged[index] &&
        now - self->drop_logged[index] < WORKER_DROP_LOG_MS) {
        return;
    }
    self->drop_logged[index] = now;
    log_warn("worker '%s': dropped a message from the scheduler socket "
             "(%s): %s; %" PRIu64 " such drops so far",
             self->name, env_strerror(code), errbuf_msg(err),
             self->drops[index]);
}

/* Every drop count since start, at exit: the drop log shows only the
 * first of each kind per interval. */
static void
s_drop_summary(const worker_t *self)
{
    char line[512] = "";
    size_t len = 0;
    for (int i = 0; i < WORKER_DROP_REASONS; i++) {
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
    if (logkeep_dropped(self->logkeep)) {
        log_info("worker '%s': %" PRIu64 " log chunks were sent once but not "
                 "kept for re-sending (over %u MiB kept)",
                 self->name, logkeep_dropped(self->logkeep),
                 LOGKEEP_MAX_BYTES >> 20);
    }
}

/* ------------------------------------------------------------ outbox */

static void
s_resend_one(void *arg, uint64_t attempt_id, const void *data, size_t size)
{
    worker_t *self = arg;
    Sluice__Result *res = sluice__result__unpack(NULL, size, data);
    if (!res) {
        log_warn("worker '%s': outbox entry of attempt %" PRIu64
                 " does not decode; skipping it",
                 self->name, attempt_id);
        return;
    }
    s_send(self, SLUICE__MSG_TYPE__MSG_RESULT, &res->base);
    sluice__result__free_unpacked(res, NULL);
}

static void
s_resend_outbox(worker_t *self)
{
    if (outbox_size(self->outbox) > 0) {
        log_info("worker '%s': resending %zu unacknowledged results",
                 self->name, outbox_size(self->outbox));
    }
    outbox_each(self->outbox, s_resend_one, self);
}

/* ------------------------------------------------------------- jobs */

static long
s_job_find(const worker_t *self, uint64_t attempt_id)
{
    for (size_t i = 0; i < self->job_count; i++) {
        if (self->jobs[i]->attempt_id == attempt_id) {
            return (long) i;
        }
    }
    return -1;
}

static bool
s_attempt_known(const worker_t *self, uint64_t attempt_id)
{
    if (s_job_find(self, attempt_id) >= 0 ||
        outbox_has(self->outbox, attempt_id)) {
        return true;
    }
    for (size_t i = 0; i < WORKER_RECENT_MAX; i++) {
        if (self->recent[i] == attempt_id && attempt_id != 0) {
            return true;
        }
    }
    return false;
}

static void
s_send_chunk(void *arg, const logkeep_chunk_t *kept)
{
    worker_t *self = arg;
    Sluice__LogChunk chunk = SLUICE__LOG_CHUNK__INIT;
    chunk.attempt_id = kept->attempt_id;
    chunk.stream = kept->stream;
    chunk.seq = kept->seq;
    chunk.data.data = (uint8_t *) kept->data;
    chunk.data.len = kept->size;
    chunk.wall_ms = (uint64_t) kept->wall_ms;
    s_send(self, SLUICE__MSG_TYPE__MSG_LOG, &chunk.base);
}

/* Sends the chunk now and keeps it until the attempt's result is
 * acknowledged, in case this connection drops it (logkeep.h). */
static void
s_on_log(void *arg,
         exec_t *exec,
         int stream,
         uint64_t seq,
         const void *data,
         size_t size)
{
    job_t *job = arg;
    logkeep_chunk_t chunk = {
        .attempt_id = exec_attempt_id(exec),
        .seq = seq,
        .stream = (uint32_t) stream,
        .wall_ms = clock_wall_ms(),
        .data = data,
        .size = size,
    };
    logkeep_add(job->owner->logkeep, &chunk);
    s_send_chunk(job->owner, &chunk);
}

/* F: what the job declared and hashed. */
static void
s_job_io_free(job_t *job)
{
    for (size_t i = 0; i < job->noutputs; i++) {
        free(job->outputs[i]);
    }
    free(job->outputs);
    datahash_refs_free(&job->inputs, job->ninputs);
    free(job->work_dir);
}

static void
s_job_destroy(job_t **job_p)
{
    if (!*job_p) {
        return;
    }
    exec_destroy(&(*job_p)->exec);
    free((*job_p)->task_id);
    free((*job_p)->gpus);
    s_job_io_free(*job_p); /* F */
    xfree(job_p);
}

/* The numbers the task wrote to $SLUICE_METRICS (issue 5, G). */
static void
s_result_metrics(const worker_t *self, const job_t *job, Sluice__Result *res)
{
    metric_t *found = xcalloc(METRICS_MAX_COUNT, sizeof *found);
    char *path = xasprintf("%s/%" PRIu64 "/" METRICS_FILE, self->work_root,
                           job->attempt_id);
    errbuf_t err;
    int n = metrics_read_file(path, found, METRICS_MAX_COUNT, &err);
    if (n < 0) {
        log_warn("worker '%s': attempt %" PRIu64 ": %s", self->name,
                 job->attempt_id, errbuf_msg(&err));
    }
    res->metrics = xcalloc(n > 0 ? (size_t) n : 1, sizeof *res->metrics);
    for (int i = 0; i < n; i++) {
        Sluice__Metric *m = xmalloc(sizeof *m);
        *m = (Sluice__Metric) SLUICE__METRIC__INIT;
        m->name = xstrdup(found[i].name);
        m->value = found[i].value;
        res->metrics[res->n_metrics++] = m;
    }
    free(path);
    free(found);
}

/* A hashed dataset version as a Result carries it; caller owns. */
static Sluice__DatasetRef *
s_dataset_ref(const datahash_ref_t *ref)
{
    Sluice__DatasetRef *msg = xmalloc(sizeof *msg);
    *msg = (Sluice__DatasetRef) SLUICE__DATASET_REF__INIT;
    msg->uri = xstrdup(ref->uri);
    msg->hash = xstrdup(ref->hash);
    msg->size = ref->size;
    return msg;
}

/* F: the inputs hashed at the start and, after a success, the outputs:
 * one that was not written fails the attempt (cause exit). */
static void
s_result_data(const worker_t *self, const job_t *job, Sluice__Result *res)
{
    res->inputs = xcalloc(job->ninputs + 1, sizeof *res->inputs);
    for (size_t i = 0; i < job->ninputs; i++) {
        res->inputs[res->n_inputs++] = s_dataset_ref(&job->inputs[i]);
    }
    bool ok =
        res->outcome == SLUICE__OUTCOME__OUTCOME_EXITED && res->exit_code == 0;
    errbuf_t err;
    datahash_ref_t *outputs = NULL;
    size_t noutputs = 0;
    if (ok && datahash_refs(job->outputs, job->noutputs, job->work_dir, false,
                            &outputs, &noutputs, &err) < 0) {
        res->outputs_missing = true;
        free(res->error);
        res->error = xstrdup(errbuf_msg(&err));
        log_warn("worker '%s': attempt %" PRIu64 " failed: %s", self->name,
                 job->attempt_id, errbuf_msg(&err));
    }
    if (noutputs > 0) {
        res->outputs = xcalloc(noutputs, sizeof *res->outputs);
        for (size_t i = 0; i < noutputs; i++) {
            res->outputs[res->n_outputs++] = s_dataset_ref(&outputs[i]);
        }
    }
    datahash_refs_free(&outputs, noutputs);
}

/* E: a file the validator wrote into the attempt's work dir, or "". */
static char *
s_validation_file(const worker_t *self, const job_t *job, const char *name)
{
    char *path =
        xasprintf("%s/%" PRIu64 "/%s", self->work_root, job->attempt_id, name);
    char *text = NULL;
    size_t size = 0;
    FILE *in = fopen(path, "rb");
    free(path);
    if (in) {
        text = xcalloc(VALIDATE_REPORT_MAX + 1, 1);
        size = fread(text, 1, VALIDATE_REPORT_MAX, in);
        fclose(in);
        text[size] = '\0';
    }
    return text ? text : xstrdup("");
}

/* E: the report, summary and profile of a validate task. */
static void
s_result_validation(const worker_t *self, const job_t *job, Sluice__Result *res)
{
    if (!job->validate) {
        return;
    }
    res->validation_report = s_validation_file(self, job, VALIDATE_FILE_REPORT);
    res->validation_summary =
        s_validation_file(self, job, VALIDATE_FILE_SUMMARY);
    res->validation_text = s_validation_file(self, job, VALIDATE_FILE_TEXT);
    res->validation_profile =
        s_validation_file(self, job, VALIDATE_FILE_PROFILE);
    char *why = s_validation_file(self, job, VALIDATE_FILE_ERROR);
    if (*why && res->outcome == SLUICE__OUTCOME__OUTCOME_EXITED &&
        res->exit_code != 0) {
        free(res->error);
        res->error = why;
    } else {
        free(why);
    }
}

static Sluice__Result *
s_result_new(const worker_t *self, const job_t *job)
{
    const exec_result_t *r = exec_result(job->exec);
    Sluice__Result *res = xmalloc(sizeof *res);
    *res = (Sluice__Result) SLUICE__RESULT__INIT;
    res->attempt_id = job->attempt_id;
    res->outcome = (Sluice__Outcome) r->outcome;
    res->exit_code = r->exit_code;
    res->signal = r->signal;
    res->started_ms = (uint64_t) r->started_ms;
    res->ended_ms = (uint64_t) r->ended_ms;
    res->duration_ms = (uint64_t) r->duration_ms;
    res->peak_rss_kb = r->peak_rss_kb;
    res->error = xstrdup(r->error);
    res->free_slots = s_free_slots(self);
    res->log_chunks = r->log_chunks;
    res->log_bytes = r->log_bytes;
    res->log_truncated = r->log_truncated;
    s_result_validation(self, job, res); /* E */
    s_result_metrics(self, job, res);
    s_result_data(self, job, res); /* F */
    return res;
}

/* Outbox first, then the wire: a crash between the two loses nothing. */
static void
s_job_finish(worker_t *self, size_t index)
{
    job_t *job = self->jobs[index];
    self->jobs[index] = self->jobs[--self->job_count];
    gpus_release(self->gpus, job->attempt_id);
    self->recent[self->recent_next] = job->attempt_id;
    self->recent_next = (self->recent_next + 1) % WORKER_RECENT_MAX;
    Sluice__Result *res = s_result_new(self, job);
    size_t size = protobuf_c_message_get_packed_size(&res->base);
    uint8_t *packed = xmalloc(size ? size : 1);
    protobuf_c_message_pack(&res->base, packed);
    errbuf_t err;
    if (outbox_put(self->outbox, job->attempt_id, packed, size, &err) < 0) {
        log_error("worker '%s': %s", self->name, errbuf_msg(&err));
    }
    free(packed);
    s_send_free(self, SLUICE__MSG_TYPE__MSG_RESULT, &res->base);
    const exec_result_t *r = exec_result(job->exec);
    char what[320], took[32];
    log_info("worker '%s': attempt %" PRIu64 " (run %" PRIu64
             " task '%s' try %u) %s in %s",
             self->name, job->attempt_id, job->run_id, job->task_id,
             job->attempt, exec_describe(r, what, sizeof what),
             clock_fmt_duration(r->duration_ms, took, sizeof took));
    s_job_destroy(&job);
}

/* Samples the memory of every attempt under a limit once one is due: one
 * pass over /proc serves them all (its cost grows with the processes on the
 * machine, not with the attempts), and their periods fall into step. */
static void
s_jobs_sample(worker_t *self)
{
    int64_t now = clock_mono_ms();
    bool due = false;
    for (size_t i = 0; i < self->job_count && !due; i++) {
        int64_t at = exec_sample_at(self->jobs[i]->exec);
        due = at && at <= now;
    }
    if (!due) {
        return;
    }
    exec_t **execs = xcalloc(self->job_count, sizeof *execs);
    int *pgids = xcalloc(self->job_count, sizeof *pgids);
    uint64_t *rss_kb = xcalloc(self->job_count, sizeof *rss_kb);
    size_t n = 0;
    for (size_t i = 0; i < self->job_count; i++) {
        if (exec_sample_at(self->jobs[i]->exec)) {
            execs[n] = self->jobs[i]->exec;
            pgids[n++] = exec_pid(self->jobs[i]->exec);
        }
    }
    mem_groups_rss_kb(pgids, n, rss_kb);
    for (size_t i = 0; i < n; i++) {
        exec_sample(execs[i], rss_kb[i]);
    }
    free(execs);
    free(pgids);
    free(rss_kb);
}

/* Reads pipes, samples memory, escalates timers, reaps; finished jobs
 * report. */
static void
s_jobs_service(worker_t *self)
{
    s_jobs_sample(self);
    for (size_t i = 0; i < self->job_count;) {
        exec_read(self->jobs[i]->exec);
        exec_tick(self->jobs[i]->exec);
        if (exec_done(self->jobs[i]->exec)) {
            s_job_finish(self, i); /* moves the last job into i */
        } else {
            i++;
        }
    }
}

/* The task's variables, then the GPUs it holds: last, so that a task
 * cannot name devices it was not given. *count gets the number. */
static char **
s_env_strings(const Sluice__Task *task, const char *gpus, size_t *count)
{
    char **env = xcalloc(task->n_env + 3, sizeof *env);
    for (size_t i = 0; i < task->n_env; i++) {
        const Sluice__EnvVar *var = task->env[i];
        env[i] = xasprintf("%s=%s", var->name ? var->name : "",
                           var->value ? var->value : "");
    }
    env[task->n_env] = xasprintf("CUDA_VISIBLE_DEVICES=%s", gpus);
    env[task->n_env + 1] = xasprintf("SLUICE_GPUS=%s", gpus);
    *count = task->n_env + 2;
    return env;
}

static uint32_t
s_task_gpus(const Sluice__Task *task)
{
    return task->resources ? task->resources->gpus : 0;
}

/* Takes the task's GPUs; s_task_refusal checked that they are free. */
static char *
s_job_gpus(worker_t *self, const Sluice__Task *task)
{
    char list[GPUS_LIST_SIZE];
    errbuf_t err;
    int rc = gpus_take(self->gpus, task->attempt_id, s_task_gpus(task), list,
                       sizeof list, &err);
    assert(rc == 0);
    return xstrdup(list);
}

/* F: keeps the declared outputs and hashes the inputs before the task
 * starts, so the lineage names the versions it read. */
static void
s_job_io(worker_t *self, job_t *job, const Sluice__Task *task)
{
    job->work_dir = xasprintf("%s/%" PRIu64, self->work_root, task->attempt_id);
    job->outputs = xcalloc(task->n_outputs + 1, sizeof *job->outputs);
    for (size_t i = 0; i < task->n_outputs; i++) {
        job->outputs[job->noutputs++] = xstrdup(task->outputs[i]);
    }
    errbuf_t err;
    datahash_refs(task->inputs, task->n_inputs, job->work_dir, true,
                  &job->inputs, &job->ninputs, &err);
}

/* E: a validate task runs this executable's built-in validator
 * (`sluice __validate`) as its child, so it is killed, timed and logged
 * like any command; its spec and files travel in the environment. */
static char *
s_validate_prepare(const Sluice__Task *task, char ***env, size_t *count)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    *env = xrealloc(*env, (*count + 5) * sizeof **env);
    (*env)[(*count)++] =
        xasprintf("SLUICE_VALIDATE_SPEC=%s", /* none: the file must parse */
                  task->validate && *task->validate ? task->validate : "{ }");
    (*env)[(*count)++] = xasprintf("SLUICE_VALIDATE_INPUT=%s",
                                   task->n_inputs ? task->inputs[0] : "");
    (*env)[(*count)++] = xasprintf("SLUICE_VALIDATE_OUTPUT=%s",
                                   task->n_outputs ? task->outputs[0] : "");
    (*env)[(*count)++] =
        xasprintf("SLUICE_VALIDATE_PROFILE=%s",
                  task->validate_profile ? task->validate_profile : "");
    return xasprintf("%s __validate", n > 0 ? exe : "sluice");
}

static void
s_job_start(worker_t *self, const Sluice__Task *task)
{
    job_t *job = xcalloc(1, sizeof *job);
    job->owner = self;
    job->attempt_id = task->attempt_id;
    job->run_id = task->run_id;
    job->attempt = task->attempt;
    job->task_id = xstrdup(task->task_id);
    job->gpus = s_job_gpus(self, task);
    s_job_io(self, job, task); /* F */
    size_t env_count = 0;
    char **env = s_env_strings(task, job->gpus, &env_count);
    job->validate = task->kind && !strcmp(task->kind, "validate");
    char *validate_cmd =
        job->validate ? s_validate_prepare(task, &env, &env_count) : NULL;
    exec_spec_t spec = {.attempt_id = task->attempt_id,
                        .run_id = task->run_id,
                        .dag = task->dag,
                        .task_id = task->task_id,
                        .attempt = task->attempt,
                        .logical_date = task->logical_date,
                        .command = validate_cmd ? validate_cmd : task->command,
                        .env = (const char *const *) env,
                        .env_count = env_count,
                        .work_root = self->work_root,
                        .timeout_ms = task->timeout_ms,
                        .kill_grace_ms = task->kill_grace_ms,
                        .log_cap = self->log_cap,
                        .memory_mb =
                            task->resources ? task->resources->memory_mb : 0,
                        .oom_events = self->oom_events,
                        .on_log = s_on_log,
                        .arg = job,
                        .run_as = self->run_as,
                        .limit_nofile = task->limit_nofile,
                        .limit_nproc = task->limit_nproc};
    job->exec = exec_start(&spec);
    free(validate_cmd);
    for (size_t i = 0; i < env_count; i++) {
        free(env[i]);
    }
    free(env);
    self->jobs[self->job_count++] = job;
    log_info("worker '%s': attempt %" PRIu64 " (run %" PRIu64
             " task '%s' try %u) started%s%s",
             self->name, job->attempt_id, job->run_id, job->task_id,
             job->attempt, *job->gpus ? " on GPUs " : "", job->gpus);
}

/* ------------------------------------------------------------ nonces */

static bool
s_nonce_seen(const worker_t *self, const uint8_t *nonce)
{
    for (size_t i = 0; i < self->nonce_count; i++) {
        if (memcmp(self->nonces[i].nonce, nonce, WORKER_NONCE_SIZE) == 0) {
            return true;
        }
    }
    return false;
}

/* Remembers a nonce until its task expires; past the bound, forgets the
 * one that expires first (its attempt id still guards against replays). */
static void
s_nonce_add(worker_t *self,
            const uint8_t *nonce,
            int64_t expires_ms,
            int64_t sched_now)
{
    size_t keep = 0;
    for (size_t i = 0; i < self->nonce_count; i++) {
        if (self->nonces[i].expires_ms >= sched_now) {
            self->nonces[keep++] = self->nonces[i];
        }
    }
    self->nonce_count = keep;
    if (self->nonce_count == WORKER_NONCE_MAX) {
        size_t oldest = 0;
        for (size_t i = 1; i < self->nonce_count; i++) {
            if (self->nonces[i].expires_ms < self->nonces[oldest].expires_ms) {
                oldest = i;
            }
        }
        self->nonces[oldest] = self->nonces[--self->nonce_count];
    }
    nonce_t *slot = &self->nonces[self->nonce_count++];
    memcpy(slot->nonce, nonce, WORKER_NONCE_SIZE);
    slot->expires_ms = expires_ms;
}

/* ------------------------------------------------------------ handlers */

/* Why task must not run, into why; NULL when it may. */
static const char *
s_task_refusal(worker_t *self, const Sluice__Task *task, char *why, size_t size)
{
    int64_t sched_now = clock_wall_ms() + self->offset_ms;
    errbuf_t err;
    if (self->stopping) {
        snprintf(why, size, "worker is shutting down");
    } else if (!task->worker || strcmp(task->worker, self->name) != 0) {
        snprintf(why, size, "task is addressed to worker '%s', not '%s'",
                 task->worker ? task->worker : "", self->name);
    } else if ((int64_t) task->expires_ms < sched_now) {
        snprintf(why, size, "task expired %" PRId64 " ms ago",
                 sched_now - (int64_t) task->expires_ms);
    } else if (task->nonce.len != WORKER_NONCE_SIZE) {
        snprintf(why, size, "task nonce has %zu bytes, not %d", task->nonce.len,
                 WORKER_NONCE_SIZE);
    } else if (s_nonce_seen(self, task->nonce.data)) {
        snprintf(why, size, "task nonce was already used (replay)");
    } else {
        s_nonce_add(self, task->nonce.data, (int64_t) task->expires_ms,
                    sched_now);
        if (s_attempt_known(self, task->attempt_id)) {
            snprintf(why, size, "attempt %" PRIu64 " is already known here",
                     task->attempt_id);
        } else if (s_free_slots(self) == 0) {
            snprintf(why, size, "no free slot (%u in use)", self->slots);
        } else if (gpus_check(self->gpus, s_task_gpus(task), &err) < 0) {
            snprintf(why, size, "%s", errbuf_msg(&err));
        } else {
            return NULL;
        }
    }
    return why;
}

/* The scheduler committed these results: forget them. */
static void
s_ack_results(worker_t *self, const uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        logkeep_forget(self->logkeep, ids[i]);
        if (outbox_ack(self->outbox, ids[i]) == 0) {
            log_flag(PROTO,
                     "worker '%s': result of attempt %" PRIu64 " acknowledged",
                     self->name, ids[i]);
        }
    }
}

static void
s_on_task(worker_t *self, const env_msg_t *msg)
{
    const Sluice__Task *task = (const Sluice__Task *) msg->body;
    s_ack_results(self, task->acks, task->n_acks);
    char why[256];
    const char *refusal = s_task_refusal(self, task, why, sizeof why);
    if (refusal && (strstr(refusal, "(replay)") ||
                    strstr(refusal, "is already known here"))) {
        /* Counted, not answered (PROTOCOL.md section 7): a TaskRefused
         * would make the scheduler give up the attempt that the original
         * message started. */
        errbuf_t err;
        errbuf_set(&err, "task for attempt %" PRIu64 " refused: %s",
                   task->attempt_id, why);
        s_count_drop(self, ENV_EREPLAYED, &err);
        return;
    }
    if (refusal) {
        log_warn("worker '%s': refused attempt %" PRIu64 " (run %" PRIu64
                 " task '%s'): %s",
                 self->name, task->attempt_id, task->run_id,
                 task->task_id ? task->task_id : "", why);
        s_send_task_refused(self, task->attempt_id, why);
        return;
    }
    s_job_start(self, task);
}

static void
s_cancel_job(worker_t *self, uint64_t attempt_id, const char *reason)
{
    long at = s_job_find(self, attempt_id);
    if (at < 0) {
        log_debug("worker '%s': cancel of attempt %" PRIu64
                  " which does not run here",
                  self->name, attempt_id);
        return;
    }
    log_info("worker '%s': cancelling attempt %" PRIu64 ": %s", self->name,
             attempt_id, reason);
    exec_cancel(self->jobs[at]->exec, reason);
}

static void
s_on_welcome(worker_t *self, const env_msg_t *msg)
{
    const Sluice__Welcome *w = (const Sluice__Welcome *) msg->body;
    self->offset_ms = (int64_t) w->wall_ms - clock_wall_ms();
    self->hb_ms = w->heartbeat_ms ? w->heartbeat_ms : 1000;
    self->liveness = w->liveness ? w->liveness : 3;
    if (w->worker && *w->worker && strcmp(w->worker, self->name) != 0) {
        log_warn("worker '%s': the scheduler registered us as '%s'", self->name,
                 w->worker);
        free(self->name);
        self->name = xstrdup(w->worker);
    }
    self->log_cap = self->log_cap_own;
    if (w->log_cap_bytes && w->log_cap_bytes < self->log_cap) {
        self->log_cap = w->log_cap_bytes;
    }
    self->welcomed = true;
    self->backoff_ms = WORKER_BACKOFF_MIN;
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
    for (size_t i = 0; i < w->n_cancel; i++) {
        s_cancel_job(self, w->cancel[i], "no longer current at the scheduler");
    }
    /* Log chunks before results, as on the first connection; results
     * before the heartbeat: their free_slots are as old as they are, and
     * the heartbeat after them tells the scheduler what is free now. */
    logkeep_each(self->logkeep, s_send_chunk, self);
    s_resend_outbox(self);
    s_send_heartbeat(self);
}

static void
s_on_cancel(worker_t *self, const env_msg_t *msg)
{
    const Sluice__Cancel *c = (const Sluice__Cancel *) msg->body;
    s_cancel_job(self, c->attempt_id,
                 c->reason && *c->reason ? c->reason
                                         : "cancelled by the scheduler");
}

static void
s_on_result_ack(worker_t *self, const env_msg_t *msg)
{
    const Sluice__ResultAck *ack = (const Sluice__ResultAck *) msg->body;
    s_ack_results(self, ack->attempt_ids, ack->n_attempt_ids);
}

static void
s_on_heartbeat(worker_t *self, const env_msg_t *msg)
{
    (void) self;
    (void) msg; /* being heard is all a heartbeat says */
}

static void s_begin_stop(worker_t *self);

static void
s_on_goodbye(worker_t *self, const env_msg_t *msg)
{
    const Sluice__Goodbye *bye = (const Sluice__Goodbye *) msg->body;
    log_info("worker '%s': the scheduler said goodbye (%s)", self->name,
             bye->reason ? bye->reason : "");
    if (bye->leave) {
        s_begin_stop(self); /* drained: leave as on SIGTERM */
        return;
    }
    s_disconnect(self, "scheduler said goodbye");
}

static void
s_on_refuse(worker_t *self, const env_msg_t *msg)
{
    const Sluice__Refuse *r = (const Sluice__Refuse *) msg->body;
    const char *reason = r->reason ? r->reason : "";
    if (r->code == 1) {
        log_error("worker '%s': the scheduler refused this worker's protocol "
                  "version %d.%d (it speaks %u.%u): %s; install a matching "
                  "sluice version",
                  self->name, ENV_MAJOR, ENV_MINOR, r->major, r->minor, reason);
        self->exit_code = WORKER_EXIT_FAIL;
        self->done = true;
        return;
    }
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(curve_public(self->curve), fp); /* what keys list shows */
    if (r->code == 4) {
        /* Pending: ask again soon, so an accept takes effect quickly. */
        log_warn("worker '%s': not admitted yet: %s", self->name, reason);
        self->backoff_ms = WORKER_BACKOFF_MIN;
        s_disconnect(self, "waiting for admission");
        return;
    }
    log_error("worker '%s': the scheduler refused this worker (code %u): %s "
              "(transport key %s)",
              self->name, r->code, reason, fp);
    s_disconnect(self, "refused");
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
    s_count_drop(self, ENV_EMALFORMED, &err);
}

static void
s_recv_one(worker_t *self)
{
    zmsg_t *msg = xzmq_recv(self->sock);
    if (!msg) {
        return;
    }
    if (zmsg_size(msg) == ENV_FRAMES + 1) {
        zframe_t *first = zmsg_first(msg);
        if (zframe_size(first) == 0) { /* a REQ-style empty delimiter */
            zframe_t *gap = zmsg_pop(msg);
            zframe_destroy(&gap);
        }
    }
    env_msg_t opened;
    memset(&opened, 0, sizeof opened);
    errbuf_t err;
    errbuf_clear(&err);
    int rc = env_open(msg, s_trust, self, &opened, &err);
    zmsg_destroy(&msg);
    if (rc != ENV_OK) {
        s_count_drop(self, rc, &err);
        return;
    }
    self->heard_mono = clock_mono_ms();
    log_flag(PROTO, "worker '%s': received %s", self->name,
             env_type_name(opened.type));
    s_dispatch(self, &opened);
    env_msg_clear(&opened);
}

static void
s_recv_all(worker_t *self)
{
    for (int i = 0; i < WORKER_RECV_BATCH && self->sock && !self->done &&
                    (zsock_events(self->sock) & ZMQ_POLLIN);
         i++) {
        s_recv_one(self);
    }
}

/* ------------------------------------------------------------ loop */

static void
s_begin_stop(worker_t *self)
{
    if (self->stopping) {
        if (!self->killed_rest && self->job_count > 0) {
            log_warn("worker '%s': second signal: killing running attempts",
                     self->name);
            self->stop_deadline = clock_mono_ms();
        }
        return;
    }
    self->stopping = true;
    self->stop_deadline = clock_mono_ms() + (int64_t) self->grace_ms;
    char grace[32];
    log_info("worker '%s': stopping: no new work; waiting up to %s for %zu "
             "running attempts",
             self->name,
             clock_fmt_duration((int64_t) self->grace_ms, grace, sizeof grace),
             self->job_count);
    if (self->welcomed) {
        s_send_heartbeat(self); /* tells the scheduler: 0 free slots */
    }
}

static void
s_stop_progress(worker_t *self)
{
    if (!self->stopping) {
        return;
    }
    int64_t now = clock_mono_ms();
    if (self->job_count > 0) {
        if (!self->killed_rest && now >= self->stop_deadline) {
            self->killed_rest = true;
            for (size_t i = 0; i < self->job_count; i++) {
                exec_cancel(self->jobs[i]->exec, "worker shutting down");
            }
        }
        return;
    }
    if (self->ack_deadline == 0) {
        self->ack_deadline = now + WORKER_ACK_WAIT_MS;
    }
    if (outbox_size(self->outbox) == 0 || now >= self->ack_deadline ||
        !self->welcomed) {
        if (outbox_size(self->outbox) > 0) {
            log_warn("worker '%s': %zu results not acknowledged yet; they "
                     "stay in the outbox for the next start",
                     self->name, outbox_size(self->outbox));
        }
        s_send_goodbye(self, "worker shutting down");
        self->done = true;
    }
}

static void
s_timers(worker_t *self)
{
    int64_t now = clock_mono_ms();
    if (!self->sock) {
        if (now >= self->reconnect_mono) {
            s_connect(self);
        }
        return;
    }
    if (now >= s_liveness_deadline(self)) {
        s_disconnect(self, self->welcomed ? "missed heartbeats" : "no welcome");
        return;
    }
    if (self->welcomed && now >= self->next_hb_mono) {
        s_send_heartbeat(self);
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
    if (self->sock) {
        next = s_min_deadline(next, s_liveness_deadline(self));
        if (self->welcomed) {
            next = s_min_deadline(next, self->next_hb_mono);
        }
    } else {
        next = s_min_deadline(next, self->reconnect_mono);
    }
    for (size_t i = 0; i < self->job_count; i++) {
        next = s_min_deadline(next, exec_next_deadline(self->jobs[i]->exec));
    }
    if (self->stopping) {
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
    size_t cap = 2 + 2 * self->job_count;
    zmq_pollitem_t *items = xcalloc(cap, sizeof *items);
    size_t n = 0;
    if (self->sock) {
        items[n++] =
            (zmq_pollitem_t){zsock_resolve(self->sock), 0, ZMQ_POLLIN, 0};
    }
    items[n++] = (zmq_pollitem_t){NULL, exec_wake_fd(), ZMQ_POLLIN, 0};
    for (size_t i = 0; i < self->job_count; i++) {
        int fds[2];
        int count = exec_fds(self->jobs[i]->exec, fds);
        for (int k = 0; k < count; k++) {
            items[n++] = (zmq_pollitem_t){NULL, fds[k], ZMQ_POLLIN, 0};
        }
    }
    zmq_poll(items, (int) n, s_poll_timeout(self)); /* EINTR: loop on */
    free(items);
}

static void
s_loop(worker_t *self)
{
    sig_atomic_t seen = s_signals;
    s_connect(self);
    while (!self->done) {
        s_poll(self);
        if (s_signals != seen) {
            seen = s_signals;
            s_begin_stop(self);
        }
        if (self->sock) {
            s_recv_all(self);
        }
        exec_wake_drain();
        s_jobs_service(self);
        if (!self->done) {
            s_timers(self);
            s_stop_progress(self);
        }
    }
}

/* ------------------------------------------------------------ setup */

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice worker [--join LINE | --scheduler tcp://HOST:PORT "
            "--scheduler-key HEX]\n"
            "                     [--dir DIR] [--slots N] [--name NAME] "
            "[--labels a,b]\n"
            "                     [--gpus N] [--grace DURATION] "
            "[--log-cap BYTES] [--heartbeat-ms N]\n"
            "                     [--run-as USER]\n\n"
            "  --join LINE          the line 'sluice init' or 'sluice "
            "join-line' printed\n"
            "  --scheduler EP       scheduler worker endpoint (with "
            "--scheduler-key)\n"
            "  --scheduler-key HEX  the scheduler's public key (hex or a .pub "
            "file)\n"
            "  --scheduler-curve-key HEX  its transport key (hex or "
            "scheduler.curve.pub)\n"
            "  --token TOKEN        a join token ('sluice token create'): "
            "admits this\n"
            "                       worker's key without an operator\n"
            "  --dir DIR            state directory (default $SLUICE_DIR, "
            "else ./.sluice)\n"
            "  --slots N            attempts run at once (default: cores)\n"
            "  --name NAME          worker name (default: hostname)\n"
            "  --labels a,b         labels tasks may ask for (e.g. gpu,ssd)\n"
            "  --gpus N             GPUs offered (default: what 'nvidia-smi "
            "-L' lists,\n"
            "                       0 without it); each task sees only its "
            "own in\n"
            "                       CUDA_VISIBLE_DEVICES (\"\" when it asks "
            "for none)\n"
            "  --grace DURATION     at SIGTERM, how long running attempts may "
            "finish (30s)\n"
            "  --log-cap BYTES      log bytes forwarded per attempt (1048576; "
            "k/m suffix)\n"
            "  --heartbeat-ms N     heartbeat interval (default: the "
            "scheduler's)\n"
            "  --run-as USER        a root worker runs tasks as USER "
            "(default nobody);\n"
            "                       any other worker runs them as itself\n");
}

static int
s_parse_u64(const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || text[0] == '-') {
        return -1;
    }
    uint64_t mult = 1;
    if (*end == 'k' || *end == 'K') {
        mult = 1024, end++;
    } else if (*end == 'm' || *end == 'M') {
        mult = 1024 * 1024, end++;
    } else if (*end == 'g' || *end == 'G') {
        mult = 1024 * 1024 * 1024, end++;
    }
    if (*end) {
        return -1;
    }
    *out = v * mult;
    return 0;
}

static int
s_opt_number(const char *flag,
             const char *text,
             uint64_t max,
             uint64_t *out,
             errbuf_t *err)
{
    if (s_parse_u64(text, out) < 0 || *out > max) {
        errbuf_set(err, "%s wants a number up to %" PRIu64 ", not '%s'", flag,
                   max, text);
        return -1;
    }
    return 0;
}

static int
s_opt_one(s_opts_t *o, int c, const char *arg, errbuf_t *err)
{
    uint64_t v = 0;
    switch (c) {
        case 'j':
            o->join = arg;
            return 0;
        case 's':
            o->endpoint = xstrdup(arg);
            return 0;
        case 'k':
            o->scheduler_key = arg;
            return 0;
        case 'd':
            o->dir = arg;
            return 0;
        case 'n':
            o->name = arg;
            return 0;
        case 'l':
            o->labels = arg;
            return 0;
        case 'h':
            o->help = true;
            return 0;
        case 'T':
            o->token = arg;
            return 0;
        case 'C':
            o->scheduler_curve = arg;
            return 0;
        case 'u':
            o->run_as = arg;
            return 0;
        case 'N':
            if (s_opt_number("--slots", arg, 4096, &v, err) < 0 || v == 0) {
                errbuf_set(err,
                           "--slots wants a number from 1 to 4096, not "
                           "'%s'",
                           arg);
                return -1;
            }
            o->slots = (uint32_t) v;
            return 0;
        case 'g':
            if (dag_parse_duration(arg, &o->grace_ms) < 0) {
                errbuf_set(err,
                           "--grace wants a duration like '30s' or "
                           "'2m', not '%s'",
                           arg);
                return -1;
            }
            return 0;
        case 'c':
            return s_opt_number("--log-cap", arg, UINT64_MAX / 2, &o->log_cap,
                                err);
        case 'b':
            if (s_opt_number("--heartbeat-ms", arg, 3600000, &v, err) < 0) {
                return -1;
            }
            o->heartbeat_ms = (uint32_t) v;
            return 0;
        case 'G':
            if (s_opt_number("--gpus", arg, GPUS_MAX, &v, err) < 0) {
                return -1;
            }
            o->gpus = (uint32_t) v;
            o->gpus_set = true;
            return 0;
        default:
            errbuf_set(err, "unknown option; run 'sluice worker --help'");
            return -1;
    }
}

static int
s_opts_parse(s_opts_t *o, int argc, char **argv, errbuf_t *err)
{
    static const struct option longs[] = {
        {"join", required_argument, NULL, 'j'},
        {"scheduler", required_argument, NULL, 's'},
        {"scheduler-key", required_argument, NULL, 'k'},
        {"dir", required_argument, NULL, 'd'},
        {"slots", required_argument, NULL, 'N'},
        {"name", required_argument, NULL, 'n'},
        {"labels", required_argument, NULL, 'l'},
        {"grace", required_argument, NULL, 'g'},
        {"log-cap", required_argument, NULL, 'c'},
        {"heartbeat-ms", required_argument, NULL, 'b'},
        {"gpus", required_argument, NULL, 'G'},
        {"run-as", required_argument, NULL, 'u'},
        {"token", required_argument, NULL, 'T'},
        {"scheduler-curve-key", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (s_opts_t){.grace_ms = 30000, .log_cap = 1048576};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == '?' || c == ':') {
            errbuf_set(err,
                       "unknown option or missing value '%s'; run "
                       "'sluice worker --help'",
                       argv[optind - 1]);
            return -1;
        }
        if (s_opt_one(o, c, optarg, err) < 0) {
            return -1;
        }
    }
    if (optind < argc) {
        errbuf_set(err,
                   "unexpected argument '%s'; run 'sluice worker "
                   "--help'",
                   argv[optind]);
        return -1;
    }
    return 0;
}

/* The endpoint and the pinned keys, from --join or the three flags. */
static int
s_scheduler_target(worker_t *self, s_opts_t *o, errbuf_t *err)
{
    if (o->join) {
        join_t join;
        if (join_parse(o->join, &join, err) < 0) {
            errbuf_prefix(err, "--join");
            return -1;
        }
        self->endpoint = join.endpoint;
        memcpy(self->sched_pub, join.pub, KEYS_PUBLIC_SIZE);
        memcpy(self->sched_curve, join.curve, CURVE_KEY_SIZE);
        self->token = join.token;
        if (o->token) { /* --token wins over the line's */
            free(self->token);
            self->token = xstrdup(o->token);
        }
        return 0;
    }
    if (!o->endpoint || !o->scheduler_key || !o->scheduler_curve) {
        errbuf_set(err, "say which scheduler to join: --join LINE (from "
                        "'sluice join-line' on the scheduler host), or "
                        "--scheduler tcp://HOST:PORT with --scheduler-key HEX "
                        "and --scheduler-curve-key HEX");
        return -1;
    }
    if (keys_public_from_hex(o->scheduler_key, self->sched_pub) < 0 &&
        keys_load_public(o->scheduler_key, self->sched_pub, err) < 0) {
        errbuf_set(err,
                   "--scheduler-key wants 64 hex characters or a "
                   "scheduler.pub file, not '%s'",
                   o->scheduler_key);
        return -1;
    }
    if (curve_from_hex(o->scheduler_curve, self->sched_curve) < 0 &&
        curve_load_public(o->scheduler_curve, self->sched_curve, err) < 0) {
        errbuf_set(err,
                   "--scheduler-curve-key wants 64 hex characters or a "
                   "scheduler.curve.pub file, not '%s'",
                   o->scheduler_curve);
        return -1;
    }
    self->endpoint = o->endpoint;
    o->endpoint = NULL;
    self->token = o->token ? xstrdup(o->token) : NULL;
    return 0;
}

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
s_resources(worker_t *self, const s_opts_t *o)
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

static void s_destroy(worker_t **self_p);

static worker_t *
s_new(s_opts_t *o, errbuf_t *err)
{
    worker_t *self = xcalloc(1, sizeof *self);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    self->hostname = xstrdup(host);
    self->name = xstrdup(o->name ? o->name : host);
    self->grace_ms = o->grace_ms;
    self->log_cap = o->log_cap;
    self->log_cap_own = o->log_cap;
    self->heartbeat_flag_ms = o->heartbeat_ms;
    self->hb_ms = o->heartbeat_ms ? o->heartbeat_ms : 1000;
    self->liveness = 3;
    self->backoff_ms = WORKER_BACKOFF_MIN;
    s_resources(self, o);
    self->jobs = xcalloc(self->slots, sizeof *self->jobs);
    self->nonces = xcalloc(WORKER_NONCE_MAX, sizeof *self->nonces);
    self->logkeep = logkeep_new(LOGKEEP_MAX_BYTES);
    randombytes_buf(&self->session, sizeof self->session);
    char *dir = statedir_resolve(o->dir);
    char *outbox_dir = statedir_path(dir, STATEDIR_OUTBOX);
    self->work_root = statedir_path(dir, STATEDIR_WORK);
    if (s_scheduler_target(self, o, err) < 0 || statedir_create(dir, err) < 0 ||
        !(self->keys = s_load_key(dir, err)) ||
        !(self->curve = curve_ensure(dir, STATEDIR_WORKER_CURVE, NULL, err)) ||
        !(self->outbox = outbox_open(outbox_dir, err)) ||
        exec_run_as(o->run_as, &self->run_as, err) < 0 ||
        exec_work_root_prepare(dir, self->work_root, self->run_as, err) < 0) {
        s_destroy(&self);
    }
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
    for (size_t i = 0; i < self->job_count; i++) {
        s_job_destroy(&self->jobs[i]);
    }
    free(self->jobs);
    free(self->nonces);
    gpus_destroy(&self->gpus);
    free(self->oom_events);
    for (size_t i = 0; i < self->label_count; i++) {
        free(self->labels[i]);
    }
    free(self->labels);
    zsock_destroy(&self->sock);
    outbox_destroy(&self->outbox);
    logkeep_destroy(&self->logkeep);
    keys_destroy(&self->keys);
    curve_destroy(&self->curve);
    free(self->token);
    free(self->run_as);
    free(self->work_root);
    free(self->endpoint);
    free(self->hostname);
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

int
worker_main(int argc, char **argv)
{
    umask(077); /* keys, outbox and work dirs: owner only */
    log_init("worker", LOG_LEVEL_INFO);
    if (getenv("SLUICE_DEBUG")) {
        log_set_flags(log_flags_parse(getenv("SLUICE_DEBUG")));
        log_set_level(LOG_LEVEL_DEBUG);
    }
    s_opts_t opts;
    errbuf_t err;
    errbuf_clear(&err);
    if (s_opts_parse(&opts, argc, argv, &err) < 0) {
        fprintf(stderr, "sluice worker: %s\n", errbuf_msg(&err));
        free(opts.endpoint);
        return WORKER_EXIT_USAGE;
    }
    if (opts.help) {
        s_usage(stdout);
        free(opts.endpoint);
        return WORKER_EXIT_OK;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "sluice worker: libsodium failed to initialise\n");
        return WORKER_EXIT_FAIL;
    }
    s_signals_install();
    worker_t *self = s_new(&opts, &err);
    free(opts.endpoint);
    if (!self) {
        fprintf(stderr, "sluice worker: %s\n", errbuf_msg(&err));
        return WORKER_EXIT_FAIL;
    }
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(keys_public(self->keys), fp);
    log_info("worker '%s': %u slots, %u cpus, %" PRIu64 " MB, %u GPUs, key %s, "
             "%zu results in the outbox",
             self->name, self->slots, self->cpus, self->memory_mb,
             gpus_count(self->gpus), fp, outbox_size(self->outbox));
    if (self->run_as) {
        log_info("worker '%s': tasks run as user '%s' (uid %u)", self->name,
                 self->run_as->name, (unsigned) self->run_as->uid);
    }
    s_loop(self);
    int code = self->exit_code;
    s_drop_summary(self);
    log_info("worker '%s': stopped", self->name);
    s_destroy(&self);
    return code;
}
