/* exec — one attempt as a child process; see exec.h. */
#include "worker/exec.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/shell.h"
#include "common/statedir.h"
#include "common/taskresult.h"
#include "common/xalloc.h"
#include "worker/mem.h"

#define EXEC_READS_PER_CALL 8    /* chunks per pipe per exec_read: fairness */
#define EXEC_DRAIN_MS       2000 /* pipes may outlive the child this long */
#define EXEC_DEFAULT_PATH   "/usr/local/bin:/usr/bin:/bin"
#define EXEC_SPARE_DIR      ".spare" /* in WORK_ROOT: the next work dir */

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
    exec_outcome_t stop_cause; /* TIMED_OUT, CANCELLED or OOM, else 0 */
    uint64_t mem_limit_kb;     /* on the group's RSS; 0 = none */
    int64_t sample_at;         /* monotonic next memory sample, 0 = none */
    uint64_t peak_kb;          /* largest group RSS sampled */
    char *oom_events;          /* owned path of the OOM-kill counter, or NULL */
    bool oom_known;            /* oom_before was read */
    uint64_t oom_before;       /* the counter when the attempt started */
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

/* Adds "NAME=VALUE" (taking it), replacing an earlier entry of the same
 * name; drops an entry without a name. */
static void
s_env_take(s_strv_t *env, char *entry)
{
    const char *eq = strchr(entry, '=');
    if (!eq || eq == entry) {
        free(entry);
        return;
    }
    size_t len = (size_t) (eq - entry) + 1;
    for (size_t i = 0; i < env->count; i++) {
        if (strncmp(env->items[i], entry, len) == 0) {
            free(env->items[i]);
            env->items[i] = entry;
            return;
        }
    }
    s_strv_push(env, entry);
}

static void
s_env_set(s_strv_t *env, const char *name, const char *value)
{
    s_env_take(env, xasprintf("%s=%s", name, value ? value : ""));
}

static void
s_env_build(s_strv_t *env, const exec_spec_t *spec, const char *work_dir)
{
    const char *path = getenv("PATH");
    s_env_set(env, "PATH", path && *path ? path : EXEC_DEFAULT_PATH);
    static const char *const keep[] = {"HOME", "LANG"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *value = getenv(keep[i]);
        if (value) {
            s_env_set(env, keep[i], value);
        }
    }
    for (size_t i = 0; i < spec->env_count; i++) {
        s_env_take(env, xstrdup(spec->env[i]));
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
    s_env_take(env, xasprintf("SLUICE_METRICS=%s/metrics.json", work_dir));
    s_env_take(env, xasprintf("SLUICE_RESULT=%s/" TASKRESULT_FILE, work_dir));
    if (spec->branch) {
        s_env_take(env, xasprintf("SLUICE_BRANCH=%s/" TASKRESULT_BRANCH_FILE,
                                  work_dir));
    }
    if (spec->run_as) {
        s_env_set(env, "HOME", work_dir); /* not the worker's home */
        s_env_set(env, "USER", spec->run_as->name);
    }
}

/* The PATH entry of the child's environment, or NULL. */
static const char *
s_env_path(const s_strv_t *env)
{
    for (size_t i = 0; i < env->count; i++) {
        if (strncmp(env->items[i], "PATH=", 5) == 0) {
            return env->items[i] + 5;
        }
    }
    return NULL;
}

/* The executable for name in the directories of path, as execvp would find
 * it; NULL when none. Only used when the child's PATH differs from ours,
 * because posix_spawnp searches the parent's PATH. */
static char *
s_resolve(const char *name, const char *path)
{
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

/* How the child is started: argv, and the program for posix_spawn or the
 * name posix_spawnp searches in PATH. */
typedef struct {
    s_strv_t argv; /* owned */
    char *prog;    /* owned: a path, or a bare name when search is true */
    bool search;   /* posix_spawnp: look prog up in PATH */
    bool shell;    /* runs under /bin/sh -c */
} s_launch_t;

static void
s_launch_free(s_launch_t *launch)
{
    s_strv_free(&launch->argv);
    free(launch->prog);
    launch->prog = NULL;
}

/* Direct exec of a bare name: let posix_spawnp search when the child's PATH
 * is ours (the usual case, no syscalls here), else search it ourselves. */
static int
s_launch_lookup(s_launch_t *launch, const s_strv_t *env, errbuf_t *err)
{
    const char *name = launch->argv.items[0];
    const char *child_path = s_env_path(env);
    const char *own_path = getenv("PATH");
    if (own_path && *own_path && child_path &&
        strcmp(own_path, child_path) == 0) {
        launch->prog = xstrdup(name);
        launch->search = true;
        return 0;
    }
    launch->prog = s_resolve(name, child_path ? child_path : EXEC_DEFAULT_PATH);
    if (!launch->prog) {
        errbuf_set(err, "command '%s' was not found in PATH", name);
        return -1;
    }
    return 0;
}

/* argv and the program; -1 with err when the program is not found. The
 * scheduler's words when it sent them (each value one argument), else the
 * command, split on spaces when it needs no shell. */
static int
s_launch_build(s_launch_t *launch,
               const exec_spec_t *spec,
               const s_strv_t *env,
               errbuf_t *err)
{
    const char *command = spec->command;
    if (spec->argc > 0) {
        for (size_t i = 0; i < spec->argc; i++) {
            s_strv_push(&launch->argv, xstrdup(spec->argv[i]));
        }
    } else if (shell_needed(command)) {
        s_strv_push(&launch->argv, xstrdup("sh"));
        s_strv_push(&launch->argv, xstrdup("-c"));
        s_strv_push(&launch->argv, xstrdup(command ? command : ""));
        launch->prog = xstrdup("/bin/sh");
        launch->shell = true;
        return 0;
    } else {
        char *copy = xstrdup(command);
        char *save = NULL;
        for (char *w = strtok_r(copy, " ", &save); w;
             w = strtok_r(NULL, " ", &save)) {
            s_strv_push(&launch->argv, xstrdup(w));
        }
        free(copy);
    }
    if (strchr(launch->argv.items[0], '/')) {
        launch->prog = xstrdup(launch->argv.items[0]);
        return 0;
    }
    return s_launch_lookup(launch, env, err);
}

static void
s_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* The child's setup, done by posix_spawn between clone and exec: its own
 * process group, default dispositions for what we or czmq handle or
 * ignore, an empty mask. */
static void
s_attr_init(posix_spawnattr_t *attr)
{
    static const int sigs[] = {SIGPIPE, SIGINT,  SIGTERM, SIGCHLD,
                               SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2};
    sigset_t dfl, none;
    sigemptyset(&dfl);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaddset(&dfl, sigs[i]);
    }
    sigemptyset(&none);
    posix_spawnattr_init(attr);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP |
                                       POSIX_SPAWN_SETSIGMASK |
                                       POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(attr, 0);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &dfl);
}

/* The work dir, stdin from /dev/null, stdout and stderr to the pipes, and
 * nothing else: fds someone opened without O_CLOEXEC (libraries, a test
 * harness) would otherwise leak into every task. */
static int
s_actions_init(posix_spawn_file_actions_t *fa,
               const char *work_dir,
               int out_fd,
               int err_fd)
{
    posix_spawn_file_actions_init(fa);
    if (posix_spawn_file_actions_addchdir_np(fa, work_dir) != 0 ||
        posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0) !=
            0 ||
        posix_spawn_file_actions_adddup2(fa, out_fd, 1) != 0 ||
        posix_spawn_file_actions_adddup2(fa, err_fd, 2) != 0 ||
        posix_spawn_file_actions_addclosefrom_np(fa, 3) != 0) {
        posix_spawn_file_actions_destroy(fa);
        return -1;
    }
    return 0;
}

/* Says why posix_spawn failed with error: the file actions and the exec
 * share one errno, so look at which step can fail that way. */
static void
s_spawn_error(const s_launch_t *launch,
              const char *work_dir,
              int error,
              errbuf_t *err)
{
    if (access(work_dir, X_OK) < 0) {
        errbuf_set(err, "cannot enter the work dir '%s': %s", work_dir,
                   strerror(errno));
    } else if (launch->search && error == ENOENT) {
        errbuf_set(err, "command '%s' was not found in PATH", launch->prog);
    } else if (access("/dev/null", R_OK) < 0) {
        errbuf_set(err, "cannot open '/dev/null' for stdin: %s",
                   strerror(errno));
    } else {
        errbuf_set(err, "cannot execute '%s': %s", launch->prog,
                   strerror(error));
    }
}

/* posix_spawn is clone(CLONE_VM|CLONE_VFORK) in glibc: no page tables are
 * copied, so its cost does not grow with the worker, and it returns only
 * once the child has exec'd or failed, with the failure as its result. */
static int
s_posix_spawn(exec_t *self,
              const char *work_dir,
              const s_launch_t *launch,
              char **envp,
              errbuf_t *err)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        errbuf_set(err, "cannot create pipes: %s", strerror(errno));
        goto done;
    }
    posix_spawn_file_actions_t fa;
    if (s_actions_init(&fa, work_dir, out[1], errp[1]) < 0) {
        errbuf_set(err, "cannot set up the child's stdio: out of memory");
        goto done;
    }
    posix_spawnattr_t attr;
    s_attr_init(&attr);
    pid_t pid = 0;
    int rc;
    if (launch->search) {
        rc = posix_spawnp(&pid, launch->prog, &fa, &attr, launch->argv.items,
                          envp);
    } else {
        rc = posix_spawn(&pid, launch->prog, &fa, &attr, launch->argv.items,
                         envp);
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        s_spawn_error(launch, work_dir, rc, err); /* glibc reaped it */
        goto done;
    }
    self->pid = pid;
    self->fd[0] = out[0];
    self->fd[1] = errp[0];
    out[0] = errp[0] = -1;
    fcntl(self->fd[0], F_SETFL, O_NONBLOCK);
    fcntl(self->fd[1], F_SETFL, O_NONBLOCK);
done:
    for (int i = 0; i < 2; i++) {
        s_close(&out[i]);
        s_close(&errp[i]);
    }
    return self->pid > 0 ? 0 : -1;
}

/* ------------------------------------------------------ fork path */

int
exec_user_lookup(const char *name, exec_user_t *user, errbuf_t *err)
{
    char *end = NULL;
    unsigned long id = strtoul(name, &end, 10);
    struct passwd *pw =
        *name && end && !*end ? getpwuid((uid_t) id) : getpwnam(name);
    if (!pw) {
        errbuf_set(err,
                   "there is no user '%s' on this machine; create it or name "
                   "another with --run-as",
                   name);
        return -1;
    }
    /* A fixed account: its own groups only, nothing per attempt. */
    *user = (exec_user_t){.uid = pw->pw_uid, .gid = pw->pw_gid};
    snprintf(user->name, sizeof user->name, "%s", pw->pw_name);
    return 0;
}

int
exec_run_as(const char *flag, exec_user_t **user, errbuf_t *err)
{
    *user = NULL;
    exec_user_t found;
    if (geteuid() != 0) {
        if (flag && (exec_user_lookup(flag, &found, err) < 0 ||
                     found.uid != geteuid())) {
            errbuf_set(err,
                       "--run-as '%s' needs a worker started as root; this "
                       "one runs as uid %u and runs its tasks as itself, so "
                       "drop --run-as or start the worker as root",
                       flag, (unsigned) geteuid());
            return -1;
        }
        return 0;
    }
    if (exec_user_lookup(flag ? flag : "nobody", &found, err) < 0) {
        return -1;
    }
    if (found.uid == 0) {
        log_warn("--run-as '%s': tasks run as root, with every privilege "
                 "of this machine",
                 found.name);
        return 0;
    }
    *user = xmalloc(sizeof **user);
    **user = found;
    return 0;
}

int
exec_work_root_prepare(const char *state_dir,
                       const char *work_root,
                       const char *who,
                       errbuf_t *err)
{
    if (statedir_create(work_root, err) < 0) {
        return -1;
    }
    if (who && (chmod(state_dir, 0711) < 0 || chmod(work_root, 0711) < 0)) {
        errbuf_set(err, "cannot let %s reach their work dirs under '%s': %s",
                   who, work_root, strerror(errno));
        return -1;
    }
    return 0;
}

/* What the forked child reports when a step before exec fails. */
typedef struct {
    int step; /* index into s_steps */
    int error;
} s_child_err_t;

static const char *const s_steps[] = {
    "enter the work dir",
    "open /dev/null for stdin",
    "set up stdout/stderr",
    "set the open-files limit",
    "set the processes limit",
    "drop supplementary groups",
    "switch group",
    "switch user",
    "execute",
};

static void
s_child_fail(int fd, int step)
{
    s_child_err_t e = {step, errno};
    ssize_t n = write(fd, &e, sizeof e);
    (void) n;
    _exit(127);
}

/* The vforked child: it runs on the worker's memory until it execs, so
 * system calls only (no allocation, no locks, nothing that touches other
 * threads), then exec. Never returns. */
static void
s_child(const char *work_dir,
        const char *prog,
        char **argv,
        char **envp,
        const exec_spec_t *spec,
        int out_fd,
        int err_fd,
        int report)
{
    static const int sigs[] = {SIGPIPE, SIGINT,  SIGTERM, SIGCHLD,
                               SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2};
    setpgid(0, 0);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        signal(sigs[i], SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (chdir(work_dir) < 0) {
        s_child_fail(report, 0);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0) {
        s_child_fail(report, 1);
    }
    if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
        s_child_fail(report, 2);
    }
    struct rlimit rl;
    if (spec->limit_nofile) {
        rl.rlim_cur = rl.rlim_max = spec->limit_nofile;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            s_child_fail(report, 3);
        }
    }
    if (spec->limit_nproc) {
        rl.rlim_cur = rl.rlim_max = spec->limit_nproc;
        if (setrlimit(RLIMIT_NPROC, &rl) < 0) {
            s_child_fail(report, 4);
        }
    }
    /* Raw system calls: glibc's wrappers would try to change the ids of
     * every thread of the worker, whose memory this child shares. */
    if (spec->run_as) {
        gid_t gid = spec->run_as->gid;
        gid_t groups = spec->run_as->per_attempt ? spec->run_as->shared : gid;
        if (syscall(SYS_setgroups, 1, &groups) < 0) {
            s_child_fail(report, 5);
        }
        if (syscall(SYS_setgid, gid) < 0) {
            s_child_fail(report, 6);
        }
        if (syscall(SYS_setuid, spec->run_as->uid) < 0) {
            s_child_fail(report, 7);
        }
        if (spec->run_as->per_attempt) {
            umask(002);
        }
    }
    /* Everything but stdio and the report pipe (close-on-exec) goes. */
    if (report > 3) {
        close_range(3, (unsigned) report - 1, 0);
    }
    close_range((unsigned) report + 1, ~0U, 0);
    execve(prog, argv, envp);
    s_child_fail(report, 8);
}

/* Waits for the child to exec (the report pipe closes) or to say which
 * step failed; a failed child is reaped here. */
static int
s_fork_wait(pid_t pid, int report, const char *prog, errbuf_t *err)
{
    s_child_err_t e;
    ssize_t n;
    while ((n = read(report, &e, sizeof e)) < 0 && errno == EINTR) {
    }
    if (n != (ssize_t) sizeof e) {
        return 0;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    size_t nsteps = sizeof s_steps / sizeof s_steps[0];
    const char *step =
        e.step >= 0 && (size_t) e.step < nsteps ? s_steps[e.step] : "start";
    errbuf_set(err, "cannot %s%s%s: %s", step, e.step == 8 ? " " : "",
               e.step == 8 ? prog : "", strerror(e.error));
    return -1;
}

/* vfork + system calls + execve, for a task that changes user or sets
 * rlimits (posix_spawn can do neither). The program is resolved here, in
 * the parent, so the child never searches PATH. */
static int
s_fork_spawn(exec_t *self,
             const char *work_dir,
             const s_launch_t *launch,
             char **envp,
             const exec_spec_t *spec,
             errbuf_t *err)
{
    char *prog = launch->search ? s_resolve(launch->prog, getenv("PATH"))
                                : xstrdup(launch->prog);
    if (!prog) {
        errbuf_set(err, "command '%s' was not found in PATH", launch->prog);
        return -1;
    }
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
    int rc = -1;
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        pipe2(rep, O_CLOEXEC) < 0) {
        errbuf_set(err, "cannot create pipes: %s", strerror(errno));
        goto done;
    }
    /* vfork: no copy of the worker's page tables, so starting a task as
     * another user costs about what posix_spawn does (fork doubled the
     * time from task to task). The parent waits until the child execs. */
    pid_t pid = vfork();
    if (pid < 0) {
        errbuf_set(err, "cannot fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        s_child(work_dir, prog, launch->argv.items, envp, spec, out[1], errp[1],
                rep[1]);
    }
    setpgid(pid, pid); /* also in the child: whichever runs first */
    s_close(&rep[1]);
    if (s_fork_wait(pid, rep[0], prog, err) < 0) {
        goto done;
    }
    self->pid = pid;
    self->fd[0] = out[0];
    self->fd[1] = errp[0];
    out[0] = errp[0] = -1;
    fcntl(self->fd[0], F_SETFL, O_NONBLOCK);
    fcntl(self->fd[1], F_SETFL, O_NONBLOCK);
    rc = 0;
done:
    for (int i = 0; i < 2; i++) {
        s_close(&out[i]);
        s_close(&errp[i]);
        s_close(&rep[i]);
    }
    free(prog);
    return rc;
}

/* WORK_ROOT/<attempt_id>, 0700. Creating a directory is the dearest step
 * of a start on some file systems (ext4 without a journal scans past every
 * inode freed in the last half minute), so the usual attempt renames the
 * spare that the previous start made while its child ran, and touches it so
 * its times are those of the attempt. Without a spare: one mkdir, and the
 * root is created only the first time. */
static int
s_work_dir_make(const char *work_root, const char *work_dir, errbuf_t *err)
{
    char *spare = xasprintf("%s/%s", work_root, EXEC_SPARE_DIR);
    int rc = renameat2(AT_FDCWD, spare, AT_FDCWD, work_dir, RENAME_NOREPLACE);
    free(spare);
    if (rc == 0) {
        utimensat(AT_FDCWD, work_dir, NULL, 0);
        return 0;
    }
    if (mkdir(work_dir, 0700) == 0 || errno == EEXIST) {
        return 0;
    }
    if (errno == ENOENT && statedir_create(work_root, err) < 0) {
        return -1;
    }
    if (mkdir(work_dir, 0700) < 0 && errno != EEXIST) {
        errbuf_set(err, "cannot create work dir '%s': %s", work_dir,
                   strerror(errno));
        return -1;
    }
    return 0;
}

/* Makes the spare for the next start, after the spawn so that it overlaps
 * with the child's exec; a failure only costs the next start a mkdir. */
static void
s_spare_make(const char *work_root)
{
    char *spare = xasprintf("%s/%s", work_root, EXEC_SPARE_DIR);
    if (mkdir(spare, 0700) < 0 && errno != EEXIST) {
        log_flag(EXEC, "exec: cannot create the spare work dir '%s': %s", spare,
                 strerror(errno));
    }
    free(spare);
}

static int
s_spawn(exec_t *self, const exec_spec_t *spec, errbuf_t *err)
{
    char *work_dir = xasprintf("%s/%llu", spec->work_root,
                               (unsigned long long) spec->attempt_id);
    s_strv_t env = {0};
    s_launch_t launch = {0};
    int rc = -1;
    if (s_work_dir_make(spec->work_root, work_dir, err) < 0) {
        goto done;
    }
    if (spec->run_as &&
        chown(work_dir, spec->run_as->uid, spec->run_as->gid) < 0) {
        errbuf_set(err, "cannot give work dir '%s' to user '%s': %s", work_dir,
                   spec->run_as->name, strerror(errno));
        goto done;
    }
    s_env_build(&env, spec, work_dir);
    if (s_launch_build(&launch, spec, &env, err) < 0) {
        goto done;
    }
    bool fork_path = spec->run_as || spec->limit_nofile || spec->limit_nproc;
    log_flag(EXEC, "exec: attempt %llu runs %s '%s' in %s%s%s",
             (unsigned long long) spec->attempt_id,
             launch.shell ? "shell" : "direct", spec->command, work_dir,
             spec->run_as ? " as " : "",
             spec->run_as ? spec->run_as->name : "");
    rc = fork_path ? s_fork_spawn(self, work_dir, &launch, env.items, spec, err)
                   : s_posix_spawn(self, work_dir, &launch, env.items, err);
    if (rc == 0) {
        s_spare_make(spec->work_root);
    }
done:
    s_launch_free(&launch);
    s_strv_free(&env);
    free(work_dir);
    return rc;
}

/* The memory limit, and the kernel's OOM-kill count before the attempt,
 * so that a SIGKILL nobody here sent can be told apart (s_oom_killed). */
static void
s_memory_init(exec_t *self, const exec_spec_t *spec)
{
    self->mem_limit_kb = spec->memory_mb * 1024;
    if (self->mem_limit_kb) {
        self->sample_at = self->start_mono + EXEC_SAMPLE_MS;
    }
    if (spec->oom_events) {
        self->oom_events = xstrdup(spec->oom_events);
        self->oom_known =
            mem_oom_kills(self->oom_events, &self->oom_before) == 0;
    }
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
    s_memory_init(self, spec);
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
    free(self->oom_events);
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

/* True when the kernel's OOM killer ended the attempt: it died of a
 * SIGKILL we did not send (or its shell reports one, exit 137) and the
 * cgroup's OOM-kill counter grew meanwhile. Another attempt's OOM kill in
 * the same window looks the same; without the counter, it stays SIGNALED. */
static bool
s_oom_killed(const exec_t *self, int status)
{
    bool sigkill = (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
                   (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL);
    uint64_t after = 0;
    return sigkill && self->oom_known &&
           mem_oom_kills(self->oom_events, &after) == 0 &&
           after > self->oom_before;
}

static void
s_finish(exec_t *self, int status, const struct rusage *ru)
{
    exec_result_t *r = &self->result;
    r->ended_ms = clock_wall_ms();
    r->duration_ms = clock_mono_ms() - self->start_mono;
    r->peak_rss_kb = (uint64_t) ru->ru_maxrss; /* Linux reports KiB */
    if (self->peak_kb > r->peak_rss_kb) {
        r->peak_rss_kb = self->peak_kb;
    }
    if (WIFSIGNALED(status)) {
        r->signal = WTERMSIG(status);
    }
    if (self->stop_cause) {
        r->outcome = self->stop_cause;
        r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    } else if (s_oom_killed(self, status)) {
        r->outcome = EXEC_OOM;
        r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        snprintf(r->error, sizeof r->error,
                 "killed by the kernel's out-of-memory killer (peak %llu MB); "
                 "give the task a memory limit or run it where more memory "
                 "is free",
                 (unsigned long long) (r->peak_rss_kb + 1023) / 1024);
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

int64_t
exec_sample_at(const exec_t *self)
{
    return self->reaped ? 0 : self->sample_at;
}

/* Over the limit the group gets SIGKILL at once: a grace would let it grow
 * further, and the kernel would not wait either. */
void
exec_sample(exec_t *self, uint64_t rss_kb)
{
    if (!self->sample_at || self->reaped) {
        return;
    }
    self->sample_at = clock_mono_ms() + EXEC_SAMPLE_MS;
    if (rss_kb > self->peak_kb) {
        self->peak_kb = rss_kb;
    }
    if (rss_kb <= self->mem_limit_kb) {
        return;
    }
    if (!self->stop_cause) {
        self->stop_cause = EXEC_OOM;
        snprintf(self->result.error, sizeof self->result.error,
                 "used %llu MB, over its memory limit of %llu MB",
                 (unsigned long long) (rss_kb + 1023) / 1024,
                 (unsigned long long) self->mem_limit_kb / 1024);
    }
    log_flag(EXEC,
             "exec: attempt %llu holds %llu KiB, over its limit: "
             "killing group %d",
             (unsigned long long) self->attempt_id, (unsigned long long) rss_kb,
             (int) self->pid);
    self->sample_at = 0;
    self->kill_at = 0;
    s_signal_group(self, SIGKILL);
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
    int64_t sample_at = exec_sample_at(self);
    if (sample_at && (next < 0 || sample_at < next)) {
        next = sample_at;
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
        int64_t sample_at = exec_sample_at(self);
        if (sample_at && clock_mono_ms() >= sample_at) {
            exec_sample(self, mem_group_rss_kb(self->pid));
        }
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
        case EXEC_OOM:
            snprintf(buf, size, "out of memory (%s)", r->error);
            break;
        default:
            snprintf(buf, size, "running");
            break;
    }
    return buf;
}
