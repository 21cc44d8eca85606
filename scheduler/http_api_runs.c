/* http_api_runs — /api/v1/runs: the paged list, one run, cancel, retry and
 * a task's log read by byte offset. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "scheduler/api.h"
#include "scheduler/http_api_internal.h"
#include "scheduler/state.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_query.h"
#include "scheduler/store/store_web.h"

typedef struct {
    uint64_t *ids;
    size_t count;
} run_ids_t;

static int
s_run_id(void *arg, const store_web_run_t *run)
{
    run_ids_t *ids = arg;
    ids->ids[ids->count++] = run->id;
    return 0;
}

static int
s_run_summary(void *arg, const store_run_info_t *run)
{
    Sluice__RunSummary *summary = api_run_summary(run);
    pbjson_write(arg, &summary->base);
    protobuf_c_message_free_unpacked(&summary->base, NULL);
    return 0;
}

/* Writes {"runs": [...], "next": before|null} for ids (limit + 1 read: one
 * more than listed means another page). */
static int
s_runs_write(store_t *store,
             json_t *json,
             const run_ids_t *ids,
             uint64_t limit,
             errbuf_t *err)
{
    size_t listed = ids->count > limit ? (size_t) limit : ids->count;
    json_object_begin(json);
    json_key(json, "runs");
    json_array_begin(json);
    int rc = 0;
    for (size_t i = 0; i < listed && rc == 0; i++) {
        rc = store_run_get(store, ids->ids[i], NULL, s_run_summary, json, err);
    }
    json_array_end(json);
    json_key(json, "next");
    if (ids->count > limit && listed > 0) {
        json_uint(json, ids->ids[listed - 1]);
    } else {
        json_null(json);
    }
    json_object_end(json);
    return rc;
}

static int
s_run_query(http_req_t *req,
            const char **dag,
            const char **state,
            uint64_t *limit,
            uint64_t *before,
            errbuf_t *err)
{
    run_state_t parsed;
    if (http_api_query_text(req, "dag", false, dag, err) != 0 ||
        http_api_query_text(req, "state", false, state, err) != 0 ||
        http_api_query_uint(req, "limit", HTTP_API_PAGE_DEFAULT, 1,
                            HTTP_API_PAGE_MAX, limit, err) != 0 ||
        http_api_query_uint(req, "before", 0, 1, INT64_MAX, before, err) != 0) {
        return -1;
    }
    if (**state && state_run_parse(*state, &parsed) != 0) {
        errbuf_set(err,
                   "'state=%s' is not allowed; state takes queued, running, "
                   "success, failed or cancelled",
                   *state);
        return -1;
    }
    return 0;
}

int
http_api_run_list(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    const char *dag, *state;
    uint64_t limit, before;
    if (s_run_query(req, &dag, &state, &limit, &before, &err) != 0) {
        return http_api_bad(req, &err);
    }
    store_t *store = http_api_store(req);
    if (!store) {
        return 0;
    }
    run_ids_t ids = {xcalloc(limit + 1, sizeof *ids.ids), 0};
    http_api_out_t out;
    json_t *json = http_api_out_open(&out);
    int rc = store_web_runs(store, dag, state, before, (uint32_t) limit + 1,
                            s_run_id, &ids, &err);
    if (rc == 0) {
        rc = s_runs_write(store, json, &ids, limit, &err);
    }
    free(ids.ids);
    if (rc != 0) {
        free(http_api_out_take(&out, NULL));
        return http_reply_error(req, 500, "%s", errbuf_msg(&err));
    }
    return http_api_out_reply(req, &out, 200);
}

int
http_api_run_show(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    Sluice__RunShowReq show = SLUICE__RUN_SHOW_REQ__INIT;
    uint64_t limit, offset, cursor;
    bool summary;
    if (http_api_param_run(req, &show.run_id, &err) != 0 ||
        http_api_query_bool(req, "summary_only", false, &summary, &err) != 0 ||
        http_api_query_uint(req, "limit", 0, 0, 100000, &limit, &err) != 0 ||
        http_api_query_uint(req, "offset", 0, 0, UINT32_MAX, &offset, &err) !=
            0 ||
        http_api_query_uint(req, "cursor", 0, 0, INT64_MAX, &cursor, &err) !=
            0) {
        return http_api_bad(req, &err);
    }
    show.summary_only = summary;
    show.limit = (uint32_t) limit;
    show.offset = (uint32_t) offset;
    show.cursor = cursor;
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_RUN_SHOW;
    call.run_show = &show;
    return http_api_call(req, &call);
}

int
http_api_run_cancel(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    Sluice__CancelReq cancel = SLUICE__CANCEL_REQ__INIT;
    if (http_api_param_run(req, &cancel.run_id, &err) != 0) {
        return http_api_bad(req, &err);
    }
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_CANCEL;
    call.cancel = &cancel;
    return http_api_call(req, &call);
}

int
http_api_run_retry(http_req_t *req, void *arg)
{
    (void) arg;
    static const char *const allowed[] = {"task", NULL};
    errbuf_t err = {{0}};
    Sluice__RetryReq retry = SLUICE__RETRY_REQ__INIT;
    const char *task = NULL;
    jsonval_t *body = NULL;
    if (http_api_param_run(req, &retry.run_id, &err) != 0 ||
        !(body = http_api_body(req, &err)) ||
        http_api_body_only(body, allowed, &err) != 0 ||
        http_api_body_text(body, "task", &task, &err) != 0) {
        jsonval_destroy(&body);
        return http_api_bad(req, &err);
    }
    retry.task_id = (char *) (task ? task : "");
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_RETRY;
    call.retry = &retry;
    int ret = http_api_call(req, &call);
    jsonval_destroy(&body);
    return ret;
}

/* ---------------------------------------------------------------- logs */

typedef struct {
    uint64_t skip; /* bytes of the first chunk already sent */
    char *data;    /* owned */
    size_t size;
} log_buf_t;

static int
s_log_chunk(void *arg, const store_log_row_t *chunk)
{
    log_buf_t *b = arg;
    size_t skip = b->skip < chunk->size ? (size_t) b->skip : chunk->size;
    b->skip = 0;
    b->data = xrealloc(b->data, b->size + chunk->size - skip + 1);
    memcpy(b->data + b->size, (const char *) chunk->data + skip,
           chunk->size - skip);
    b->size += chunk->size - skip;
    return 0;
}

static void
s_log_write(json_t *json,
            const store_attempt_row_t *attempt,
            const log_buf_t *b,
            uint64_t offset,
            uint64_t total)
{
    bool ended = attempt->state != ATTEMPT_RUNNING &&
                 attempt->state != ATTEMPT_DISPATCHED;
    json_object_begin(json);
    json_kv_uint(json, "attempt", attempt->number);
    json_kv_uint(json, "attempt_id", attempt->attempt_id);
    json_kv_string(json, "state", state_attempt_name(attempt->state));
    json_kv_uint(json, "offset", offset);
    json_key(json, "data");
    json_string_len(json, b->data ? b->data : "", b->size);
    json_kv_uint(json, "next_offset", offset + b->size);
    json_kv_uint(json, "size", total);
    json_kv_bool(json, "final", ended && offset + b->size >= total);
    json_object_end(json);
}

/* Reads the log of `attempt` from byte offset into b; *total: its size. */
static int
s_log_read(store_t *store,
           const store_attempt_row_t *attempt,
           uint64_t offset,
           log_buf_t *b,
           uint64_t *total,
           errbuf_t *err)
{
    uint64_t after, skip;
    if (store_web_log_seek(store, attempt->attempt_id, offset, &after, &skip,
                           total, err) != 0) {
        return -1;
    }
    if (offset >= *total) {
        return 0;
    }
    b->skip = skip;
    return store_log_read(store, attempt->attempt_id, after,
                          API_LOG_REPLY_BYTES, s_log_chunk, b, NULL, err);
}

int
http_api_run_logs(http_req_t *req, void *arg)
{
    (void) arg;
    errbuf_t err = {{0}};
    uint64_t run_id, number, offset;
    if (http_api_param_run(req, &run_id, &err) != 0 ||
        http_api_query_uint(req, "attempt", 0, 0, UINT32_MAX, &number, &err) !=
            0 ||
        http_api_query_uint(req, "offset", 0, 0, INT64_MAX, &offset, &err) !=
            0) {
        return http_api_bad(req, &err);
    }
    store_t *store = http_api_store(req);
    if (!store) {
        return 0;
    }
    store_attempt_row_t attempt;
    task_state_t task_state;
    int rc = store_attempt_find(store, run_id, http_req_param(req, "task"),
                                (uint32_t) number, &attempt, &task_state, &err);
    if (rc != 0) {
        return http_reply_error(req, rc == STORE_ENOTFOUND ? 404 : 500, "%s",
                                errbuf_msg(&err));
    }
    log_buf_t b = {0};
    uint64_t total = 0;
    int ret;
    if (s_log_read(store, &attempt, offset, &b, &total, &err) != 0) {
        ret = http_reply_error(req, 500, "%s", errbuf_msg(&err));
    } else {
        http_api_out_t out;
        s_log_write(http_api_out_open(&out), &attempt, &b, offset, total);
        ret = http_api_out_reply(req, &out, 200);
    }
    free(b.data);
    return ret;
}
