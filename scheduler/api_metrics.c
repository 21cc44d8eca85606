/* api_metrics — `sluice metrics` and the metrics line of `sluice run
 * show`: read-only, from the store. */
#include "scheduler/api_metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "common/xalloc.h"
#include "proto/codes.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_lineage.h"
#include "scheduler/store/store_metrics.h"

typedef struct {
    store_t *store;
    Sluice__MetricsRep *rep;
} s_ctx_t;

/* The dataset versions the attempt read (its lineage), as "URI@HASH8". */
static void
s_inputs(store_t *store, uint64_t attempt_id, Sluice__MetricsRow *row)
{
    uint64_t *ids = NULL;
    size_t n = 0;
    errbuf_t err;
    if (!attempt_id || store_lineage_ids(store, STORE_LINEAGE_READ, attempt_id,
                                         &ids, &n, &err) < 0) {
        n = 0;
    }
    row->inputs = xcalloc(n + 1, sizeof *row->inputs);
    for (size_t i = 0; i < n; i++) {
        store_dataset_t ds = {0};
        if (store_dataset_get(store, ids[i], &ds, &err) == 1) {
            row->inputs[row->n_inputs++] =
                xasprintf("%s@%.8s", ds.uri, ds.hash);
        }
        store_dataset_clear(&ds);
    }
    free(ids);
}

static int
s_on_row(void *arg, const store_metrics_row_t *r)
{
    s_ctx_t *ctx = arg;
    Sluice__MetricsRow *row = xmalloc(sizeof *row);
    sluice__metrics_row__init(row);
    row->run_id = r->run_id;
    row->task_id = xstrdup(r->task_id);
    row->attempt_id = r->attempt_id;
    row->created_ms = (uint64_t) r->created_at;
    row->logical_date = xstrdup(r->logical_date);
    row->state = xstrdup(r->state);
    row->params = xcalloc(r->nparams + 1, sizeof *row->params);
    for (size_t i = 0; i < r->nparams; i++) {
        Sluice__Param *p = xmalloc(sizeof *p);
        sluice__param__init(p);
        p->name = xstrdup(r->params[i].name);
        p->value = xstrdup(r->params[i].value);
        row->params[row->n_params++] = p;
    }
    row->metrics = xcalloc(r->nmetrics + 1, sizeof *row->metrics);
    for (size_t i = 0; i < r->nmetrics; i++) {
        Sluice__Metric *m = xmalloc(sizeof *m);
        sluice__metric__init(m);
        m->name = xstrdup(r->names[i]);
        m->value = r->values[i];
        row->metrics[row->n_metrics++] = m;
    }
    s_inputs(ctx->store, r->attempt_id, row);
    Sluice__MetricsRep *rep = ctx->rep;
    rep->rows = xrealloc(rep->rows, (rep->n_rows + 1) * sizeof *rep->rows);
    rep->rows[rep->n_rows++] = row;
    return 0;
}

/* Checks that op names a run, or a DAG that exists and a task. */
static int
s_check(store_t *store,
        const Sluice__MetricsReq *op,
        uint32_t *code,
        errbuf_t *err)
{
    if (op->run_id) {
        return 0;
    }
    if (!*op->dag || !*op->task_id) {
        *code = API_E_BAD_REQUEST;
        errbuf_set(err, "name a DAG and a task: 'sluice metrics DAG TASK'");
        return -1;
    }
    int rc = store_dag_get(store, op->dag, NULL, NULL, err);
    if (rc != 0) {
        *code = rc == STORE_ENOTFOUND ? API_E_NOT_FOUND : API_E_INTERNAL;
        return -1;
    }
    return 0;
}

Sluice__MetricsRep *
api_metrics_read(store_t *store,
                 const Sluice__MetricsReq *op,
                 uint32_t limit,
                 uint32_t *code,
                 errbuf_t *err)
{
    assert(store && op && code);
    if (s_check(store, op, code, err) < 0) {
        return NULL;
    }
    Sluice__MetricsRep *rep = xmalloc(sizeof *rep);
    sluice__metrics_rep__init(rep);
    rep->rows = xcalloc(1, sizeof *rep->rows);
    s_ctx_t ctx = {store, rep};
    if (store_metrics_list(store, op->dag, op->task_id, op->run_id, limit,
                           s_on_row, &ctx, err) < 0) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        *code = API_E_INTERNAL;
        return NULL;
    }
    return rep;
}
