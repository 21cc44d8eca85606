/* http_metrics — the /metrics route of the HTTP server (http.h): the
 * scheduler's Prometheus registry (prom.h) in text exposition format. */
#ifndef SLUICE_HTTP_METRICS_H
#define SLUICE_HTTP_METRICS_H

#include "scheduler/http.h"
#include "scheduler/prom.h"

/* Registers GET /metrics, answered from prom (borrowed; it must outlive
 * the server) on the server's threads. Needs a viewer token unless the
 * config's http_open_metrics opens it (the default). Before http_start. */
void http_metrics_routes(http_t *http, prom_t *prom);

#endif
