/* autoscale_async — a blocking provider's calls on a thread of their own;
 * see autoscale_async.h.
 *
 * One mutex guards the queue, the finished `up`s and the handles; the
 * background thread drops it while a provider program runs. `call` is held
 * around every call into the wrapped provider, so `list` in the caller's
 * thread never runs beside a queued call. */
#include "scheduler/autoscale/autoscale_async.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/xalloc.h"

#define ASYNC_STOP_WAIT_S 5 /* at shutdown, for the call in progress */

typedef enum {
    JOB_UP,
    JOB_DOWN
} job_kind_t;

typedef struct {
    job_kind_t kind;
    char *worker;            /* owned */
    char *join;              /* owned; up */
    char *handle;            /* owned; down: as the caller knew it */
    autoscale_shape_t shape; /* up; name and labels owned */
} job_t;

/* A finished `up`. */
typedef struct {
    char *worker; /* owned */
    char *handle; /* owned; NULL on failure */
    char *error;  /* owned; NULL on success */
} outcome_t;

typedef struct {
    autoscale_provider_ops_t ops; /* ours, named after the wrapped one */
    autoscale_provider_t *inner;  /* owned */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_mutex_t call; /* held around every call into inner */
    zlistx_t *queue;      /* job_t, owned */
    zlistx_t *outcomes;   /* outcome_t, owned */
    zhashx_t *handles;    /* worker -> handle from its `up`, owned */
    bool stop;
    bool stopped; /* the thread has ended */
} async_t;

/* ---------------------------------------------------------------- jobs */

static void
s_job_free(void **item)
{
    job_t *job = *item;
    if (!job) {
        return;
    }
    free(job->worker);
    if (job->join) {
        sodium_memzero(job->join, strlen(job->join)); /* holds a token */
        free(job->join);
    }
    free(job->handle);
    free((char *) job->shape.name);
    free((char *) job->shape.labels);
    free(job);
    *item = NULL;
}

static void
s_outcome_free(void **item)
{
    outcome_t *o = *item;
    if (!o) {
        return;
    }
    free(o->worker);
    free(o->handle);
    free(o->error);
    free(o);
    *item = NULL;
}

static void
s_push(async_t *self, job_t *job)
{
    pthread_mutex_lock(&self->lock);
    zlistx_add_end(self->queue, job);
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

/* ----------------------------------------------------- background thread */

static void
s_run_up(async_t *self, job_t *job)
{
    char *handle = NULL;
    errbuf_t err;
    errbuf_clear(&err);
    pthread_mutex_lock(&self->call);
    int rc = self->inner->ops->up(self->inner, &job->shape, job->worker,
                                  job->join, &handle, &err);
    pthread_mutex_unlock(&self->call);
    outcome_t *o = xcalloc(1, sizeof *o);
    o->worker = xstrdup(job->worker);
    if (rc < 0) {
        free(handle);
        o->error = xstrdup(errbuf_msg(&err));
    } else {
        o->handle = handle ? handle : xstrdup("");
    }
    pthread_mutex_lock(&self->lock);
    if (o->handle) {
        zhashx_update(self->handles, o->worker, xstrdup(o->handle));
    }
    zlistx_add_end(self->outcomes, o);
    pthread_mutex_unlock(&self->lock);
}

static void
s_run_down(async_t *self, job_t *job)
{
    pthread_mutex_lock(&self->lock);
    const char *known = zhashx_lookup(self->handles, job->worker);
    char *handle = xstrdup(known ? known : job->handle);
    zhashx_delete(self->handles, job->worker);
    pthread_mutex_unlock(&self->lock);
    errbuf_t err;
    errbuf_clear(&err);
    pthread_mutex_lock(&self->call);
    int rc = self->inner->ops->down(self->inner, job->worker, handle, &err);
    pthread_mutex_unlock(&self->call);
    if (rc < 0) {
        log_warn("autoscaler: removing worker '%s' (%s) failed: %s",
                 job->worker, handle, errbuf_msg(&err));
    }
    free(handle);
}

static void *
s_thread(void *arg)
{
    async_t *self = arg;
    /* Signals are for the scheduler's loop (SIGTERM stops it). */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        job_t *job = zlistx_detach(self->queue, NULL);
        if (!job) {
            pthread_cond_wait(&self->wake, &self->lock);
            continue;
        }
        pthread_mutex_unlock(&self->lock);
        if (job->kind == JOB_UP) {
            s_run_up(self, job);
        } else {
            s_run_down(self, job);
        }
        s_job_free((void **) &job);
        pthread_mutex_lock(&self->lock);
    }
    self->stopped = true;
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/* ------------------------------------------------------------------ ops */

static int
s_up(autoscale_provider_t *provider,
     const autoscale_shape_t *shape,
     const char *worker,
     const char *join,
     char **handle,
     errbuf_t *err)
{
    (void) err;
    job_t *job = xcalloc(1, sizeof *job);
    job->kind = JOB_UP;
    job->worker = xstrdup(worker);
    job->join = xstrdup(join);
    job->shape = *shape;
    job->shape.name = xstrdup(shape->name ? shape->name : "");
    job->shape.labels = shape->labels ? xstrdup(shape->labels) : NULL;
    s_push(provider->state, job);
    *handle = xstrdup(""); /* known once `done` reports it */
    return 0;
}

static int
s_down(autoscale_provider_t *provider,
       const char *worker,
       const char *handle,
       errbuf_t *err)
{
    (void) err;
    job_t *job = xcalloc(1, sizeof *job);
    job->kind = JOB_DOWN;
    job->worker = xstrdup(worker);
    job->handle = xstrdup(handle ? handle : "");
    s_push(provider->state, job);
    return 0;
}

static int
s_list(autoscale_provider_t *provider, zlistx_t *out, errbuf_t *err)
{
    async_t *self = provider->state;
    if (!self->inner->ops->list) {
        return 0;
    }
    pthread_mutex_lock(&self->call);
    int rc = self->inner->ops->list(self->inner, out, err);
    pthread_mutex_unlock(&self->call);
    return rc;
}

static int
s_done(autoscale_provider_t *provider,
       char **worker,
       char **handle,
       char **error)
{
    async_t *self = provider->state;
    pthread_mutex_lock(&self->lock);
    outcome_t *o = zlistx_detach(self->outcomes, NULL);
    pthread_mutex_unlock(&self->lock);
    if (!o) {
        return 0;
    }
    *worker = o->worker;
    *handle = o->handle;
    *error = o->error;
    free(o);
    return 1;
}

static void
s_free(async_t *self)
{
    autoscale_provider_destroy(&self->inner);
    zlistx_destroy(&self->queue);
    zlistx_destroy(&self->outcomes);
    zhashx_destroy(&self->handles);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    pthread_mutex_destroy(&self->call);
    free(self);
}

/* Waits up to ASYNC_STOP_WAIT_S for the call in progress; a provider
 * program still running after that is left to finish on its own (its
 * thread, and our memory, with it) rather than holding up the stop.
 * Queued calls are dropped: `list` at the next start finds what exists. */
static void
s_destroy(void *state)
{
    async_t *self = state;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ASYNC_STOP_WAIT_S;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    pthread_cond_broadcast(&self->wake);
    int rc = 0;
    while (!self->stopped && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&self->wake, &self->lock, &until);
    }
    bool stopped = self->stopped;
    pthread_mutex_unlock(&self->lock);
    if (stopped) {
        pthread_join(self->thread, NULL);
        s_free(self);
    } else {
        log_warn("autoscaler: a %s provider call is still running; leaving "
                 "it behind",
                 self->ops.name);
        pthread_detach(self->thread);
    }
}

autoscale_provider_t *
autoscale_async_new(autoscale_provider_t **inner_p, errbuf_t *err)
{
    async_t *self = xcalloc(1, sizeof *self);
    self->ops = (autoscale_provider_ops_t){
        .name = (*inner_p)->ops->name,
        .up = s_up,
        .down = s_down,
        .list = s_list,
        .done = s_done,
        .destroy = s_destroy,
    };
    self->queue = zlistx_new();
    zlistx_set_destructor(self->queue, s_job_free);
    self->outcomes = zlistx_new();
    zlistx_set_destructor(self->outcomes, s_outcome_free);
    self->handles = zhashx_new();
    zhashx_set_destructor(self->handles, (zhashx_destructor_fn *) zstr_free);
    pthread_mutex_init(&self->lock, NULL);
    pthread_mutex_init(&self->call, NULL);
    pthread_cond_init(&self->wake, NULL);
    int rc = pthread_create(&self->thread, NULL, s_thread, self);
    if (rc != 0) {
        errbuf_set(err, "cannot start the autoscaler's provider thread: %s",
                   strerror(rc));
        s_free(self);
        return NULL;
    }
    self->inner = *inner_p;
    *inner_p = NULL;
    return autoscale_provider_new(&self->ops, self);
}
