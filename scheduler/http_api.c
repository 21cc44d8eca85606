/* http_api — the route table of the JSON API under /api/v1 (see
 * http_api.h); web/api/openapi.json documents the same routes, and
 * tests/integration/t_http_api.sh checks that both agree. */
#include "scheduler/http_api.h"

#include <assert.h>

#include "scheduler/http_api_internal.h"

#define V   HTTP_ROLE_VIEWER
#define OP  HTTP_ROLE_OPERATOR
#define API "/api/v1"

/* Routes whose handlers need nothing but the request. */
static const http_route_t s_routes[] = {
    {"GET", API "/openapi.json", V, http_api_openapi},
    {"GET", API "/dags", V, http_api_dag_list},
    {"GET", API "/dags/{dag}", V, http_api_dag_show},
    {"GET", API "/dags/{dag}/next", V, http_api_dag_next},
    {"GET", API "/dags/{dag}/grid", V, http_api_dag_grid},
    {"POST", API "/dags/{dag}/pause", OP, http_api_dag_pause},
    {"POST", API "/dags/{dag}/trigger", OP, http_api_dag_trigger},
    {"GET", API "/runs", V, http_api_run_list},
    {"GET", API "/runs/{run}", V, http_api_run_show},
    {"POST", API "/runs/{run}/cancel", OP, http_api_run_cancel},
    {"POST", API "/runs/{run}/retry", OP, http_api_run_retry},
    {"GET", API "/runs/{run}/tasks/{task}/logs", V, http_api_run_logs},
    {"GET", API "/workers", V, http_api_workers},
    {"GET", API "/autoscaler", V, http_api_autoscaler},
    {"GET", API "/pools", V, http_api_pools},
    {"GET", API "/datasets", V, http_api_datasets},
    {"GET", API "/lineage", V, http_api_lineage},
    {"GET", API "/reports", V, http_api_reports},
    {"GET", API "/metrics", V, http_api_metrics},
    {"GET", API "/events", V, http_api_events},
};

/* The live streams, whose arg is the state directory. */
static const http_route_t s_streams[] = {
    {"GET", API "/runs/{run}/stream", V, http_api_run_stream},
    {"GET", API "/runs/{run}/tasks/{task}/logs/stream", V, http_api_log_stream},
};

void
http_api_routes(http_t *http, void *arg)
{
    assert(http);
    http_add_routes(http, s_routes, sizeof s_routes / sizeof s_routes[0], NULL);
    http_add_routes(http, s_streams, sizeof s_streams / sizeof s_streams[0],
                    arg);
}
