/* http_session — the web UI's login: an API token pasted once becomes an
 * HttpOnly, SameSite=Strict cookie, and the CSRF value that writes made
 * with that cookie must repeat. Routes under /api/v1/session. */
#include "scheduler/http_session.h"

#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "scheduler/http_api_internal.h"
#include "scheduler/http_auth.h"

static const char *
s_role_name(http_role_t role)
{
    return role == HTTP_ROLE_OPERATOR ? "operator" : "viewer";
}

/* {"role", "name", "csrf", "expires_at"} for who, logged in with token. */
static int
s_reply_session(http_req_t *req, const char *token, const http_auth_t *who)
{
    char csrf[HTTP_AUTH_CSRF_SIZE];
    http_csrf_value(req, token, csrf);
    http_api_out_t out;
    json_t *json = http_api_out_open(&out);
    json_object_begin(json);
    json_kv_string(json, "role", s_role_name(who->role));
    json_kv_string(json, "name", who->name);
    json_kv_string(json, "csrf", csrf);
    json_kv_int(json, "expires_at", who->expires_at);
    json_object_end(json);
    return http_api_out_reply(req, &out, 200);
}

/* POST {"token": "sat_..."}: checks it and sets the cookie. */
static int
s_login(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err;
    static const char *const allowed[] = {"token", NULL};
    const char *token = NULL;
    jsonval_t *body = http_api_body(req, &err);
    if (!body || http_api_body_only(body, allowed, &err) < 0 ||
        http_api_body_text(body, "token", &token, &err) < 0) {
        jsonval_destroy(&body);
        return http_api_bad(req, &err);
    }
    store_t *ro = http_req_store(req);
    http_auth_t who;
    int rc = ro ? http_auth_token(ro, token, clock_wall_ms(), &who, &err)
                : HTTP_AUTH_ESTORE;
    if (rc < 0) {
        jsonval_destroy(&body);
        return rc == HTTP_AUTH_ESTORE
                   ? http_reply_error(req, 503, "the store cannot be read "
                                                "now; try again")
                   : http_reply_error(req, 401, "%s", errbuf_msg(&err));
    }
    char cookie[256];
    http_auth_set_cookie(token, http_req_tls(req), cookie, sizeof cookie);
    http_reply_header(req, "Set-Cookie", cookie);
    int sent = s_reply_session(req, token, &who);
    jsonval_destroy(&body);
    return sent;
}

/* GET: who the request's token (bearer or cookie) belongs to. */
static int
s_whoami(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err;
    http_auth_t who;
    const char *token = http_req_token(req);
    store_t *ro = http_req_store(req);
    if (!ro || !token ||
        http_auth_token(ro, token, clock_wall_ms(), &who, &err) < 0) {
        return http_reply_error(req, 503, "the store cannot be read now; "
                                          "try again");
    }
    return s_reply_session(req, token, &who);
}

/* DELETE: the cookie goes (the token itself stays valid: revoke it with
 * 'sluice token revoke'). */
static int
s_logout(http_req_t *req, void *arg)
{
    (void) arg;
    char cookie[256];
    http_auth_set_cookie(NULL, http_req_tls(req), cookie, sizeof cookie);
    http_reply_header(req, "Set-Cookie", cookie);
    char *json = xstrdup("{}\n");
    return http_reply_json(req, 200, &json);
}

static const http_route_t s_routes[] = {
    {"POST", "/api/v1/session", HTTP_ROLE_NONE, s_login},
    {"GET", "/api/v1/session", HTTP_ROLE_VIEWER, s_whoami},
    {"DELETE", "/api/v1/session", HTTP_ROLE_NONE, s_logout},
};

void
http_session_routes(http_t *http)
{
    http_add_routes(http, s_routes, sizeof s_routes / sizeof s_routes[0],
                    NULL);
}
