/* exec — runs one attempt as a child process in its own process group.
 *
 * The child gets a per-attempt work dir (WORK_ROOT/<attempt_id>, 0700), a
 * minimal environment plus the task's and the SLUICE_* variables, stdin from
 * /dev/null, two non-blocking pipes for stdout and stderr and no other fd.
 * The scheduler's words (Task.argv) are exec'd directly, as is a command
 * without shell syntax (common/shell.h; as make does, searched in the
 * child's PATH); anything else runs under /bin/sh -c. Children start
 * with posix_spawn, whose cost does not grow with the worker's memory; each
 * start leaves an empty WORK_ROOT/.spare that the next start renames into
 * place. A task that must change user (run_as) or set rlimits starts
 * with fork instead, and the child does only system calls before exec:
 * setrlimit, setgroups, setgid, setuid (its failures come back over a
 * close-on-exec pipe). Memory is not an rlimit: RLIMIT_AS counts address
 * space, not memory (it breaks JVMs, CUDA and sanitizers), so memory_mb
 * is enforced by sampling the group's RSS. Nothing here blocks: the caller polls exec_fds() and
 * exec_wake_fd() in its own loop and calls exec_read and exec_tick. */
#ifndef SLUICE_EXEC_H
#define SLUICE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/errbuf.h"

#define EXEC_CHUNK_MAX 16384 /* bytes per log chunk */
#define EXEC_SAMPLE_MS 100   /* memory sampling period under a limit */

/* Values equal Sluice__Outcome so the worker can copy them (jobs.c asserts
 * it at compile time, one value at a time). */
typedef enum {
    EXEC_RUNNING = 0,
    EXEC_EXITED = 1,
    EXEC_SIGNALED = 2,
    EXEC_TIMED_OUT = 3,
    EXEC_CANCELLED = 4,
    EXEC_SPAWN_FAILED = 5,
    EXEC_OOM = 6, /* over its memory limit, or the kernel's OOM killer */
} exec_outcome_t;

typedef struct exec_t exec_t;

/* Who a task runs as when that is not the worker itself (a root worker's
 * --run-as): its ids, and its name for messages. */
typedef struct {
    uid_t uid;
    gid_t gid;
    char name[64];
    /* One attempt's own uid (uids.h): its only supplementary group is
     * `shared`, the group every attempt's uid belongs to, and it starts
     * with umask 002, so that in a data dir of that group (setgid) the
     * tasks after it, each under another uid, can read and rewrite what it
     * wrote. Its work dir stays 0700. */
    bool per_attempt;
    gid_t shared;
} exec_user_t;

/* Looks up a user by name (or a numeric uid); -1 with err when unknown. */
int exec_user_lookup(const char *name, exec_user_t *user, errbuf_t *err);

/* Who tasks run as, from --run-as (flag may be NULL): a root worker runs
 * them as `flag`, default "nobody"; any other worker runs them as itself
 * and refuses a flag naming another user. *user is NULL when tasks run as
 * the worker, else owned by the caller. */
int exec_run_as(const char *flag, exec_user_t **user, errbuf_t *err);

/* Creates work_root, and when tasks run as other users (who names them
 * for messages; NULL: as the worker) lets them reach their own work dirs:
 * state_dir and work_root become 0711 (enter, not list); everything in
 * them stays private to its owner. */
int exec_work_root_prepare(const char *state_dir,
                           const char *work_root,
                           const char *who,
                           errbuf_t *err);

/* Called for every chunk read: stream 1 stdout, 2 stderr, 3 sluice notes;
 * seq counts chunks from 1 per attempt. data is borrowed for the call. */
typedef void(exec_log_fn)(void *arg,
                          exec_t *exec,
                          int stream,
                          uint64_t seq,
                          const void *data,
                          size_t size);

/* What to run. Every pointer is borrowed for the exec_start call only. */
typedef struct {
    uint64_t attempt_id;
    uint64_t run_id;
    const char *dag;
    const char *task_id;
    uint32_t attempt;         /* 1-based try number */
    const char *logical_date; /* YYYY-MM-DD */
    const char *command;
    /* When argc > 0 the child is argv, exec'd directly (command is then
     * only for messages); else command decides: direct or /bin/sh -c. */
    const char *const *argv;
    size_t argc;
    const char *const *env; /* "NAME=VALUE" strings, env_count of them */
    size_t env_count;
    const char *work_root;  /* the attempt dir is created below it */
    uint64_t timeout_ms;    /* 0 = none */
    uint64_t kill_grace_ms; /* SIGTERM to SIGKILL; 0 = kill at once */
    uint64_t log_cap;       /* bytes forwarded per attempt; 0 = no cap */
    uint64_t memory_mb;     /* limit on the group's RSS (MiB); 0 = none */
    const char *oom_events; /* mem_oom_events_path(), or NULL: where the
                               kernel counts OOM kills */
    exec_log_fn *on_log;    /* may be NULL */
    void *arg;              /* passed to on_log */
    /* NULL: as the worker; else the child drops to this uid/gid (the
     * worker must be root) and owns its work dir: a fixed account
     * (--run-as) or the attempt's own uid (uids.h). */
    const exec_user_t *run_as;
    /* RLIMIT_NOFILE and RLIMIT_NPROC for the child; 0 = the worker's. */
    uint32_t limit_nofile;
    uint32_t limit_nproc;
    bool branch; /* kind branch: $SLUICE_BRANCH names the file of its
                    choice */
} exec_spec_t;

/* The outcome, filled when exec_done() is true. */
typedef struct {
    exec_outcome_t outcome;
    int exit_code;        /* EXEC_EXITED */
    int signal;           /* the signal that ended the child, if any */
    int64_t started_ms;   /* wall clock */
    int64_t ended_ms;     /* wall clock */
    int64_t duration_ms;  /* monotonic */
    uint64_t peak_rss_kb; /* max of the group's sampled RSS and ru_maxrss */
    char error[256];      /* SPAWN_FAILED / CANCELLED / OOM reason, else "" */
    uint64_t log_chunks;  /* chunks handed to on_log (notes included) */
    uint64_t log_bytes;   /* bytes produced, including dropped ones */
    bool log_truncated;   /* the cap was reached */
} exec_result_t;

/* Starts the attempt. Never NULL: a spawn failure gives a handle that is
 * already done with EXEC_SPAWN_FAILED and the reason in result.error.
 * Caller owns the result. */
exec_t *exec_start(const exec_spec_t *spec);

/* Kills the group and reaps the child if it still runs (blocking, bounded),
 * closes the pipes, frees and nulls *self_p; accepts NULL. */
void exec_destroy(exec_t **self_p);

/* The read end of the process-wide SIGCHLD self-pipe (installs the handler
 * on first use); poll it for input and call exec_wake_drain when readable. */
int exec_wake_fd(void);

/* Empties the self-pipe. */
void exec_wake_drain(void);

/* Fills fds with the pipe fds still open (at most 2); returns the count. */
int exec_fds(const exec_t *self, int *fds);

/* Reads what is available on the pipes without blocking, calling on_log. */
void exec_read(exec_t *self);

/* Reaps the child if it exited, escalates timeouts and cancels (SIGTERM,
 * then SIGKILL after the grace), closes pipes that outlive the child. */
void exec_tick(exec_t *self);

/* Monotonic ms when the group's memory is next due for exec_sample, 0 when
 * no limit is set or the group has ended or been killed. */
int64_t exec_sample_at(const exec_t *self);

/* Applies rss_kb, the group's memory now (mem_group_rss_kb of exec_pid),
 * and makes the next sample due EXEC_SAMPLE_MS later. Keeps the peak; over
 * the limit, SIGKILL to the group at once and the outcome is EXEC_OOM with
 * "used N MB, over its memory limit of M MB" as the error. The caller
 * samples so that one pass over /proc serves every attempt it runs. */
void exec_sample(exec_t *self, uint64_t rss_kb);

/* Monotonic ms when exec_tick or exec_sample next has work to do, or -1
 * when none. */
int64_t exec_next_deadline(const exec_t *self);

/* Cancels: SIGTERM to the group, SIGKILL after the grace; the outcome is
 * EXEC_CANCELLED with reason as the error (copied). No-op once done or
 * already cancelled or timed out. */
void exec_cancel(exec_t *self, const char *reason);

/* True once the child is reaped and both pipes are closed. */
bool exec_done(const exec_t *self);

/* The result; final once exec_done() is true. Borrowed. */
const exec_result_t *exec_result(const exec_t *self);

uint64_t exec_attempt_id(const exec_t *self);

/* The child's pid (and process group id), 0 when the spawn failed. */
int exec_pid(const exec_t *self);

/* Runs exec_read, exec_sample and exec_tick in a poll loop until done or
 * timeout_ms has passed; for tests and tools. Returns 0 when done, -1 on
 * timeout. */
int exec_wait(exec_t *self, int64_t timeout_ms);

/* Human text for an outcome: "exited 3", "killed by signal 9",
 * "timed out", "cancelled", "failed to start", "out of memory". Writes into
 * buf. */
const char *exec_describe(const exec_result_t *result, char *buf, size_t size);

#endif
