/* jobs — see jobs.h. */
#include "worker/jobs.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/datahash.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/taskresult.h"
#include "common/xalloc.h"
#include "proto/msg.h"
#include "worker/hashjob.h"
#include "worker/mem.h"
#include "worker/paths.h"
#include "worker/validate.h"

#define JOBS_NONCE_SIZE 16
#define JOBS_NONCE_MAX  8192 /* remembered task nonces */
#define JOBS_RECENT_MAX 4096 /* remembered finished attempt ids */

/* Where an attempt is: its inputs hashed (before its task starts), its
 * task running, its outputs hashed (after the task succeeded). The
 * result goes only once all of it is over. */
typedef enum {
    JOB_INPUTS = 0,
    JOB_RUNNING,
    JOB_OUTPUTS,
} job_phase_t;

/* One attempt that holds a slot. */
typedef struct {
    jobs_t *owner; /* borrowed back pointer for the log callback */
    uint64_t attempt_id;
    uint64_t run_id;
    uint32_t attempt;
    char *task_id; /* owned */
    char *gpus;    /* owned: the device indices it holds, "0,2" or "" */
    job_phase_t phase;
    Sluice__Task *task; /* owned while its inputs are hashed, then NULL */
    exec_t *exec;       /* owned: its task, once started */
    hashjob_t *hasher;  /* owned: hashing its inputs or outputs, or NULL */
    char *work_dir;     /* owned; declared paths are relative to it */
    char **outputs;     /* declared outputs, rendered; owned */
    size_t noutputs;
    datahash_ref_t *inputs; /* hashed before the start; owned */
    size_t ninputs;
    datahash_ref_t *written; /* outputs hashed after a success; owned */
    size_t nwritten;
    char *data_error; /* owned: why an input or output failed, or NULL */
    char *cancelled;  /* owned: the reason of a cancel while hashing */
    bool validate;    /* kind validate: the built-in validator runs */
    bool sensor_file; /* a file sensor: the built-in file check runs */
    bool branch;      /* kind branch: its choice is read after a success */
    /* Its own uid (when own_uid), given back when it ends. */
    exec_user_t user;
    bool own_uid;
} job_t;

struct jobs_t {
    uint32_t slots;
    char *work_root;           /* owned, DIR/work */
    workdirs_t *workdirs;      /* borrowed: removes or keeps ended dirs */
    uint64_t hash_timeout_ms;  /* hashing one attempt's inputs or outputs */
    const exec_user_t *run_as; /* borrowed: who tasks run as; NULL = us */
    uids_t *uids;              /* borrowed: per-attempt uids, or NULL */
    char **data_roots;         /* owned, resolved */
    size_t ndata_roots;        /* 0: declared paths may lie anywhere */
    char *oom_events;          /* owned: the cgroup's OOM counter, or NULL */
    uint64_t log_cap;          /* in force for attempts started now */
    gpus_t *gpus;              /* borrowed */
    outbox_t *outbox;          /* borrowed */
    logkeep_t *logkeep;        /* borrowed */
    conn_t *conn;              /* borrowed */

    job_t **jobs; /* owned, count of slots */
    size_t count;
    uint32_t prefetch;   /* tasks held beyond the slots */
    Sluice__Task **held; /* owned, nheld of prefetch: to start, in order */
    size_t nheld;
    uint64_t *started; /* held attempts started since the last Result */
    size_t nstarted;
    zhashx_t *nonces; /* nonce (hex) -> its task's expiry, scheduler wall
                         ms (as a pointer); at most JOBS_NONCE_MAX */
    uint64_t recent[JOBS_RECENT_MAX]; /* ring of finished attempt ids */
    size_t recent_next;
    zhashx_t *recent_set; /* the same ids, to look up (values unused) */
};

/* The executor's outcomes are the wire's: copied as they are. */
_Static_assert((int) EXEC_RUNNING == (int) SLUICE__OUTCOME__OUTCOME_UNSPECIFIED,
               "exec_outcome_t and Sluice__Outcome differ: running");
_Static_assert((int) EXEC_EXITED == (int) SLUICE__OUTCOME__OUTCOME_EXITED,
               "exec_outcome_t and Sluice__Outcome differ: exited");
_Static_assert((int) EXEC_SIGNALED == (int) SLUICE__OUTCOME__OUTCOME_SIGNALED,
               "exec_outcome_t and Sluice__Outcome differ: signaled");
_Static_assert((int) EXEC_TIMED_OUT == (int) SLUICE__OUTCOME__OUTCOME_TIMED_OUT,
               "exec_outcome_t and Sluice__Outcome differ: timed out");
_Static_assert((int) EXEC_CANCELLED == (int) SLUICE__OUTCOME__OUTCOME_CANCELLED,
               "exec_outcome_t and Sluice__Outcome differ: cancelled");
_Static_assert((int) EXEC_SPAWN_FAILED ==
                   (int) SLUICE__OUTCOME__OUTCOME_SPAWN_FAILED,
               "exec_outcome_t and Sluice__Outcome differ: spawn failed");
_Static_assert((int) EXEC_OOM == (int) SLUICE__OUTCOME__OUTCOME_OOM,
               "exec_outcome_t and Sluice__Outcome differ: oom");

static Sluice__Outcome
s_outcome_wire(exec_outcome_t outcome)
{
    return (Sluice__Outcome) outcome;
}

/* ------------------------------------------------------------ lifecycle */

jobs_t *
jobs_new(const jobs_config_t *config)
{
    assert(config);
    jobs_t *self = xcalloc(1, sizeof *self);
    self->slots = config->slots;
    self->work_root = xstrdup(config->work_root);
    self->workdirs = config->workdirs;
    self->hash_timeout_ms = config->hash_timeout_ms;
    self->run_as = config->run_as;
    self->uids = config->uids;
    self->data_roots = xcalloc(config->ndata_roots + 1, sizeof(char *));
    for (size_t i = 0; i < config->ndata_roots; i++) {
        self->data_roots[self->ndata_roots++] = xstrdup(config->data_roots[i]);
    }
    self->oom_events = config->oom_events ? xstrdup(config->oom_events) : NULL;
    self->log_cap = config->log_cap;
    self->gpus = config->gpus;
    self->outbox = config->outbox;
    self->logkeep = config->logkeep;
    self->conn = config->conn;
    self->jobs = xcalloc(self->slots, sizeof *self->jobs);
    self->prefetch = config->prefetch;
    self->held = xcalloc(self->prefetch + 1, sizeof *self->held);
    self->started = xcalloc(self->prefetch + 1, sizeof *self->started);
    self->nonces = zhashx_new();
    self->recent_set = idmap_new(NULL);
    return self;
}

/* What the job declared and hashed. */
static void
s_job_io_free(job_t *job)
{
    for (size_t i = 0; i < job->noutputs; i++) {
        free(job->outputs[i]);
    }
    free(job->outputs);
    datahash_refs_free(&job->inputs, job->ninputs);
    datahash_refs_free(&job->written, job->nwritten);
    free(job->work_dir);
    free(job->data_error);
    free(job->cancelled);
}

/* Gives the attempt's own uid back once its child is reaped: its work dir
 * goes to root first (the files in it stay for the operator, out of reach
 * of the next attempt under that uid), then every process still running
 * as the uid is killed (uids_release). */
static void
s_job_uid_release(job_t *job)
{
    if (!job->own_uid) {
        return;
    }
    if (job->work_dir && lchown(job->work_dir, 0, 0) < 0 && errno != ENOENT) {
        log_warn("attempt %" PRIu64 ": cannot give its work dir '%s' back to "
                 "root: %s",
                 job->attempt_id, job->work_dir, strerror(errno));
    }
    uids_release(job->owner->uids, job->user.uid);
    job->own_uid = false;
}

static void
s_job_destroy(job_t **job_p)
{
    if (!*job_p) {
        return;
    }
    exec_destroy(&(*job_p)->exec);
    hashjob_destroy(&(*job_p)->hasher); /* before its uid goes */
    s_job_uid_release(*job_p);
    if ((*job_p)->task) {
        protobuf_c_message_free_unpacked(&(*job_p)->task->base, NULL);
    }
    free((*job_p)->task_id);
    free((*job_p)->gpus);
    s_job_io_free(*job_p);
    xfree(job_p);
}

void
jobs_destroy(jobs_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    jobs_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        s_job_destroy(&self->jobs[i]);
    }
    free(self->jobs);
    for (size_t i = 0; i < self->nheld; i++) {
        protobuf_c_message_free_unpacked(&self->held[i]->base, NULL);
    }
    free(self->held);
    free(self->started);
    zhashx_destroy(&self->nonces);
    zhashx_destroy(&self->recent_set);
    free(self->oom_events);
    for (size_t i = 0; i < self->ndata_roots; i++) {
        free(self->data_roots[i]);
    }
    free(self->data_roots);
    free(self->work_root);
    free(self);
    *self_p = NULL;
}

void
jobs_set_log_cap(jobs_t *self, uint64_t log_cap)
{
    self->log_cap = log_cap;
}

size_t
jobs_count(const jobs_t *self)
{
    return self->count;
}

static uint32_t
s_free_slots(const jobs_t *self)
{
    if (conn_leaving(self->conn) || self->count >= self->slots) {
        return 0;
    }
    return self->slots - (uint32_t) self->count;
}

void
jobs_load(const jobs_t *self, conn_load_t *load)
{
    uint64_t *ids = xcalloc(self->count + self->nheld + 1, sizeof *ids);
    for (size_t i = 0; i < self->count; i++) {
        ids[i] = self->jobs[i]->attempt_id;
    }
    for (size_t i = 0; i < self->nheld; i++) {
        ids[self->count + i] = self->held[i]->attempt_id;
    }
    *load =
        (conn_load_t){.slots = self->slots,
                      .free_slots = s_free_slots(self),
                      .running = ids,
                      .n_running = self->count,
                      .prefetch = conn_leaving(self->conn) ? 0 : self->prefetch,
                      .queued = ids + self->count,
                      .n_queued = self->nheld};
}

static int64_t
s_min_deadline(int64_t a, int64_t b)
{
    return a < 0 || (b >= 0 && b < a) ? b : a;
}

int64_t
jobs_next_deadline(const jobs_t *self)
{
    int64_t next = -1;
    for (size_t i = 0; i < self->count; i++) {
        const job_t *job = self->jobs[i];
        if (job->exec) {
            next = s_min_deadline(next, exec_next_deadline(job->exec));
        }
        if (job->hasher) {
            next = s_min_deadline(next, hashjob_next_deadline(job->hasher));
        }
    }
    return next;
}

size_t
jobs_fds(const jobs_t *self, int *fds, size_t cap)
{
    size_t n = 0;
    /* A job has one child with open pipes at a time: its task or its
     * hasher (the task's pipes are closed before its outputs are hashed). */
    for (size_t i = 0; i < self->count && n + 2 <= cap; i++) {
        const job_t *job = self->jobs[i];
        if (job->hasher) {
            n += (size_t) hashjob_fds(job->hasher, fds + n);
        } else if (job->exec) {
            n += (size_t) exec_fds(job->exec, fds + n);
        }
    }
    return n;
}

/* ------------------------------------------------ log chunks and outbox */

static void
s_send_chunk(void *arg, const logkeep_chunk_t *kept)
{
    jobs_t *self = arg;
    Sluice__LogChunk chunk = SLUICE__LOG_CHUNK__INIT;
    chunk.attempt_id = kept->attempt_id;
    chunk.stream = kept->stream;
    chunk.seq = kept->seq;
    chunk.data.data = (uint8_t *) kept->data;
    chunk.data.len = kept->size;
    chunk.wall_ms = (uint64_t) kept->wall_ms;
    conn_send(self->conn, SLUICE__MSG_TYPE__MSG_LOG, &chunk.base);
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

static void
s_resend_one(void *arg, uint64_t attempt_id, const void *data, size_t size)
{
    jobs_t *self = arg;
    Sluice__Result *res = msg_result_unpack(data, size);
    if (!res) {
        log_warn("worker '%s': outbox entry of attempt %" PRIu64
                 " does not decode; skipping it",
                 conn_name(self->conn), attempt_id);
        return;
    }
    conn_send(self->conn, SLUICE__MSG_TYPE__MSG_RESULT, &res->base);
    protobuf_c_message_free_unpacked(&res->base, NULL);
}

void
jobs_resend(jobs_t *self)
{
    /* Log chunks before results, as on the first connection. */
    logkeep_each(self->logkeep, s_send_chunk, self);
    if (outbox_size(self->outbox) > 0) {
        log_info("worker '%s': resending %zu unacknowledged results",
                 conn_name(self->conn), outbox_size(self->outbox));
    }
    outbox_each(self->outbox, s_resend_one, self);
}

void
jobs_ack(jobs_t *self, const uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        logkeep_forget(self->logkeep, ids[i]);
        if (outbox_ack(self->outbox, ids[i]) == 0) {
            log_flag(PROTO,
                     "worker '%s': result of attempt %" PRIu64 " acknowledged",
                     conn_name(self->conn), ids[i]);
        }
    }
}

/* -------------------------------------------------------------- results */

/* The numbers the task wrote to $SLUICE_METRICS. */
static void
s_result_metrics(const jobs_t *self, const job_t *job, Sluice__Result *res)
{
    metric_t *found = xcalloc(METRICS_MAX_COUNT, sizeof *found);
    char *path = xasprintf("%s/%" PRIu64 "/" METRICS_FILE, self->work_root,
                           job->attempt_id);
    errbuf_t err;
    int n = metrics_read_file(path, found, METRICS_MAX_COUNT, &err);
    if (n < 0) {
        log_warn("worker '%s': attempt %" PRIu64 ": %s", conn_name(self->conn),
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

/* The JSON value the task wrote to $SLUICE_RESULT, read once it exited
 * 0: a file that is no valid result fails the attempt (cause exit), as a
 * missing declared output does. Read without following a link, like the
 * metrics file. */
static void
s_result_value(const jobs_t *self, const job_t *job, Sluice__Result *res)
{
    if (res->outcome != SLUICE__OUTCOME__OUTCOME_EXITED ||
        res->exit_code != 0 || res->outputs_missing) {
        return;
    }
    char *path = xasprintf("%s/%" PRIu64 "/" TASKRESULT_FILE, self->work_root,
                           job->attempt_id);
    errbuf_t err;
    char *text = NULL;
    if (taskresult_read(path, &text, &err) < 0) {
        res->outputs_missing = true;
        free(res->error);
        res->error = xstrdup(errbuf_msg(&err));
        log_warn("worker '%s': attempt %" PRIu64 " failed: %s",
                 conn_name(self->conn), job->attempt_id, errbuf_msg(&err));
    } else if (text) {
        res->result = text; /* was the static default "" */
    }
    free(path);
}

/* The ids a branch task wrote to $SLUICE_BRANCH, read with its result
 * and under the same rules: a missing or malformed file fails the
 * attempt (cause exit). The scheduler, which knows the children, checks
 * the ids. */
static void
s_result_branch(const jobs_t *self, const job_t *job, Sluice__Result *res)
{
    if (!job->branch || res->outcome != SLUICE__OUTCOME__OUTCOME_EXITED ||
        res->exit_code != 0 || res->outputs_missing) {
        return;
    }
    char *path = xasprintf("%s/%" PRIu64 "/" TASKRESULT_BRANCH_FILE,
                           self->work_root, job->attempt_id);
    errbuf_t err;
    char **ids = NULL;
    size_t n = 0;
    if (taskresult_branch_read(path, &ids, &n, &err) < 0) {
        res->outputs_missing = true;
        free(res->error);
        res->error = xstrdup(errbuf_msg(&err));
        log_warn("worker '%s': attempt %" PRIu64 " failed: %s",
                 conn_name(self->conn), job->attempt_id, errbuf_msg(&err));
    } else {
        res->branch = ids;
        res->n_branch = n;
        res->branch_read = true;
    }
    free(path);
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

/* The inputs hashed at the start and, after a success, the outputs: one
 * that was not written, or could not be hashed, fails the attempt (cause
 * exit); a cancel while they were hashed cancels it. */
static void
s_result_data(const jobs_t *self, const job_t *job, Sluice__Result *res)
{
    res->inputs = xcalloc(job->ninputs + 1, sizeof *res->inputs);
    for (size_t i = 0; i < job->ninputs; i++) {
        res->inputs[res->n_inputs++] = s_dataset_ref(&job->inputs[i]);
    }
    if (job->cancelled) {
        res->outcome = SLUICE__OUTCOME__OUTCOME_CANCELLED;
        free(res->error);
        res->error = xstrdup(job->cancelled);
    } else if (job->data_error) {
        res->outputs_missing = true;
        free(res->error);
        res->error = xstrdup(job->data_error);
        log_warn("worker '%s': attempt %" PRIu64 " failed: %s",
                 conn_name(self->conn), job->attempt_id, job->data_error);
    }
    if (job->nwritten > 0) {
        res->outputs = xcalloc(job->nwritten, sizeof *res->outputs);
        for (size_t i = 0; i < job->nwritten; i++) {
            res->outputs[res->n_outputs++] = s_dataset_ref(&job->written[i]);
        }
    }
}

/* A file the validator wrote into the attempt's work dir, or "". */
static char *
s_validation_file(const jobs_t *self, const job_t *job, const char *name)
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

/* The report, summary and profile of a validate task. */
static void
s_result_validation(const jobs_t *self, const job_t *job, Sluice__Result *res)
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
    char *drift = s_validation_file(self, job, VALIDATE_FILE_DRIFT);
    for (char *save = NULL, *col = strtok_r(drift, "\n", &save); col;
         col = strtok_r(NULL, "\n", &save)) {
        res->validation_drift =
            xrealloc(res->validation_drift, (res->n_validation_drift + 1) *
                                                sizeof *res->validation_drift);
        res->validation_drift[res->n_validation_drift++] = xstrdup(col);
    }
    free(drift);
    char *why = s_validation_file(self, job, VALIDATE_FILE_ERROR);
    if (*why && res->outcome == SLUICE__OUTCOME__OUTCOME_EXITED &&
        res->exit_code != 0) {
        free(res->error);
        res->error = why;
    } else {
        free(why);
    }
}

/* An attempt that never ran: an input was refused, or it was cancelled
 * while its inputs were hashed. */
static Sluice__Result *
s_result_unstarted(const jobs_t *self, const job_t *job)
{
    Sluice__Result *res = xmalloc(sizeof *res);
    *res = (Sluice__Result) SLUICE__RESULT__INIT;
    res->attempt_id = job->attempt_id;
    res->outcome = job->cancelled ? SLUICE__OUTCOME__OUTCOME_CANCELLED
                                  : SLUICE__OUTCOME__OUTCOME_REFUSED;
    res->exit_code = -1;
    res->ended_ms = (uint64_t) clock_wall_ms();
    res->error = xstrdup(job->cancelled    ? job->cancelled
                         : job->data_error ? job->data_error
                                           : "its inputs were not hashed");
    res->free_slots = s_free_slots(self);
    res->inputs = xcalloc(1, sizeof *res->inputs);
    return res;
}

static Sluice__Result *
s_result_new(const jobs_t *self, const job_t *job)
{
    if (!job->exec) {
        return s_result_unstarted(self, job);
    }
    const exec_result_t *r = exec_result(job->exec);
    Sluice__Result *res = xmalloc(sizeof *res);
    *res = (Sluice__Result) SLUICE__RESULT__INIT;
    res->attempt_id = job->attempt_id;
    res->outcome = s_outcome_wire(r->outcome);
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
    s_result_validation(self, job, res);
    s_result_metrics(self, job, res);
    s_result_data(self, job, res);
    s_result_value(self, job, res);
    s_result_branch(self, job, res);
    return res;
}

static void s_start_held(jobs_t *self);

/* Remembers a finished attempt, so that its Task sent again is known. */
static void
s_recent_add(jobs_t *self, uint64_t attempt_id)
{
    uint64_t old = self->recent[self->recent_next];
    if (old) {
        zhashx_delete(self->recent_set, IDMAP_KEY(old));
    }
    self->recent[self->recent_next] = attempt_id;
    self->recent_next = (self->recent_next + 1) % JOBS_RECENT_MAX;
    zhashx_update(self->recent_set, IDMAP_KEY(attempt_id), self);
}

/* Reports the held attempts started since the last Result with res (takes
 * it), outbox first, then the wire: a crash between the two loses
 * nothing. */
static void
s_result_send(jobs_t *self, Sluice__Result *res)
{
    res->started = self->started;
    res->n_started = self->nstarted;
    self->started = xcalloc(self->prefetch + 1, sizeof *self->started);
    self->nstarted = 0;
    size_t size = 0;
    uint8_t *packed = msg_pack(&res->base, &size);
    errbuf_t err;
    if (outbox_put(self->outbox, res->attempt_id, packed, size, &err) < 0) {
        log_error("worker '%s': %s", conn_name(self->conn), errbuf_msg(&err));
    }
    free(packed);
    conn_send_free(self->conn, SLUICE__MSG_TYPE__MSG_RESULT, &res->base);
}

static bool
s_result_ok(const Sluice__Result *res)
{
    return res->outcome == SLUICE__OUTCOME__OUTCOME_EXITED &&
           res->exit_code == 0 && !res->outputs_missing;
}

static void
s_job_log_end(const jobs_t *self, const job_t *job, const char *error)
{
    if (!job->exec) {
        log_info("worker '%s': attempt %" PRIu64 " (run %" PRIu64
                 " task '%s' try %u) ended before it ran: %s",
                 conn_name(self->conn), job->attempt_id, job->run_id,
                 job->task_id, job->attempt, error);
        return;
    }
    const exec_result_t *r = exec_result(job->exec);
    char what[320], took[32];
    log_info("worker '%s': attempt %" PRIu64 " (run %" PRIu64
             " task '%s' try %u) %s in %s",
             conn_name(self->conn), job->attempt_id, job->run_id, job->task_id,
             job->attempt, exec_describe(r, what, sizeof what),
             clock_fmt_duration(r->duration_ms, took, sizeof took));
}

/* The freed slot takes the next held task before the result goes, so
 * that the result tells the scheduler it started. Then the attempt's uid
 * is given back (nothing runs as it any more) and its work dir removed,
 * or kept when it failed. */
static void
s_job_finish(jobs_t *self, size_t index)
{
    job_t *job = self->jobs[index];
    self->jobs[index] = self->jobs[--self->count];
    gpus_release(self->gpus, job->attempt_id);
    s_recent_add(self, job->attempt_id);
    Sluice__Result *res = s_result_new(self, job);
    bool ok = s_result_ok(res);
    s_job_log_end(self, job, res->error ? res->error : "");
    s_start_held(self);
    res->free_slots = s_free_slots(self);
    s_result_send(self, res);
    s_job_uid_release(job);
    if (self->workdirs) {
        workdirs_ended(self->workdirs, job->attempt_id, !ok);
    }
    s_job_destroy(&job);
}

/* ------------------------------------------------------------- service */

/* When the job's task is due for a memory sample; 0 when none runs. */
static int64_t
s_sample_at(const job_t *job)
{
    return job->phase == JOB_RUNNING ? exec_sample_at(job->exec) : 0;
}

/* Samples the memory of every attempt under a limit once one is due: one
 * pass over /proc serves them all (its cost grows with the processes on the
 * machine, not with the attempts), and their periods fall into step. */
static void
s_jobs_sample(jobs_t *self)
{
    int64_t now = clock_mono_ms();
    bool due = false;
    for (size_t i = 0; i < self->count && !due; i++) {
        int64_t at = s_sample_at(self->jobs[i]);
        due = at && at <= now;
    }
    if (!due) {
        return;
    }
    exec_t **execs = xcalloc(self->count, sizeof *execs);
    int *pgids = xcalloc(self->count, sizeof *pgids);
    uint64_t *rss_kb = xcalloc(self->count, sizeof *rss_kb);
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++) {
        if (s_sample_at(self->jobs[i])) {
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

/* Starts hashing the attempt's declared paths as the user its task runs
 * as, in a child (hashjob.h). */
static hashjob_t *
s_hasher_start(const jobs_t *self,
               const job_t *job,
               hashjob_kind_t kind,
               char *const *declared,
               size_t ndeclared)
{
    hashjob_spec_t spec = {.kind = kind,
                           .attempt_id = job->attempt_id,
                           .task_id = job->task_id,
                           .work_root = self->work_root,
                           .declared = declared,
                           .ndeclared = ndeclared,
                           .user = job->own_uid ? &job->user : self->run_as,
                           .timeout_ms = self->hash_timeout_ms};
    return hashjob_start(&spec);
}

/* The hasher ended: its refs go to *refs, its failure to data_error. */
static void
s_hasher_end(job_t *job, datahash_ref_t **refs, size_t *count)
{
    errbuf_t err;
    if (hashjob_result(job->hasher, refs, count, &err) < 0 && !job->cancelled) {
        job->data_error = xstrdup(errbuf_msg(&err));
    }
    hashjob_destroy(&job->hasher);
}

static void s_job_run(jobs_t *self, job_t *job, const Sluice__Task *task);
static bool s_step_running(jobs_t *self, size_t index);

/* Inputs hashed: the task starts, unless one was refused. */
static bool
s_step_inputs(jobs_t *self, size_t index)
{
    job_t *job = self->jobs[index];
    hashjob_service(job->hasher);
    if (!hashjob_done(job->hasher)) {
        return false;
    }
    s_hasher_end(job, &job->inputs, &job->ninputs);
    if (job->data_error || job->cancelled) {
        if (!job->cancelled) {
            log_warn("worker '%s': refused attempt %" PRIu64 " (run %" PRIu64
                     " task '%s'): %s",
                     conn_name(self->conn), job->attempt_id, job->run_id,
                     job->task_id, job->data_error);
        }
        s_job_finish(self, index);
        return true;
    }
    s_job_run(self, job, job->task);
    protobuf_c_message_free_unpacked(&job->task->base, NULL);
    job->task = NULL;
    return s_step_running(self, index);
}

/* The task ended: a success with declared outputs has them hashed. */
static bool
s_step_running(jobs_t *self, size_t index)
{
    job_t *job = self->jobs[index];
    exec_read(job->exec);
    exec_tick(job->exec);
    if (!exec_done(job->exec)) {
        return false;
    }
    const exec_result_t *r = exec_result(job->exec);
    if (r->outcome == EXEC_EXITED && r->exit_code == 0 && job->noutputs > 0) {
        /* What the task left running would write on under the hasher,
         * and could trace it: its own uid's processes go first. */
        if (job->own_uid) {
            uids_kill(self->uids, job->user.uid);
        }
        job->phase = JOB_OUTPUTS;
        job->hasher = s_hasher_start(self, job, HASHJOB_OUTPUTS, job->outputs,
                                     job->noutputs);
        return false;
    }
    s_job_finish(self, index);
    return true;
}

static bool
s_step_outputs(jobs_t *self, size_t index)
{
    job_t *job = self->jobs[index];
    hashjob_service(job->hasher);
    if (!hashjob_done(job->hasher)) {
        return false;
    }
    s_hasher_end(job, &job->written, &job->nwritten);
    s_job_finish(self, index);
    return true;
}

/* Moves job `index` on; true when it ended, which moves the last job into
 * index. */
static bool
s_job_step(jobs_t *self, size_t index)
{
    switch (self->jobs[index]->phase) {
        case JOB_INPUTS:
            return s_step_inputs(self, index);
        case JOB_RUNNING:
            return s_step_running(self, index);
        case JOB_OUTPUTS:
        default:
            return s_step_outputs(self, index);
    }
}

void
jobs_service(jobs_t *self)
{
    s_jobs_sample(self);
    for (size_t i = 0; i < self->count;) {
        if (!s_job_step(self, i)) {
            i++;
        }
    }
}

static long
s_job_find(const jobs_t *self, uint64_t attempt_id)
{
    for (size_t i = 0; i < self->count; i++) {
        if (self->jobs[i]->attempt_id == attempt_id) {
            return (long) i;
        }
    }
    return -1;
}

static long
s_held_find(const jobs_t *self, uint64_t attempt_id)
{
    for (size_t i = 0; i < self->nheld; i++) {
        if (self->held[i]->attempt_id == attempt_id) {
            return (long) i;
        }
    }
    return -1;
}

/* Removes held task `index` (order kept); caller owns the result. */
static Sluice__Task *
s_held_take(jobs_t *self, size_t index)
{
    Sluice__Task *task = self->held[index];
    memmove(&self->held[index], &self->held[index + 1],
            (self->nheld - index - 1) * sizeof *self->held);
    self->nheld--;
    return task;
}

/* A held attempt cancelled before it started ends as cancelled, like one
 * that ran: its result goes through the outbox. */
static void
s_held_cancel(jobs_t *self, size_t index, const char *reason)
{
    Sluice__Task *task = s_held_take(self, index);
    log_info("worker '%s': attempt %" PRIu64 " cancelled before it started: "
             "%s",
             conn_name(self->conn), task->attempt_id, reason);
    s_recent_add(self, task->attempt_id);
    Sluice__Result *res = xmalloc(sizeof *res);
    *res = (Sluice__Result) SLUICE__RESULT__INIT;
    res->attempt_id = task->attempt_id;
    res->outcome = SLUICE__OUTCOME__OUTCOME_CANCELLED;
    res->exit_code = -1;
    res->ended_ms = (uint64_t) clock_wall_ms();
    res->error = xasprintf("cancelled before it started: %s", reason);
    res->free_slots = s_free_slots(self);
    protobuf_c_message_free_unpacked(&task->base, NULL);
    s_result_send(self, res);
}

/* Its task, or its hasher: the attempt then ends as cancelled. */
static void
s_job_cancel(job_t *job, const char *reason)
{
    if (job->phase == JOB_RUNNING) {
        exec_cancel(job->exec, reason);
        return;
    }
    if (!job->cancelled) {
        job->cancelled = xstrdup(reason);
    }
    hashjob_cancel(job->hasher, reason);
}

void
jobs_cancel(jobs_t *self, uint64_t attempt_id, const char *reason)
{
    long held = s_held_find(self, attempt_id);
    if (held >= 0) {
        s_held_cancel(self, (size_t) held, reason);
        return;
    }
    long at = s_job_find(self, attempt_id);
    if (at < 0) {
        log_debug("worker '%s': cancel of attempt %" PRIu64
                  " which does not run here",
                  conn_name(self->conn), attempt_id);
        return;
    }
    log_info("worker '%s': cancelling attempt %" PRIu64 ": %s",
             conn_name(self->conn), attempt_id, reason);
    s_job_cancel(self->jobs[at], reason);
}

void
jobs_cancel_all(jobs_t *self, const char *reason)
{
    for (size_t i = 0; i < self->count; i++) {
        s_job_cancel(self->jobs[i], reason);
    }
}

/* --------------------------------------------------------------- start */

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

/* Takes the task's GPUs; jobs_check found them free. */
static char *
s_job_gpus(jobs_t *self, const Sluice__Task *task)
{
    char list[GPUS_LIST_SIZE];
    errbuf_t err;
    int rc = gpus_take(self->gpus, task->attempt_id, s_task_gpus(task), list,
                       sizeof list, &err);
    assert(rc == 0);
    return xstrdup(list);
}

/* Keeps the declared outputs, hashed once the task succeeded. */
static void
s_job_io(jobs_t *self, job_t *job, const Sluice__Task *task)
{
    job->work_dir = xasprintf("%s/%" PRIu64, self->work_root, task->attempt_id);
    job->outputs = xcalloc(task->n_outputs + 1, sizeof *job->outputs);
    for (size_t i = 0; i < task->n_outputs; i++) {
        job->outputs[job->noutputs++] = xstrdup(task->outputs[i]);
    }
}

/* A validate task runs this executable's built-in validator
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

/* A file sensor runs the built-in check (`sluice __sensor`), whose
 * settings the scheduler put in the task's env. */
static char *
s_sensor_command(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    return xasprintf("%s __sensor", n > 0 ? exe : "sluice");
}

/* Starts the child with the task's command (or the validator). */
static exec_t *
s_job_exec(jobs_t *self, job_t *job, const Sluice__Task *task)
{
    size_t env_count = 0;
    char **env = s_env_strings(task, job->gpus, &env_count);
    char *validate_cmd =
        job->validate ? s_validate_prepare(task, &env, &env_count) : NULL;
    if (job->sensor_file) {
        validate_cmd = s_sensor_command(); /* runs the same way */
    }
    exec_spec_t spec = {
        .attempt_id = task->attempt_id,
        .run_id = task->run_id,
        .dag = task->dag,
        .task_id = task->task_id,
        .attempt = task->attempt,
        .logical_date = task->logical_date,
        .command = validate_cmd ? validate_cmd : task->command,
        .argv = validate_cmd ? NULL : (const char *const *) task->argv,
        .argc = validate_cmd ? 0 : task->n_argv,
        .env = (const char *const *) env,
        .env_count = env_count,
        .work_root = self->work_root,
        .timeout_ms = task->timeout_ms,
        .kill_grace_ms = task->kill_grace_ms,
        .log_cap = self->log_cap,
        .memory_mb = task->resources ? task->resources->memory_mb : 0,
        .oom_events = self->oom_events,
        .on_log = s_on_log,
        .arg = job,
        .run_as = job->own_uid ? &job->user : self->run_as,
        .limit_nofile = task->limit_nofile,
        .limit_nproc = task->limit_nproc,
        .branch = job->branch};
    exec_t *exec = exec_start(&spec);
    free(validate_cmd);
    for (size_t i = 0; i < env_count; i++) {
        free(env[i]);
    }
    free(env);
    return exec;
}

static void
s_send_task_refused(jobs_t *self, uint64_t attempt_id, const char *reason);

/* Starts the task; false when no uid is free for it, which gives it back
 * to the scheduler to run later or elsewhere. */
static bool
s_job_start(jobs_t *self, const Sluice__Task *task)
{
    exec_user_t user = {0};
    errbuf_t err;
    if (self->uids && uids_take(self->uids, &user, &err) < 0) {
        log_warn("worker '%s': attempt %" PRIu64 " given back: %s",
                 conn_name(self->conn), task->attempt_id, errbuf_msg(&err));
        s_send_task_refused(self, task->attempt_id, errbuf_msg(&err));
        return false;
    }
    job_t *job = xcalloc(1, sizeof *job);
    job->owner = self;
    job->user = user;
    job->own_uid = self->uids != NULL;
    job->attempt_id = task->attempt_id;
    job->run_id = task->run_id;
    job->attempt = task->attempt;
    job->task_id = xstrdup(task->task_id);
    job->gpus = s_job_gpus(self, task);
    s_job_io(self, job, task);
    job->validate = task->kind && !strcmp(task->kind, "validate");
    job->sensor_file = task->kind && !strcmp(task->kind, "sensor") &&
                       (!task->command || !*task->command);
    job->branch = task->kind && !strcmp(task->kind, "branch");
    self->jobs[self->count++] = job;
    if (task->n_inputs == 0) {
        s_job_run(self, job, task);
        return true;
    }
    /* Its inputs are hashed first, so the lineage names the versions it
     * read; the task starts when that is done. */
    job->phase = JOB_INPUTS;
    job->task = msg_task_copy(task);
    job->hasher =
        s_hasher_start(self, job, HASHJOB_INPUTS, task->inputs, task->n_inputs);
    return true;
}

/* Starts the attempt's task. */
static void
s_job_run(jobs_t *self, job_t *job, const Sluice__Task *task)
{
    job->phase = JOB_RUNNING;
    job->exec = s_job_exec(self, job, task);
    log_info("worker '%s': attempt %" PRIu64 " (run %" PRIu64
             " task '%s' try %u) started%s%s%s%s",
             conn_name(self->conn), job->attempt_id, job->run_id, job->task_id,
             job->attempt, *job->gpus ? " on GPUs " : "", job->gpus,
             job->own_uid ? " as " : "", job->own_uid ? job->user.name : "");
}

/* ------------------------------------------------------------ checks */

static char *
s_nonce_key(const uint8_t *nonce, char *hex)
{
    return sodium_bin2hex(hex, 2 * JOBS_NONCE_SIZE + 1, nonce, JOBS_NONCE_SIZE);
}

static bool
s_nonce_seen(const jobs_t *self, const uint8_t *nonce)
{
    char hex[2 * JOBS_NONCE_SIZE + 1];
    return zhashx_lookup(self->nonces, s_nonce_key(nonce, hex)) != NULL;
}

/* Forgets the nonces of expired tasks; when none had expired, the one that
 * expires first (its attempt id still guards against replays). Runs only
 * when the set is full, so a task costs a lookup, not a pass. */
static void
s_nonce_prune(jobs_t *self, int64_t sched_now)
{
    zlistx_t *gone = zlistx_new();
    zlistx_set_destructor(gone, (zlistx_destructor_fn *) zstr_free);
    const char *first = NULL;
    int64_t first_at = INT64_MAX;
    for (void *v = zhashx_first(self->nonces); v;
         v = zhashx_next(self->nonces)) {
        int64_t at = (int64_t) (intptr_t) v;
        const char *key = zhashx_cursor(self->nonces);
        if (at < sched_now) {
            zlistx_add_end(gone, xstrdup(key));
        } else if (at < first_at) {
            first = key;
            first_at = at;
        }
    }
    if (zlistx_size(gone) == 0 && first) {
        zlistx_add_end(gone, xstrdup(first));
    }
    for (char *key = zlistx_first(gone); key; key = zlistx_next(gone)) {
        zhashx_delete(self->nonces, key);
    }
    zlistx_destroy(&gone);
}

/* Remembers a nonce until its task expires, at most JOBS_NONCE_MAX. */
static void
s_nonce_add(jobs_t *self,
            const uint8_t *nonce,
            int64_t expires_ms,
            int64_t sched_now)
{
    if (zhashx_size(self->nonces) >= JOBS_NONCE_MAX) {
        s_nonce_prune(self, sched_now);
    }
    char hex[2 * JOBS_NONCE_SIZE + 1];
    zhashx_insert(self->nonces, s_nonce_key(nonce, hex),
                  (void *) (intptr_t) (expires_ms > 0 ? expires_ms : 1));
}

static bool
s_attempt_known(const jobs_t *self, uint64_t attempt_id)
{
    if (s_job_find(self, attempt_id) >= 0 ||
        s_held_find(self, attempt_id) >= 0 ||
        outbox_has(self->outbox, attempt_id)) {
        return true;
    }
    return attempt_id != 0 &&
           zhashx_lookup(self->recent_set, IDMAP_KEY(attempt_id));
}

/* The checks of a task whose nonce is fresh (and now remembered). */
static jobs_check_t
s_check_fresh(jobs_t *self, const Sluice__Task *task, char *why, size_t size)
{
    errbuf_t err;
    if (s_attempt_known(self, task->attempt_id)) {
        snprintf(why, size, "attempt %" PRIu64 " is already known here",
                 task->attempt_id);
        return JOBS_TASK_KNOWN;
    }
    if (s_free_slots(self) == 0 && self->nheld >= self->prefetch) {
        snprintf(why, size, "no free slot (%u in use, %zu held)", self->slots,
                 self->nheld);
        return JOBS_TASK_NO_SLOT;
    }
    if (s_free_slots(self) == 0) {
        return JOBS_TASK_OK; /* held until a slot frees: GPUs checked then */
    }
    if (gpus_check(self->gpus, s_task_gpus(task), &err) < 0) {
        snprintf(why, size, "%s", errbuf_msg(&err));
        return JOBS_TASK_NO_GPU;
    }
    return JOBS_TASK_OK;
}

jobs_check_t
jobs_check(jobs_t *self, const Sluice__Task *task, char *why, size_t size)
{
    const char *name = conn_name(self->conn);
    int64_t sched_now = conn_sched_now(self->conn);
    if (conn_leaving(self->conn)) {
        snprintf(why, size, "worker is shutting down");
        return JOBS_TASK_LEAVING;
    }
    if (!task->worker || strcmp(task->worker, name) != 0) {
        snprintf(why, size, "task is addressed to worker '%s', not '%s'",
                 task->worker ? task->worker : "", name);
        return JOBS_TASK_MISADDRESSED;
    }
    if ((int64_t) task->expires_ms < sched_now) {
        snprintf(why, size, "task expired %" PRId64 " ms ago",
                 sched_now - (int64_t) task->expires_ms);
        return JOBS_TASK_EXPIRED;
    }
    if (task->nonce.len != JOBS_NONCE_SIZE) {
        snprintf(why, size, "task nonce has %zu bytes, not %d", task->nonce.len,
                 JOBS_NONCE_SIZE);
        return JOBS_TASK_BAD_NONCE;
    }
    if (s_nonce_seen(self, task->nonce.data)) {
        snprintf(why, size, "task nonce was already used (replay)");
        return JOBS_TASK_REPLAYED;
    }
    s_nonce_add(self, task->nonce.data, (int64_t) task->expires_ms, sched_now);
    return s_check_fresh(self, task, why, size);
}

static void
s_send_task_refused(jobs_t *self, uint64_t attempt_id, const char *reason)
{
    Sluice__TaskRefused *msg = xmalloc(sizeof *msg);
    *msg = (Sluice__TaskRefused) SLUICE__TASK_REFUSED__INIT;
    msg->attempt_id = attempt_id;
    msg->reason = xstrdup(reason);
    msg->free_slots = s_free_slots(self);
    conn_send_free(self->conn, SLUICE__MSG_TYPE__MSG_TASK_REFUSED, &msg->base);
}

/* The first declared input or output outside the data roots and the
 * attempt's work dir, with why; false when all are inside (or no root is
 * set). */
static bool
s_paths_outside(const jobs_t *self,
                const Sluice__Task *task,
                const char *work_dir,
                errbuf_t *err)
{
    if (self->ndata_roots == 0) {
        return false;
    }
    for (size_t i = 0; i < task->n_inputs + task->n_outputs; i++) {
        const char *path = i < task->n_inputs
                               ? task->inputs[i]
                               : task->outputs[i - task->n_inputs];
        if (paths_check(path, work_dir, self->data_roots, self->ndata_roots,
                        err) < 0) {
            return true;
        }
    }
    return false;
}

/* A task whose declared paths leave the data roots never starts: it ends
 * at once as refused, through the outbox like any result, and the
 * scheduler fails the attempt with cause `refused` (retried as its policy
 * says). */
static bool
s_paths_refused(jobs_t *self, const Sluice__Task *task)
{
    char *work_dir =
        xasprintf("%s/%" PRIu64, self->work_root, task->attempt_id);
    errbuf_t err;
    bool outside = s_paths_outside(self, task, work_dir, &err);
    free(work_dir);
    if (!outside) {
        return false;
    }
    log_warn("worker '%s': refused attempt %" PRIu64 " (run %" PRIu64
             " task '%s'): %s",
             conn_name(self->conn), task->attempt_id, task->run_id,
             task->task_id ? task->task_id : "", errbuf_msg(&err));
    s_recent_add(self, task->attempt_id);
    Sluice__Result *res = xmalloc(sizeof *res);
    *res = (Sluice__Result) SLUICE__RESULT__INIT;
    res->attempt_id = task->attempt_id;
    res->outcome = SLUICE__OUTCOME__OUTCOME_REFUSED;
    res->exit_code = -1;
    res->ended_ms = (uint64_t) clock_wall_ms();
    res->error = xstrdup(errbuf_msg(&err));
    res->free_slots = s_free_slots(self);
    s_result_send(self, res);
    return true;
}

void
jobs_on_task(jobs_t *self, const Sluice__Task *task)
{
    jobs_ack(self, task->acks, task->n_acks);
    char why[256];
    jobs_check_t check = jobs_check(self, task, why, sizeof why);
    if (check == JOBS_TASK_REPLAYED || check == JOBS_TASK_KNOWN) {
        /* Counted, not answered (PROTOCOL.md section 7): a TaskRefused
         * would make the scheduler give up the attempt that the original
         * message started. */
        errbuf_t err;
        errbuf_set(&err, "task for attempt %" PRIu64 " refused: %s",
                   task->attempt_id, why);
        conn_count_drop(self->conn, ENV_EREPLAYED, &err);
        return;
    }
    if (check != JOBS_TASK_OK) {
        log_warn("worker '%s': refused attempt %" PRIu64 " (run %" PRIu64
                 " task '%s'): %s",
                 conn_name(self->conn), task->attempt_id, task->run_id,
                 task->task_id ? task->task_id : "", why);
        s_send_task_refused(self, task->attempt_id, why);
        return;
    }
    if (s_paths_refused(self, task)) {
        return;
    }
    if (s_free_slots(self) == 0) {
        self->held[self->nheld++] = msg_task_copy(task);
        log_flag(PROTO, "worker '%s': attempt %" PRIu64 " held (prefetch)",
                 conn_name(self->conn), task->attempt_id);
        return;
    }
    s_job_start(self, task);
}

/* Starts held tasks while slots are free; one whose GPUs are taken goes
 * back to the scheduler. */
static void
s_start_held(jobs_t *self)
{
    while (self->nheld > 0 && s_free_slots(self) > 0) {
        Sluice__Task *task = s_held_take(self, 0);
        errbuf_t err;
        if (gpus_check(self->gpus, s_task_gpus(task), &err) < 0) {
            s_send_task_refused(self, task->attempt_id, errbuf_msg(&err));
        } else if (s_job_start(self, task)) {
            self->started[self->nstarted++] = task->attempt_id;
        }
        protobuf_c_message_free_unpacked(&task->base, NULL);
    }
}

void
jobs_return_held(jobs_t *self, const char *reason)
{
    while (self->nheld > 0) {
        Sluice__Task *task = s_held_take(self, 0);
        log_info("worker '%s': attempt %" PRIu64 " returned unstarted: %s",
                 conn_name(self->conn), task->attempt_id, reason);
        s_send_task_refused(self, task->attempt_id, reason);
        protobuf_c_message_free_unpacked(&task->base, NULL);
    }
}
