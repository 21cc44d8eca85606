/* autoscale — workers that follow the load.
 *
 * The scheduler computes demand from its own queue (ready tasks' resources
 * and labels, bin-packed onto the configured worker shapes), subtracts the
 * capacity already connected or launching, and asks a provider to start
 * workers of the shapes needed. Idle launched workers are drained first and
 * removed only once they have left or are idle and drained: nothing running
 * is ever killed. Every decision is written to the event table and the log.
 *
 * Providers (one file each, scheduler/autoscale_<name>.c) implement the
 * contract below. */
#ifndef SLUICE_AUTOSCALE_H
#define SLUICE_AUTOSCALE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"

/* One worker shape from the config: name, what it offers, how many slots. */
typedef struct {
    const char *name;
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    const char *labels;
    uint32_t slots;
} autoscale_shape_t;

/* A provider launches and removes workers of a shape. */
typedef struct autoscale_provider_t autoscale_provider_t;

typedef struct {
    const char *name; /* "local", "command", "slurm" */
    /* Starts one worker of `shape` that joins with `join` (the full join
     * line, a fresh single-use token already appended as ?token=) under the
     * worker name `worker`; *handle gets an owned id for down/list (pid,
     * instance, job id). */
    int (*up)(autoscale_provider_t *self,
              const autoscale_shape_t *shape,
              const char *worker,
              const char *join,
              char **handle,
              errbuf_t *err);
    /* Removes the worker (it has been drained and is idle, or never
     * joined). */
    int (*down)(autoscale_provider_t *self,
                const char *worker,
                const char *handle,
                errbuf_t *err);
    /* Appends "worker\thandle" owned strings for every worker it knows to
     * exist (reconcile after a restart). */
    int (*list)(autoscale_provider_t *self, zlistx_t *out, errbuf_t *err);
    /* Optional, for providers whose `up` returns before the worker is
     * started (autoscale_async): takes the outcome of one finished `up`:
     * 1 with *worker (owned) and either *handle (owned) or *error (owned),
     * 0 when none is waiting. */
    int (*done)(autoscale_provider_t *self,
                char **worker,
                char **handle,
                char **error);
    /* Frees the provider's state; NULL when there is nothing to free.
     * Called by autoscale_provider_destroy, which frees the provider. */
    void (*destroy)(void *state);
} autoscale_provider_ops_t;

struct autoscale_provider_t {
    const autoscale_provider_ops_t *ops; /* borrowed: static, or in state */
    void *state;                         /* owned, freed by ops->destroy */
};

/* A provider of ops over state (taken). Every provider is made by this and
 * freed by autoscale_provider_destroy, so none repeats the wrapping. */
autoscale_provider_t *
autoscale_provider_new(const autoscale_provider_ops_t *ops, void *state);

/* Frees the provider's state (ops->destroy) and the provider, and nulls
 * *self_p; accepts NULL. */
void autoscale_provider_destroy(autoscale_provider_t **self_p);

/* Providers: autoscale_local_new (autoscale_local.c); autoscale_command_new
 * and autoscale_slurm_new, each in its own file
 * scheduler/autoscale/autoscale_<name>.c. */
autoscale_provider_t *autoscale_local_new(const char *sluice_path,
                                          const char *work_dir,
                                          errbuf_t *err);

/* Reaps the local provider's children that ended (no zombies); any other
 * provider is left alone. Call every step. */
void autoscale_local_reap(autoscale_provider_t *provider);

/* Runs PROGRAM up SHAPE COUNT (env SLUICE_JOIN, SLUICE_WORKER_NAME,
 * SLUICE_SHAPE_*), PROGRAM down WORKER HANDLE, PROGRAM list. */
autoscale_provider_t *autoscale_command_new(const char *program, errbuf_t *err);

/* sbatch / scancel / squeue. */
autoscale_provider_t *autoscale_slurm_new(const char *partition, errbuf_t *err);

/* ------------------------------------------------------------ the core */

/* The policy knobs (config: min_workers ... max_launch_per_step). */
typedef struct {
    uint32_t min_workers;
    uint32_t max_workers;
    uint32_t max_launch_per_step;
    uint64_t scale_up_delay_ms;
    uint64_t idle_timeout_ms;
    uint64_t cooldown_ms;
    uint64_t launch_timeout_ms;
} autoscale_policy_t;

/* What the autoscaler asks of the scheduler; arg is passed back. */
typedef struct {
    void *arg;
    /* A fresh join line with a single-use token appended; owned, or NULL
     * with err. */
    char *(*join)(void *arg, errbuf_t *err);
    /* Drains worker `name`: no new task; it is asked to leave when idle. */
    void (*drain)(void *arg, const char *name);
    /* Records a decision (event table and log). */
    void (*event)(void *arg,
                  const char *kind,
                  const char *subject,
                  const char *detail);
} autoscale_hooks_t;

/* A task waiting in the queue, as the scheduler sees it this step. */
typedef struct {
    const char *key; /* the same across steps, e.g. "RUN/TASK" */
    const char *id;  /* for messages */
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    size_t nlabels;
    const char *const *labels;
} autoscale_task_t;

/* A worker the scheduler knows, this step. */
typedef struct {
    const char *name;
    bool connected; /* registered and live */
    bool draining;
    uint32_t running; /* attempts assigned to it */
} autoscale_worker_t;

typedef struct autoscale_t autoscale_t;

/* Parses `shapes` ("NAME:cpus=2,memory=4G,gpus=1,slots=2,labels=a|b; ...";
 * shapes are tried in this order, so list the cheapest first) and takes
 * *provider_p. NULL with err on a bad shape list. */
autoscale_t *autoscale_new(const autoscale_policy_t *policy,
                           const char *shapes,
                           autoscale_provider_t **provider_p,
                           const autoscale_hooks_t *hooks,
                           errbuf_t *err);

/* Removes nothing: launched workers outlive the scheduler (list reconciles
 * them at the next start). */
void autoscale_destroy(autoscale_t **self_p);

/* Adopts what the provider lists (after a restart): each counts as
 * launching until it joins or its launch_timeout passes. */
int autoscale_reconcile(autoscale_t *self, int64_t now, errbuf_t *err);

/* One step at monotonic ms `now`: notes joins, failed launches and workers
 * gone; launches for the tasks that waited scale_up_delay, drains idle
 * workers, removes drained ones. Returns the number of decisions made. */
int autoscale_step(autoscale_t *self,
                   int64_t now,
                   const autoscale_task_t *tasks,
                   size_t ntasks,
                   const autoscale_worker_t *workers,
                   size_t nworkers);

/* True when `name` is a worker this autoscaler launched. */
bool autoscale_owns(autoscale_t *self, const char *name);

/* Counts for tests and status. */
typedef struct {
    uint32_t launching; /* launched, not joined */
    uint32_t joined;
    uint32_t draining;
    uint64_t launches; /* since start */
    uint64_t failed;   /* failed launches since start */
    uint64_t removed;
    uint32_t unfit; /* tasks no shape fits, last step */
} autoscale_counts_t;

autoscale_counts_t autoscale_counts(autoscale_t *self);

/* The provider (borrowed). */
autoscale_provider_t *autoscale_provider(autoscale_t *self);

/* The provider's name. */
const char *autoscale_provider_name(autoscale_t *self);

/* Fills the status reply (heap, see proto): demand per shape, capacity,
 * backoff, the last decisions. */
struct Sluice__AutoscaleStatusRep;
void autoscale_status(autoscale_t *self,
                      int64_t now,
                      struct Sluice__AutoscaleStatusRep *out);

#endif
