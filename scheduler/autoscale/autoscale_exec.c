/* autoscale_exec — bounded child processes for the autoscaler's providers.
 *
 * Everything the child needs (the resolved path, argv, envp) is built
 * before fork: the scheduler has ZeroMQ's threads, so between fork and exec
 * the child may only call async-signal-safe functions. The parent polls the
 * two pipes and the child's exit; once the child has exited, whatever is
 * already in the pipes is read and the run ends, so a worker the program
 * left running in the background (with our pipe as its stdout) cannot hold
 * the scheduler up. */
#include "scheduler/autoscale/autoscale_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/xalloc.h"

#define EXEC_ERR_MAX  4096 /* stderr kept (its tail) */
#define EXEC_GRACE_MS 2000 /* SIGTERM -> SIGKILL on timeout */

extern char **environ;

/* A growing buffer that keeps at most `max` bytes: the head (stdout) or the
 * tail (stderr, where the reason is). */
typedef struct {
    char *data; /* owned, NUL-terminated */
    size_t len;
    size_t max;
    bool keep_tail;
} exec_buf_t;

typedef struct {
    pid_t pid;
    int out_fd; /* -1 once closed */
    int err_fd;
    exec_buf_t out;
    exec_buf_t err;
    int status; /* waitpid's, once exited */
    bool exited;
} exec_child_t;

static void
s_buf_add(exec_buf_t *buf, const char *data, size_t n)
{
    if (buf->keep_tail && n >= buf->max) {
        data += n - buf->max;
        n = buf->max;
    }
    if (buf->len + n > buf->max) {
        if (!buf->keep_tail) {
            n = buf->max - buf->len;
        } else {
            size_t drop = buf->len + n - buf->max;
            memmove(buf->data, buf->data + drop, buf->len - drop);
            buf->len -= drop;
        }
    }
    buf->data = xrealloc(buf->data, buf->len + n + 1);
    memcpy(buf->data + buf->len, data, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
}

/* $PATH lookup in the parent (execvp's own may allocate after fork). */
static char *
s_resolve(const char *name)
{
    if (strchr(name, '/')) {
        return xstrdup(name);
    }
    const char *path = getenv("PATH");
    char *copy = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *found = NULL;
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char *candidate = xasprintf("%s/%s", *dir ? dir : ".", name);
        if (access(candidate, X_OK) == 0) {
            found = candidate;
        } else {
            free(candidate);
        }
    }
    free(copy);
    return found;
}

/* environ with `env` added; an entry of `env` replaces one of the same
 * name. The strings are borrowed; the array is owned. */
static char **
s_envp(const char *const *env)
{
    size_t n_env = 0, n_extra = 0;
    while (environ && environ[n_env]) {
        n_env++;
    }
    while (env && env[n_extra]) {
        n_extra++;
    }
    char **envp = xcalloc(n_env + n_extra + 1, sizeof *envp);
    size_t n = 0;
    for (size_t i = 0; i < n_env; i++) {
        bool replaced = false;
        for (size_t j = 0; j < n_extra && !replaced; j++) {
            size_t name_len = strcspn(env[j], "=");
            replaced = !strncmp(environ[i], env[j], name_len) &&
                       environ[i][name_len] == '=';
        }
        if (!replaced) {
            envp[n++] = environ[i];
        }
    }
    for (size_t j = 0; j < n_extra; j++) {
        envp[n++] = (char *) env[j];
    }
    return envp;
}

/* In the child: only async-signal-safe calls from here to execve. */
static void
s_child(const char *path,
        const char *const *argv,
        char **envp,
        int out_w,
        int err_w)
{
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_w, 1) < 0 ||
        dup2(err_w, 2) < 0) {
        _exit(126);
    }
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
    {
        for (int fd = 3; fd < 4096; fd++) {
            close(fd);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    execve(path, (char *const *) argv, envp);
    static const char msg[] = "cannot execute the program\n";
    ssize_t rc = write(2, msg, sizeof msg - 1);
    (void) rc;
    _exit(127);
}

/* Reads what is there on `*fd` into `buf`; closes it at EOF. */
static void
s_drain(int *fd, exec_buf_t *buf)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(*fd, chunk, sizeof chunk);
        if (n > 0) {
            s_buf_add(buf, chunk, (size_t) n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            close(*fd);
            *fd = -1;
        }
        return; /* EAGAIN: nothing more for now */
    }
}

static bool
s_reaped(exec_child_t *c)
{
    if (!c->exited) {
        pid_t rc = waitpid(c->pid, &c->status, WNOHANG);
        c->exited = rc == c->pid || (rc < 0 && errno == ECHILD);
    }
    return c->exited;
}

/* Polls until the child exits (and its pipes are read) or `deadline`. */
static void
s_wait(exec_child_t *c, int64_t deadline)
{
    while (!s_reaped(c) && clock_mono_ms() < deadline) {
        struct pollfd fds[2] = {{.fd = c->out_fd, .events = POLLIN},
                                {.fd = c->err_fd, .events = POLLIN}};
        int64_t left = deadline - clock_mono_ms();
        /* Short polls: the exit is noticed by waitpid, not by EOF. */
        if (poll(fds, 2, left < 50 ? (int) (left > 0 ? left : 0) : 50) > 0) {
            if (c->out_fd >= 0 && fds[0].revents) {
                s_drain(&c->out_fd, &c->out);
            }
            if (c->err_fd >= 0 && fds[1].revents) {
                s_drain(&c->err_fd, &c->err);
            }
        }
    }
    if (c->out_fd >= 0) {
        s_drain(&c->out_fd, &c->out);
    }
    if (c->err_fd >= 0) {
        s_drain(&c->err_fd, &c->err);
    }
}

/* The timeout: the child's whole group gets SIGTERM, then SIGKILL. */
static void
s_kill(exec_child_t *c)
{
    kill(-c->pid, SIGTERM);
    s_wait(c, clock_mono_ms() + EXEC_GRACE_MS);
    if (!c->exited) {
        kill(-c->pid, SIGKILL);
        waitpid(c->pid, &c->status, 0);
        c->exited = true;
    }
}

static void
s_fail(const exec_child_t *c,
       const char *const *argv,
       bool timed_out,
       int64_t timeout_ms,
       errbuf_t *err)
{
    const char *verb = argv[1] ? argv[1] : "";
    char *why = autoscale_exec_last_line(c->err.data ? c->err.data : "");
    char status[64];
    if (timed_out) {
        snprintf(status, sizeof status, "did not finish within %lld ms",
                 (long long) timeout_ms);
    } else if (WIFEXITED(c->status)) {
        snprintf(status, sizeof status, "failed with exit status %d",
                 WEXITSTATUS(c->status));
    } else {
        snprintf(status, sizeof status, "was killed by signal %d",
                 WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0);
    }
    errbuf_set(err, "'%s %s' %s%s%s", argv[0], verb, status,
               why ? ": " : " (no message on stderr)", why ? why : "");
    free(why);
}

static int
s_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0) {
        return -1;
    }
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return 0;
}

static int
s_start(exec_child_t *c,
        const char *path,
        const char *const *argv,
        const char *const *env,
        errbuf_t *err)
{
    int out_p[2], err_p[2];
    if (s_pipe(out_p) < 0) {
        errbuf_set(err, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    if (s_pipe(err_p) < 0) {
        errbuf_set(err, "cannot create a pipe: %s", strerror(errno));
        close(out_p[0]);
        close(out_p[1]);
        return -1;
    }
    char **envp = s_envp(env);
    c->pid = fork();
    if (c->pid == 0) {
        s_child(path, argv, envp, out_p[1], err_p[1]);
    }
    int fork_errno = errno;
    free(envp);
    close(out_p[1]);
    close(err_p[1]);
    c->out_fd = out_p[0];
    c->err_fd = err_p[0];
    if (c->pid < 0) {
        errbuf_set(err, "cannot start '%s': %s", argv[0], strerror(fork_errno));
        return -1;
    }
    return 0;
}

int
autoscale_exec_run(const char *const *argv,
                   const char *const *env,
                   int64_t timeout_ms,
                   char **out,
                   errbuf_t *err)
{
    assert(argv && argv[0]);
    char *path = s_resolve(argv[0]);
    if (!path) {
        errbuf_set(err, "'%s' is not in PATH; install it or give its full path",
                   argv[0]);
        return -1;
    }
    exec_child_t c = {.out_fd = -1, .err_fd = -1};
    c.out.max = AUTOSCALE_EXEC_OUT_MAX;
    c.err.max = EXEC_ERR_MAX;
    c.err.keep_tail = true;
    int rc = s_start(&c, path, argv, env, err);
    free(path);
    if (rc == 0) {
        s_wait(&c, clock_mono_ms() + timeout_ms);
        bool timed_out = !c.exited;
        if (timed_out) {
            s_kill(&c);
        }
        if (timed_out || !WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
            s_fail(&c, argv, timed_out, timeout_ms, err);
            rc = -1;
        }
    }
    if (c.out_fd >= 0) {
        close(c.out_fd);
    }
    if (c.err_fd >= 0) {
        close(c.err_fd);
    }
    if (rc == 0 && out) {
        *out = c.out.data ? c.out.data : xstrdup("");
        c.out.data = NULL;
    }
    free(c.out.data);
    free(c.err.data);
    return rc;
}

char *
autoscale_exec_last_line(const char *text)
{
    const char *end = text + strlen(text);
    for (;;) {
        while (end > text && strchr(" \t\r\n", end[-1])) {
            end--;
        }
        if (end == text) {
            return NULL;
        }
        const char *start = end;
        while (start > text && start[-1] != '\n') {
            start--;
        }
        while (start < end && strchr(" \t\r", *start)) {
            start++;
        }
        if (start < end) {
            return xasprintf("%.*s", (int) (end - start), start);
        }
        end = start;
    }
}

/* Splits one line into worker and handle; -1 when it has not both. */
static int
s_split(char *line, bool sep_any, char **worker, char **handle)
{
    line[strcspn(line, "\r")] = '\0';
    size_t wlen = strcspn(line, sep_any ? " \t" : "\t");
    if (wlen == 0 || !line[wlen]) {
        return -1;
    }
    line[wlen] = '\0';
    char *h = line + wlen + 1;
    h += strspn(h, " \t");
    h[strcspn(h, sep_any ? " \t" : "\t")] = '\0';
    if (!*h) {
        return -1;
    }
    *worker = line;
    *handle = h;
    return 0;
}

int
autoscale_exec_parse_list(const char *text,
                          const char *prefix,
                          bool sep_any,
                          const char *what,
                          zlistx_t *out,
                          errbuf_t *err)
{
    char *copy = xstrdup(text);
    char *save = NULL;
    int rc = 0;
    unsigned line_no = 0;
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        char *worker = NULL, *handle = NULL;
        line += strspn(line, " \t");
        if (!*line || *line == '#' || !strcmp(line, "\r")) {
            continue;
        }
        if (s_split(line, sep_any, &worker, &handle) < 0) {
            errbuf_set(err,
                       "%s: line %u '%s' is not 'WORKER<TAB>HANDLE'; print one "
                       "such line per worker",
                       what, line_no, line);
            rc = -1;
            continue;
        }
        if (prefix &&
            (strncmp(worker, prefix, prefix_len) || !worker[prefix_len])) {
            continue;
        }
        zlistx_add_end(out, xasprintf("%s\t%s", worker + prefix_len, handle));
    }
    free(copy);
    return rc;
}

int
autoscale_exec_list(const char *const *argv,
                    const char *prefix,
                    bool sep_any,
                    const char *what,
                    zlistx_t *out,
                    errbuf_t *err)
{
    char *text = NULL;
    if (autoscale_exec_run(argv, NULL, AUTOSCALE_EXEC_TIMEOUT_MS, &text, err) <
        0) {
        return -1;
    }
    int rc = autoscale_exec_parse_list(text, prefix, sep_any, what, out, err);
    free(text);
    return rc;
}
