/* jobs — the attempts a worker runs: tasks checked and started as child
 * processes (exec.h), their log chunks streamed and kept, their results
 * written to the outbox before they are sent, and sent again after every
 * Welcome until the scheduler acknowledges them.
 *
 * Sends through the connection (conn.h), which knows nothing of jobs. */
#ifndef SLUICE_JOBS_H
#define SLUICE_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/sluice.pb-c.h"
#include "worker/conn.h"
#include "worker/exec.h"
#include "worker/gpus.h"
#include "worker/logkeep.h"
#include "worker/outbox.h"
#include "worker/uids.h"
#include "worker/workdirs.h"

typedef struct jobs_t jobs_t;

/* What a task check found: whether a task may start, and if not, why.
 * Replays are counted and not answered (PROTOCOL.md section 7); every
 * other refusal is answered with a TaskRefused. */
typedef enum {
    JOBS_TASK_OK = 0,
    JOBS_TASK_LEAVING,      /* the worker is shutting down */
    JOBS_TASK_MISADDRESSED, /* addressed to another worker */
    JOBS_TASK_EXPIRED,      /* its expiry passed on the scheduler's clock */
    JOBS_TASK_BAD_NONCE,    /* its nonce has the wrong size */
    JOBS_TASK_REPLAYED,     /* its nonce was used before */
    JOBS_TASK_KNOWN,        /* its attempt runs or ran here */
    JOBS_TASK_NO_SLOT,      /* every slot is in use */
    JOBS_TASK_NO_GPU,       /* the GPUs it asks for are not free */
} jobs_check_t;

/* Where jobs run and what they share with the rest of the worker. The
 * strings are copied; gpus, outbox, logkeep and conn are borrowed for the
 * life of jobs_t. */
typedef struct {
    uint32_t slots;
    uint32_t prefetch;         /* tasks held beyond the slots, started as
                                  slots free (0: none) */
    const char *work_root;     /* DIR/work: each attempt gets its own dir */
    workdirs_t *workdirs;      /* removes (or keeps, when it failed) an
                                  ended attempt's dir; NULL: left there */
    uint64_t hash_timeout_ms;  /* hashing one attempt's inputs or outputs
                                  (0: HASHJOB_DEFAULT_TIMEOUT_MS) */
    const exec_user_t *run_as; /* who every task runs as; NULL = this
                                  process, or each attempt its own uid */
    uids_t *uids;              /* per-attempt uids (a root worker), or NULL */
    char *const *data_roots;   /* resolved --data-root dirs (copied) */
    size_t ndata_roots;        /* 0: declared paths may lie anywhere */
    const char *oom_events;    /* the cgroup's OOM-kill counter, or NULL */
    uint64_t log_cap;          /* log bytes forwarded per attempt */
    gpus_t *gpus;              /* which attempt holds which device */
    outbox_t *outbox;          /* results until acknowledged */
    logkeep_t *logkeep;        /* log chunks until their result is acked */
    conn_t *conn;              /* sends; says whether the worker is leaving */
} jobs_config_t;

/* No jobs yet; owned by the caller. */
jobs_t *jobs_new(const jobs_config_t *config);

/* Frees the jobs (their children are not waited for); accepts NULL and a
 * NULL *self_p. */
void jobs_destroy(jobs_t **self_p);

/* The log cap in force (the smaller of ours and the scheduler's); for
 * attempts started from now on. */
void jobs_set_log_cap(jobs_t *self, uint64_t log_cap);

/* Whether task may start here; why gets the reason (size bytes) when it
 * may not. A task with a fresh nonce has its nonce remembered. */
jobs_check_t
jobs_check(jobs_t *self, const Sluice__Task *task, char *why, size_t size);

/* A Task from the scheduler: acknowledges the results it names, then
 * starts it, refuses it, or counts it as a replay. A task that declares
 * an input or output outside the data roots ends at once as
 * OUTCOME_REFUSED (the scheduler's cause `refused`); so does one whose
 * declared input is refused when it is hashed (a link on its path, a
 * FIFO, /proc: datahash.h), before its command starts. Inputs are hashed
 * and outputs after a success, each in a child (hashjob.h) that holds
 * the attempt's slot; the Result goes when that is done. */
void jobs_on_task(jobs_t *self, const Sluice__Task *task);

/* The scheduler committed these results: forget them. */
void jobs_ack(jobs_t *self, const uint64_t *ids, size_t n);

/* Cancels the attempt, when it runs here, with reason (for its log). */
void jobs_cancel(jobs_t *self, uint64_t attempt_id, const char *reason);

/* Gives every held (prefetched, not started) task back to the scheduler
 * with reason: it queues them again without counting a retry. */
void jobs_return_held(jobs_t *self, const char *reason);

/* Cancels every running attempt. */
void jobs_cancel_all(jobs_t *self, const char *reason);

/* Sends every kept log chunk, then every result in the outbox (after a
 * Welcome). */
void jobs_resend(jobs_t *self);

/* Reads pipes, samples memory, escalates timers, reaps; a finished
 * attempt's result goes to the outbox, then to the scheduler. */
void jobs_service(jobs_t *self);

/* Attempts running now. */
size_t jobs_count(const jobs_t *self);

/* Slots, free slots and running ids for Register and Heartbeat; the ids
 * are owned by the caller (free load->running). */
void jobs_load(const jobs_t *self, conn_load_t *load);

/* The earliest deadline of any attempt (monotonic ms), -1 for none. */
int64_t jobs_next_deadline(const jobs_t *self);

/* Fills fds (cap entries) with every pipe to poll; returns the count. */
size_t jobs_fds(const jobs_t *self, int *fds, size_t cap);

#endif
