/* http_api — the JSON API under /api/v1 (the .svg routes, /metrics and
 * /api/v1/session are other modules'): what the CLI reads and does, as
 * JSON with the field names of its --json output, plus the DAG grid, the
 * audit events and live streams (Server-Sent Events) of a run and of a
 * task's log.
 *
 * Reads are answered from the store on the server's threads; loop state
 * and writes go through the scheduler's loop (http_req_call). The routes
 * are in http_api.c; handlers in http_api_dags.c, http_api_runs.c,
 * http_api_misc.c and http_api_stream.c; helpers in http_api_util.c. */
#ifndef SLUICE_HTTP_API_H
#define SLUICE_HTTP_API_H

#include "scheduler/http.h"

/* Adds every /api/v1 route of this module to http, before http_start.
 * arg: the scheduler's state directory (const char *, borrowed for the
 * server's life): each live stream opens its own read-only connection to
 * the store in it. */
void http_api_routes(http_t *http, void *arg);

#endif
