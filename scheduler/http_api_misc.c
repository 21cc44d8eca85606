/* http_api_misc — the fleet (workers, autoscaler, pools), datasets and
 * lineage, reports, metrics, audit events and the OpenAPI document. */
#include <string.h>

#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/http_api_internal.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_web.h"
#include "scheduler/webui.h"

int
http_api_workers(http_req_t *req, void *arg)
{
    (void) arg;
    Sluice__WorkersReq workers = SLUICE__WORKERS_REQ__INIT;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_WORKERS;
    call.workers = &workers;
    return http_api_call(req, &call);
}

int
http_api_autoscaler(http_req_t *req, void *arg)
{
    (void) arg;
    Sluice__AutoscaleStatusReq status = SLUICE__AUTOSCALE_STATUS_REQ__INIT;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_AUTOSCALE_STATUS;
    call.autoscale_status = &status;
    return http_api_call(req, &call);
}

int
http_api_pools(http_req_t *req, void *arg)
{
    (void) arg;
    Sluice__PoolListReq pools = SLUICE__POOL_LIST_REQ__INIT;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_POOL_LIST;
    call.pool_list = &pools;
    return http_api_call(req, &call);
}

int
http_api_datasets(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    uint64_t limit;
    if (http_api_query_uint(req, "limit", 100, 1, 10000, &limit, &err) != 0) {
        return http_api_bad(req, &err);
    }
    Sluice__DatasetsReq datasets = SLUICE__DATASETS_REQ__INIT;
    datasets.limit = (uint32_t) limit;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_DATASETS;
    call.datasets = &datasets;
    return http_api_read(req, sched_datasets, &call);
}

/* The lineage target from ?uri=: a URI or a version's hash prefix as they
 * are, an absolute path as a file:// URI. Caller owns it; NULL with err. */
static char *
s_lineage_target(const char *uri, errbuf_t *err)
{
    size_t n = strlen(uri);
    if (strstr(uri, "://") ||
        (n >= 4 && strspn(uri, "0123456789abcdef") == n)) {
        return xstrdup(uri);
    }
    if (uri[0] == '/') {
        return xasprintf("file://%s", uri);
    }
    errbuf_set(err,
               "'uri=%s' is not allowed; uri takes a URI (file:///data/x), "
               "an absolute path or a version's hash (4 hex digits or more)",
               uri);
    return NULL;
}

int
http_api_lineage(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    Sluice__LineageReq lineage = SLUICE__LINEAGE_REQ__INIT;
    const char *uri;
    bool down;
    uint64_t depth, run;
    if (http_api_query_text(req, "uri", false, &uri, &err) != 0 ||
        http_api_query_bool(req, "downstream", false, &down, &err) != 0 ||
        http_api_query_uint(req, "depth", 0, 0, 1000, &depth, &err) != 0 ||
        http_api_query_uint(req, "run", 0, 0, INT64_MAX, &run, &err) != 0) {
        return http_api_bad(req, &err);
    }
    if (!*uri && run == 0) {
        errbuf_set(&err, "'uri' is missing; add ?uri=file:///path (or "
                         "?run=ID for a run's datasets)");
        return http_api_bad(req, &err);
    }
    char *target = *uri ? s_lineage_target(uri, &err) : xstrdup("");
    if (!target) {
        return http_api_bad(req, &err);
    }
    lineage.target = target;
    lineage.downstream = down;
    lineage.depth = (uint32_t) depth;
    lineage.run_id = run;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_LINEAGE;
    call.lineage = &lineage;
    int ret = http_api_read(req, sched_lineage, &call);
    free(target);
    return ret;
}

int
http_api_reports(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    Sluice__ReportReq report = SLUICE__REPORT_REQ__INIT;
    const char *task;
    uint64_t run;
    if (http_api_query_uint(req, "run", 0, 1, INT64_MAX, &run, &err) != 0 ||
        http_api_query_text(req, "task", false, &task, &err) != 0) {
        return http_api_bad(req, &err);
    }
    if (run == 0) {
        errbuf_set(&err, "'run' is missing; add ?run=ID (and &task=ID for "
                         "one task's report)");
        return http_api_bad(req, &err);
    }
    report.run_id = run;
    report.task_id = (char *) task;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_REPORT;
    call.report = &report;
    return http_api_read(req, sched_report, &call);
}

int
http_api_metrics(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    Sluice__MetricsReq metrics = SLUICE__METRICS_REQ__INIT;
    const char *dag, *task;
    uint64_t limit, run;
    if (http_api_query_text(req, "dag", false, &dag, &err) != 0 ||
        http_api_query_text(req, "task", false, &task, &err) != 0 ||
        http_api_query_uint(req, "limit", 0, 0, 10000, &limit, &err) != 0 ||
        http_api_query_uint(req, "run", 0, 0, INT64_MAX, &run, &err) != 0) {
        return http_api_bad(req, &err);
    }
    metrics.dag = (char *) dag;
    metrics.task_id = (char *) task;
    metrics.limit = (uint32_t) limit;
    metrics.run_id = run;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_METRICS;
    call.metrics = &metrics;
    /* Across runs the store answers; the scheduler's own counters live in
     * the loop. */
    if (*dag || *task || run) {
        return http_api_read(req, api_read, &call);
    }
    return http_api_call(req, &call);
}

/* --------------------------------------------------------------- events */

typedef struct {
    json_t *json;
    uint64_t last;
    size_t count;
} events_ctx_t;

static int
s_event(void *arg, const store_web_event_t *e)
{
    events_ctx_t *ctx = arg;
    json_t *json = ctx->json;
    json_object_begin(json);
    json_kv_uint(json, "id", e->id);
    json_kv_int(json, "at_ms", e->at);
    json_kv_string(json, "actor", e->actor);
    json_kv_string(json, "kind", e->kind);
    json_kv_string(json, "subject", e->subject);
    json_kv_string(json, "detail", e->detail);
    json_object_end(json);
    ctx->last = e->id;
    ctx->count++;
    return 0;
}

int
http_api_events(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    uint64_t limit, before;
    if (http_api_query_uint(req, "limit", HTTP_API_PAGE_DEFAULT, 1,
                            HTTP_API_PAGE_MAX, &limit, &err) != 0 ||
        http_api_query_uint(req, "before", 0, 1, INT64_MAX, &before, &err) !=
            0) {
        return http_api_bad(req, &err);
    }
    store_t *store = http_api_store(req);
    if (!store) {
        return 0;
    }
    http_api_out_t out;
    events_ctx_t ctx = {http_api_out_open(&out), 0, 0};
    json_object_begin(ctx.json);
    json_key(ctx.json, "events");
    json_array_begin(ctx.json);
    int rc =
        store_web_events(store, before, (uint32_t) limit, s_event, &ctx, &err);
    json_array_end(ctx.json);
    json_key(ctx.json, "next");
    /* A full page may have more behind it; ids start at 1. */
    if (ctx.count == limit && ctx.last > 1) {
        json_uint(ctx.json, ctx.last);
    } else {
        json_null(ctx.json);
    }
    json_object_end(ctx.json);
    if (rc != 0) {
        free(http_api_out_take(&out, NULL));
        return http_reply_error(req, 500, "%s", errbuf_msg(&err));
    }
    return http_api_out_reply(req, &out, 200);
}

int
http_api_openapi(http_req_t *req, void *arg)
{
    (void) arg;
    const webui_file_t *file = webui_find("/api/openapi.json");
    if (file) {
        return http_reply(req, 200, file->content_type, file->data, file->size);
    }
    return http_reply_error(req, 404,
                            "this build has no OpenAPI document; build it "
                            "from a tree with web/api/openapi.json");
}
