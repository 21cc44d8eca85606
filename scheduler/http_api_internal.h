/* http_api_internal — what the files of http_api share: the handlers the
 * route table names, and the helpers of http_api_util.c (replies from
 * protobuf messages, strict parsing of query and path values). Private to
 * http_api*.c. */
#ifndef SLUICE_HTTP_API_INTERNAL_H
#define SLUICE_HTTP_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/errbuf.h"
#include "common/json.h"
#include "common/jsonval.h"
#include "proto/sluice.pb-c.h"
#include "scheduler/http.h"

/* Runs and events one page lists by default and at most. */
#define HTTP_API_PAGE_DEFAULT 20
#define HTTP_API_PAGE_MAX     1000

/* Runs the grid shows by default and at most. */
#define HTTP_API_GRID_DEFAULT 25
#define HTTP_API_GRID_MAX     100

/* ------------------------------------------------------ http_api_util.c */

/* A JSON document being written into memory. */
typedef struct {
    char *data;
    size_t size;
    FILE *file;
    json_t *json;
} http_api_out_t;

/* Opens out; returns its writer (one line, not pretty). */
json_t *http_api_out_open(http_api_out_t *out);

/* Ends the document and answers req with it (status). */
int http_api_out_reply(http_req_t *req, http_api_out_t *out, unsigned status);

/* Ends the document; the caller owns the text (NUL-terminated). */
char *http_api_out_take(http_api_out_t *out, size_t *size);

/* Answers req with rep (taken): its op's message as JSON, or the HTTP
 * error its ErrorRep stands for. */
int http_api_reply(http_req_t *req, Sluice__Reply *rep);

/* Sends call to the loop and answers with its reply (503 when the loop
 * does not answer). */
int http_api_call(http_req_t *req, Sluice__Request *call);

/* A read-only request handler: api_read, sched_lineage, ... */
typedef Sluice__Reply *(http_api_read_fn) (store_t *store,
                                           const Sluice__Request *req);

/* req's read-only store connection; NULL when the thread has none, after
 * answering 503. */
store_t *http_api_store(http_req_t *req);

/* Answers call with fn on req's store connection. */
int http_api_read(http_req_t *req, http_api_read_fn *fn, Sluice__Request *call);

/* Answers 400 with err's message. */
int http_api_bad(http_req_t *req, const errbuf_t *err);

/* The HTTP status for ErrorRep code `code`. */
unsigned http_api_status(uint32_t code);

/* Query argument name as an integer in [min, max] into *value; def when
 * absent. -1 with err set (what is allowed) when malformed or out of
 * range. */
int http_api_query_uint(http_req_t *req,
                        const char *name,
                        uint64_t def,
                        uint64_t min,
                        uint64_t max,
                        uint64_t *value,
                        errbuf_t *err);

/* Query argument name as "true"/"false"/"1"/"0" into *value; def when
 * absent. -1 with err set otherwise. */
int http_api_query_bool(
    http_req_t *req, const char *name, bool def, bool *value, errbuf_t *err);

/* Query argument name, "" when absent; -1 with err set when required and
 * absent or empty. */
int http_api_query_text(http_req_t *req,
                        const char *name,
                        bool required,
                        const char **value,
                        errbuf_t *err);

/* Path parameter {run} as a run id (> 0); -1 with err set otherwise. */
int http_api_param_run(http_req_t *req, uint64_t *run_id, errbuf_t *err);

/* The request's JSON body as an object (an empty body reads as {}); the
 * caller owns it. NULL with err set when it is not a JSON object. */
jsonval_t *http_api_body(http_req_t *req, errbuf_t *err);

/* Checks that body (an object) has only the members named in allowed
 * (NULL-terminated); -1 with err set naming the first stranger. */
int http_api_body_only(const jsonval_t *body,
                       const char *const *allowed,
                       errbuf_t *err);

/* Member name of body as a string (NULL when absent) / a boolean (def when
 * absent); -1 with err set when of another type. */
int http_api_body_text(const jsonval_t *body,
                       const char *name,
                       const char **value,
                       errbuf_t *err);
int http_api_body_bool(const jsonval_t *body,
                       const char *name,
                       bool def,
                       bool *value,
                       errbuf_t *err);

/* ---------------------------------------------------- http_api_dags.c */

int http_api_dag_list(http_req_t *req, void *arg);
int http_api_dag_show(http_req_t *req, void *arg);
int http_api_dag_next(http_req_t *req, void *arg);
int http_api_dag_pause(http_req_t *req, void *arg);
int http_api_dag_trigger(http_req_t *req, void *arg);
int http_api_dag_grid(http_req_t *req, void *arg);

/* ---------------------------------------------------- http_api_runs.c */

int http_api_run_list(http_req_t *req, void *arg);
int http_api_run_show(http_req_t *req, void *arg);
int http_api_run_cancel(http_req_t *req, void *arg);
int http_api_run_retry(http_req_t *req, void *arg);
int http_api_run_logs(http_req_t *req, void *arg);

/* ---------------------------------------------------- http_api_misc.c */

int http_api_workers(http_req_t *req, void *arg);
int http_api_autoscaler(http_req_t *req, void *arg);
int http_api_pools(http_req_t *req, void *arg);
int http_api_datasets(http_req_t *req, void *arg);
int http_api_lineage(http_req_t *req, void *arg);
int http_api_reports(http_req_t *req, void *arg);
int http_api_metrics(http_req_t *req, void *arg);
int http_api_events(http_req_t *req, void *arg);
int http_api_openapi(http_req_t *req, void *arg);

/* -------------------------------------------------- http_api_stream.c */

/* arg: the state directory (see http_api_routes). */
int http_api_run_stream(http_req_t *req, void *arg);
int http_api_log_stream(http_req_t *req, void *arg);

#endif
