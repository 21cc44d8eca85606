/* sched_http — the HTTP server beside the scheduler's loop: started with
 * the routes of every feature, its calls answered inside the loop's turns
 * and released after the commit, like the CLI's requests. */
#include <string.h>

#include "common/log.h"
#include "common/statedir.h"
#include "common/version.h"
#include "common/xalloc.h"
#include "scheduler/http.h"
#include "scheduler/http_api.h"
#include "scheduler/http_graph.h"
#include "scheduler/http_loop.h"
#include "scheduler/http_metrics.h"
#include "scheduler/http_session.h"
#include "scheduler/sched_internal.h"
#include "scheduler/webui.h"

#define SCHED_HTTP_CALLS_PER_TURN 64

static int
s_healthz(http_req_t *req, void *arg)
{
    (void) arg;
    char *json =
        xasprintf("{\"status\":\"ok\",\"version\":\"%s\"}\n", SLUICE_VERSION);
    return http_reply_json(req, 200, &json);
}

static const http_route_t s_routes[] = {
    {"GET", "/healthz", HTTP_ROLE_VIEWER, s_healthz},
};

/* Every feature's routes; the web UI's "/{file}" last. */
static void
s_routes_add(sched_t *self)
{
    http_add_routes(self->http, s_routes, sizeof s_routes / sizeof s_routes[0],
                    self);
    /* routes */
    http_metrics_routes(self->http, self->prom);
    http_session_routes(self->http);
    http_api_routes(self->http, self->dir);
    http_graph_routes(self->http, NULL);
    webui_routes(self->http);
}

int
sched_http_start(sched_t *self, errbuf_t *err)
{
    const config_t *config = self->config;
    if (!config->http_listen || !*config->http_listen) {
        return 0;
    }
    if (!(self->http_loop = http_loop_new(err))) {
        return -1;
    }
    char *db = statedir_path(self->dir, STATEDIR_STORE);
    http_config_t cfg = {
        .listen = config->http_listen,
        .tls_cert = config->http_tls_cert,
        .tls_key = config->http_tls_key,
        .open_metrics = config->http_open_metrics,
        .db_path = db,
        .loop_endpoint = http_loop_endpoint(self->http_loop),
    };
    self->http = http_new(&cfg, err);
    free(db);
    if (!self->http) {
        return -1;
    }
    s_routes_add(self);
    if (http_start(self->http, err) < 0) {
        return -1;
    }
    log_info("HTTP API and web UI on %s://%s/",
             *config->http_tls_cert ? "https" : "http",
             http_listening(self->http));
    return 0;
}

static Sluice__Reply *
s_answer(void *loop,
         const Sluice__Request *req,
         http_role_t role,
         const char *actor)
{
    sched_role_t as =
        role == HTTP_ROLE_OPERATOR ? SCHED_OPERATOR : SCHED_VIEWER;
    return sched_answer_as(loop, req, as, actor);
}

void
sched_http_take(sched_t *self)
{
    if (self->http_loop) {
        http_loop_take(self->http_loop, s_answer, self,
                       SCHED_HTTP_CALLS_PER_TURN);
    }
}

void
sched_http_release(sched_t *self, const char *failure)
{
    if (self->http_loop) {
        http_loop_release(self->http_loop, failure);
    }
}

void
sched_http_stop(sched_t *self)
{
    http_destroy(&self->http); /* its threads stop waiting on us first */
    http_loop_destroy(&self->http_loop);
}
