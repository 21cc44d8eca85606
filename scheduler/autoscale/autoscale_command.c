/* autoscale_command — the `command` provider: the operator's own program
 * launches and removes workers (a cloud instance group, Kubernetes, a
 * network namespace in the tests; examples in examples/autoscale/).
 *
 * The protocol (docs/autoscaling.md):
 *   PROGRAM up SHAPE 1      env SLUICE_JOIN, SLUICE_WORKER_NAME,
 *                           SLUICE_SHAPE_{NAME,CPUS,MEMORY_MB,GPUS,SLOTS,
 *                           LABELS}; prints the handle on its last line
 *   PROGRAM down WORKER HANDLE
 *   PROGRAM list            prints "WORKER<TAB>HANDLE" per worker
 * Exit 0 is success; otherwise the last line of stderr says why. Each run
 * is bounded by AUTOSCALE_EXEC_TIMEOUT_MS. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/autoscale/autoscale.h"
#include "scheduler/autoscale/autoscale_exec.h"

/* SLUICE_* for `up`; every string owned by the returned array. */
static char **
s_up_env(const autoscale_shape_t *shape, const char *worker, const char *join)
{
    char **env = xcalloc(9, sizeof *env);
    size_t n = 0;
    env[n++] = xasprintf("SLUICE_JOIN=%s", join);
    env[n++] = xasprintf("SLUICE_WORKER_NAME=%s", worker);
    env[n++] = xasprintf("SLUICE_SHAPE_NAME=%s", shape->name);
    env[n++] = xasprintf("SLUICE_SHAPE_CPUS=%" PRIu32, shape->cpus);
    env[n++] = xasprintf("SLUICE_SHAPE_MEMORY_MB=%" PRIu64, shape->memory_mb);
    env[n++] = xasprintf("SLUICE_SHAPE_GPUS=%" PRIu32, shape->gpus);
    env[n++] = xasprintf("SLUICE_SHAPE_SLOTS=%" PRIu32,
                         shape->slots ? shape->slots : 1);
    env[n++] =
        xasprintf("SLUICE_SHAPE_LABELS=%s", shape->labels ? shape->labels : "");
    return env;
}

static void
s_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++) {
        free(env[i]);
    }
    free(env);
}

static int
s_up(autoscale_provider_t *provider,
     const autoscale_shape_t *shape,
     const char *worker,
     const char *join,
     char **handle,
     errbuf_t *err)
{
    const char *program = provider->state;
    const char *argv[] = {program, "up", shape->name, "1", NULL};
    char **env = s_up_env(shape, worker, join);
    char *out = NULL;
    int rc = autoscale_exec_run(argv, (const char *const *) env,
                                AUTOSCALE_EXEC_TIMEOUT_MS, &out, err);
    s_env_free(env);
    if (rc < 0) {
        return -1;
    }
    *handle = autoscale_exec_last_line(out);
    free(out);
    if (!*handle) {
        errbuf_set(err,
                   "'%s up' printed no handle; its last line of output must "
                   "name what it started (an instance, a pod, a job id)",
                   program);
        return -1;
    }
    return 0;
}

static int
s_down(autoscale_provider_t *provider,
       const char *worker,
       const char *handle,
       errbuf_t *err)
{
    const char *program = provider->state;
    const char *argv[] = {program, "down", worker, handle, NULL};
    return autoscale_exec_run(argv, NULL, AUTOSCALE_EXEC_TIMEOUT_MS, NULL, err);
}

static int
s_list(autoscale_provider_t *provider, zlistx_t *out, errbuf_t *err)
{
    const char *program = provider->state;
    const char *argv[] = {program, "list", NULL};
    char *what = xasprintf("'%s list'", program);
    int rc = autoscale_exec_list(argv, NULL, false, what, out, err);
    free(what);
    return rc;
}

static const autoscale_provider_ops_t s_ops = {
    .name = "command",
    .up = s_up,
    .down = s_down,
    .list = s_list,
    .destroy = free, /* the state is the program's path */
};

autoscale_provider_t *
autoscale_command_new(const char *program, errbuf_t *err)
{
    if (!program || !*program) {
        errbuf_set(err, "autoscale_provider 'command' needs autoscale_command: "
                        "the path of the program that runs up, down and list");
        return NULL;
    }
    if (access(program, X_OK) < 0) {
        errbuf_set(err,
                   "autoscale_command '%s' is not an executable file; give "
                   "the full path of a program (chmod +x)",
                   program);
        return NULL;
    }
    log_info("autoscaler: command provider '%s'", program);
    return autoscale_provider_new(&s_ops, xstrdup(program));
}
