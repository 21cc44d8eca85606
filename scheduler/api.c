/* api — read-only control requests answered from the store.
 *
 * One handler per request op, reached through s_handlers[]. Handlers read
 * rows through the store's callbacks and copy everything they keep into the
 * reply, which is heap-allocated field by field so that
 * protobuf_c_message_free_unpacked frees it. */
#include "scheduler/api.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dag.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/api_metrics.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_metrics.h"
#include "scheduler/store/store_query.h"
#include "scheduler/store/store_results.h"

/* ------------------------------------------------------------ helpers */

static char *
s_str(const char *text)
{
    return xstrdup(text ? text : "");
}

/* Appends item to a heap array whose capacity is the next power of two of
 * its length, so no separate capacity is kept. array and count are plain
 * lvalues (evaluated more than once). */
#define PUSH(array, count, item)                                               \
    do {                                                                       \
        if ((count) == 0 || ((count) & ((count) -1)) == 0) {                   \
            (array) = xrealloc((array),                                        \
                               ((count) ? (count) *2 : 1) * sizeof *(array));  \
        }                                                                      \
        (array)[(count)++] = (item);                                           \
    } while (0)

static Sluice__Reply *
s_reply(uint64_t request_id)
{
    Sluice__Reply *rep = xmalloc(sizeof *rep);
    sluice__reply__init(rep);
    rep->request_id = request_id;
    return rep;
}

Sluice__Reply *
api_error(uint64_t request_id, uint32_t code, const char *fmt, ...)
{
    Sluice__Reply *rep = s_reply(request_id);
    Sluice__ErrorRep *error = xmalloc(sizeof *error);
    sluice__error_rep__init(error);
    error->code = code;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&error->message, fmt, ap) < 0) {
        error->message = NULL;
    }
    va_end(ap);
    if (!error->message) {
        error->message = xstrdup("out of memory");
    }
    rep->op_case = SLUICE__REPLY__OP_ERROR;
    rep->error = error;
    return rep;
}

/* An error reply for a failed store call: not found, full, or internal. */
static Sluice__Reply *
s_store_error(uint64_t request_id, int rc, const errbuf_t *err)
{
    uint32_t code = rc == STORE_ENOTFOUND ? API_E_NOT_FOUND
                    : rc == STORE_EFULL   ? API_E_STORE_FULL
                                          : API_E_INTERNAL;
    if (code == API_E_INTERNAL) {
        log_error("control API: %s", errbuf_msg(err));
    }
    return api_error(request_id, code, "%s", errbuf_msg(err));
}

/* The runs a list shows: the default when the client asked for 0, never
 * more than the most one reply lists. */
static uint32_t
s_limit(uint32_t asked)
{
    uint32_t limit = asked ? asked : API_RUNS_DEFAULT;
    return limit > API_RUNS_MAX ? API_RUNS_MAX : limit;
}

static Sluice__Param *
s_param(const dag_kv_t *kv)
{
    Sluice__Param *param = xmalloc(sizeof *param);
    sluice__param__init(param);
    param->name = s_str(kv->name);
    param->value = s_str(kv->value);
    return param;
}

/* A declared param with its type and rules, for `dag show`. */
static Sluice__ParamDef *
s_param_def(const dag_t *dag, const dag_param_t *decl)
{
    Sluice__ParamDef *param = xmalloc(sizeof *param);
    sluice__param_def__init(param);
    param->name = s_str(decl->name);
    param->default_ = s_str(decl->value);
    param->type = s_str(dag_param_type_name(decl->type));
    param->required = decl->required;
    param->min = s_str(decl->min ? decl->min : "");
    param->max = s_str(decl->max ? decl->max : "");
    param->n_enum_ = decl->nenum;
    param->enum_ =
        decl->nenum ? xcalloc(decl->nenum, sizeof *param->enum_) : NULL;
    for (size_t i = 0; i < decl->nenum; i++) {
        param->enum_[i] = s_str(decl->enums[i]);
    }
    param->pattern = s_str(decl->pattern ? decl->pattern : "");
    param->declared_at = xasprintf("%s:%zu", dag_file(dag), decl->line);
    return param;
}

/* Parses a stored DAG source; NULL (logged) if it no longer parses, e.g.
 * after the parser grew stricter. */
static dag_t *
s_parse(const char *filename, const char *source)
{
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse(filename, source, strlen(source), errors);
    if (!dag) {
        const char *first = zlist_first(errors);
        log_warn("control API: stored DAG '%s' does not parse: %s", filename,
                 first ? first : "unknown error");
    }
    zlist_destroy(&errors);
    return dag;
}

/* ---------------------------------------------------------------- DAGs */

static Sluice__DagSummary *
s_dag_summary(const store_dag_row_t *row, const dag_t *dag)
{
    Sluice__DagSummary *sum = xmalloc(sizeof *sum);
    sluice__dag_summary__init(sum);
    sum->name = s_str(row->name);
    sum->version = s_str(row->version);
    sum->description = s_str(dag ? dag_description(dag) : "");
    sum->schedule = s_str(dag ? dag_schedule(dag) : "");
    sum->tasks = dag ? (uint32_t) dag_task_count(dag) : 0;
    sum->updated_ms = (uint64_t) row->updated_at;
    sum->runs = row->runs;
    sum->last_run_state = s_str(row->last_run_state);
    sum->last_run_id = row->last_run_id;
    sum->timezone = s_str(dag ? dag_timezone(dag) : "");
    sum->paused = row->paused;
    sum->next_run = s_str("");
    return sum;
}

static int
s_on_dag(void *arg, const store_dag_row_t *row)
{
    Sluice__DagListRep *list = arg;
    dag_t *dag = s_parse(row->filename, row->source);
    PUSH(list->dags, list->n_dags, s_dag_summary(row, dag));
    dag_destroy(&dag);
    return 0;
}

static Sluice__Reply *
s_dag_list(store_t *store, const Sluice__Request *req)
{
    Sluice__DagListRep *list = xmalloc(sizeof *list);
    sluice__dag_list_rep__init(list);
    errbuf_t err;
    int rc = store_dag_list(store, s_on_dag, list, &err);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(&list->base, NULL);
        return s_store_error(req->request_id, rc, &err);
    }
    Sluice__Reply *rep = s_reply(req->request_id);
    rep->op_case = SLUICE__REPLY__OP_DAG_LIST;
    rep->dag_list = list;
    return rep;
}

static Sluice__TaskDef *
s_task_def(const dag_t *dag, const dag_task_t *task)
{
    Sluice__TaskDef *def = xmalloc(sizeof *def);
    sluice__task_def__init(def);
    def->id = s_str(task->id);
    def->kind = s_str(task->kind);
    def->run = s_str(task->run);
    def->n_after = task->nafter;
    def->after =
        task->nafter ? xcalloc(task->nafter, sizeof *def->after) : NULL;
    for (size_t i = 0; i < task->nafter; i++) {
        def->after[i] = s_str(dag_task(dag, task->after[i])->id);
    }
    def->retries = task->retries;
    def->timeout_ms = task->timeout_ms;
    return def;
}

static int
s_on_dag_show(void *arg, const store_dag_row_t *row)
{
    Sluice__DagShowRep *show = arg;
    dag_t *dag = s_parse(row->filename, row->source);
    show->dag = s_dag_summary(row, dag);
    show->source = s_str(row->source);
    size_t ntasks = dag ? dag_task_count(dag) : 0;
    for (size_t i = 0; i < ntasks; i++) {
        PUSH(show->tasks, show->n_tasks, s_task_def(dag, dag_task(dag, i)));
    }
    size_t nparams = dag ? dag_param_count(dag) : 0;
    for (size_t i = 0; i < nparams; i++) {
        PUSH(show->params, show->n_params, s_param_def(dag, dag_param(dag, i)));
    }
    dag_destroy(&dag);
    return 0;
}

static Sluice__Reply *
s_dag_show(store_t *store, const Sluice__Request *req)
{
    const char *name = req->dag_show->name;
    if (!name || !*name) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "name the DAG to show, e.g. 'sluice dag show "
                         "hello'");
    }
    Sluice__DagShowRep *show = xmalloc(sizeof *show);
    sluice__dag_show_rep__init(show);
    errbuf_t err;
    int rc = store_dag_get(store, name, s_on_dag_show, show, &err);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(&show->base, NULL);
        return s_store_error(req->request_id, rc, &err);
    }
    Sluice__Reply *rep = s_reply(req->request_id);
    rep->op_case = SLUICE__REPLY__OP_DAG_SHOW;
    rep->dag_show = show;
    return rep;
}

/* ---------------------------------------------------------------- runs */

Sluice__RunSummary *
api_run_summary(const store_run_info_t *run)
{
    assert(run);
    Sluice__RunSummary *sum = xmalloc(sizeof *sum);
    sluice__run_summary__init(sum);
    sum->run_id = run->run_id;
    sum->dag = s_str(run->dag);
    sum->version = s_str(run->version);
    sum->state = s_str(state_run_name(run->state));
    sum->created_ms = (uint64_t) run->created_at;
    sum->started_ms = (uint64_t) run->started_at;
    sum->ended_ms = (uint64_t) run->ended_at;
    sum->total = run->ntasks;
    const uint32_t *c = run->counts;
    sum->succeeded = c[TASK_SUCCESS] + c[TASK_SKIPPED_CACHED];
    sum->running = c[TASK_QUEUED] + c[TASK_DISPATCHED] + c[TASK_RUNNING];
    sum->failed = c[TASK_FAILED] + c[TASK_UPSTREAM_FAILED] + c[TASK_TIMED_OUT] +
                  c[TASK_CANCELLED];
    sum->logical_date = s_str(run->logical_date);
    sum->trigger = s_str(run->trigger);
    if (run->has_interval) {
        sum->logical_ms = (uint64_t) run->logical_at;
        sum->interval_start_ms = (uint64_t) run->interval_start;
        sum->interval_end_ms = (uint64_t) run->interval_end;
    }
    sum->timezone = s_str(run->timezone);
    return sum;
}

static int
s_on_run(void *arg, const store_run_info_t *run)
{
    Sluice__RunsRep *runs = arg;
    PUSH(runs->runs, runs->n_runs, api_run_summary(run));
    return 0;
}

static Sluice__Reply *
s_runs(store_t *store, const Sluice__Request *req)
{
    const char *dag = req->runs->dag;
    uint32_t limit = s_limit(req->runs->limit);
    errbuf_t err;
    int rc = dag && *dag ? store_dag_get(store, dag, NULL, NULL, &err) : 0;
    if (rc != 0) {
        return s_store_error(req->request_id, rc, &err);
    }
    Sluice__RunsRep *runs = xmalloc(sizeof *runs);
    sluice__runs_rep__init(runs);
    rc = store_runs_list(store, dag, limit, s_on_run, runs, &err);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(&runs->base, NULL);
        return s_store_error(req->request_id, rc, &err);
    }
    /* The dataset version that triggered a run, when one did. */
    for (size_t i = 0; i < runs->n_runs; i++) {
        char by[1024];
        if (store_run_extras_get(store, runs->runs[i]->run_id, NULL, by,
                                 sizeof by, &err) == 0 &&
            *by) {
            runs->runs[i]->triggered_by = xstrdup(by); /* was the default */
        }
    }
    Sluice__Reply *rep = s_reply(req->request_id);
    rep->op_case = SLUICE__REPLY__OP_RUNS;
    rep->runs = runs;
    return rep;
}

/* ------------------------------------------------------------ run show */

static Sluice__AttemptInfo *
s_attempt_info(const store_attempt_row_t *a)
{
    Sluice__AttemptInfo *info = xmalloc(sizeof *info);
    sluice__attempt_info__init(info);
    info->attempt_id = a->attempt_id;
    info->number = a->number;
    info->worker = s_str(a->worker);
    info->state = s_str(state_attempt_name(a->state));
    info->started_ms = (uint64_t) a->started_at;
    info->ended_ms = (uint64_t) a->ended_at;
    info->exit_code = a->exit_code;
    info->signal = a->signal;
    info->peak_rss_kb = a->peak_rss_kb;
    info->error = s_str(a->error);
    info->cause = s_str(a->cause);
    return info;
}

/* A TaskInfo from the DAG's task (may be NULL) and its instance (may be
 * NULL: not created yet, shown as pending). */
static Sluice__TaskInfo *
s_task_info(const dag_t *dag,
            const dag_task_t *task,
            const store_task_info_t *inst)
{
    Sluice__TaskInfo *info = xmalloc(sizeof *info);
    sluice__task_info__init(info);
    info->task_id = s_str(task ? task->id : inst->task_id);
    info->state = s_str(state_task_name(inst ? inst->state : TASK_PENDING));
    info->next_try_ms = inst ? (uint64_t) inst->next_try_at : 0;
    info->waiting = s_str(inst ? inst->waiting : NULL);
    for (size_t i = 0; inst && i < inst->nattempts; i++) {
        PUSH(info->attempts, info->n_attempts,
             s_attempt_info(&inst->attempts[i]));
    }
    for (size_t i = 0; task && i < task->nafter; i++) {
        PUSH(info->after, info->n_after,
             s_str(dag_task(dag, task->after[i])->id));
    }
    return info;
}

static int
s_cmp_task(const void *key, const void *elem)
{
    return strcmp(key, ((const store_task_info_t *) elem)->task_id);
}

/* Task instances in DAG order (instances are sorted by task id, so each is
 * found by binary search); instances the DAG does not name come last. */
static void
s_run_tasks(Sluice__RunShowRep *show,
            const store_run_detail_t *d,
            const dag_t *dag)
{
    size_t ntasks = dag ? dag_task_count(dag) : 0;
    bool *placed = d->ntasks ? xcalloc(d->ntasks, sizeof *placed) : NULL;
    for (size_t i = 0; i < ntasks; i++) {
        const dag_task_t *task = dag_task(dag, i);
        const store_task_info_t *inst = bsearch(task->id, d->tasks, d->ntasks,
                                                sizeof *d->tasks, s_cmp_task);
        if (inst) {
            placed[inst - d->tasks] = true;
        }
        PUSH(show->tasks, show->n_tasks, s_task_info(dag, task, inst));
    }
    for (size_t i = 0; i < d->ntasks; i++) {
        if (!placed[i]) {
            PUSH(show->tasks, show->n_tasks,
                 s_task_info(NULL, NULL, &d->tasks[i]));
        }
    }
    free(placed);
}

typedef struct {
    store_t *store;
    Sluice__RunShowRep *show;
} run_show_ctx_t;

static int
s_on_run_show(void *arg, const store_run_detail_t *d)
{
    run_show_ctx_t *ctx = arg;
    Sluice__RunShowRep *show = ctx->show;
    show->run = api_run_summary(&d->run);
    for (size_t i = 0; i < d->nparams; i++) {
        PUSH(show->params, show->n_params, s_param(&d->params[i]));
    }
    /* The run's own version gives task order and edges, even after the DAG
     * was changed. */
    errbuf_t err;
    char *source =
        store_dag_source(ctx->store, d->run.dag, d->run.version, NULL, &err);
    dag_t *dag = source ? s_parse(d->run.dag, source) : NULL;
    if (!source) {
        log_warn("control API: run %" PRIu64 ": %s", d->run.run_id,
                 errbuf_msg(&err));
    }
    s_run_tasks(show, d, dag);
    dag_destroy(&dag);
    free(source);
    return 0;
}

/* The most tasks one page of run_show carries, whatever the client asks. */
#define API_PAGE_MAX 10000

/* A page of a big run: no DAG parse, so its tasks carry no `after`. The
 * first page has the run and its per-state counts, which cover every task;
 * later ones only tasks. */
static int
s_on_run_page(void *arg, const store_run_detail_t *d)
{
    run_show_ctx_t *ctx = arg;
    Sluice__RunShowRep *show = ctx->show;
    if (d->run.dag) { /* the first page */
        show->run = api_run_summary(&d->run);
    }
    for (size_t i = 0; i < d->nparams; i++) {
        PUSH(show->params, show->n_params, s_param(&d->params[i]));
    }
    for (int st = 0; st < TASK_STATE_COUNT; st++) {
        if (d->run.counts[st] == 0) {
            continue;
        }
        Sluice__StateCount *c = xmalloc(sizeof *c);
        sluice__state_count__init(c);
        c->state = s_str(state_task_name((task_state_t) st));
        c->count = d->run.counts[st];
        PUSH(show->states, show->n_states, c);
    }
    for (size_t i = 0; i < d->ntasks; i++) {
        PUSH(show->tasks, show->n_tasks, s_task_info(NULL, NULL, &d->tasks[i]));
    }
    show->next = d->next;
    return 0;
}

static int
s_on_run_summary(void *arg, const store_run_info_t *run)
{
    Sluice__RunShowRep *show = arg;
    show->run = api_run_summary(run);
    return 0;
}

/* Each attempt's JSON result, if it left one; a result that cannot be
 * read is left out (and logged) rather than failing the whole reply. */
static void
s_attempt_results(store_t *store, Sluice__RunShowRep *show)
{
    for (size_t i = 0; i < show->n_tasks; i++) {
        Sluice__TaskInfo *t = show->tasks[i];
        for (size_t j = 0; j < t->n_attempts; j++) {
            Sluice__AttemptInfo *a = t->attempts[j];
            char *json = NULL;
            errbuf_t err;
            if (store_results_get(store, a->attempt_id, &json, &err) < 0) {
                log_warn("control API: attempt %" PRIu64 ": %s", a->attempt_id,
                         errbuf_msg(&err));
            } else if (json) {
                a->result = json;
            }
        }
    }
}

Sluice__Reply *
api_run_show(store_t *store, const Sluice__Request *req, const uint32_t *counts)
{
    assert(store && req && req->op_case == SLUICE__REQUEST__OP_RUN_SHOW);
    Sluice__RunShowRep *show = xmalloc(sizeof *show);
    sluice__run_show_rep__init(show);
    run_show_ctx_t ctx = {store, show};
    errbuf_t err;
    const Sluice__RunShowReq *q = req->run_show;
    int rc;
    /* Pollers (trigger --wait) ask for the counts only: no task list, no
     * DAG parse, whatever the size of the run. */
    if (q->summary_only) {
        rc = store_run_get(store, q->run_id, counts, s_on_run_summary, show,
                           &err);
    } else if (q->limit > 0) {
        uint32_t limit = q->limit < API_PAGE_MAX ? q->limit : API_PAGE_MAX;
        rc = store_run_page(store, q->run_id, limit, q->offset, q->cursor,
                            counts, s_on_run_page, &ctx, &err);
    } else {
        rc = store_run_show(store, q->run_id, s_on_run_show, &ctx, &err);
    }
    if (rc != 0) {
        protobuf_c_message_free_unpacked(&show->base, NULL);
        return s_store_error(req->request_id, rc, &err);
    }
    s_attempt_results(store, show);
    Sluice__Reply *rep = s_reply(req->request_id);
    rep->op_case = SLUICE__REPLY__OP_RUN_SHOW;
    rep->run_show = show;
    return rep;
}

static Sluice__Reply *
s_run_show(store_t *store, const Sluice__Request *req)
{
    return api_run_show(store, req, NULL);
}

/* ----------------------------------------------------------------- logs */

static int
s_on_chunk(void *arg, const store_log_row_t *row)
{
    Sluice__LogsRep *logs = arg;
    Sluice__LogChunkInfo *chunk = xmalloc(sizeof *chunk);
    sluice__log_chunk_info__init(chunk);
    chunk->seq = row->seq;
    chunk->stream = (uint32_t) row->stream;
    chunk->wall_ms = (uint64_t) row->wall;
    chunk->data.len = row->size;
    chunk->data.data = xmalloc(row->size ? row->size : 1);
    memcpy(chunk->data.data, row->data, row->size);
    PUSH(logs->chunks, logs->n_chunks, chunk);
    return 0;
}

/* Fills logs for one attempt from after_seq on. */
static int
s_read_logs(store_t *store,
            const Sluice__LogsReq *req,
            Sluice__LogsRep *logs,
            errbuf_t *err)
{
    store_attempt_row_t attempt;
    task_state_t task_state;
    int rc = store_attempt_find(store, req->run_id, req->task_id, req->attempt,
                                &attempt, &task_state, err);
    if (rc != 0) {
        return rc;
    }
    logs->attempt_id = attempt.attempt_id;
    logs->attempt = attempt.number;
    logs->task_state = s_str(state_task_name(task_state));
    bool more = false;
    rc = store_log_read(store, attempt.attempt_id, req->after_seq,
                        API_LOG_REPLY_BYTES, s_on_chunk, logs, &more, err);
    /* Chunks are stored before the result that ends the attempt, so an
     * ended attempt with nothing left to page through is complete. */
    logs->finished = attempt.state != ATTEMPT_RUNNING &&
                     attempt.state != ATTEMPT_DISPATCHED && !more;
    return rc;
}

static Sluice__Reply *
s_logs(store_t *store, const Sluice__Request *req)
{
    const Sluice__LogsReq *q = req->logs;
    if (!q->task_id || !*q->task_id) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "name the task whose logs to show, e.g. 'sluice "
                         "logs %" PRIu64 " TASK'",
                         q->run_id);
    }
    Sluice__LogsRep *logs = xmalloc(sizeof *logs);
    sluice__logs_rep__init(logs);
    errbuf_t err;
    int rc = s_read_logs(store, q, logs, &err);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(&logs->base, NULL);
        return s_store_error(req->request_id, rc, &err);
    }
    Sluice__Reply *rep = s_reply(req->request_id);
    rep->op_case = SLUICE__REPLY__OP_LOGS;
    rep->logs = logs;
    return rep;
}

/* ------------------------------------------------------------- metrics */

static Sluice__Reply *
s_metrics(store_t *store, const Sluice__Request *req)
{
    uint32_t code = API_E_INTERNAL;
    errbuf_t err;
    Sluice__MetricsRep *metrics = api_metrics_read(
        store, req->metrics, s_limit(req->metrics->limit), &code, &err);
    if (!metrics) {
        return api_error(req->request_id, code, "%s", errbuf_msg(&err));
    }
    Sluice__Reply *rep = s_reply(req->request_id);
    rep->op_case = SLUICE__REPLY__OP_METRICS;
    rep->metrics = metrics;
    return rep;
}

/* ---------------------------------------------------------------- table */

typedef Sluice__Reply *(api_handler_fn) (store_t *store,
                                         const Sluice__Request *req);

static const struct {
    Sluice__Request__OpCase op;
    api_handler_fn *handler;
} s_handlers[] = {
    {SLUICE__REQUEST__OP_DAG_LIST, s_dag_list},
    {SLUICE__REQUEST__OP_DAG_SHOW, s_dag_show},
    {SLUICE__REQUEST__OP_RUNS, s_runs},
    {SLUICE__REQUEST__OP_RUN_SHOW, s_run_show},
    {SLUICE__REQUEST__OP_LOGS, s_logs},
    {SLUICE__REQUEST__OP_METRICS, s_metrics},
};

Sluice__Reply *
api_read(store_t *store, const Sluice__Request *req)
{
    assert(store && req);
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers[0]; i++) {
        if (s_handlers[i].op == req->op_case) {
            return s_handlers[i].handler(store, req);
        }
    }
    return NULL;
}
