/* autoscale — the policy: demand from the queue, bin-packed onto shapes;
 * launches, failed launches with backoff, drain before remove.
 *
 * The core knows nothing of sockets or the store: the scheduler hands it
 * the waiting tasks and the workers each step, and it answers through the
 * provider and the hooks. That keeps it testable with a fake provider. */
#include "scheduler/autoscale/autoscale.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/sluice.pb-c.h"

#define AS_MAX_DECISIONS 10
#define AS_MAX_UNFIT     10
#define AS_LEAVE_GRACE   10000  /* ms a drained idle worker has to leave */
#define AS_BACKOFF_MAX   300000 /* ms */

typedef enum {
    AS_LAUNCHING,
    AS_JOINED,
    AS_DRAINING
} as_state_t;

typedef struct {
    autoscale_shape_t pub; /* name and labels point into the owned copies */
    char *name;
    char *labels;
    char **label_list;
    size_t nlabels;
    uint32_t failures;     /* failed launches in a row */
    int64_t backoff_until; /* monotonic ms; 0 = none */
    uint32_t demand;       /* workers the queue needs, last step */
} as_shape_t;

typedef struct {
    char *name;
    char *handle;
    char *why; /* launched for this; kept until an async `up` reports */
    size_t shape;
    as_state_t state;
    int64_t launched_at;
    int64_t idle_since; /* 0 = running something */
    int64_t drained_at;
} as_member_t;

typedef struct {
    int64_t at;
    char *kind;
    char *subject;
    char *detail;
} as_decision_t;

struct autoscale_t {
    autoscale_policy_t policy;
    autoscale_provider_t *provider;
    autoscale_hooks_t hooks;
    as_shape_t *shapes;
    size_t nshapes;
    zlistx_t *members;  /* as_member_t, owned */
    zhashx_t *waiting;  /* task key -> first seen (int64 in a pointer) */
    zhashx_t *reported; /* task keys reported as unfit */
    int64_t last_decision;
    bool decided; /* some scale decision was made */
    as_decision_t decisions[AS_MAX_DECISIONS];
    size_t ndecisions; /* ever; the ring holds the last ones */
    char *unfit[AS_MAX_UNFIT];
    size_t nunfit;
    uint32_t unfit_count;
    uint32_t waiting_count;
    autoscale_counts_t counts;
};

/* --------------------------------------------------------------- shapes */

static void
s_shape_clear(as_shape_t *shape)
{
    for (size_t i = 0; i < shape->nlabels; i++) {
        free(shape->label_list[i]);
    }
    free(shape->label_list);
    free(shape->name);
    free(shape->labels);
}

static int
s_shape_option(as_shape_t *shape, char *opt, errbuf_t *err)
{
    char *eq = strchr(opt, '=');
    if (!eq) {
        errbuf_set(err, "'%s' is not KEY=VALUE", opt);
        return -1;
    }
    *eq = '\0';
    const char *key = opt, *value = eq + 1;
    if (!strcmp(key, "labels")) {
        free(shape->labels);
        shape->labels = xstrdup(value);
        for (char *p = shape->labels; *p; p++) {
            *p = *p == '|' ? ',' : *p; /* the worker's --labels form */
        }
        return 0;
    }
    char *end = NULL;
    unsigned long long n = strtoull(value, &end, 10);
    uint64_t mult = 1;
    if (!strcmp(key, "memory") && end && *end) {
        mult = (*end == 'G' || *end == 'g')   ? 1024
               : (*end == 'M' || *end == 'm') ? 1
                                              : 0;
        end += mult ? 1 : 0;
    }
    if (!end || end == value || *end || !mult || n > UINT32_MAX) {
        errbuf_set(err, "'%s' has a bad value '%s'", key, value);
        return -1;
    }
    if (!strcmp(key, "cpus")) {
        shape->pub.cpus = (uint32_t) n;
    } else if (!strcmp(key, "memory")) {
        shape->pub.memory_mb = n * mult;
    } else if (!strcmp(key, "gpus")) {
        shape->pub.gpus = (uint32_t) n;
    } else if (!strcmp(key, "slots") && n > 0) {
        shape->pub.slots = (uint32_t) n;
    } else {
        errbuf_set(err, "unknown or bad option '%s'", key);
        return -1;
    }
    return 0;
}

static void
s_shape_finish(as_shape_t *shape)
{
    if (!shape->labels) {
        shape->labels = xstrdup("");
    }
    char *copy = xstrdup(shape->labels);
    char *save = NULL;
    for (char *l = strtok_r(copy, ",", &save); l;
         l = strtok_r(NULL, ",", &save)) {
        shape->label_list =
            xrealloc(shape->label_list, (shape->nlabels + 1) * sizeof(char *));
        shape->label_list[shape->nlabels++] = xstrdup(l);
    }
    free(copy);
    shape->pub.name = shape->name;
    shape->pub.labels = shape->labels;
}

/* One "NAME:opt=v,opt=v" entry. */
static int
s_shape_parse(as_shape_t *shape, char *text, errbuf_t *err)
{
    *shape = (as_shape_t){.pub.slots = 1};
    char *colon = strchr(text, ':');
    if (colon) {
        *colon = '\0';
    }
    shape->name = xstrdup(text);
    if (!*shape->name ||
        strspn(shape->name, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
            strlen(shape->name)) {
        errbuf_set(err, "shape name '%s' must be letters, digits or _", text);
        return -1;
    }
    char *save = NULL;
    for (char *opt = colon ? strtok_r(colon + 1, ",", &save) : NULL; opt;
         opt = strtok_r(NULL, ",", &save)) {
        opt += strspn(opt, " ");
        if (*opt && s_shape_option(shape, opt, err) < 0) {
            errbuf_prefix(err, "shape '%s'", shape->name);
            return -1;
        }
    }
    s_shape_finish(shape);
    return 0;
}

static int
s_shapes_parse(autoscale_t *self, const char *text, errbuf_t *err)
{
    char *copy = xstrdup(text);
    char *save = NULL;
    int rc = 0;
    for (char *entry = strtok_r(copy, ";", &save); entry && rc == 0;
         entry = strtok_r(NULL, ";", &save)) {
        entry += strspn(entry, " \t");
        size_t len = strlen(entry);
        while (len && (entry[len - 1] == ' ' || entry[len - 1] == '\t')) {
            entry[--len] = '\0';
        }
        if (!len) {
            continue;
        }
        self->shapes =
            xrealloc(self->shapes, (self->nshapes + 1) * sizeof *self->shapes);
        as_shape_t *shape = &self->shapes[self->nshapes++];
        rc = s_shape_parse(shape, entry, err);
    }
    free(copy);
    if (rc == 0 && self->nshapes == 0) {
        errbuf_set(err, "no worker shape given");
        rc = -1;
    }
    if (rc < 0) {
        errbuf_prefix(err, "worker_shapes");
    }
    return rc;
}

static bool
s_has_label(const as_shape_t *shape, const char *label)
{
    for (size_t i = 0; i < shape->nlabels; i++) {
        if (!strcmp(shape->label_list[i], label)) {
            return true;
        }
    }
    return false;
}

/* Why the shape can never run the task ("needs 4 GPUs"), or NULL. */
static char *
s_why_not(const as_shape_t *shape, const autoscale_task_t *task)
{
    if (task->gpus > shape->pub.gpus) {
        return xasprintf("needs %u GPUs", task->gpus);
    }
    if (task->cpus && shape->pub.cpus && task->cpus > shape->pub.cpus) {
        return xasprintf("needs %u cpus", task->cpus);
    }
    if (task->memory_mb && shape->pub.memory_mb &&
        task->memory_mb > shape->pub.memory_mb) {
        return xasprintf("needs %" PRIu64 " MB of memory", task->memory_mb);
    }
    for (size_t i = 0; i < task->nlabels; i++) {
        if (!s_has_label(shape, task->labels[i])) {
            return xasprintf("needs label '%s'", task->labels[i]);
        }
    }
    return NULL;
}

static bool
s_fits_shape(const as_shape_t *shape, const autoscale_task_t *task)
{
    char *why = s_why_not(shape, task);
    free(why);
    return why == NULL;
}

/* -------------------------------------------------------------- members */

/* The member named `name`, with the list's cursor on it (for
 * zlistx_delete); NULL when there is none. */
static as_member_t *
s_member_find(autoscale_t *self, const char *name)
{
    for (as_member_t *m = zlistx_first(self->members); m;
         m = zlistx_next(self->members)) {
        if (!strcmp(m->name, name)) {
            return m;
        }
    }
    return NULL;
}

static void
s_member_free(void **item)
{
    as_member_t *m = *item;
    if (m) {
        free(m->name);
        free(m->handle);
        free(m->why);
        free(m);
        *item = NULL;
    }
}

static const autoscale_worker_t *
s_seen(const autoscale_worker_t *workers, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(workers[i].name, name)) {
            return &workers[i];
        }
    }
    return NULL;
}

/* --------------------------------------------------------------- events */

static void s_decide(autoscale_t *self,
                     const char *kind,
                     const char *subject,
                     const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static void
s_decide(autoscale_t *self,
         const char *kind,
         const char *subject,
         const char *fmt,
         ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *detail = NULL;
    if (vasprintf(&detail, fmt, ap) < 0) {
        detail = NULL;
    }
    va_end(ap);
    as_decision_t *d = &self->decisions[self->ndecisions % AS_MAX_DECISIONS];
    free(d->kind);
    free(d->subject);
    free(d->detail);
    *d = (as_decision_t){.at = clock_wall_ms(),
                         .kind = xstrdup(kind),
                         .subject = xstrdup(subject),
                         .detail = xstrdup(detail ? detail : "")};
    self->ndecisions++;
    log_info("autoscaler: %s %s: %s", kind + strlen("autoscale_"), subject,
             d->detail);
    if (self->hooks.event) {
        self->hooks.event(self->hooks.arg, kind, subject, d->detail);
    }
    free(detail);
}

/* -------------------------------------------------------------- new/del */

autoscale_t *
autoscale_new(const autoscale_policy_t *policy,
              const char *shapes,
              autoscale_provider_t **provider_p,
              const autoscale_hooks_t *hooks,
              errbuf_t *err)
{
    autoscale_t *self = xcalloc(1, sizeof *self);
    self->policy = *policy;
    if (self->policy.max_launch_per_step == 0) {
        self->policy.max_launch_per_step = 1;
    }
    self->hooks = *hooks;
    self->members = zlistx_new();
    zlistx_set_destructor(self->members, s_member_free);
    self->waiting = zhashx_new();
    self->reported = zhashx_new();
    if (s_shapes_parse(self, shapes, err) < 0) {
        self->provider = NULL;
        autoscale_destroy(&self);
        return NULL;
    }
    self->provider = *provider_p;
    *provider_p = NULL;
    return self;
}

void
autoscale_destroy(autoscale_t **self_p)
{
    autoscale_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->nshapes; i++) {
        s_shape_clear(&self->shapes[i]);
    }
    free(self->shapes);
    for (size_t i = 0; i < AS_MAX_DECISIONS; i++) {
        free(self->decisions[i].kind);
        free(self->decisions[i].subject);
        free(self->decisions[i].detail);
    }
    for (size_t i = 0; i < self->nunfit; i++) {
        free(self->unfit[i]);
    }
    zlistx_destroy(&self->members);
    zhashx_destroy(&self->waiting);
    zhashx_destroy(&self->reported);
    autoscale_provider_destroy(&self->provider);
    free(self);
    *self_p = NULL;
}

/* ------------------------------------------------------------ lifecycle */

static void
s_backoff(autoscale_t *self, as_shape_t *shape, int64_t now)
{
    shape->failures++;
    int64_t base = self->policy.cooldown_ms > 1000
                       ? (int64_t) self->policy.cooldown_ms
                       : 1000;
    int shift = shape->failures > 9 ? 8 : (int) shape->failures - 1;
    int64_t delay = base << shift;
    delay = delay > AS_BACKOFF_MAX ? AS_BACKOFF_MAX : delay;
    shape->backoff_until = now + delay;
}

static void
s_down(autoscale_t *self, as_member_t *m)
{
    errbuf_t err;
    errbuf_clear(&err);
    if (self->provider->ops->down(self->provider, m->name,
                                  m->handle ? m->handle : "", &err) < 0) {
        log_warn("autoscaler: removing worker '%s' (%s) failed: %s", m->name,
                 m->handle ? m->handle : "", errbuf_msg(&err));
    }
}

/* Launching: joined, or failed when launch_timeout passed. False when the
 * member is to be forgotten. */
static bool
s_update_launching(autoscale_t *self,
                   as_member_t *m,
                   const autoscale_worker_t *w,
                   int64_t now)
{
    as_shape_t *shape = &self->shapes[m->shape];
    if (w && w->connected) {
        m->state = AS_JOINED;
        m->idle_since = w->running ? 0 : now;
        shape->failures = 0;
        shape->backoff_until = 0;
        log_info("autoscaler: worker '%s' (%s) joined after %" PRId64 " ms",
                 m->name, shape->name, now - m->launched_at);
        return true;
    }
    if (now - m->launched_at < (int64_t) self->policy.launch_timeout_ms) {
        return true;
    }
    s_down(self, m);
    s_backoff(self, shape, now);
    self->counts.failed++;
    s_decide(self, "autoscale_launch_failed", m->name,
             "shape %s did not join within %" PRIu64
             " ms; removed; launches of %s back off for %" PRId64 " ms",
             shape->name, self->policy.launch_timeout_ms, shape->name,
             shape->backoff_until - now);
    return false;
}

/* Joined or draining: idle time, and removal once it left. */
static bool
s_update_member(autoscale_t *self,
                as_member_t *m,
                const autoscale_worker_t *w,
                int64_t now)
{
    if (m->state == AS_LAUNCHING) {
        return s_update_launching(self, m, w, now);
    }
    if (!w || !w->connected) {
        s_down(self, m);
        self->counts.removed++;
        s_decide(self, "autoscale_remove", m->name, "%s",
                 m->state == AS_DRAINING ? "drained and left"
                                         : "left or was lost; cleaned up");
        return false;
    }
    if (w->running) {
        m->idle_since = 0;
    } else if (!m->idle_since) {
        m->idle_since = now;
    }
    if (m->state == AS_JOINED && w->draining) {
        m->state = AS_DRAINING; /* an operator drained it */
        m->drained_at = now;
    }
    if (m->state == AS_DRAINING && !w->running &&
        now - m->drained_at >= AS_LEAVE_GRACE) {
        s_down(self, m);
        self->counts.removed++;
        s_decide(self, "autoscale_remove", m->name,
                 "drained and idle but did not leave within %d ms",
                 AS_LEAVE_GRACE);
        return false;
    }
    return true;
}

static void
s_update_members(autoscale_t *self,
                 int64_t now,
                 const autoscale_worker_t *workers,
                 size_t nworkers)
{
    /* Each member once, in order: kept ones go back to the end. */
    for (size_t n = zlistx_size(self->members); n > 0; n--) {
        as_member_t *m = zlistx_detach(self->members, NULL);
        const autoscale_worker_t *w = s_seen(workers, nworkers, m->name);
        if (s_update_member(self, m, w, now)) {
            zlistx_add_end(self->members, m);
        } else {
            void *item = m;
            s_member_free(&item);
        }
    }
}

/* --------------------------------------------------------------- demand */

/* Remembers when each task was first seen waiting; drops the rest. */
static void
s_note_waiting(autoscale_t *self,
               int64_t now,
               const autoscale_task_t *tasks,
               size_t n)
{
    zhashx_t *next = zhashx_new();
    zhashx_t *reported = zhashx_new();
    for (size_t i = 0; i < n; i++) {
        void *since = zhashx_lookup(self->waiting, tasks[i].key);
        zhashx_insert(next, tasks[i].key,
                      since ? since : (void *) (intptr_t) (now ? now : 1));
        if (zhashx_lookup(self->reported, tasks[i].key)) {
            zhashx_insert(reported, tasks[i].key, (void *) 1);
        }
    }
    zhashx_destroy(&self->waiting);
    zhashx_destroy(&self->reported);
    self->waiting = next;
    self->reported = reported;
}

static int64_t
s_since(autoscale_t *self, const autoscale_task_t *task)
{
    return (int64_t) (intptr_t) zhashx_lookup(self->waiting, task->key);
}

/* A bin: a worker of a shape (launching or to launch) and what is left. */
typedef struct {
    size_t shape;
    bool launch; /* a new one */
    uint32_t slots, cpus, gpus;
    uint64_t memory_mb;
    uint32_t tasks;
    int64_t oldest; /* monotonic ms the oldest task in it waits since */
} as_bin_t;

static as_bin_t
s_bin(const as_shape_t *shape, size_t index, bool launch)
{
    return (as_bin_t){.shape = index,
                      .launch = launch,
                      .slots = shape->pub.slots,
                      .cpus = shape->pub.cpus,
                      .gpus = shape->pub.gpus,
                      .memory_mb = shape->pub.memory_mb};
}

static bool
s_bin_take(as_bin_t *bin,
           const as_shape_t *shape,
           const autoscale_task_t *task,
           int64_t since)
{
    bool cpus_ok = !shape->pub.cpus || task->cpus <= bin->cpus;
    bool mem_ok = !shape->pub.memory_mb || task->memory_mb <= bin->memory_mb;
    if (!bin->slots || !cpus_ok || !mem_ok || task->gpus > bin->gpus ||
        !s_fits_shape(shape, task)) {
        return false;
    }
    bin->slots--;
    bin->cpus -= shape->pub.cpus ? task->cpus : 0;
    bin->memory_mb -= shape->pub.memory_mb ? task->memory_mb : 0;
    bin->gpus -= task->gpus;
    bin->tasks++;
    if (!bin->oldest || since < bin->oldest) {
        bin->oldest = since;
    }
    return true;
}

/* First-fit decreasing: GPUs, then cpus, then memory. */
static int
s_task_cmp(const void *a, const void *b)
{
    const autoscale_task_t *x = *(const autoscale_task_t *const *) a;
    const autoscale_task_t *y = *(const autoscale_task_t *const *) b;
    if (x->gpus != y->gpus) {
        return x->gpus > y->gpus ? -1 : 1;
    }
    if (x->cpus != y->cpus) {
        return x->cpus > y->cpus ? -1 : 1;
    }
    if (x->memory_mb != y->memory_mb) {
        return x->memory_mb > y->memory_mb ? -1 : 1;
    }
    return 0;
}

/* Records a task no shape fits (said once per task while it waits). */
static void
s_unfit(autoscale_t *self, const autoscale_task_t *task)
{
    char *why = s_why_not(&self->shapes[0], task);
    for (size_t i = 1; i < self->nshapes && why; i++) {
        free(why);
        why = s_why_not(&self->shapes[i], task);
    }
    char *text = xasprintf("no shape fits task %s: %s", task->id,
                           why ? why : "it asks for more than any shape");
    self->unfit_count++;
    if (self->nunfit < AS_MAX_UNFIT) {
        self->unfit[self->nunfit++] = xstrdup(text);
    }
    if (!zhashx_lookup(self->reported, task->key)) {
        zhashx_insert(self->reported, task->key, (void *) 1);
        s_decide(self, "autoscale_unfit", task->id, "%s; nothing launched",
                 text);
    }
    free(text);
    free(why);
}

/* The shape to open a new bin with: the first that fits and is not
 * backing off; SIZE_MAX when none. */
static size_t
s_pick_shape(autoscale_t *self, const autoscale_task_t *task, int64_t now)
{
    for (size_t i = 0; i < self->nshapes; i++) {
        if (s_fits_shape(&self->shapes[i], task) &&
            self->shapes[i].backoff_until <= now) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Packs the tasks that waited long enough into the launching workers,
 * then into new bins. Returns the bins (caller frees); *nbins set. */
static as_bin_t *
s_pack(autoscale_t *self,
       int64_t now,
       const autoscale_task_t *tasks,
       size_t ntasks,
       size_t *nbins)
{
    const autoscale_task_t **order = xcalloc(ntasks + 1, sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < self->nunfit; i++) {
        free(self->unfit[i]);
    }
    self->nunfit = 0;
    self->unfit_count = 0;
    for (size_t i = 0; i < ntasks; i++) {
        size_t fit = 0;
        for (size_t s = 0; s < self->nshapes; s++) {
            fit += s_fits_shape(&self->shapes[s], &tasks[i]);
        }
        if (!fit) {
            s_unfit(self, &tasks[i]);
        } else if (now - s_since(self, &tasks[i]) >=
                   (int64_t) self->policy.scale_up_delay_ms) {
            order[n++] = &tasks[i];
        }
    }
    qsort(order, n, sizeof *order, s_task_cmp);
    size_t cap = zlistx_size(self->members) + n + 1;
    as_bin_t *bins = xcalloc(cap, sizeof *bins);
    size_t nb = 0;
    for (as_member_t *m = zlistx_first(self->members); m;
         m = zlistx_next(self->members)) {
        if (m->state == AS_LAUNCHING) {
            bins[nb++] = s_bin(&self->shapes[m->shape], m->shape, false);
        }
    }
    for (size_t i = 0; i < n; i++) {
        int64_t since = s_since(self, order[i]);
        size_t b = 0;
        while (b < nb && !s_bin_take(&bins[b], &self->shapes[bins[b].shape],
                                     order[i], since)) {
            b++;
        }
        size_t shape = b < nb ? SIZE_MAX : s_pick_shape(self, order[i], now);
        if (shape != SIZE_MAX) {
            bins[nb] = s_bin(&self->shapes[shape], shape, true);
            s_bin_take(&bins[nb], &self->shapes[shape], order[i], since);
            nb++;
        }
    }
    free(order);
    *nbins = nb;
    return bins;
}

/* ------------------------------------------------------------- launches */

static uint32_t
s_count(autoscale_t *self, int state) /* -1 = all */
{
    uint32_t n = 0;
    for (as_member_t *m = zlistx_first(self->members); m;
         m = zlistx_next(self->members)) {
        n += state < 0 || (int) m->state == state;
    }
    return n;
}

/* A provider's `up` failed: the shape backs off, and the decision says
 * why. */
static void
s_up_failed(autoscale_t *self,
            size_t index,
            const char *name,
            const char *why,
            const char *error,
            int64_t now)
{
    as_shape_t *shape = &self->shapes[index];
    s_backoff(self, shape, now);
    self->counts.failed++;
    s_decide(self, "autoscale_launch_failed", name,
             "shape %s (%s): %s; launches of %s back off for %" PRId64 " ms",
             shape->name, why, error, shape->name, shape->backoff_until - now);
}

static void
s_decide_launch(autoscale_t *self, const as_member_t *m)
{
    const char *shape = self->shapes[m->shape].name;
    s_decide(self, "autoscale_launch", m->name,
             "shape %s via %s (handle %s): %s", shape,
             self->provider->ops->name, m->handle, m->why ? m->why : "");
}

static bool
s_launch(autoscale_t *self, size_t index, int64_t now, const char *why)
{
    as_shape_t *shape = &self->shapes[index];
    uint32_t tag = randombytes_random();
    char *name = xasprintf("as-%s-%08x", shape->name, tag);
    errbuf_t err;
    errbuf_clear(&err);
    char *handle = NULL;
    char *join = self->hooks.join ? self->hooks.join(self->hooks.arg, &err)
                                  : xstrdup("");
    int rc = join ? self->provider->ops->up(self->provider, &shape->pub, name,
                                            join, &handle, &err)
                  : -1;
    free(join);
    self->counts.launches++;
    if (rc < 0) {
        free(handle);
        s_up_failed(self, index, name, why, errbuf_msg(&err), now);
        free(name);
        return false;
    }
    as_member_t *m = xcalloc(1, sizeof *m);
    *m = (as_member_t){.name = name,
                       .handle = handle ? handle : xstrdup(""),
                       .shape = index,
                       .state = AS_LAUNCHING,
                       .launched_at = now};
    zlistx_add_end(self->members, m);
    m->why = xstrdup(why);
    if (!self->provider->ops->done) {
        s_decide_launch(self, m);
    } /* else decided once the provider reports (s_collect_done) */
    return true;
}

/* The outcome of every `up` an asynchronous provider finished since the
 * last step: the launch is recorded with its handle, or failed with the
 * provider's reason. An `up` that ends after its launch timed out needs
 * nothing: the `down` queued at the timeout runs after it. */
static void
s_collect_done(autoscale_t *self, int64_t now)
{
    char *worker, *handle, *error;
    while (self->provider->ops->done &&
           self->provider->ops->done(self->provider, &worker, &handle, &error) >
               0) {
        as_member_t *m = s_member_find(self, worker);
        if (m && m->state == AS_LAUNCHING) {
            if (error) {
                s_up_failed(self, m->shape, m->name, m->why, error, now);
                zlistx_delete(self->members, zlistx_cursor(self->members));
            } else {
                free(m->handle);
                m->handle = handle;
                handle = NULL;
                s_decide_launch(self, m);
            }
        }
        free(worker);
        free(handle);
        free(error);
    }
}

/* Launches the new bins, within max_launch_per_step and max_workers. */
static int
s_scale_up(autoscale_t *self, int64_t now, const as_bin_t *bins, size_t nb)
{
    uint32_t total = s_count(self, -1);
    uint32_t room =
        self->policy.max_workers > total ? self->policy.max_workers - total : 0;
    uint32_t budget = self->policy.max_launch_per_step < room
                          ? self->policy.max_launch_per_step
                          : room;
    int launched = 0;
    for (size_t b = 0; b < nb && budget > 0; b++) {
        if (!bins[b].launch) {
            continue;
        }
        char why[160];
        snprintf(why, sizeof why,
                 "%u waiting tasks for it, the oldest for %" PRId64 " ms",
                 bins[b].tasks, now - bins[b].oldest);
        launched += s_launch(self, bins[b].shape, now, why);
        budget--;
    }
    return launched;
}

/* Keeps min_workers: workers the autoscaler did not launch count too. */
static int
s_keep_min(autoscale_t *self, int64_t now, uint32_t others)
{
    uint32_t have =
        s_count(self, AS_LAUNCHING) + s_count(self, AS_JOINED) + others;
    int launched = 0;
    for (uint32_t i = 0; have + i < self->policy.min_workers &&
                         i < self->policy.max_launch_per_step &&
                         s_count(self, -1) < self->policy.max_workers;
         i++) {
        size_t shape = 0;
        while (shape < self->nshapes &&
               self->shapes[shape].backoff_until > now) {
            shape++;
        }
        if (shape == self->nshapes) {
            break;
        }
        launched += s_launch(self, shape, now, "min_workers");
    }
    return launched;
}

/* ----------------------------------------------------------- scale-down */

/* Whether a waiting task could run on this shape (then keep the worker:
 * hysteresis against draining what the queue is about to need). */
static bool
s_wanted(autoscale_t *self,
         size_t shape,
         const autoscale_task_t *tasks,
         size_t ntasks)
{
    for (size_t i = 0; i < ntasks; i++) {
        if (s_fits_shape(&self->shapes[shape], &tasks[i])) {
            return true;
        }
    }
    return false;
}

static int
s_scale_down(autoscale_t *self,
             int64_t now,
             const autoscale_task_t *tasks,
             size_t ntasks,
             uint32_t others)
{
    uint32_t keep =
        s_count(self, AS_JOINED) + s_count(self, AS_LAUNCHING) + others;
    int drained = 0;
    for (as_member_t *m = zlistx_first(self->members); m;
         m = zlistx_next(self->members)) {
        if (m->state != AS_JOINED || !m->idle_since ||
            now - m->idle_since < (int64_t) self->policy.idle_timeout_ms ||
            keep <= self->policy.min_workers ||
            s_wanted(self, m->shape, tasks, ntasks)) {
            continue;
        }
        m->state = AS_DRAINING;
        m->drained_at = now;
        keep--;
        if (self->hooks.drain) {
            self->hooks.drain(self->hooks.arg, m->name);
        }
        s_decide(self, "autoscale_drain", m->name,
                 "idle for %" PRId64 " ms (idle_timeout %" PRIu64
                 " ms); removed once it has left",
                 now - m->idle_since, self->policy.idle_timeout_ms);
        drained++;
    }
    return drained;
}

/* ----------------------------------------------------------------- step */

int
autoscale_step(autoscale_t *self,
               int64_t now,
               const autoscale_task_t *tasks,
               size_t ntasks,
               const autoscale_worker_t *workers,
               size_t nworkers)
{
    uint64_t failed = self->counts.failed, removed = self->counts.removed;
    s_collect_done(self, now);
    s_update_members(self, now, workers, nworkers);
    s_note_waiting(self, now, tasks, ntasks);
    self->waiting_count = (uint32_t) ntasks;
    uint32_t others = 0;
    for (size_t i = 0; i < nworkers; i++) {
        others += workers[i].connected && !workers[i].draining &&
                  !autoscale_owns(self, workers[i].name);
    }
    size_t nb = 0;
    as_bin_t *bins = s_pack(self, now, tasks, ntasks, &nb);
    for (size_t s = 0; s < self->nshapes; s++) {
        self->shapes[s].demand = 0;
    }
    uint32_t wanted = 0;
    for (size_t b = 0; b < nb; b++) {
        self->shapes[bins[b].shape].demand++;
        wanted += bins[b].launch;
    }
    int decisions = 0;
    bool cool = !self->decided ||
                now - self->last_decision >= (int64_t) self->policy.cooldown_ms;
    if (cool && wanted) {
        decisions = s_scale_up(self, now, bins, nb);
    }
    if (cool && !decisions) {
        decisions = s_keep_min(self, now, others);
    }
    if (cool && !decisions && !wanted) {
        decisions = s_scale_down(self, now, tasks, ntasks, others);
    }
    if (decisions || self->counts.failed != failed) {
        self->decided = true;
        self->last_decision = now;
    }
    free(bins);
    return decisions + (int) (self->counts.failed - failed) +
           (int) (self->counts.removed - removed);
}

/* ------------------------------------------------------------ reconcile */

int
autoscale_reconcile(autoscale_t *self, int64_t now, errbuf_t *err)
{
    zlistx_t *out = zlistx_new();
    zlistx_set_destructor(out, (zlistx_destructor_fn *) zstr_free);
    int rc = self->provider->ops->list
                 ? self->provider->ops->list(self->provider, out, err)
                 : 0;
    for (char *line = zlistx_first(out); rc == 0 && line;
         line = zlistx_next(out)) {
        char *tab = strchr(line, '\t');
        char *name = xstrndup(line, tab ? (size_t) (tab - line) : strlen(line));
        size_t shape = 0;
        for (size_t s = 0; s < self->nshapes; s++) {
            size_t len = strlen(self->shapes[s].name);
            if (!strncmp(name, "as-", 3) &&
                !strncmp(name + 3, self->shapes[s].name, len) &&
                name[3 + len] == '-') {
                shape = s;
            }
        }
        if (autoscale_owns(self, name)) {
            free(name);
            continue;
        }
        as_member_t *m = xcalloc(1, sizeof *m);
        *m = (as_member_t){.name = name,
                           .handle = xstrdup(tab ? tab + 1 : ""),
                           .shape = shape,
                           .state = AS_LAUNCHING,
                           .launched_at = now};
        zlistx_add_end(self->members, m);
        log_info("autoscaler: adopted worker '%s' (%s) from the provider",
                 m->name, m->handle);
    }
    zlistx_destroy(&out);
    return rc;
}

/* -------------------------------------------------------------- queries */

bool
autoscale_owns(autoscale_t *self, const char *name)
{
    return s_member_find(self, name) != NULL;
}

autoscale_counts_t
autoscale_counts(autoscale_t *self)
{
    autoscale_counts_t c = self->counts;
    c.launching = s_count(self, AS_LAUNCHING);
    c.joined = s_count(self, AS_JOINED);
    c.draining = s_count(self, AS_DRAINING);
    c.unfit = self->unfit_count;
    return c;
}

autoscale_provider_t *
autoscale_provider_new(const autoscale_provider_ops_t *ops, void *state)
{
    assert(ops);
    autoscale_provider_t *self = xmalloc(sizeof *self);
    self->ops = ops;
    self->state = state;
    return self;
}

void
autoscale_provider_destroy(autoscale_provider_t **self_p)
{
    assert(self_p);
    autoscale_provider_t *self = *self_p;
    if (!self) {
        return;
    }
    /* Read before the call: an ops table may live in the state it frees. */
    void (*destroy)(void *state) = self->ops->destroy;
    if (destroy) {
        destroy(self->state);
    }
    free(self);
    *self_p = NULL;
}

autoscale_provider_t *
autoscale_provider(autoscale_t *self)
{
    return self->provider;
}

const char *
autoscale_provider_name(autoscale_t *self)
{
    return self->provider->ops->name;
}

static uint32_t
s_count_shape(autoscale_t *self, size_t shape, as_state_t state)
{
    uint32_t n = 0;
    for (as_member_t *m = zlistx_first(self->members); m;
         m = zlistx_next(self->members)) {
        n += m->shape == shape && m->state == state;
    }
    return n;
}

void
autoscale_status(autoscale_t *self,
                 int64_t now,
                 Sluice__AutoscaleStatusRep *out)
{
    out->provider = xstrdup(self->provider->ops->name);
    out->min_workers = self->policy.min_workers;
    out->max_workers = self->policy.max_workers;
    out->in_flight = s_count(self, AS_LAUNCHING);
    out->waiting = self->waiting_count;
    out->n_shapes = self->nshapes;
    out->shapes = xcalloc(self->nshapes + 1, sizeof *out->shapes);
    for (size_t i = 0; i < self->nshapes; i++) {
        Sluice__AutoscaleShapeStatus *s = xmalloc(sizeof *s);
        sluice__autoscale_shape_status__init(s);
        as_shape_t *shape = &self->shapes[i];
        s->name = xstrdup(shape->name);
        s->demand = shape->demand;
        s->connected = s_count_shape(self, i, AS_JOINED);
        s->launching = s_count_shape(self, i, AS_LAUNCHING);
        s->draining = s_count_shape(self, i, AS_DRAINING);
        s->backoff_ms = shape->backoff_until > now
                            ? (uint64_t) (shape->backoff_until - now)
                            : 0;
        s->failures = shape->failures;
        out->shapes[i] = s;
    }
    size_t nd = self->ndecisions < AS_MAX_DECISIONS ? self->ndecisions
                                                    : AS_MAX_DECISIONS;
    out->n_decisions = nd;
    out->decisions = xcalloc(nd + 1, sizeof *out->decisions);
    for (size_t i = 0; i < nd; i++) {
        const as_decision_t *d =
            &self->decisions[(self->ndecisions - nd + i) % AS_MAX_DECISIONS];
        Sluice__AutoscaleDecision *o = xmalloc(sizeof *o);
        sluice__autoscale_decision__init(o);
        o->at_ms = d->at;
        o->kind = xstrdup(d->kind);
        o->subject = xstrdup(d->subject);
        o->detail = xstrdup(d->detail);
        out->decisions[i] = o;
    }
    out->n_unfit = self->nunfit;
    out->unfit = xcalloc(self->nunfit + 1, sizeof *out->unfit);
    for (size_t i = 0; i < self->nunfit; i++) {
        out->unfit[i] = xstrdup(self->unfit[i]);
    }
}
