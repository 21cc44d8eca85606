/* autoscale_slurm — the `slurm` provider: each worker is one Slurm batch
 * job running `sluice worker --join ...`, so sluice grows onto an existing
 * HPC cluster.
 *
 *   up    sbatch --parsable --job-name sluice-WORKER --cpus-per-task N
 *         --mem M [--gres gpu:G] [--partition P] --wrap 'sluice worker ...'
 *         (the handle is the job id)
 *   down  scancel JOBID
 *   list  squeue -h -o '%j %i' (pending and running jobs named sluice-*)
 *
 * The job runs the scheduler's own executable path (a shared file system
 * or the same install on every node); its state directory is under the
 * job's $TMPDIR. sbatch, scancel and squeue come from $PATH and find the
 * cluster the usual way ($SLURM_CONF or /etc/slurm). */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/autoscale/autoscale.h"
#include "scheduler/autoscale/autoscale_exec.h"

#define SLURM_JOB_PREFIX "sluice-"

typedef struct {
    char *partition; /* owned; "" for the cluster's default */
    char *sluice;    /* owned: the executable the job runs */
} slurm_t;

/* `s` single-quoted for sh: the --wrap line is run by a shell. */
static char *
s_quote(const char *s)
{
    char *q = xmalloc(strlen(s) * 4 + 3);
    char *p = q;
    *p++ = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(p, "'\\''", 4);
            p += 4;
        } else {
            *p++ = *s;
        }
    }
    *p++ = '\'';
    *p = '\0';
    return q;
}

/* The job's command line: `sluice worker` with the shape's offer. */
static char *
s_wrap(slurm_t *self, const autoscale_shape_t *shape, const char *worker)
{
    char *exe = s_quote(self->sluice);
    char *qname = s_quote(worker);
    char *extra = xstrdup("");
    if (shape->gpus) {
        char *next = xasprintf("%s --gpus %" PRIu32, extra, shape->gpus);
        free(extra);
        extra = next;
    }
    if (shape->labels && *shape->labels) {
        char *ql = s_quote(shape->labels);
        char *next = xasprintf("%s --labels %s", extra, ql);
        free(ql);
        free(extra);
        extra = next;
    }
    /* The join line (a token in it) reaches the job as SLUICE_JOIN in
     * sbatch's environment, which Slurm passes on (--export=ALL), not in
     * the job's command line. */
    char *wrap =
        xasprintf("exec %s worker --name %s --slots %" PRIu32
                  " --dir \"${TMPDIR:-/tmp}/sluice-worker-$SLURM_JOB_ID\"%s",
                  exe, qname, shape->slots ? shape->slots : 1, extra);
    free(exe);
    free(qname);
    free(extra);
    return wrap;
}

static int
s_up(autoscale_provider_t *provider,
     const autoscale_shape_t *shape,
     const char *worker,
     const char *join,
     char **handle,
     errbuf_t *err)
{
    slurm_t *self = provider->state;
    char *name = xasprintf(SLURM_JOB_PREFIX "%s", worker);
    char cpus[16], mem[32], gres[32];
    snprintf(cpus, sizeof cpus, "%" PRIu32, shape->cpus ? shape->cpus : 1);
    snprintf(mem, sizeof mem, "%" PRIu64, shape->memory_mb);
    snprintf(gres, sizeof gres, "gpu:%" PRIu32, shape->gpus);
    char *wrap = s_wrap(self, shape, worker);
    char *join_env = xasprintf("SLUICE_JOIN=%s", join);
    const char *env[] = {join_env, NULL};
    const char *argv[16];
    size_t n = 0;
    argv[n++] = "sbatch";
    argv[n++] = "--parsable";
    argv[n++] = "--job-name";
    argv[n++] = name;
    argv[n++] = "--cpus-per-task";
    argv[n++] = cpus;
    if (shape->memory_mb) { /* 0: the cluster's default */
        argv[n++] = "--mem";
        argv[n++] = mem;
    }
    if (shape->gpus) {
        argv[n++] = "--gres";
        argv[n++] = gres;
    }
    if (*self->partition) {
        argv[n++] = "--partition";
        argv[n++] = self->partition;
    }
    argv[n++] = "--wrap";
    argv[n++] = wrap;
    argv[n] = NULL;
    char *out = NULL;
    int rc =
        autoscale_exec_run(argv, env, AUTOSCALE_EXEC_TIMEOUT_MS, &out, err);
    sodium_memzero(join_env, strlen(join_env));
    free(join_env);
    free(wrap);
    free(name);
    if (rc < 0) {
        return -1;
    }
    /* --parsable prints "JOBID" or "JOBID;CLUSTER". */
    char *line = autoscale_exec_last_line(out);
    free(out);
    size_t digits = line ? strspn(line, "0123456789") : 0;
    if (digits == 0 || (line[digits] != '\0' && line[digits] != ';')) {
        errbuf_set(err,
                   "sbatch printed '%s', not a job id; check the Slurm "
                   "client's version and configuration",
                   line ? line : "");
        free(line);
        return -1;
    }
    line[strcspn(line, ";")] = '\0';
    *handle = line;
    return 0;
}

static int
s_down(autoscale_provider_t *provider,
       const char *worker,
       const char *handle,
       errbuf_t *err)
{
    (void) provider;
    (void) worker;
    const char *argv[] = {"scancel", handle, NULL};
    return autoscale_exec_run(argv, NULL, AUTOSCALE_EXEC_TIMEOUT_MS, NULL, err);
}

static int
s_list(autoscale_provider_t *provider, zlistx_t *out, errbuf_t *err)
{
    slurm_t *self = provider->state;
    const char *argv[16];
    size_t n = 0;
    argv[n++] = "squeue";
    argv[n++] = "-h";
    argv[n++] = "-o";
    argv[n++] = "%j %i";
    argv[n++] = "-t";
    argv[n++] = "PD,CF,R";
    if (*self->partition) {
        argv[n++] = "-p";
        argv[n++] = self->partition;
    }
    argv[n] = NULL;
    return autoscale_exec_list(argv, SLURM_JOB_PREFIX, true, "squeue", out,
                               err);
}

static void
s_destroy(void *state)
{
    slurm_t *self = state;
    free(self->partition);
    free(self->sluice);
    free(self);
}

static const autoscale_provider_ops_t s_ops = {
    .name = "slurm",
    .up = s_up,
    .down = s_down,
    .list = s_list,
    .destroy = s_destroy,
};

autoscale_provider_t *
autoscale_slurm_new(const char *partition, errbuf_t *err)
{
    char exe[PATH_MAX] = "";
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        errbuf_set(err, "cannot find the sluice executable for Slurm jobs "
                        "(/proc/self/exe); is /proc mounted?");
        return NULL;
    }
    exe[len] = '\0';
    slurm_t *self = xcalloc(1, sizeof *self);
    self->partition = xstrdup(partition ? partition : "");
    self->sluice = xstrdup(exe);
    log_info("autoscaler: slurm provider (partition '%s', jobs run '%s')",
             *self->partition ? self->partition : "default", self->sluice);
    return autoscale_provider_new(&s_ops, self);
}
