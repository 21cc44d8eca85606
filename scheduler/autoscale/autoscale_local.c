/* autoscale_local — the `local` provider: `sluice worker` processes on the
 * scheduler's own machine, children of the scheduler.
 *
 * Each worker runs in its own session (setsid), so a signal to the
 * scheduler's terminal does not reach it and down can signal its whole
 * group. Children are reaped at every call (waitpid WNOHANG), so the
 * scheduler never accumulates zombies; list names only live children. */
#include "scheduler/autoscale/autoscale.h"

#include <errno.h>
#include <sodium.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"

#define LOCAL_GRACE_MS 5000 /* SIGTERM -> SIGKILL */

typedef struct {
    char *name;
    pid_t pid;
} local_child_t;

typedef struct {
    char *sluice;
    char *work_dir;
    zlistx_t *children; /* local_child_t, owned */
} local_t;

static void
s_child_free(void **item)
{
    local_child_t *c = *item;
    if (c) {
        free(c->name);
        free(c);
        *item = NULL;
    }
}

/* Reaps every child that ended and forgets it. */
static void
s_reap(local_t *self)
{
    for (size_t n = zlistx_size(self->children); n > 0; n--) {
        local_child_t *c = zlistx_detach(self->children, NULL);
        int status = 0;
        pid_t rc = waitpid(c->pid, &status, WNOHANG);
        if (rc == 0 || (rc < 0 && errno == EINTR)) {
            zlistx_add_end(self->children, c);
            continue;
        }
        if (rc == c->pid) {
            log_info(
                "autoscaler: local worker '%s' (pid %d) ended: %s %d", c->name,
                (int) c->pid, WIFEXITED(status) ? "exit" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
        void *item = c;
        s_child_free(&item);
    }
}

/* The scheduler's environment plus SLUICE_JOIN: the join line, token
 * included, reaches the worker where ps does not show it. Built before
 * fork (the child may only make system calls). Owned, NULL-terminated. */
static char **
s_child_env(const char *join)
{
    size_t n = 0;
    while (environ[n]) {
        n++;
    }
    char **env = xcalloc(n + 2, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "SLUICE_JOIN=", 12) != 0) {
            env[k++] = environ[i];
        }
    }
    env[k] = xasprintf("SLUICE_JOIN=%s", join);
    return env;
}

static void
s_env_free(char **env)
{
    size_t k = 0;
    while (env[k + 1]) {
        k++;
    }
    sodium_memzero(env[k], strlen(env[k]));
    free(env[k]); /* the only string owned */
    free(env);
}

static void
s_exec(local_t *self,
       const autoscale_shape_t *shape,
       const char *worker,
       char **env,
       const char *dir)
{
    setsid();
    char slots[16];
    snprintf(slots, sizeof slots, "%u", shape->slots ? shape->slots : 1);
    const char *argv[32];
    size_t n = 0;
    argv[n++] = self->sluice;
    argv[n++] = "worker";
    argv[n++] = "--name";
    argv[n++] = worker;
    argv[n++] = "--dir";
    argv[n++] = dir;
    argv[n++] = "--slots";
    argv[n++] = slots;
    /* The worker reports this machine's cpus and memory itself. */
    char gpus[16];
    if (shape->gpus) {
        snprintf(gpus, sizeof gpus, "%u", shape->gpus);
        argv[n++] = "--gpus";
        argv[n++] = gpus;
    }
    if (shape->labels && *shape->labels) {
        argv[n++] = "--labels";
        argv[n++] = shape->labels;
    }
    argv[n] = NULL;
    /* The worker's log goes where the scheduler's goes (stderr). */
    execve(self->sluice, (char *const *) argv, env);
    _exit(127);
}

static int
s_up(autoscale_provider_t *provider,
     const autoscale_shape_t *shape,
     const char *worker,
     const char *join,
     char **handle,
     errbuf_t *err)
{
    local_t *self = provider->state;
    s_reap(self);
    char *dir = xasprintf("%s/%s", self->work_dir, worker);
    if (mkdir(self->work_dir, 0700) < 0 && errno != EEXIST) {
        errbuf_set(err, "cannot create '%s': %s", self->work_dir,
                   strerror(errno));
        free(dir);
        return -1;
    }
    char **env = s_child_env(join);
    pid_t pid = fork();
    if (pid < 0) {
        errbuf_set(err, "cannot start a worker process: %s", strerror(errno));
        s_env_free(env);
        free(dir);
        return -1;
    }
    if (pid == 0) {
        s_exec(self, shape, worker, env, dir);
    }
    s_env_free(env);
    free(dir);
    local_child_t *c = xmalloc(sizeof *c);
    c->name = xstrdup(worker);
    c->pid = pid;
    zlistx_add_end(self->children, c);
    *handle = xasprintf("%d", (int) pid);
    return 0;
}

static local_child_t *
s_find(local_t *self, pid_t pid)
{
    for (local_child_t *c = zlistx_first(self->children); c;
         c = zlistx_next(self->children)) {
        if (c->pid == pid) {
            return c;
        }
    }
    return NULL;
}

/* SIGTERM to the worker's group, SIGKILL after the grace; only our own
 * children (a pid we reaped may belong to someone else by now). */
static int
s_down(autoscale_provider_t *provider,
       const char *worker,
       const char *handle,
       errbuf_t *err)
{
    (void) err;
    local_t *self = provider->state;
    s_reap(self);
    pid_t pid = (pid_t) strtol(handle, NULL, 10);
    if (pid <= 0 || !s_find(self, pid)) {
        return 0; /* already gone */
    }
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    int64_t deadline = clock_mono_ms() + LOCAL_GRACE_MS;
    while (clock_mono_ms() < deadline) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            break;
        }
        usleep(20 * 1000);
    }
    if (waitpid(pid, NULL, WNOHANG) == 0) {
        log_warn("autoscaler: local worker '%s' (pid %d) ignored SIGTERM: "
                 "killing it",
                 worker, (int) pid);
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    s_reap(self); /* forgets it: waitpid now fails with ECHILD */
    return 0;
}

static int
s_list(autoscale_provider_t *provider, zlistx_t *out, errbuf_t *err)
{
    (void) err;
    local_t *self = provider->state;
    s_reap(self);
    for (local_child_t *c = zlistx_first(self->children); c;
         c = zlistx_next(self->children)) {
        zlistx_add_end(out, xasprintf("%s\t%d", c->name, (int) c->pid));
    }
    return 0;
}

static void
s_destroy(void *state)
{
    local_t *self = state;
    s_reap(self);
    /* Local workers live and die with this scheduler (a restarted one
     * could not list them): they are told to stop, as on SIGTERM, and
     * finish within their own grace. */
    for (local_child_t *c = zlistx_first(self->children); c;
         c = zlistx_next(self->children)) {
        log_info("autoscaler: stopping local worker '%s' (pid %d)", c->name,
                 (int) c->pid);
        kill(c->pid, SIGTERM);
    }
    zlistx_destroy(&self->children);
    free(self->sluice);
    free(self->work_dir);
    free(self);
}

static const autoscale_provider_ops_t s_ops = {
    .name = "local",
    .up = s_up,
    .down = s_down,
    .list = s_list,
    .destroy = s_destroy,
};

autoscale_provider_t *
autoscale_local_new(const char *sluice_path,
                    const char *work_dir,
                    errbuf_t *err)
{
    if (!sluice_path || !*sluice_path || !work_dir || !*work_dir) {
        errbuf_set(err, "the local provider needs the sluice executable and "
                        "a work directory");
        return NULL;
    }
    local_t *self = xcalloc(1, sizeof *self);
    self->sluice = xstrdup(sluice_path);
    self->work_dir = xstrdup(work_dir);
    self->children = zlistx_new();
    zlistx_set_destructor(self->children, s_child_free);
    return autoscale_provider_new(&s_ops, self);
}

void
autoscale_local_reap(autoscale_provider_t *provider)
{
    if (provider && provider->ops == &s_ops) {
        s_reap(provider->state);
    }
}
