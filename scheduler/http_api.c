/* http_api — the route table of the JSON API under /api/v1 (see
 * http_api.h); web/api/openapi.json documents the same routes, and
 * tests/integration/t_http_api.sh checks that both agree. */
#include "scheduler/http_api.h"

#include <assert.h>

#include "scheduler/http_api_internal.h"

#define V  HTTP_ROLE_VIEWER
#define OP HTTP_ROLE_OPERATOR

/* Routes whose handlers need nothing but the request. */
static const http_route_t s_routes[] = {
    {"GET", "/api/v1/openapi.json", V, http_api_openapi},
    {"GET", "/api/v1/dags", V, http_api_dag_list},
    {"GET", "/api/v1/dags/{dag}", V, http_api_dag_show},
    {"GET", "/api/v1/dags/{dag}/next", V, http_api_dag_next},
    {"GET", "/api/v1/dags/{dag}/grid", V, http_api_dag_grid},
    {"POST", "/api/v1/dags/{dag}/pause", OP, http_api_dag_pause},
    {"POST", "/api/v1/dags/{dag}/trigger", OP, http_api_dag_trigger},
    {"GET", "/api/v1/runs", V, http_api_run_list},
    {"GET", "/api/v1/runs/{run}", V, http_api_run_show},
    {"POST", "/api/v1/runs/{run}/cancel", OP, http_api_run_cancel},
    {"POST", "/api/v1/runs/{run}/retry", OP, http_api_run_retry},
    {"GET", "/api/v1/runs/{run}/tasks/{task}/logs", V, http_api_run_logs},
    {"GET", "/api/v1/workers", V, http_api_workers},
    {"GET", "/api/v1/autoscaler", V, http_api_autoscaler},
    {"GET", "/api/v1/pools", V, http_api_pools},
    {"GET", "/api/v1/datasets", V, http_api_datasets},
    {"GET", "/api/v1/lineage", V, http_api_lineage},
    {"GET", "/api/v1/reports", V, http_api_reports},
    {"GET", "/api/v1/metrics", V, http_api_metrics},
    {"GET", "/api/v1/events", V, http_api_events},
};

/* The live streams, whose arg is the state directory. */
static const http_route_t s_streams[] = {
    {"GET", "/api/v1/runs/{run}/stream", V, http_api_run_stream},
    {"GET", "/api/v1/runs/{run}/tasks/{task}/logs/stream", V,
     http_api_log_stream},
};

void
http_api_routes(http_t *http, void *arg)
{
    assert(http);
    http_add_routes(http, s_routes, sizeof s_routes / sizeof s_routes[0], NULL);
    http_add_routes(http, s_streams, sizeof s_streams / sizeof s_streams[0],
                    arg);
}
