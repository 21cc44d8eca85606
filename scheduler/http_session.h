/* http_session — logging in to the web UI with an API token: POST, GET
 * and DELETE /api/v1/session (see http_session.c). */
#ifndef SLUICE_HTTP_SESSION_H
#define SLUICE_HTTP_SESSION_H

#include "scheduler/http.h"

void http_session_routes(http_t *http);

#endif
