/* http — the scheduler's embedded HTTP server (GNU libmicrohttpd): the JSON
 * API under /api/v1, the web UI, /metrics and /healthz.
 *
 * It runs on libmicrohttpd's own threads and never blocks the scheduler's
 * loop: reads are answered from a read-only SQLite connection per thread
 * (http_req_store) and from state the loop publishes; writes go to the loop
 * through http_req_call, as a CLI request does, and come back only after
 * the loop's turn committed them.
 *
 * Routes are tables (http_route_t) that each feature registers before
 * http_start; a handler answers with one of the http_reply_* calls. */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "proto/sluice.pb-c.h"
#include "scheduler/store/store.h"

/* The web UI's session: the cookie that carries its token (HttpOnly,
 * SameSite=Strict), and the header a write with it must carry. */
#define HTTP_SESSION_COOKIE "sluice_session"
#define HTTP_CSRF_HEADER    "X-CSRF-Token"

typedef struct http_t http_t;
typedef struct http_req_t http_req_t; /* one request; borrowed by handlers */

/* What a caller may do: the CLI's roles. */
typedef enum {
    HTTP_ROLE_NONE,     /* no token: only open routes */
    HTTP_ROLE_VIEWER,   /* reads */
    HTTP_ROLE_OPERATOR, /* reads and writes */
} http_role_t;

/* Answers req with one http_reply_* call; returns its result. arg is the
 * route table's arg (http_add_routes). */
typedef int(http_handler_fn)(http_req_t *req, void *arg);

/* One route: method ("GET", "POST"), a pattern whose {name} segments match
 * one path segment each ("/api/v1/runs/{id}"), the least role it needs
 * (HTTP_ROLE_NONE: open to all, as /healthz), and its handler. */
typedef struct {
    const char *method;
    const char *pattern;
    http_role_t role;
    http_handler_fn *fn;
} http_route_t;

typedef struct {
    const char *listen;        /* "127.0.0.1:7702", "[::1]:7702", ":7702" */
    const char *tls_cert;      /* PEM file, NULL or "" = plain HTTP */
    const char *tls_key;       /* PEM file, with tls_cert */
    bool open_metrics;         /* /metrics without a token */
    const char *db_path;       /* the store, opened read-only per thread */
    const char *loop_endpoint; /* http_loop_endpoint: where calls go */
} http_config_t;

/* A server for cfg, not yet listening. NULL with err set when cfg is
 * unusable (bad listen address, unreadable TLS files). */
http_t *http_new(const http_config_t *cfg, errbuf_t *err);

/* Adds count routes (the table lives as long as the server) whose handlers
 * get arg. Before http_start only. */
void http_add_routes(http_t *self,
                     const http_route_t *routes,
                     size_t count,
                     void *arg);

/* Starts listening; 0, or -1 with err set (port in use: the message says
 * which setting to change). */
int http_start(http_t *self, errbuf_t *err);

/* The address it listens on ("127.0.0.1:7702"), for logs; borrowed. */
const char *http_listening(const http_t *self);

/* Stops listening and waits for the server's threads; frees and nulls. */
void http_destroy(http_t **self_p);

/* -------------------------------------------------------------- request */

const char *http_req_method(const http_req_t *req);

/* The path, without the query string. */
const char *http_req_path(const http_req_t *req);

/* A {name} segment of the route's pattern; NULL when the pattern has none
 * of that name. Percent-decoded. */
const char *http_req_param(const http_req_t *req, const char *name);

/* A query argument (?name=value); NULL when absent. */
const char *http_req_query(const http_req_t *req, const char *name);

/* The request's body (a POST's JSON), NUL-terminated; "" when none. */
const char *http_req_body(const http_req_t *req, size_t *size);

/* A request header; NULL when absent. */
const char *http_req_header(const http_req_t *req, const char *name);

/* Who asks: the role of their token, and a name for audit lines
 * ("api token 'grafana'"). */
http_role_t http_req_role(const http_req_t *req);
const char *http_req_actor(const http_req_t *req);

/* The token the request came with (bearer or session cookie), NULL when
 * none; borrowed for the request's life. */
const char *http_req_token(const http_req_t *req);

/* The CSRF value a write with the session cookie of token must carry in
 * HTTP_CSRF_HEADER (hex, HTTP_AUTH_CSRF_SIZE bytes with the NUL). */
void http_csrf_value(const http_req_t *req, const char *token, char *out);

/* Whether the server speaks TLS (cookies then get Secure). */
bool http_req_tls(const http_req_t *req);

/* This thread's read-only connection to the store; borrowed. */
store_t *http_req_store(http_req_t *req);

/* Sends req to the scheduler's loop and waits for its reply, which the
 * loop sends only after the turn that handled req committed. Caller owns
 * the reply; NULL with err set when the loop did not answer in 30 s. */
Sluice__Reply *
http_req_call(http_req_t *req, const Sluice__Request *call, errbuf_t *err);

/* ------------------------------------------------------------- replies */

/* Adds a header (Set-Cookie, Location) to this request's answer; call it
 * before the http_reply_* call, at most 4 times. */
void http_reply_header(http_req_t *req, const char *name, const char *value);

/* Answers with body (copied) as content_type; status as HTTP's. */
int http_reply(http_req_t *req,
               unsigned status,
               const char *content_type,
               const void *body,
               size_t size);

/* Answers with JSON text (taken: freed by the server). */
int http_reply_json(http_req_t *req, unsigned status, char **json_p);

/* Answers with {"error": {"status": N, "message": "..."}}; the message says
 * what to do, as the CLI's errors do. */
int http_reply_error(http_req_t *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A Server-Sent Events stream. next is called on the server's thread
 * whenever the client can take more: it writes at most size bytes of
 * events ("data: ...\n\n") to buf and returns how many, 0 when it has
 * nothing now (it is asked again within 250 ms), or -1 to end the stream.
 * done (may be NULL) frees arg when the stream ends, however it ends. */
typedef long(http_stream_fn)(void *arg, char *buf, size_t size);
int http_reply_stream(http_req_t *req,
                      http_stream_fn *next,
                      void (*done)(void *arg),
                      void *arg);

#endif
