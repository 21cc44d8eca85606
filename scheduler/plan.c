#include "scheduler/plan.h"
#include "scheduler/plan_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/tmpl.h"
#include "common/xalloc.h"
#include "scheduler/cache.h"
#include "scheduler/limits.h"
#include "scheduler/ready.h"
#include "scheduler/render.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_metrics.h"
#include "scheduler/store/store_runs.h"

static void
s_run_free(void **item)
{
    plan_run_t *run = *item;
    if (!run) {
        return;
    }
    for (size_t i = 0; run->tis && run->dag && i < dag_task_count(run->dag);
         i++) {
        free(run->tis[i].waiting);
        free(run->tis[i].cache_key);
        free(run->tis[i].cache_outputs);
    }
    dag_destroy(&run->dag);
    for (size_t i = 0; i < run->nparams; i++) {
        free((char *) run->params[i].name);
        free((char *) run->params[i].value);
    }
    free(run->params);
    free(run->logical_date);
    for (size_t i = 0; i < 3; i++) {
        free(run->times[i]);
    }
    free(run->tis);
    free(run);
    *item = NULL;
}

static void
s_attempt_free(void **item)
{
    plan_attempt_t *attempt = *item;
    if (attempt) {
        free(attempt->worker);
        free(attempt);
        *item = NULL;
    }
}

static void
s_ref_free(void **item)
{
    xfree((plan_ref_t **) item);
}

plan_t *
plan_new(store_t *store)
{
    plan_t *self = xcalloc(1, sizeof *self);
    self->store = store;
    self->runs = idmap_new(s_run_free);
    self->attempts = idmap_new(s_attempt_free);
    self->retries = zlistx_new();
    zlistx_set_destructor(self->retries, s_ref_free);
    self->limits = limits_new(store);
    self->ready = ready_new();
    return self;
}

void
plan_destroy(plan_t **self_p)
{
    plan_t *self = *self_p;
    if (!self) {
        return;
    }
    zhashx_destroy(&self->attempts);
    zhashx_destroy(&self->runs);
    zlistx_destroy(&self->retries);
    limits_destroy(&self->limits);
    ready_destroy(&self->ready);
    free(self);
    *self_p = NULL;
}

limits_t *
plan_limits(plan_t *self)
{
    return self->limits;
}

void
plan_set_secret_lookup(plan_t *self, plan_secret_fn *fn, void *arg)
{
    self->secret = fn;
    self->secret_arg = arg;
}

void
plan_set_lost_hook(plan_t *self, plan_lost_fn *fn, void *arg)
{
    self->lost = fn;
    self->lost_arg = arg;
}

static void
s_secret_name(void *arg, const tmpl_ref_t *ref)
{
    if (strncmp(ref->name, "secret.", 7) == 0) {
        zlistx_add_end((zlistx_t *) arg, xstrdup(ref->name + 7));
    }
}

/* The run of attempt_id while it is in flight (*task set), else NULL. */
static plan_run_t *
s_run_of(plan_t *self, uint64_t attempt_id, size_t *task)
{
    plan_attempt_t *attempt = zhashx_lookup(self->attempts, ID_KEY(attempt_id));
    *task = attempt ? attempt->task : 0;
    return attempt ? zhashx_lookup(self->runs, ID_KEY(attempt->run_id)) : NULL;
}

/* The same, only while attempt_id is its task's current attempt. */
static plan_run_t *
s_current(plan_t *self, uint64_t attempt_id, size_t *task)
{
    plan_run_t *run = s_run_of(self, attempt_id, task);
    return run && run->tis[*task].attempt_id == attempt_id ? run : NULL;
}

size_t
plan_attempt_secrets(plan_t *self, uint64_t attempt_id, zlistx_t *names)
{
    size_t task;
    plan_run_t *run = s_run_of(self, attempt_id, &task);
    if (!run) {
        return 0;
    }
    const dag_task_t *def = dag_task(run->dag, task);
    size_t before = zlistx_size(names);
    for (size_t i = 0; i < def->nenv; i++) {
        errbuf_t err;
        tmpl_scan(def->env[i].value, s_secret_name, names, &err);
    }
    return zlistx_size(names) - before;
}

/* ---------------------------------------------------------- ready queue */

/* Pops the next entry that is still a queued task of an active run; stale
 * entries (cancelled since) are skipped. */
static bool
s_ready_pop(plan_t *self, plan_run_t **run_p, limits_ready_t *entry)
{
    while (ready_pop(self->ready, entry)) {
        plan_run_t *run = zhashx_lookup(self->runs, ID_KEY(entry->run_id));
        if (run && run->tis[entry->task].state == TASK_QUEUED) {
            *run_p = run;
            return true;
        }
    }
    return false;
}

bool
plan_has_ready(plan_t *self)
{
    return ready_count(self->ready) > 0;
}

size_t
plan_ready_count(plan_t *self)
{
    return ready_count(self->ready);
}

bool
plan_run_counts(plan_t *self, uint64_t run_id, uint32_t *counts)
{
    plan_run_t *run = zhashx_lookup(self->runs, ID_KEY(run_id));
    if (run) {
        memcpy(counts, run->counts, sizeof run->counts);
    }
    return run != NULL;
}

/* Calls fn for the queued tasks; with `startable`, only for those that no
 * limit holds back. */
static size_t
s_each_ready(plan_t *self, bool startable, plan_ready_fn *fn, void *arg)
{
    size_t n = 0;
    char why[256];
    for (size_t i = 0; i < ready_count(self->ready); i++) {
        const limits_ready_t *ref = ready_at(self->ready, i);
        plan_run_t *run = zhashx_lookup(self->runs, ID_KEY(ref->run_id));
        if (!run || run->tis[ref->task].state != TASK_QUEUED) {
            continue;
        }
        const dag_task_t *def = dag_task(run->dag, ref->task);
        if (startable &&
            !limits_admit(self->limits, run->dag, run->id,
                          run->state == RUN_QUEUED, def, why, sizeof why)) {
            continue;
        }
        fn(arg, ref->run_id, def);
        n++;
    }
    return n;
}

size_t
plan_each_ready(plan_t *self, plan_ready_fn *fn, void *arg)
{
    return s_each_ready(self, false, fn, arg);
}

size_t
plan_each_startable(plan_t *self, plan_ready_fn *fn, void *arg)
{
    return s_each_ready(self, true, fn, arg);
}

size_t
plan_run_count(plan_t *self)
{
    return zhashx_size(self->runs);
}

/* ------------------------------------------------------------- trigger */

int
plan_trigger(plan_t *self,
             dag_t **dag_p,
             const dag_kv_t *params,
             size_t nparams,
             const char *logical_date,
             const char *trigger,
             int64_t now,
             uint64_t *run_id,
             errbuf_t *err)
{
    dag_t *dag = *dag_p;
    if (store_run_create(self->store, dag_name(dag), dag_version(dag), params,
                         nparams, logical_date, trigger, now, run_id,
                         err) < 0) {
        return -1;
    }
    plan_run_t *run =
        plan_run_new(*run_id, dag_p, params, nparams, logical_date);
    run->backfill = strcmp(trigger, PLAN_TRIGGER_BACKFILL) == 0;
    zhashx_insert(self->runs, ID_KEY(run->id), run);
    limits_run_added(self->limits, dag_name(run->dag), run->id, run->backfill,
                     run->state);
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        const char *task_id = dag_task(run->dag, i)->id;
        if (store_task_create(self->store, run->id, task_id, TASK_PENDING, now,
                              err) < 0) {
            return -1;
        }
    }
    /* Roots, and `always` tasks, start now. */
    return plan_decide_pending(self, run, now, err);
}

void
plan_set_times(plan_t *self,
               uint64_t run_id,
               const char *logical,
               const char *start,
               const char *end)
{
    plan_run_t *run = zhashx_lookup(self->runs, ID_KEY(run_id));
    if (!run) {
        return;
    }
    const char *values[3] = {logical, start, end};
    for (size_t i = 0; i < 3; i++) {
        free(run->times[i]);
        run->times[i] = xstrdup(values[i]);
    }
}

/* --------------------------------------------------------------- restore */

static void
s_attempt_track(plan_t *self,
                uint64_t attempt_id,
                uint64_t run_id,
                size_t task,
                const char *worker)
{
    plan_attempt_t *attempt = xcalloc(1, sizeof *attempt);
    attempt->id = attempt_id;
    attempt->run_id = run_id;
    attempt->task = task;
    attempt->worker = xstrdup(worker ? worker : "");
    zhashx_update(self->attempts, ID_KEY(attempt_id), attempt);
}

static int
s_restore_log_seq(plan_t *self, uint64_t attempt_id, errbuf_t *err)
{
    plan_attempt_t *attempt = zhashx_lookup(self->attempts, ID_KEY(attempt_id));
    return store_log_last_seq(self->store, attempt_id, &attempt->log_seq, err);
}

static int
s_restore_task(plan_t *self,
               plan_run_t *run,
               size_t i,
               const store_task_row_t *row,
               plan_attempt_fn *on_attempt,
               void *arg,
               int64_t now,
               errbuf_t *err)
{
    plan_ti_t *ti = &run->tis[i];
    run->counts[ti->state]--;
    run->counts[row->state]++;
    ti->state = row->state; /* as stored: a load, not a transition */
    ti->tries = row->tries;
    ti->failures = row->tries; /* conservative: retries left never grow */
    if (state_task_is_final(ti->state)) {
        run->nfinal++;
    }
    switch (ti->state) {
        case TASK_QUEUED:
            plan_ready_add(self, run, i);
            break;
        case TASK_DISPATCHED:
        case TASK_RUNNING:
            /* Loaded in flight: it holds its limits and pool slots until it
             * leaves, as before the restart. */
            limits_task_moved(self->limits, dag_name(run->dag),
                              dag_task(run->dag, i), TASK_PENDING, ti->state);
            if (row->attempt_id == 0) {
                return plan_queue(self, run, i, now, err);
            }
            ti->attempt_id = row->attempt_id;
            s_attempt_track(self, row->attempt_id, run->id, i, row->worker);
            /* Chunks the worker sends again after our restart are the
             * ones already stored, up to here. */
            if (s_restore_log_seq(self, row->attempt_id, err) < 0) {
                return -1;
            }
            if (on_attempt) {
                on_attempt(arg, row->attempt_id, row->worker);
            }
            break;
        case TASK_UP_FOR_RETRY: {
            int64_t wait = row->next_try_at > now ? row->next_try_at - now : 0;
            plan_retry_later(self, run, i, clock_mono_ms() + wait);
            break;
        }
        default:
            break;
    }
    return 0;
}

int
plan_restore(plan_t *self,
             dag_t **dag_p,
             const store_run_row_t *row,
             plan_attempt_fn *on_attempt,
             void *arg,
             int64_t now,
             errbuf_t *err)
{
    plan_run_t *run = plan_run_new(row->run_id, dag_p, row->params,
                                   row->nparams, row->logical_date);
    run->state = row->state; /* as stored: a load, not a transition */
    run->backfill =
        row->trigger && strcmp(row->trigger, PLAN_TRIGGER_BACKFILL) == 0;
    zhashx_insert(self->runs, ID_KEY(run->id), run);
    limits_run_added(self->limits, dag_name(run->dag), run->id, run->backfill,
                     run->state);
    for (size_t r = 0; r < row->ntasks; r++) {
        long i = dag_task_index(run->dag, row->tasks[r].task_id);
        if (i >= 0 && s_restore_task(self, run, (size_t) i, &row->tasks[r],
                                     on_attempt, arg, now, err) < 0) {
            return -1;
        }
    }
    /* Every verdict a parent's end called for was written with it, so
     * only the counts need rebuilding. */
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        plan_count_up(run, i);
    }
    return plan_finish_run(self, run, now, err);
}

/* -------------------------------------------------------------- dispatch */

/* What the templates of attempt `attempt` of `task` may name. */
static render_vars_t
s_vars(plan_t *self, plan_run_t *run, const dag_task_t *task, uint32_t attempt)
{
    return (render_vars_t){.run_id = run->id_text,
                           .logical_date = run->logical_date,
                           .logical_ts = run->times[0],
                           .interval_start = run->times[1],
                           .interval_end = run->times[2],
                           .params = run->params,
                           .nparams = run->nparams,
                           .task_id = task->id,
                           .attempt = attempt,
                           .secret = self->secret,
                           .secret_arg = self->secret_arg,
                           .store = self->store,
                           .run = run->id};
}

/* Creates the attempt of a ready task on `worker` and fills out. */
static int
s_dispatch_one(plan_t *self,
               plan_run_t *run,
               size_t task,
               const char *worker,
               bool prefetched,
               int64_t now,
               plan_dispatch_t *out,
               errbuf_t *err)
{
    memset(out, 0, sizeof *out);
    plan_ti_t *ti = &run->tis[task];
    const dag_task_t *def = dag_task(run->dag, task);
    uint32_t number = ti->tries + 1;
    if (store_attempt_create(self->store, run->id, def->id, number, worker,
                             prefetched ? ATTEMPT_DISPATCHED : ATTEMPT_RUNNING,
                             now, &out->attempt_id, err) < 0) {
        return -1;
    }
    ti->tries = number;
    ti->attempt_id = out->attempt_id;
    out->prefetched = prefetched;
    task_state_t to = prefetched ? TASK_DISPATCHED : TASK_RUNNING;
    if (plan_set_task(self, run, task, to, now, err) < 0 ||
        plan_mark_running(self, run, now, err) < 0 ||
        plan_set_waiting(self, run, task, NULL, err) < 0) {
        return -1;
    }
    s_attempt_track(self, out->attempt_id, run->id, task, worker);
    out->run_id = run->id;
    out->dag = dag_name(run->dag);
    out->task = def;
    out->attempt = number;
    out->logical_date = run->logical_date;
    render_vars_t vars = s_vars(self, run, def, number);
    if (render_dispatch(&vars, def, out, err) < 0) {
        return 1; /* the task's fault, not the store's: fail the attempt */
    }
    return 0;
}

/* The attempt could not be built (a secret is not set, a template does
 * not resolve): it fails like a task that could not start, so retries and
 * retry_on apply, and the run goes on. */
static int
s_dispatch_failed(plan_t *self,
                  uint64_t attempt_id,
                  const char *worker,
                  const errbuf_t *why,
                  int64_t now,
                  errbuf_t *err)
{
    log_warn("attempt %" PRIu64 " cannot start: %s", attempt_id,
             errbuf_msg(why));
    plan_result_t result = {.state = ATTEMPT_FAILED,
                            .cause = "spawn",
                            .exit_code = -1,
                            .started_at = now,
                            .ended_at = now,
                            .error = errbuf_msg(why)};
    char *name = xstrdup(worker);
    int rc = plan_attempt_result(self, attempt_id, name, &result, now, err);
    free(name);
    return rc < 0 ? -1 : 0;
}

/* --------------------------------------------------------------- cache */

typedef struct {
    uint64_t attempt_id;
    uint64_t run_id;
} plan_cache_hit_t;

static int
s_cache_take(void *arg, uint64_t attempt_id, uint64_t run_id, const char *outs)
{
    if (!cache_outputs_ok(outs)) {
        return 0; /* gone or changed since: that entry cannot be reused */
    }
    *(plan_cache_hit_t *) arg = (plan_cache_hit_t){attempt_id, run_id};
    return 1;
}

/* The task reuses the outputs of an earlier attempt: skipped_cached, a
 * success for its children. */
static int
s_cache_skip(plan_t *self,
             plan_run_t *run,
             size_t task,
             const plan_cache_hit_t *hit,
             int64_t now,
             errbuf_t *err)
{
    const dag_task_t *def = dag_task(run->dag, task);
    char hit_key[96], subject[160], detail[96];
    snprintf(hit_key, sizeof hit_key, "hit:%" PRIu64 ":%s", run->id, def->id);
    snprintf(subject, sizeof subject, "run %" PRIu64 " task %s", run->id,
             def->id);
    snprintf(detail, sizeof detail,
             "outputs of attempt %" PRIu64 " (run %" PRIu64 ")",
             hit->attempt_id, hit->run_id);
    log_info("run %" PRIu64 " task '%s' skipped: cached, %s", run->id, def->id,
             detail);
    if (plan_mark_running(self, run, now, err) < 0 ||
        plan_set_task(self, run, task, TASK_SKIPPED_CACHED, now, err) < 0 ||
        store_cache_put(self->store, hit_key, hit->attempt_id, run->id, def->id,
                        "", now, err) < 0 ||
        store_event(self->store, now, "scheduler", "task_cached", subject,
                    detail, err) < 0 ||
        plan_release(self, run, task, now, err) < 0) {
        return -1;
    }
    return plan_finish_run(self, run, now, err);
}

/* 1 when a `cache: true` task was skipped, 0 when it must run (its key is
 * kept for its success), -1 on a store error. */
static int
s_cache_check(
    plan_t *self, plan_run_t *run, size_t task, int64_t now, errbuf_t *err)
{
    bool no_cache = false;
    if (store_run_extras_get(self->store, run->id, &no_cache, NULL, 0, err) <
        0) {
        return -1;
    }
    const dag_task_t *def = dag_task(run->dag, task);
    render_vars_t vars = s_vars(self, run, def, run->tis[task].tries + 1);
    errbuf_t why;
    char *command = render_command(&vars, def, &why);
    char **inputs = NULL, **outputs = NULL;
    size_t ninputs = 0, noutputs = 0;
    bool ok = command &&
              render_paths(&vars, def->inputs, def->ninputs, &inputs, &ninputs,
                           &why) == 0 &&
              render_paths(&vars, def->outputs, def->noutputs, &outputs,
                           &noutputs, &why) == 0;
    int rc = 0;
    plan_ti_t *ti = &run->tis[task];
    xfree(&ti->cache_key);
    xfree(&ti->cache_outputs);
    if (ok) { /* else dispatch fails it with the same message */
        char key[CACHE_KEY_HEX];
        cache_key(def, command, inputs, ninputs, key);
        plan_cache_hit_t hit = {0};
        rc = no_cache
                 ? 0
                 : store_cache_find(self->store, key, s_cache_take, &hit, err);
        if (rc > 0) {
            rc = s_cache_skip(self, run, task, &hit, now, err) < 0 ? -1 : 1;
        } else if (rc == 0) {
            ti->cache_key = xstrdup(key);
            ti->cache_outputs = cache_outputs_describe(outputs, noutputs);
        }
    }
    for (size_t i = 0; i < ninputs; i++) {
        free(inputs[i]);
    }
    for (size_t i = 0; i < noutputs; i++) {
        free(outputs[i]);
    }
    free(inputs);
    free(outputs);
    free(command);
    return rc;
}

int
plan_cache_result(plan_t *self, uint64_t attempt_id, int64_t now, errbuf_t *err)
{
    size_t task;
    plan_run_t *run = s_current(self, attempt_id, &task);
    plan_ti_t *ti = run ? &run->tis[task] : NULL;
    if (!ti || !ti->cache_key) {
        return 0;
    }
    /* Hashes as they are now, after the attempt wrote them. */
    char *lines = xstrdup(ti->cache_outputs ? ti->cache_outputs : "");
    size_t n = 0;
    char **outputs = xcalloc(strlen(lines) + 1, sizeof *outputs);
    for (char *save = NULL, *line = strtok_r(lines, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (tab) {
            *tab = '\0';
        }
        outputs[n++] = line;
    }
    char *described = cache_outputs_describe(outputs, n);
    int rc = store_cache_put(self->store, ti->cache_key, attempt_id, run->id,
                             dag_task(run->dag, task)->id, described, now, err);
    free(described);
    free(outputs);
    free(lines);
    return rc;
}

/* 1 when a limit (limits_admit) holds the task back: it goes to the back
 * of the queue with the limit as its reason; 0 when it may go on. */
static int
s_held_back(plan_t *self,
            plan_run_t *run,
            const limits_ready_t *entry,
            errbuf_t *err)
{
    char why[256] = "";
    if (limits_admit(self->limits, run->dag, run->id, run->state == RUN_QUEUED,
                     dag_task(run->dag, entry->task), why, sizeof why)) {
        return 0;
    }
    ready_push(self->ready, *entry);
    return plan_set_waiting(self, run, entry->task, why, err) < 0 ? -1 : 1;
}

/* Creates the attempt on `worker` and sends it; 1 when sent. */
static int
s_dispatch_to(plan_t *self,
              plan_run_t *run,
              const limits_ready_t *entry,
              const char *worker,
              bool prefetched,
              plan_send_fn *send,
              void *arg,
              int64_t now,
              errbuf_t *err)
{
    plan_dispatch_t d;
    errbuf_t cannot;
    errbuf_clear(&cannot);
    int rc = s_dispatch_one(self, run, entry->task, worker, prefetched, now, &d,
                            &cannot);
    if (rc == 0) {
        d.queued_mono = entry->queued_mono;
        send(arg, worker, &d);
        rc = 1;
    } else if (rc > 0) {
        rc = s_dispatch_failed(self, d.attempt_id, worker, &cannot, now, err);
    } else {
        *err = cannot;
    }
    render_clear(&d);
    return rc;
}

int
plan_dispatch_round(plan_t *self,
                    plan_place_fn *place,
                    plan_send_fn *send,
                    void *arg,
                    int64_t now,
                    errbuf_t *err)
{
    int sent = 0;
    ready_order(self->ready, clock_mono_ms());
    /* Each entry is looked at once: tasks that wait go to the back. */
    for (size_t n = ready_count(self->ready); n > 0; n--) {
        plan_run_t *run;
        limits_ready_t entry;
        if (!s_ready_pop(self, &run, &entry)) {
            break;
        }
        size_t task = entry.task;
        const dag_task_t *def = dag_task(run->dag, task);
        int held = s_held_back(self, run, &entry, err);
        int cached = held == 0 && def->cache
                         ? s_cache_check(self, run, task, now, err)
                         : held;
        if (cached != 0) { /* held back, skipped_cached, or a store error */
            if (cached < 0) {
                return -1;
            }
            continue;
        }
        const char *worker = NULL;
        char why[256] = "";
        plan_place_t where = place(arg, def, &worker, why, sizeof why);
        if (where == PLAN_FULL) {
            ready_push_front(self->ready, entry);
            break;
        }
        if (where == PLAN_WAIT) {
            ready_push(self->ready, entry);
            if (plan_set_waiting(self, run, task, why, err) < 0) {
                return -1;
            }
            continue;
        }
        int rc = s_dispatch_to(self, run, &entry, worker,
                               where == PLAN_PREFETCH, send, arg, now, err);
        if (rc < 0) {
            return -1;
        }
        sent += rc;
    }
    return sent;
}

/* --------------------------------------------------------------- results */

/* Exponential backoff: retry_delay * 2^(failures-1), capped. */
static int64_t
s_retry_delay(const dag_task_t *task, uint32_t failures)
{
    uint64_t delay = task->retry_delay_ms;
    for (uint32_t i = 1; i < failures && delay < task->max_retry_delay_ms;
         i++) {
        delay *= 2;
    }
    if (task->max_retry_delay_ms && delay > task->max_retry_delay_ms) {
        delay = task->max_retry_delay_ms;
    }
    return (int64_t) delay;
}

/* Whether a failure of this cause may be retried: every cause when the
 * task sets no retry_on, else only those it names. */
static bool
s_retryable(const dag_task_t *def, const char *cause)
{
    if (!def->retry_on) {
        return true;
    }
    unsigned bit = 0;
    if (cause && strcmp(cause, "spawn") == 0) {
        bit = DAG_CAUSE_EXIT; /* could not start: like a failed exit */
    } else if (!cause || dag_cause_parse(cause, &bit) < 0) {
        return false;
    }
    return (def->retry_on & bit) != 0;
}

/* A failed attempt: retry later if the budget and retry_on allow, else
 * the task ends in `final` and its children hear of it. */
static int
s_fail_or_retry(plan_t *self,
                plan_run_t *run,
                size_t task,
                const char *cause,
                task_state_t final,
                int64_t now,
                errbuf_t *err)
{
    plan_ti_t *ti = &run->tis[task];
    const dag_task_t *def = dag_task(run->dag, task);
    ti->failures++;
    if (ti->failures <= def->retries && s_retryable(def, cause)) {
        plan_retry_later(self, run, task,
                         clock_mono_ms() + s_retry_delay(def, ti->failures));
        return plan_set_task(self, run, task, TASK_UP_FOR_RETRY, now, err);
    }
    if (plan_set_task(self, run, task, final, now, err) < 0) {
        return -1;
    }
    return plan_release(self, run, task, now, err);
}

/* Decides what a finished attempt means for its task instance. */
static int
s_apply_outcome(plan_t *self,
                plan_run_t *run,
                size_t task,
                const plan_result_t *result,
                int64_t now,
                errbuf_t *err)
{
    const dag_task_t *def = dag_task(run->dag, task);
    if (plan_sensor_not_ready(def, result)) {
        return plan_sensor_wait(self, run, task, result, now, err);
    }
    bool skip = result->state == ATTEMPT_FAILED && result->cause &&
                strcmp(result->cause, "exit") == 0 && def->skip_exit_code &&
                result->exit_code == def->skip_exit_code;
    if (result->state == ATTEMPT_SUCCESS || skip) {
        /* skip_exit_code: the command said "skip me"; the worker reports
         * a failed exit, which the scheduler, knowing the DAG, reads. */
        if (plan_set_task(self, run, task, skip ? TASK_SKIPPED : TASK_SUCCESS,
                          now, err) < 0 ||
            (!skip &&
             plan_branch_skip(self, run, task, result, now, err) < 0)) {
            return -1;
        }
        return plan_release(self, run, task, now, err);
    }
    task_state_t final =
        result->state == ATTEMPT_TIMED_OUT ? TASK_TIMED_OUT : TASK_FAILED;
    return s_fail_or_retry(self, run, task, result->cause, final, now, err);
}

int
plan_attempt_result(plan_t *self,
                    uint64_t attempt_id,
                    const char *worker,
                    const plan_result_t *result,
                    int64_t now,
                    errbuf_t *err)
{
    size_t task;
    plan_run_t *run = s_current(self, attempt_id, &task);
    if (!run) {
        if (store_attempt_stale(self->store, attempt_id, worker,
                                state_attempt_name(result->state), now,
                                err) < 0) {
            return -1;
        }
        return PLAN_STALE;
    }
    /* A branch that chose a task it cannot follow fails, as a malformed
     * $SLUICE_BRANCH does on the worker. */
    plan_result_t checked = *result;
    errbuf_t why;
    if (plan_branch_check(run, task, result, &why) < 0) {
        checked.state = ATTEMPT_FAILED;
        checked.cause = "exit";
        checked.error = errbuf_msg(&why);
        result = &checked;
    }
    store_attempt_end_t end = {
        .state = result->state,
        .exit_code = result->exit_code,
        .signal = result->signal,
        .started_at = result->started_at,
        .ended_at = result->ended_at ? result->ended_at : now,
        .duration_ms = result->duration_ms,
        .peak_rss_kb = result->peak_rss_kb,
        .error = result->error,
        .cause = result->cause,
    };
    zhashx_delete(self->attempts, ID_KEY(attempt_id));
    if (store_attempt_finish(self->store, attempt_id, &end, err) < 0) {
        return -1;
    }
    if (run->tis[task].state == TASK_DISPATCHED &&
        result->state != ATTEMPT_CANCELLED &&
        plan_set_task(self, run, task, TASK_RUNNING, now, err) < 0) {
        return -1; /* its start was not reported before its end */
    }
    if (!state_task_in_flight(run->tis[task].state)) {
        /* Cancelled while it ran: the attempt's end is recorded above. */
        return plan_finish_run(self, run, now, err);
    }
    if (result->state == ATTEMPT_CANCELLED) {
        /* Killed or given back by its worker (shutdown, drain), not by a
         * user: run it again, no retry counted. */
        if (plan_queue(self, run, task, now, err) < 0) {
            return -1;
        }
        return 0;
    }
    if (s_apply_outcome(self, run, task, result, now, err) < 0) {
        return -1;
    }
    return plan_finish_run(self, run, now, err);
}

int
plan_attempt_started(plan_t *self,
                     uint64_t attempt_id,
                     int64_t now,
                     errbuf_t *err)
{
    size_t task;
    plan_run_t *run = s_current(self, attempt_id, &task);
    if (!run || run->tis[task].state != TASK_DISPATCHED) {
        return run ? 0 : PLAN_STALE; /* into a free slot, or told before */
    }
    if (store_attempt_start(self->store, attempt_id, now, err) < 0) {
        return -1;
    }
    return plan_set_task(self, run, task, TASK_RUNNING, now, err);
}

int
plan_attempt_lost(plan_t *self,
                  uint64_t attempt_id,
                  const char *cause,
                  const char *reason,
                  int64_t now,
                  errbuf_t *err)
{
    size_t task;
    plan_run_t *run = s_current(self, attempt_id, &task);
    if (!run) {
        return PLAN_STALE;
    }
    store_attempt_end_t end = {.state = ATTEMPT_LOST,
                               .exit_code = -1,
                               .ended_at = now,
                               .error = reason,
                               .cause = cause};
    zhashx_delete(self->attempts, ID_KEY(attempt_id));
    if (store_attempt_finish(self->store, attempt_id, &end, err) < 0) {
        return -1;
    }
    const dag_task_t *def = dag_task(run->dag, task);
    if (!state_task_in_flight(run->tis[task].state)) {
        return plan_finish_run(self, run, now, err);
    }
    /* Losing a worker is not the task's fault: unless the DAG says how to
     * treat it (retry_on), the task simply runs again. */
    if (def->retry_on && strcmp(cause, "lost") == 0) {
        log_warn("attempt %" PRIu64 " of run %" PRIu64 " task '%s' lost (%s)",
                 attempt_id, run->id, def->id, reason);
        if (s_fail_or_retry(self, run, task, cause, TASK_FAILED, now, err) <
                0 ||
            (self->lost && self->lost(self->lost_arg, dag_name(run->dag),
                                      attempt_id, err) < 0)) {
            return -1;
        }
        return plan_finish_run(self, run, now, err);
    }
    log_warn("attempt %" PRIu64 " of run %" PRIu64 " task '%s' %s (%s); "
             "queued again",
             attempt_id, run->id, def->id, cause, reason);
    return plan_queue(self, run, task, now, err);
}

const char *
plan_attempt_dag(plan_t *self, uint64_t attempt_id)
{
    size_t task;
    plan_run_t *run = s_run_of(self, attempt_id, &task);
    return run ? dag_name(run->dag) : NULL;
}

const char *
plan_attempt_worker(plan_t *self, uint64_t attempt_id)
{
    plan_attempt_t *attempt = zhashx_lookup(self->attempts, ID_KEY(attempt_id));
    return attempt ? attempt->worker : NULL;
}

uint64_t
plan_attempt_log_seq(plan_t *self, uint64_t attempt_id)
{
    plan_attempt_t *attempt = zhashx_lookup(self->attempts, ID_KEY(attempt_id));
    return attempt ? attempt->log_seq : 0;
}

bool
plan_attempt_log(
    plan_t *self, uint64_t attempt_id, uint64_t seq, size_t size, uint64_t cap)
{
    plan_attempt_t *attempt = zhashx_lookup(self->attempts, ID_KEY(attempt_id));
    if (!attempt || seq <= attempt->log_seq ||
        (cap && attempt->log_bytes + size > cap)) {
        return false;
    }
    attempt->log_seq = seq;
    attempt->log_bytes += size;
    return true;
}

bool
plan_attempt_known(plan_t *self, uint64_t attempt_id)
{
    return zhashx_lookup(self->attempts, ID_KEY(attempt_id)) != NULL;
}

bool
plan_attempt_held(plan_t *self, uint64_t attempt_id)
{
    size_t task;
    plan_run_t *run = s_current(self, attempt_id, &task);
    return run && run->tis[task].state == TASK_DISPATCHED;
}

/* ---------------------------------------------------------------- cancel */

int
plan_cancel_run(plan_t *self,
                uint64_t run_id,
                zlistx_t *running,
                uint32_t *cancelled,
                int64_t now,
                errbuf_t *err)
{
    plan_run_t *run = zhashx_lookup(self->runs, ID_KEY(run_id));
    *cancelled = 0;
    if (!run || state_run_is_final(run->state)) {
        errbuf_set(err,
                   "run %" PRIu64 " is not active (finished or unknown); "
                   "see 'sluice runs'",
                   run_id);
        return -1;
    }
    for (size_t i = 0; i < dag_task_count(run->dag); i++) {
        plan_ti_t *ti = &run->tis[i];
        if (state_task_is_final(ti->state)) {
            continue;
        }
        if (state_task_in_flight(ti->state) &&
            zhashx_lookup(self->attempts, ID_KEY(ti->attempt_id))) {
            zlistx_add_end(running, ID_KEY(ti->attempt_id));
        }
        if (plan_set_task(self, run, i, TASK_CANCELLED, now, err) < 0) {
            return -1;
        }
        (*cancelled)++;
    }
    if (plan_set_run(self, run, RUN_CANCELLED, now, err) < 0) {
        return -1;
    }
    return plan_finish_run(self, run, now, err);
}

/* ------------------------------------------------------------------ time */

int
plan_tick(plan_t *self, int64_t now_mono, int64_t now, errbuf_t *err)
{
    plan_ref_t *ref = zlistx_first(self->retries);
    while (ref) {
        plan_run_t *run = zhashx_lookup(self->runs, ID_KEY(ref->run_id));
        bool gone = !run || run->tis[ref->task].state != TASK_UP_FOR_RETRY;
        if (gone || run->tis[ref->task].due_mono <= now_mono) {
            if (!gone && plan_queue(self, run, ref->task, now, err) < 0) {
                return -1;
            }
            zlistx_delete(self->retries, zlistx_cursor(self->retries));
            ref = zlistx_first(self->retries);
            continue;
        }
        ref = zlistx_next(self->retries);
    }
    return 0;
}

int64_t
plan_next_due(plan_t *self)
{
    int64_t next = -1;
    for (plan_ref_t *ref = zlistx_first(self->retries); ref;
         ref = zlistx_next(self->retries)) {
        plan_run_t *run = zhashx_lookup(self->runs, ID_KEY(ref->run_id));
        if (run && (next < 0 || run->tis[ref->task].due_mono < next)) {
            next = run->tis[ref->task].due_mono;
        }
    }
    return next;
}
