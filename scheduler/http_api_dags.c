/* http_api_dags — /api/v1/dags: list, show, next, pause, trigger, grid. */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "scheduler/http_api_internal.h"
#include "scheduler/state.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_web.h"

int
http_api_dag_list(http_req_t *req, void *arg)
{
    (void) arg;
    Sluice__DagListReq list = SLUICE__DAG_LIST_REQ__INIT;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_DAG_LIST;
    call.dag_list = &list;
    return http_api_call(req, &call);
}

int
http_api_dag_show(http_req_t *req, void *arg)
{
    (void) arg;
    Sluice__DagShowReq show = SLUICE__DAG_SHOW_REQ__INIT;
    show.name = (char *) http_req_param(req, "dag");
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_DAG_SHOW;
    call.dag_show = &show;
    return http_api_call(req, &call);
}

int
http_api_dag_next(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    Sluice__DagNextReq next = SLUICE__DAG_NEXT_REQ__INIT;
    const char *from;
    uint64_t count;
    if (http_api_query_text(req, "from", false, &from, &err) != 0 ||
        http_api_query_uint(req, "count", 5, 1, 1000, &count, &err) != 0) {
        return http_api_bad(req, &err);
    }
    next.name = (char *) http_req_param(req, "dag");
    next.from = (char *) from;
    next.count = (uint32_t) count;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_DAG_NEXT;
    call.dag_next = &next;
    return http_api_call(req, &call);
}

int
http_api_dag_pause(http_req_t *req, void *arg)
{
    (void) arg;
    static const char *const allowed[] = {"paused", NULL};
    errbuf_t err = {{0}};
    jsonval_t *body = http_api_body(req, &err);
    bool paused = true;
    if (!body || http_api_body_only(body, allowed, &err) != 0 ||
        http_api_body_bool(body, "paused", true, &paused, &err) != 0) {
        jsonval_destroy(&body);
        return http_api_bad(req, &err);
    }
    jsonval_destroy(&body);
    Sluice__DagPauseReq pause = SLUICE__DAG_PAUSE_REQ__INIT;
    pause.name = (char *) http_req_param(req, "dag");
    pause.paused = paused;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_DAG_PAUSE;
    call.dag_pause = &pause;
    return http_api_call(req, &call);
}

/* The trigger's params from body's "params" object of strings into
 * trigger (params point into body). */
static int
s_trigger_params(const jsonval_t *body,
                 Sluice__TriggerReq *trigger,
                 errbuf_t *err)
{
    const jsonval_t *params = jsonval_get(body, "params");
    if (!params) {
        return 0;
    }
    if (jsonval_type(params) != JSONVAL_OBJECT) {
        errbuf_set(err,
                   "'params' is a %s; send an object of strings, "
                   "as {\"params\": {\"date\": \"2026-01-01\"}}",
                   jsonval_type_name(jsonval_type(params)));
        return -1;
    }
    size_t n = jsonval_count(params);
    trigger->params = xcalloc(n ? n : 1, sizeof *trigger->params);
    for (size_t i = 0; i < n; i++) {
        const char *value = jsonval_string(jsonval_at(params, i), NULL);
        if (!value) {
            errbuf_set(err,
                       "param '%s' is not a string; send every param "
                       "value as a string",
                       jsonval_key(params, i));
            return -1;
        }
        Sluice__Param *p = xmalloc(sizeof *p);
        sluice__param__init(p);
        p->name = (char *) jsonval_key(params, i);
        p->value = (char *) value;
        trigger->params[trigger->n_params++] = p;
    }
    return 0;
}

static int
s_trigger_read(const jsonval_t *body, Sluice__TriggerReq *t, errbuf_t *err)
{
    static const char *const allowed[] = {"params", "logical_date",
                                          "logical_time", "no_cache", NULL};
    const char *date = NULL;
    const char *time = NULL;
    bool no_cache = false;
    if (http_api_body_only(body, allowed, err) != 0 ||
        http_api_body_text(body, "logical_date", &date, err) != 0 ||
        http_api_body_text(body, "logical_time", &time, err) != 0 ||
        http_api_body_bool(body, "no_cache", false, &no_cache, err) != 0) {
        return -1;
    }
    t->no_cache = no_cache;
    t->logical_date = (char *) (date ? date : "");
    t->logical_time = (char *) (time ? time : "");
    return s_trigger_params(body, t, err);
}

int
http_api_dag_trigger(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    jsonval_t *body = http_api_body(req, &err);
    Sluice__TriggerReq trigger = SLUICE__TRIGGER_REQ__INIT;
    trigger.dag = (char *) http_req_param(req, "dag");
    int ret;
    if (!body || s_trigger_read(body, &trigger, &err) != 0) {
        ret = http_api_bad(req, &err);
    } else {
        Sluice__Request call = SLUICE__REQUEST__INIT;
        call.op_case = SLUICE__REQUEST__OP_TRIGGER;
        call.trigger = &trigger;
        ret = http_api_call(req, &call);
    }
    for (size_t i = 0; i < trigger.n_params; i++) {
        free(trigger.params[i]);
    }
    free(trigger.params);
    jsonval_destroy(&body);
    return ret;
}

/* ---------------------------------------------------------------- grid */

#define GRID_NONE 0xFF /* a cell for a task the run does not have */

typedef struct {
    uint64_t id;
    char *state;
    char *logical_date;
    uint8_t *cells; /* owned: task_state_t per task index, or GRID_NONE */
    size_t ncells;
} grid_run_t;

typedef struct {
    store_t *store;
    zhashx_t *index; /* task id -> its index + 1 (as a pointer) */
    char **tasks;    /* owned ids, in order of first sight */
    size_t ntasks;
    grid_run_t *runs;
    size_t nruns;
    grid_run_t *run; /* the run being read */
} grid_t;

static int
s_grid_run(void *arg, const store_web_run_t *run)
{
    grid_t *g = arg;
    g->runs = xrealloc(g->runs, (g->nruns + 1) * sizeof *g->runs);
    g->runs[g->nruns++] = (grid_run_t){
        .id = run->id,
        .state = xstrdup(run->state),
        .logical_date = xstrdup(run->logical_date),
    };
    return 0;
}

static int
s_grid_task(void *arg, const store_web_task_t *task)
{
    grid_t *g = arg;
    size_t i = (size_t) (uintptr_t) zhashx_lookup(g->index, task->task_id);
    if (i == 0) {
        g->tasks = xrealloc(g->tasks, (g->ntasks + 1) * sizeof *g->tasks);
        g->tasks[g->ntasks++] = xstrdup(task->task_id);
        i = g->ntasks;
        zhashx_insert(g->index, task->task_id, (void *) (uintptr_t) i);
    }
    grid_run_t *run = g->run;
    if (i > run->ncells) {
        size_t n = run->ncells * 2 > g->ntasks ? run->ncells * 2 : g->ntasks;
        run->cells = xrealloc(run->cells, n);
        memset(run->cells + run->ncells, GRID_NONE, n - run->ncells);
        run->ncells = n;
    }
    task_state_t state;
    run->cells[i - 1] = state_task_parse(task->state, &state) == 0
                            ? (uint8_t) state
                            : GRID_NONE;
    return 0;
}

static void
s_grid_free(grid_t *g)
{
    for (size_t i = 0; i < g->nruns; i++) {
        free(g->runs[i].state);
        free(g->runs[i].logical_date);
        free(g->runs[i].cells);
    }
    for (size_t i = 0; i < g->ntasks; i++) {
        free(g->tasks[i]);
    }
    free(g->runs);
    free(g->tasks);
    zhashx_destroy(&g->index);
}

static void
s_grid_write(json_t *json, const char *dag, const grid_t *g)
{
    json_object_begin(json);
    json_kv_string(json, "dag", dag);
    json_key(json, "tasks");
    json_array_begin(json);
    for (size_t i = 0; i < g->ntasks; i++) {
        json_string(json, g->tasks[i]);
    }
    json_array_end(json);
    json_key(json, "runs");
    json_array_begin(json);
    for (size_t r = 0; r < g->nruns; r++) {
        const grid_run_t *run = &g->runs[r];
        json_object_begin(json);
        json_kv_uint(json, "id", run->id);
        json_kv_string(json, "state", run->state);
        json_kv_string(json, "logical_date", run->logical_date);
        json_key(json, "cells");
        json_array_begin(json);
        for (size_t i = 0; i < g->ntasks; i++) {
            uint8_t c = i < run->ncells ? run->cells[i] : GRID_NONE;
            json_string(json, c == GRID_NONE ? NULL : state_task_name(c));
        }
        json_array_end(json);
        json_object_end(json);
    }
    json_array_end(json);
    json_object_end(json);
}

/* Reads the grid of dag's newest `limit` runs: one query for the runs,
 * one per run for its tasks. */
static int
s_grid_read(grid_t *g, const char *dag, uint32_t limit, errbuf_t *err)
{
    if (store_web_runs(g->store, dag, "", 0, limit, s_grid_run, g, err) != 0) {
        return -1;
    }
    for (size_t r = 0; r < g->nruns; r++) {
        g->run = &g->runs[r];
        if (store_web_tasks(g->store, g->run->id, s_grid_task, g, err) != 0) {
            return -1;
        }
    }
    return 0;
}

int
http_api_dag_grid(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    uint64_t limit;
    if (http_api_query_uint(req, "limit", HTTP_API_GRID_DEFAULT, 1,
                            HTTP_API_GRID_MAX, &limit, &err) != 0) {
        return http_api_bad(req, &err);
    }
    const char *dag = http_req_param(req, "dag");
    store_t *store = http_api_store(req);
    if (!store) {
        return 0;
    }
    int rc = store_dag_get(store, dag, NULL, NULL, &err);
    if (rc != 0) {
        return http_reply_error(req, rc == STORE_ENOTFOUND ? 404 : 500, "%s",
                                errbuf_msg(&err));
    }
    grid_t g = {.store = store, .index = zhashx_new()};
    int ret;
    if (s_grid_read(&g, dag, (uint32_t) limit, &err) != 0) {
        ret = http_reply_error(req, 500, "%s", errbuf_msg(&err));
    } else {
        http_api_out_t out;
        s_grid_write(http_api_out_open(&out), dag, &g);
        ret = http_api_out_reply(req, &out, 200);
    }
    s_grid_free(&g);
    return ret;
}
