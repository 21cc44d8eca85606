/* exec — one attempt as a child process; see exec.h. */
#include "worker/exec.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"

#define EXEC_READS_PER_CALL 8    /* chunks per pipe per exec_read: fairness */
#define EXEC_DRAIN_MS       2000 /* pipes may outlive the child this long */
#define EXEC_DEFAULT_PATH   "/usr/local/bin:/usr/bin:/bin"

struct exec_t {
    uint64_t attempt_id;
    pid_t pid;                 /* child and its group id; 0 if not spawned */
    int fd[2];                 /* stdout, stderr read ends; -1 when closed */
    bool reaped;               /* wait4 collected the child */
    int64_t start_mono;        /* monotonic start, for duration and timeout */
    int64_t timeout_at;        /* monotonic deadline, 0 = none */
    int64_t kill_at;           /* monotonic SIGKILL time, 0 = none pending */
    int64_t drain_until;       /* after the reap, pipes close by then */
    uint64_t grace_ms;         /* SIGTERM to SIGKILL */
    uint64_t log_cap;          /* 0 = none */
    uint64_t forwarded;        /* bytes handed to on_log */
    uint64_t seq;              /* last chunk number */
    exec_outcome_t stop_cause; /* TIMED_OUT or CANCELLED once asked, else 0 */
    exec_log_fn *on_log;       /* borrowed callback, may be NULL */
    void *arg;                 /* borrowed callback context */
    exec_result_t result;      /* final once done */
};

/* A growable NULL-terminated string vector (owns its strings). */
typedef struct {
    char **items;
    size_t count;
    size_t cap;
} s_strv_t;

/* The SIGCHLD self-pipe: a signal handler can only reach globals. */
static int s_wake[2] = {-1, -1};

static void
s_on_sigchld(int sig)
{
    (void) sig;
    int saved = errno;
    char byte = 0;
    ssize_t rc = write(s_wake[1], &byte, 1);
    (void) rc; /* a full pipe already wakes the loop */
    errno = saved;
}

int
exec_wake_fd(void)
{
    if (s_wake[0] >= 0) {
        return s_wake[0];
    }
    if (pipe2(s_wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_error("exec: cannot create the SIGCHLD pipe: %s", strerror(errno));
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_sigchld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    return s_wake[0];
}

void
exec_wake_drain(void)
{
    char buf[64];
    while (s_wake[0] >= 0 && read(s_wake[0], buf, sizeof buf) > 0) {
    }
}

static void
s_strv_push(s_strv_t *v, char *item)
{
    if (v->count + 2 > v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->count++] = item;
    v->items[v->count] = NULL;
}

static void
s_strv_free(s_strv_t *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free(v->items[i]);
    }
    free(v->items);
    memset(v, 0, sizeof *v);
}

/* Adds "NAME=VALUE", replacing an earlier entry of the same name. */
static void
s_env_put(s_strv_t *env, const char *entry)
{
    const char *eq = strchr(entry, '=');
    if (!eq || eq == entry) {
        return;
    }
    size_t len = (size_t) (eq - entry) + 1;
    for (size_t i = 0; i < env->count; i++) {
        if (strncmp(env->items[i], entry, len) == 0) {
            free(env->items[i]);
            env->items[i] = xstrdup(entry);
            return;
        }
    }
    s_strv_push(env, xstrdup(entry));
}

static void
s_env_set(s_strv_t *env, const char *name, const char *value)
{
    char *entry = xasprintf("%s=%s", name, value ? value : "");
    s_env_put(env, entry);
    free(entry);
}

static void
s_env_build(s_strv_t *env, const exec_spec_t *spec, const char *work_dir)
{
    const char *path = getenv("PATH");
    s_env_set(env, "PATH", path && *path ? path : EXEC_DEFAULT_PATH);
    static const char *const keep[] = {"HOME", "LANG"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        if (getenv(keep[i])) {
            s_env_set(env, keep[i], getenv(keep[i]));
        }
    }
    for (size_t i = 0; i < spec->env_count; i++) {
        s_env_put(env, spec->env[i]);
    }
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long) spec->run_id);
    s_env_set(env, "SLUICE_RUN_ID", num);
    s_env_set(env, "SLUICE_TASK_ID", spec->task_id);
    snprintf(num, sizeof num, "%u", spec->attempt);
    s_env_set(env, "SLUICE_ATTEMPT", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long) spec->attempt_id);
    s_env_set(env, "SLUICE_ATTEMPT_ID", num);
    s_env_set(env, "SLUICE_DAG", spec->dag);
    s_env_set(env, "SLUICE_LOGICAL_DATE", spec->logical_date);
    s_env_set(env, "SLUICE_OUTPUT_DIR", work_dir);
}

static bool
s_plain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("_./=:,@%+-", c));
}

bool
exec_needs_shell(const char *command)
{
    static const char *const builtins[] = {
        "alias", "break", "case",     "cd",     "command", "continue", "eval",
        "exec",  "exit",  "export",   "for",    "getopts", "hash",     "if",
        "local", "read",  "readonly", "return", "set",     "shift",    "source",
        "times", "trap",  "type",     "ulimit", "umask",   "unalias",  "unset",
        "until", "wait",  "while",    "."};
    if (!command) {
        return true;
    }
    for (const char *p = command; *p; p++) {
        if (*p != ' ' && !s_plain_char(*p)) {
            return true;
        }
    }
    const char *word = command + strspn(command, " ");
    size_t len = strcspn(word, " ");
    if (len == 0 || memchr(word, '=', len)) {
        return true;
    }
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strlen(builtins[i]) == len && memcmp(word, builtins[i], len) == 0) {
            return true;
        }
    }
    return false;
}

/* The executable for a direct exec, searched in the child's PATH. */
static char *
s_resolve(const char *name, const s_strv_t *env)
{
    if (strchr(name, '/')) {
        return xstrdup(name);
    }
    const char *path = EXEC_DEFAULT_PATH;
    for (size_t i = 0; i < env->count; i++) {
        if (strncmp(env->items[i], "PATH=", 5) == 0) {
            path = env->items[i] + 5;
        }
    }
    char *dirs = xstrdup(path);
    char *save = NULL;
    char *found = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d && !found;
         d = strtok_r(NULL, ":", &save)) {
        char *cand = xasprintf("%s/%s", *d ? d : ".", name);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
            access(cand, X_OK) == 0) {
            found = cand;
        } else {
            free(cand);
        }
    }
    free(dirs);
    return found;
}

/* argv and the program path; -1 with err when the program is not found. */
static int
s_argv_build(const char *command,
             const s_strv_t *env,
             s_strv_t *argv,
             char **prog,
             errbuf_t *err)
{
    if (exec_needs_shell(command)) {
        s_strv_push(argv, xstrdup("sh"));
        s_strv_push(argv, xstrdup("-c"));
        s_strv_push(argv, xstrdup(command ? command : ""));
        *prog = xstrdup("/bin/sh");
        return 0;
    }
    char *copy = xstrdup(command);
    char *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
        s_strv_push(argv, xstrdup(w));
    }
    free(copy);
    *prog = s_resolve(argv->items[0], env);
    if (!*prog) {
        errbuf_set(err, "command '%s' was not found in PATH", argv->items[0]);
        return -1;
    }
    return 0;
}

/* Stages the child reports through the error pipe. */
enum {
    S_STAGE_CHDIR = 1,
    S_STAGE_STDIO = 2,
    S_STAGE_EXEC = 3
};

/* In the forked child: only async-signal-safe calls from here on. */
static void __attribute__((noreturn)) s_child(const char *work_dir,
                                              const char *prog,
                                              char **argv,
                                              char **envp,
                                              int out_fd,
                                              int err_fd,
                                              int report_fd)
{
    setpgid(0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGPIPE, SIGINT,  SIGTERM, SIGCHLD,
                               SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int report[2] = {S_STAGE_CHDIR, 0};
    if (chdir(work_dir) == 0) {
        report[0] = S_STAGE_STDIO;
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0 && dup2(null_fd, 0) == 0 && dup2(out_fd, 1) == 1 &&
            dup2(err_fd, 2) == 2) {
            report[0] = S_STAGE_EXEC;
            execve(prog, argv, envp);
        }
    }
    report[1] = errno;
    ssize_t rc = write(report_fd, report, sizeof report);
    (void) rc;
    _exit(127);
}

static void
s_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Waits for the child's exec (or its report of failure). */
static int
s_await_exec(exec_t *self, int report_fd, const char *prog, errbuf_t *err)
{
    int report[2];
    ssize_t n;
    do {
        n = read(report_fd, report, sizeof report);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof report) {
        return 0; /* EOF: execve closed the CLOEXEC pipe */
    }
    static const char *const stage[] = {"", "enter the work dir for",
                                        "set up stdio for", "execute"};
    errbuf_set(err, "cannot %s '%s': %s",
               stage[report[0] >= 1 && report[0] <= 3 ? report[0] : 3], prog,
               strerror(report[1]));
    while (waitpid(self->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    self->pid = 0;
    return -1;
}

static int
s_fork(exec_t *self,
       const char *work_dir,
       const char *prog,
       s_strv_t *argv,
       s_strv_t *env,
       errbuf_t *err)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, report[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        pipe2(report, O_CLOEXEC) < 0) {
        errbuf_set(err, "cannot create pipes: %s", strerror(errno));
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        errbuf_set(err, "cannot fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        s_child(work_dir, prog, argv->items, env->items, out[1], errp[1],
                report[1]);
    }
    setpgid(pid, pid); /* both sides set it: no race with an early kill */
    self->pid = pid;
    s_close(&out[1]);
    s_close(&errp[1]);
    s_close(&report[1]);
    self->fd[0] = out[0];
    self->fd[1] = errp[0];
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(errp[0], F_SETFL, O_NONBLOCK);
    int rc = s_await_exec(self, report[0], prog, err);
    s_close(&report[0]);
    return rc;
fail:
    for (int i = 0; i < 2; i++) {
        s_close(&out[i]);
        s_close(&errp[i]);
        s_close(&report[i]);
    }
    return -1;
}

static int
s_spawn(exec_t *self, const exec_spec_t *spec, errbuf_t *err)
{
    if (statedir_create(spec->work_root, err) < 0) {
        return -1;
    }
    char *work_dir = xasprintf("%s/%llu", spec->work_root,
                               (unsigned long long) spec->attempt_id);
    s_strv_t env = {0}, argv = {0};
    char *prog = NULL;
    int rc = -1;
    if (mkdir(work_dir, 0700) < 0 && errno != EEXIST) {
        errbuf_set(err, "cannot create work dir '%s': %s", work_dir,
                   strerror(errno));
        goto done;
    }
    s_env_build(&env, spec, work_dir);
    if (s_argv_build(spec->command, &env, &argv, &prog, err) < 0) {
        goto done;
    }
    log_flag(EXEC, "exec: attempt %llu runs %s '%s' in %s",
             (unsigned long long) spec->attempt_id,
             strcmp(prog, "/bin/sh") == 0 ? "shell" : "direct", spec->command,
             work_dir);
    rc = s_fork(self, work_dir, prog, &argv, &env, err);
done:
    if (rc < 0) {
        s_close(&self->fd[0]);
        s_close(&self->fd[1]);
    }
    free(prog);
    s_strv_free(&argv);
    s_strv_free(&env);
    free(work_dir);
    return rc;
}

exec_t *
exec_start(const exec_spec_t *spec)
{
    assert(spec && spec->work_root);
    exec_wake_fd(); /* the handler must exist before the child can exit */
    exec_t *self = xcalloc(1, sizeof *self);
    self->attempt_id = spec->attempt_id;
    self->fd[0] = self->fd[1] = -1;
    self->grace_ms = spec->kill_grace_ms;
    self->log_cap = spec->log_cap;
    self->on_log = spec->on_log;
    self->arg = spec->arg;
    self->result.started_ms = clock_wall_ms();
    self->start_mono = clock_mono_ms();
    if (spec->timeout_ms) {
        self->timeout_at = self->start_mono + (int64_t) spec->timeout_ms;
    }
    errbuf_t err;
    errbuf_clear(&err);
    if (s_spawn(self, spec, &err) < 0) {
        self->pid = 0;
        self->result.outcome = EXEC_SPAWN_FAILED;
        snprintf(self->result.error, sizeof self->result.error, "%s",
                 errbuf_msg(&err));
        self->result.ended_ms = clock_wall_ms();
    }
    return self;
}

void
exec_destroy(exec_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    exec_t *self = *self_p;
    if (self->pid > 0 && !self->reaped) {
        kill(-self->pid, SIGKILL);
        while (waitpid(self->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    s_close(&self->fd[0]);
    s_close(&self->fd[1]);
    free(self);
    *self_p = NULL;
}

int
exec_fds(const exec_t *self, int *fds)
{
    int count = 0;
    for (int i = 0; i < 2; i++) {
        if (self->fd[i] >= 0) {
            fds[count++] = self->fd[i];
        }
    }
    return count;
}

static void
s_emit(exec_t *self, int stream, const void *data, size_t size)
{
    self->result.log_chunks++;
    self->seq++;
    if (self->on_log) {
        self->on_log(self->arg, self, stream, self->seq, data, size);
    }
}

/* Forwards what fits under the cap; past it, counts and drops, with one
 * note so readers of the log know it is incomplete. */
static void
s_consume(exec_t *self, int stream, const char *data, size_t size)
{
    self->result.log_bytes += size;
    size_t take = size;
    if (self->log_cap) {
        uint64_t room = self->log_cap > self->forwarded
                            ? self->log_cap - self->forwarded
                            : 0;
        take = size < room ? size : (size_t) room;
    }
    if (take > 0) {
        s_emit(self, stream, data, take);
        self->forwarded += take;
    }
    if (take < size && !self->result.log_truncated) {
        self->result.log_truncated = true;
        char note[96];
        int n = snprintf(note, sizeof note, "log capped at %llu bytes\n",
                         (unsigned long long) self->log_cap);
        s_emit(self, 3, note, (size_t) n);
    }
}

static void
s_read_pipe(exec_t *self, int index)
{
    char buf[EXEC_CHUNK_MAX];
    for (int i = 0; i < EXEC_READS_PER_CALL && self->fd[index] >= 0; i++) {
        ssize_t n = read(self->fd[index], buf, sizeof buf);
        if (n > 0) {
            s_consume(self, index + 1, buf, (size_t) n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            s_close(&self->fd[index]); /* EOF or a real error */
        }
    }
}

void
exec_read(exec_t *self)
{
    s_read_pipe(self, 0);
    s_read_pipe(self, 1);
}

static void
s_signal_group(exec_t *self, int sig)
{
    if (self->pid > 0 && kill(-self->pid, sig) < 0 && errno != ESRCH) {
        log_warn("exec: cannot signal attempt %llu (group %d): %s",
                 (unsigned long long) self->attempt_id, (int) self->pid,
                 strerror(errno));
    }
}

/* SIGTERM now, SIGKILL after the grace; the first cause sticks. */
static void
s_stop(exec_t *self, exec_outcome_t cause, const char *reason)
{
    if (self->stop_cause || self->reaped || self->pid <= 0) {
        return;
    }
    self->stop_cause = cause;
    snprintf(self->result.error, sizeof self->result.error, "%s",
             reason ? reason : "");
    if (self->grace_ms == 0) {
        s_signal_group(self, SIGKILL);
        return;
    }
    s_signal_group(self, SIGTERM);
    self->kill_at = clock_mono_ms() + (int64_t) self->grace_ms;
}

void
exec_cancel(exec_t *self, const char *reason)
{
    s_stop(self, EXEC_CANCELLED, reason ? reason : "cancelled");
}

static void
s_finish(exec_t *self, int status, const struct rusage *ru)
{
    exec_result_t *r = &self->result;
    r->ended_ms = clock_wall_ms();
    r->duration_ms = clock_mono_ms() - self->start_mono;
    r->peak_rss_kb = (uint64_t) ru->ru_maxrss; /* Linux reports KiB */
    if (WIFSIGNALED(status)) {
        r->signal = WTERMSIG(status);
    }
    if (self->stop_cause) {
        r->outcome = self->stop_cause;
        r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    } else if (WIFEXITED(status)) {
        r->outcome = EXEC_EXITED;
        r->exit_code = WEXITSTATUS(status);
    } else {
        r->outcome = EXEC_SIGNALED;
        r->exit_code = -1;
    }
}

static void
s_reap(exec_t *self)
{
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    pid_t got;
    do {
        got = wait4(self->pid, &status, WNOHANG, &ru);
    } while (got < 0 && errno == EINTR);
    if (got != self->pid) {
        return;
    }
    self->reaped = true;
    self->kill_at = 0;
    s_finish(self, status, &ru);
    /* Grandchildren left in the group would keep the pipes open. */
    kill(-self->pid, SIGKILL);
    self->drain_until = clock_mono_ms() + EXEC_DRAIN_MS;
}

void
exec_tick(exec_t *self)
{
    if (self->pid <= 0) {
        return;
    }
    if (!self->reaped) {
        s_reap(self);
    }
    int64_t now = clock_mono_ms();
    if (!self->reaped) {
        if (self->timeout_at && now >= self->timeout_at) {
            s_stop(self, EXEC_TIMED_OUT, "timed out");
        }
        if (self->kill_at && now >= self->kill_at) {
            self->kill_at = 0;
            s_signal_group(self, SIGKILL);
        }
    } else if (now >= self->drain_until &&
               (self->fd[0] >= 0 || self->fd[1] >= 0)) {
        exec_read(self); /* a process outside the group holds a pipe */
        s_close(&self->fd[0]);
        s_close(&self->fd[1]);
    }
}

int64_t
exec_next_deadline(const exec_t *self)
{
    if (self->pid <= 0) {
        return -1;
    }
    if (self->reaped) {
        return self->fd[0] >= 0 || self->fd[1] >= 0 ? self->drain_until : -1;
    }
    int64_t next = -1;
    if (self->timeout_at && !self->stop_cause) {
        next = self->timeout_at;
    }
    if (self->kill_at && (next < 0 || self->kill_at < next)) {
        next = self->kill_at;
    }
    return next;
}

bool
exec_done(const exec_t *self)
{
    return (self->pid <= 0 || self->reaped) && self->fd[0] < 0 &&
           self->fd[1] < 0;
}

const exec_result_t *
exec_result(const exec_t *self)
{
    return &self->result;
}

uint64_t
exec_attempt_id(const exec_t *self)
{
    return self->attempt_id;
}

int
exec_pid(const exec_t *self)
{
    return self->pid > 0 ? (int) self->pid : 0;
}

int
exec_wait(exec_t *self, int64_t timeout_ms)
{
    int64_t end = clock_mono_ms() + timeout_ms;
    while (true) {
        exec_wake_drain();
        exec_read(self);
        exec_tick(self);
        if (exec_done(self)) {
            return 0;
        }
        int64_t now = clock_mono_ms();
        if (now >= end) {
            return -1;
        }
        int64_t wait = end - now;
        int64_t next = exec_next_deadline(self);
        if (next >= 0 && next - now < wait) {
            wait = next > now ? next - now : 0;
        }
        struct pollfd pfd[3];
        int fds[2];
        int n = exec_fds(self, fds);
        for (int i = 0; i < n; i++) {
            pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        }
        pfd[n++] = (struct pollfd){.fd = exec_wake_fd(), .events = POLLIN};
        poll(pfd, (nfds_t) n, (int) wait);
    }
}

const char *
exec_describe(const exec_result_t *r, char *buf, size_t size)
{
    switch (r->outcome) {
        case EXEC_EXITED:
            snprintf(buf, size, "exited %d", r->exit_code);
            break;
        case EXEC_SIGNALED:
            snprintf(buf, size, "killed by signal %d (%s)", r->signal,
                     strsignal(r->signal));
            break;
        case EXEC_TIMED_OUT:
            snprintf(buf, size, "timed out");
            break;
        case EXEC_CANCELLED:
            snprintf(buf, size, "cancelled (%s)", r->error);
            break;
        case EXEC_SPAWN_FAILED:
            snprintf(buf, size, "failed to start: %s", r->error);
            break;
        default:
            snprintf(buf, size, "running");
            break;
    }
    return buf;
}
