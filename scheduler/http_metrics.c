/* http_metrics — GET /metrics: the Prometheus registry as text.
 *
 * Runs on the HTTP server's threads and reads the registry's atomics
 * directly: a scrape never waits for the loop, and the loop never waits
 * for a scrape. */
#include "scheduler/http_metrics.h"

#include <stdlib.h>

static int
s_metrics(http_req_t *req, void *arg)
{
    char *text = NULL;
    size_t size = prom_render(arg, &text);
    int rc = http_reply(req, 200, PROM_CONTENT_TYPE, text, size);
    free(text);
    return rc;
}

/* Viewer by default; the server opens it to all when the config's
 * http_open_metrics is true (the default), as Prometheus scrapes without
 * a token unless told to send one. */
static const http_route_t s_routes[] = {
    {"GET", "/metrics", HTTP_ROLE_VIEWER, s_metrics},
};

void
http_metrics_routes(http_t *http, prom_t *prom)
{
    http_add_routes(http, s_routes, sizeof s_routes / sizeof s_routes[0], prom);
}
