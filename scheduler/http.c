/* http — the scheduler's embedded HTTP server on GNU libmicrohttpd.
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION): a handler may
 * wait on the loop (http_req_call) or follow a log for minutes without
 * holding up other requests, and each thread keeps its own read-only store
 * connection and loop socket, freed when the thread ends. Connections are
 * capped, so a flood of them costs threads up to the cap and no more. */
#include "scheduler/http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/http_auth.h"
#include "scheduler/http_loop.h"

#define HTTP_MAX_BODY     (1024 * 1024) /* a POST's JSON, at most */
#define HTTP_MAX_CONNS    128
#define HTTP_IDLE_SECONDS 60
#define HTTP_CALL_MS      30000
#define HTTP_MAX_PARAMS   4
#define HTTP_MAX_EXTRA    4     /* headers a handler adds (Set-Cookie) */
#define HTTP_STREAM_WAIT  250   /* ms between asks of a stream with nothing */
#define HTTP_KEEPALIVE_MS 15000 /* a comment line keeps proxies from closing */

typedef struct {
    const http_route_t *routes; /* borrowed: the caller's static table */
    size_t count;
    void *arg;
} s_table_t;

struct http_t {
    http_config_t cfg; /* strings owned (copies) */
    struct MHD_Daemon *daemon;
    struct sockaddr_storage addr;
    char *listening; /* owned: HOST:PORT as configured */
    char *tls_cert;  /* owned PEM text, NULL for plain HTTP */
    char *tls_key;
    s_table_t *tables; /* owned array */
    size_t ntables;
    volatile bool stopping;
    pthread_key_t store_key; /* this thread's read-only store */
    uint8_t csrf_secret[HTTP_AUTH_SECRET_SIZE]; /* this process's, random */
};

struct http_req_t {
    http_t *http;
    struct MHD_Connection *conn;
    const char *method; /* borrowed from MHD for the request's life */
    char *path;         /* owned */
    char *body;         /* owned, NUL-terminated */
    size_t size;
    bool too_big;
    const char *names[HTTP_MAX_PARAMS];
    char *values[HTTP_MAX_PARAMS]; /* owned */
    size_t nparams;
    http_role_t role;
    char actor[128];
    const char *token; /* borrowed from MHD: bearer or cookie; NULL = none */
    char *extra[2 * HTTP_MAX_EXTRA]; /* owned header names and values */
    size_t nextra;
    bool answered;
    enum MHD_Result result;
};

/* ------------------------------------------------------------- setup */

static char *
s_read_file(const char *path, errbuf_t *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *text = xmalloc(cap);
    size_t n;
    while ((n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len <= 1) {
            cap *= 2;
            text = xrealloc(text, cap);
        }
    }
    fclose(f);
    text[len] = '\0';
    return text;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses) into self->addr. */
static int
s_parse_listen(http_t *self, const char *listen, errbuf_t *err)
{
    char host[256] = "";
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1] || (size_t) (colon - listen) >= sizeof host) {
        errbuf_set(err,
                   "http_listen '%s' is not HOST:PORT (e.g. "
                   "127.0.0.1:7702); empty turns the HTTP server off",
                   listen);
        return -1;
    }
    memcpy(host, listen, (size_t) (colon - listen));
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0 || !res) {
        errbuf_set(err, "http_listen '%s': %s", listen, gai_strerror(rc));
        return -1;
    }
    memcpy(&self->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

static void
s_store_free(void *store)
{
    store_destroy((store_t **) &store);
}

http_t *
http_new(const http_config_t *cfg, errbuf_t *err)
{
    assert(cfg && cfg->listen && cfg->db_path && cfg->loop_endpoint);
    http_t *self = xcalloc(1, sizeof *self);
    self->cfg = *cfg;
    self->cfg.db_path = xstrdup(cfg->db_path);
    self->cfg.loop_endpoint = xstrdup(cfg->loop_endpoint);
    self->listening = xstrdup(cfg->listen);
    pthread_key_create(&self->store_key, s_store_free);
    http_auth_secret_new(self->csrf_secret);
    bool tls = cfg->tls_cert && *cfg->tls_cert;
    if (s_parse_listen(self, cfg->listen, err) < 0) {
        http_destroy(&self);
        return NULL;
    }
    if (tls && !(cfg->tls_key && *cfg->tls_key)) {
        errbuf_set(err, "http_tls_cert is set but http_tls_key is not; set "
                        "both, or neither for plain HTTP");
        http_destroy(&self);
        return NULL;
    }
    if (tls && (!(self->tls_cert = s_read_file(cfg->tls_cert, err)) ||
                !(self->tls_key = s_read_file(cfg->tls_key, err)))) {
        errbuf_prefix(err, "http_tls");
        http_destroy(&self);
        return NULL;
    }
    return self;
}

void
http_add_routes(http_t *self,
                const http_route_t *routes,
                size_t count,
                void *arg)
{
    assert(self && !self->daemon);
    self->tables =
        xrealloc(self->tables, (self->ntables + 1) * sizeof *self->tables);
    self->tables[self->ntables++] = (s_table_t){routes, count, arg};
}

const char *
http_listening(const http_t *self)
{
    return self->listening;
}

/* ------------------------------------------------------------- routing */

/* Matches path against pattern segment by segment; {name} takes one
 * segment into req's params. */
static bool
s_match(http_req_t *req, const char *pattern, const char *path)
{
    req->nparams = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
        if (p[0] == '{' && plen > 2 && p[plen - 1] == '}') {
            if (slen == 0 || req->nparams == HTTP_MAX_PARAMS) {
                return false;
            }
            req->names[req->nparams] = p + 1;
            req->values[req->nparams++] = xstrndup(s, slen);
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return false;
        }
        p += plen;
        s += slen;
        if (*p != *s) {
            return false;
        }
        p += *p == '/';
        s += *s == '/';
    }
    return *p == '\0' && *s == '\0';
}

static void
s_params_clear(http_req_t *req)
{
    for (size_t i = 0; i < req->nparams; i++) {
        free(req->values[i]);
    }
    req->nparams = 0;
}

/* The route for req; *path_known tells a 405 from a 404. */
static const http_route_t *
s_route(http_req_t *req, void **arg, bool *path_known)
{
    *path_known = false;
    for (size_t t = 0; t < req->http->ntables; t++) {
        const s_table_t *table = &req->http->tables[t];
        for (size_t i = 0; i < table->count; i++) {
            const http_route_t *r = &table->routes[i];
            bool hit = s_match(req, r->pattern, req->path);
            if (hit && strcmp(r->method, req->method) == 0) {
                *arg = table->arg;
                return r;
            }
            *path_known |= hit;
            s_params_clear(req);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------- request */

const char *
http_req_method(const http_req_t *req)
{
    return req->method;
}

const char *
http_req_path(const http_req_t *req)
{
    return req->path;
}

const char *
http_req_param(const http_req_t *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->nparams; i++) {
        if (strncmp(req->names[i], name, len) == 0 &&
            req->names[i][len] == '}') {
            return req->values[i];
        }
    }
    return NULL;
}

const char *
http_req_query(const http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_req_body(const http_req_t *req, size_t *size)
{
    if (size) {
        *size = req->size;
    }
    return req->body ? req->body : "";
}

const char *
http_req_header(const http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

http_role_t
http_req_role(const http_req_t *req)
{
    return req->role;
}

const char *
http_req_actor(const http_req_t *req)
{
    return req->actor;
}

const char *
http_req_token(const http_req_t *req)
{
    return req->token;
}

void
http_csrf_value(const http_req_t *req, const char *token, char *out)
{
    http_auth_csrf(req->http->csrf_secret, token, out);
}

bool
http_req_tls(const http_req_t *req)
{
    return req->http->tls_cert != NULL;
}

store_t *
http_req_store(http_req_t *req)
{
    http_t *http = req->http;
    store_t *store = pthread_getspecific(http->store_key);
    if (!store) {
        errbuf_t err;
        store = store_open_readonly(http->cfg.db_path, &err);
        if (!store) {
            log_error("http: %s", errbuf_msg(&err));
        }
        pthread_setspecific(http->store_key, store);
    }
    return store;
}

Sluice__Reply *
http_req_call(http_req_t *req, const Sluice__Request *call, errbuf_t *err)
{
    return http_loop_call(req->http->cfg.loop_endpoint, call, req->role,
                          req->actor, HTTP_CALL_MS, &req->http->stopping, err);
}

/* ------------------------------------------------------------- replies */

/* Headers every answer carries: the UI's scripts and styles come from this
 * origin only, nothing frames it, and nothing is cached. */
static void
s_common_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; "
                            "style-src 'self'; script-src 'self'; "
                            "connect-src 'self'; frame-ancestors 'none'; "
                            "base-uri 'none'; form-action 'self'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static int
s_queue(http_req_t *req, unsigned status, struct MHD_Response *resp)
{
    assert(!req->answered);
    if (!resp) {
        req->result = MHD_NO;
        req->answered = true;
        return -1;
    }
    s_common_headers(resp);
    for (size_t i = 0; i < req->nextra; i++) {
        MHD_add_response_header(resp, req->extra[2 * i], req->extra[2 * i + 1]);
    }
    req->result = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    req->answered = true;
    return req->result == MHD_YES ? 0 : -1;
}

void
http_reply_header(http_req_t *req, const char *name, const char *value)
{
    assert(req->nextra < HTTP_MAX_EXTRA);
    req->extra[2 * req->nextra] = xstrdup(name);
    req->extra[2 * req->nextra + 1] = xstrdup(value);
    req->nextra++;
}

int
http_reply(http_req_t *req,
           unsigned status,
           const char *content_type,
           const void *body,
           size_t size)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        size, (void *) body, MHD_RESPMEM_MUST_COPY);
    if (resp && content_type) {
        MHD_add_response_header(resp, "Content-Type", content_type);
    }
    return s_queue(req, status, resp);
}

int
http_reply_json(http_req_t *req, unsigned status, char **json_p)
{
    char *json = *json_p;
    *json_p = NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(json), json, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(json);
    } else {
        MHD_add_response_header(resp, "Content-Type",
                                "application/json; charset=utf-8");
    }
    return s_queue(req, status, resp);
}

int
http_reply_error(http_req_t *req, unsigned status, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    char *json = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&json, &size);
    if (!out) {
        return s_queue(req, status, NULL); /* out of memory: drop it */
    }
    json_t *writer = json_new(out, false);
    json_object_begin(writer);
    json_key(writer, "error");
    json_object_begin(writer);
    json_kv_uint(writer, "status", status);
    json_kv_string(writer, "message", message);
    json_object_end(writer);
    json_object_end(writer);
    json_destroy(&writer);
    fclose(out);
    return http_reply_json(req, status, &json);
}

/* -------------------------------------------------------------- streams */

typedef struct {
    http_t *http;
    http_stream_fn *next;
    void (*done)(void *arg);
    void *arg;
    int64_t last_sent; /* monotonic ms */
} s_stream_t;

/* MHD asks for more of a stream: its thread may wait here (one thread per
 * connection), asking the stream again every HTTP_STREAM_WAIT ms, with a
 * comment line now and then so that a closed client is noticed. */
static ssize_t
s_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void) pos;
    s_stream_t *st = cls;
    for (;;) {
        if (st->http->stopping) {
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        long n = st->next(st->arg, buf, max);
        if (n < 0) {
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        int64_t now = clock_mono_ms();
        if (n > 0) {
            st->last_sent = now;
            return (ssize_t) n;
        }
        if (now - st->last_sent >= HTTP_KEEPALIVE_MS && max >= 2) {
            st->last_sent = now;
            memcpy(buf, ":\n", 2);
            return 2;
        }
        struct timespec wait = {0, HTTP_STREAM_WAIT * 1000000L};
        nanosleep(&wait, NULL);
    }
}

static void
s_stream_free(void *cls)
{
    s_stream_t *st = cls;
    if (st->done) {
        st->done(st->arg);
    }
    free(st);
}

int
http_reply_stream(http_req_t *req,
                  http_stream_fn *next,
                  void (*done)(void *arg),
                  void *arg)
{
    s_stream_t *st = xcalloc(1, sizeof *st);
    *st = (s_stream_t){req->http, next, done, arg, clock_mono_ms()};
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, s_stream_read, st, s_stream_free);
    if (!resp) {
        s_stream_free(st);
        return s_queue(req, 500, NULL);
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return s_queue(req, 200, resp);
}

/* --------------------------------------------------------- the handler */

/* The token of a request: "Authorization: Bearer T", else the session
 * cookie. *from_cookie tells which (cookie writes need the CSRF header). */
static const char *
s_token(const http_req_t *req, bool *from_cookie)
{
    *from_cookie = false;
    const char *auth = http_req_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        return auth + 7 + strspn(auth + 7, " ");
    }
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND,
                                                     HTTP_SESSION_COOKIE);
    *from_cookie = cookie != NULL;
    return cookie;
}

static bool
s_is_read(const char *method)
{
    return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

/* Sets req's role from its token; false when it answered (401, 403). */
static bool
s_authorize(http_req_t *req, const http_route_t *route)
{
    http_t *http = req->http;
    http_role_t needed = route->role;
    if (needed == HTTP_ROLE_VIEWER && http->cfg.open_metrics &&
        (!strcmp(route->pattern, "/metrics") ||
         !strcmp(route->pattern, "/healthz"))) {
        needed = HTTP_ROLE_NONE;
    }
    bool from_cookie = false;
    const char *token = s_token(req, &from_cookie);
    snprintf(req->actor, sizeof req->actor, "http");
    if (!token || !*token) {
        if (needed == HTTP_ROLE_NONE) {
            return true;
        }
        http_reply_header(req, "WWW-Authenticate", "Bearer realm=\"sluice\"");
        http_reply_error(req, 401,
                         "this needs an API token: send 'Authorization: "
                         "Bearer TOKEN' (make one with 'sluice token create "
                         "--api --role viewer') or log in to the web UI");
        return false;
    }
    errbuf_t err;
    store_t *ro = http_req_store(req);
    http_auth_t who;
    int rc = ro ? http_auth_token(ro, token, clock_wall_ms(), &who, &err)
                : HTTP_AUTH_ESTORE;
    if (rc == HTTP_AUTH_ESTORE) {
        http_reply_error(req, 503, "the store cannot be read now; try again");
        return false;
    }
    if (rc < 0) {
        if (needed == HTTP_ROLE_NONE) {
            return true; /* an open route: a bad token changes nothing */
        }
        http_reply_header(req, "WWW-Authenticate",
                          "Bearer realm=\"sluice\", error=\"invalid_token\"");
        http_reply_error(req, 401, "%s", errbuf_msg(&err));
        return false;
    }
    req->token = token;
    req->role = who.role;
    snprintf(req->actor, sizeof req->actor, "%s", who.actor);
    if (from_cookie && !s_is_read(req->method) &&
        !http_auth_csrf_ok(http->csrf_secret, token,
                           http_req_header(req, HTTP_CSRF_HEADER))) {
        http_reply_error(req, 403,
                         "a write with the session cookie needs the "
                         "%s header the login returned; reload the page",
                         HTTP_CSRF_HEADER);
        return false;
    }
    if (req->role < needed) {
        http_reply_error(req, 403,
                         "%s needs the %s role and %s has the viewer role; "
                         "use an operator token ('sluice token create --api "
                         "--role operator')",
                         route->pattern, "operator", req->actor);
        return false;
    }
    return true;
}

static void
s_dispatch(http_req_t *req)
{
    void *arg = NULL;
    bool path_known = false;
    const http_route_t *route = s_route(req, &arg, &path_known);
    if (!route) {
        if (path_known) {
            http_reply_error(req, 405, "%s is not allowed on %s", req->method,
                             req->path);
        } else {
            http_reply_error(req, 404,
                             "no such page or API route: %s; the API is "
                             "described at /api/v1/openapi.json",
                             req->path);
        }
        return;
    }
    if (req->too_big) {
        http_reply_error(req, 413, "the request body is over %d bytes",
                         HTTP_MAX_BODY);
        return;
    }
    if (!s_authorize(req, route)) {
        return;
    }
    route->fn(req, arg);
    if (!req->answered) { /* a handler's bug: still answer */
        log_error("http: %s %s gave no answer", req->method, req->path);
        http_reply_error(req, 500, "the server gave no answer");
    }
}

/* Collects a POST's body across calls; false while more is coming. */
static bool
s_upload(http_req_t *req, const char *data, size_t *size)
{
    if (*size == 0) {
        return true;
    }
    if (req->size + *size > HTTP_MAX_BODY) {
        req->too_big = true;
    } else {
        req->body = xrealloc(req->body, req->size + *size + 1);
        memcpy(req->body + req->size, data, *size);
        req->size += *size;
        req->body[req->size] = '\0';
    }
    *size = 0;
    return false;
}

static enum MHD_Result
s_access(void *cls,
         struct MHD_Connection *conn,
         const char *url,
         const char *method,
         const char *version,
         const char *upload_data,
         size_t *upload_data_size,
         void **con_cls)
{
    (void) version;
    http_req_t *req = *con_cls;
    if (!req) {
        req = xcalloc(1, sizeof *req);
        req->http = cls;
        req->conn = conn;
        req->method = method;
        req->path = xstrdup(url);
        *con_cls = req;
        return MHD_YES;
    }
    if (!s_upload(req, upload_data, upload_data_size)) {
        return MHD_YES;
    }
    s_dispatch(req);
    return req->result;
}

static void
s_completed(void *cls,
            struct MHD_Connection *conn,
            void **con_cls,
            enum MHD_RequestTerminationCode why)
{
    (void) cls;
    (void) conn;
    (void) why;
    http_req_t *req = *con_cls;
    if (!req) {
        return;
    }
    s_params_clear(req);
    for (size_t i = 0; i < 2 * req->nextra; i++) {
        free(req->extra[i]);
    }
    free(req->path);
    free(req->body);
    free(req);
    *con_cls = NULL;
}

static void
s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void) cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("http: %s", line);
}

int
http_start(http_t *self, errbuf_t *err)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG |
                     MHD_USE_POLL;
    if (self->addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (self->tls_cert) {
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, self->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, self->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    self->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_access, self, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *) &self->addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned) HTTP_MAX_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned) HTTP_IDLE_SECONDS, MHD_OPTION_NOTIFY_COMPLETED, s_completed,
        self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self, MHD_OPTION_ARRAY,
        self->tls_cert ? tls : tls + 2, MHD_OPTION_END);
    if (!self->daemon) {
        errbuf_set(err,
                   "cannot serve HTTP on %s (in use, or not an address of "
                   "this host%s); set http_listen (--http-listen HOST:PORT) "
                   "to another, or to \"\" to turn the HTTP server off",
                   self->listening,
                   self->tls_cert ? ", or the TLS certificate and key do "
                                    "not match"
                                  : "");
        return -1;
    }
    return 0;
}

void
http_destroy(http_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    http_t *self = *self_p;
    self->stopping = true;
    if (self->daemon) {
        MHD_stop_daemon(self->daemon);
    }
    pthread_key_delete(self->store_key);
    free((char *) self->cfg.db_path);
    free((char *) self->cfg.loop_endpoint);
    free(self->listening);
    if (self->tls_key) {
        explicit_bzero(self->tls_key, strlen(self->tls_key));
    }
    free(self->tls_cert);
    free(self->tls_key);
    free(self->tables);
    sodium_memzero(self->csrf_secret, sizeof self->csrf_secret);
    free(self);
    *self_p = NULL;
}
