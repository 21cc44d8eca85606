/* store_web — the HTTP API's own reads (see store_web.h). */
#include "scheduler/store/store_web.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "scheduler/store/store_priv.h"

typedef struct {
    store_web_run_fn *fn;
    void *arg;
} run_ctx_t;

static int
s_run_row(sqlite3_stmt *stmt, void *arg)
{
    run_ctx_t *ctx = arg;
    store_web_run_t run = {
        .id = (uint64_t) sqlite3_column_int64(stmt, 0),
        .state = store_priv_text(stmt, 1),
        .logical_date = store_priv_text(stmt, 2),
        .created_at = sqlite3_column_int64(stmt, 3),
    };
    return ctx->fn(ctx->arg, &run) == 0 ? 0 : -1;
}

int
store_web_runs(store_t *self,
               const char *dag,
               const char *state,
               uint64_t before,
               uint32_t limit,
               store_web_run_fn *fn,
               void *arg,
               errbuf_t *err)
{
    assert(self && fn);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT id, state, logical_date, created_at FROM runs"
        " WHERE (?1 = '' OR dag = ?1) AND (?2 = '' OR state = ?2)"
        " AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dag);
    store_priv_bind_text(stmt, 2, state);
    sqlite3_bind_int64(stmt, 3, (int64_t) before);
    sqlite3_bind_int64(stmt, 4, limit);
    run_ctx_t ctx = {fn, arg};
    return store_priv_each(self, stmt, s_run_row, &ctx, "list runs", err);
}

int
store_web_run_state(
    store_t *self, uint64_t run_id, char *state, size_t size, errbuf_t *err)
{
    assert(self && state && size > 0);
    sqlite3_stmt *stmt =
        store_priv_sql(self, "SELECT state FROM runs WHERE id = ?1", err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        snprintf(state, size, "%s", store_priv_text(stmt, 0));
    } else if (rc == SQLITE_DONE) {
        errbuf_set(err,
                   "run %" PRIu64 " does not exist; 'GET /api/v1/runs' "
                   "lists them",
                   run_id);
        ret = STORE_ENOTFOUND;
    } else {
        ret = store_priv_fail(self, rc, "read a run's state", err);
    }
    store_priv_reset(stmt);
    return ret;
}

typedef struct {
    store_web_task_fn *fn;
    void *arg;
} task_ctx_t;

static int
s_task_row(sqlite3_stmt *stmt, void *arg)
{
    task_ctx_t *ctx = arg;
    store_web_task_t task = {
        .task_id = store_priv_text(stmt, 0),
        .state = store_priv_text(stmt, 1),
        .tries = (uint32_t) sqlite3_column_int64(stmt, 2),
    };
    return ctx->fn(ctx->arg, &task) == 0 ? 0 : -1;
}

int
store_web_tasks(store_t *self,
                uint64_t run_id,
                store_web_task_fn *fn,
                void *arg,
                errbuf_t *err)
{
    assert(self && fn);
    /* A run's instances are written in DAG order in one transaction: their
     * rowids are that order, and one range of the table holds them, read
     * in place (+run_id keeps the planner off the primary key's index,
     * which would cost a second lookup and a sort per row). */
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT task_id, state, tries FROM task_instances"
        " WHERE rowid BETWEEN"
        " (SELECT min(rowid) FROM task_instances WHERE run_id = ?1)"
        " AND (SELECT max(rowid) FROM task_instances WHERE run_id = ?1)"
        " AND +run_id = ?1 ORDER BY rowid",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    task_ctx_t ctx = {fn, arg};
    return store_priv_each(self, stmt, s_task_row, &ctx, "read a run's tasks",
                           err);
}

typedef struct {
    store_web_event_fn *fn;
    void *arg;
} event_ctx_t;

static int
s_event_row(sqlite3_stmt *stmt, void *arg)
{
    event_ctx_t *ctx = arg;
    store_web_event_t event = {
        .id = (uint64_t) sqlite3_column_int64(stmt, 0),
        .at = sqlite3_column_int64(stmt, 1),
        .actor = store_priv_text(stmt, 2),
        .kind = store_priv_text(stmt, 3),
        .subject = store_priv_text(stmt, 4),
        .detail = store_priv_text(stmt, 5),
    };
    return ctx->fn(ctx->arg, &event) == 0 ? 0 : -1;
}

int
store_web_events(store_t *self,
                 uint64_t before,
                 uint32_t limit,
                 store_web_event_fn *fn,
                 void *arg,
                 errbuf_t *err)
{
    assert(self && fn);
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "SELECT id, at, actor, kind, subject, detail FROM events"
                       " WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) before);
    sqlite3_bind_int64(stmt, 2, limit);
    event_ctx_t ctx = {fn, arg};
    return store_priv_each(self, stmt, s_event_row, &ctx, "read events", err);
}

typedef struct {
    uint64_t offset;
    uint64_t after_seq;
    uint64_t skip;
    uint64_t total;
    bool found;
} seek_ctx_t;

static int
s_seek_row(sqlite3_stmt *stmt, void *arg)
{
    seek_ctx_t *ctx = arg;
    uint64_t seq = (uint64_t) sqlite3_column_int64(stmt, 0);
    uint64_t size = (uint64_t) sqlite3_column_int64(stmt, 1);
    if (!ctx->found && ctx->total + size <= ctx->offset) {
        ctx->after_seq = seq;
    } else if (!ctx->found) {
        ctx->found = true;
        ctx->skip = ctx->offset - ctx->total;
    }
    ctx->total += size;
    return 0;
}

int
store_web_log_seek(store_t *self,
                   uint64_t attempt_id,
                   uint64_t offset,
                   uint64_t *after_seq,
                   uint64_t *skip,
                   uint64_t *total,
                   errbuf_t *err)
{
    assert(self && after_seq && skip && total);
    /* length() of a blob reads its header only, not its bytes. */
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT seq, length(data) FROM log_chunks WHERE attempt_id = ?1"
        " ORDER BY seq",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    seek_ctx_t ctx = {.offset = offset};
    int rc =
        store_priv_each(self, stmt, s_seek_row, &ctx, "read a log's size", err);
    *after_seq = ctx.after_seq;
    *skip = ctx.skip;
    *total = ctx.total;
    return rc;
}
