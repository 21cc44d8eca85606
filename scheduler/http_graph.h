/* http_graph — the two pictures of the HTTP API, as image/svg+xml drawn by
 * scheduler/graph.h:
 *
 *   GET /api/v1/dags/{dag}/graph.svg[?run=ID]   the DAG (at the run's
 *       version when run is given, its tasks coloured by state)
 *   GET /api/v1/lineage.svg?uri=URI|PATH|HASH[&depth=N] | ?run=ID
 *       the dataset version's lineage, upstream and downstream
 *
 * Both need a viewer token and read only the store (http_req_store). */
#ifndef SLUICE_HTTP_GRAPH_H
#define SLUICE_HTTP_GRAPH_H

#include "scheduler/http.h"

/* Adds the routes to http, before http_start; arg is unused (NULL). The
 * renderer behind them is one per process, as Graphviz's state is. */
void http_graph_routes(http_t *http, void *arg);

#endif
