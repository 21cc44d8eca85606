/* The store's side of schedules: runs' data intervals and paused DAGs
 * (store_runs.h, store_dags.h). */
#include <assert.h>
#include <inttypes.h>
#include <sqlite3.h>

#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_priv.h"
#include "scheduler/store/store_runs.h"

int
store_run_set_interval(store_t *self,
                       uint64_t run_id,
                       int64_t logical_at,
                       int64_t start,
                       int64_t end,
                       const char *zone,
                       errbuf_t *err)
{
    assert(self && zone);
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "UPDATE runs SET logical_at = ?2, interval_start = ?3,"
                       " interval_end = ?4, timezone = ?5 WHERE id = ?1",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    sqlite3_bind_int64(stmt, 2, logical_at);
    sqlite3_bind_int64(stmt, 3, start);
    sqlite3_bind_int64(stmt, 4, end);
    store_priv_bind_text(stmt, 5, zone);
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_CONSTRAINT ||
        sqlite3_extended_errcode(self->db) == SQLITE_CONSTRAINT_UNIQUE) {
        errbuf_set(err, "its DAG already has a run with this logical date; see "
                        "'sluice runs'");
        ret = STORE_EEXISTS;
    } else if (rc != SQLITE_DONE) {
        ret = store_priv_fail(self, rc, "record a run's interval", err);
    }
    store_priv_reset(stmt);
    return ret;
}

int
store_run_by_logical(store_t *self,
                     const char *dag,
                     int64_t logical_at,
                     uint64_t *run_id,
                     run_state_t *state,
                     errbuf_t *err)
{
    assert(self && dag && run_id && state);
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT id, state FROM runs WHERE dag = ?1 AND logical_at = ?2",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dag);
    sqlite3_bind_int64(stmt, 2, logical_at);
    int rc = sqlite3_step(stmt);
    int ret = STORE_ENOTFOUND;
    if (rc == SQLITE_ROW) {
        *run_id = (uint64_t) sqlite3_column_int64(stmt, 0);
        *state = RUN_QUEUED;
        state_run_parse(store_priv_text(stmt, 1), state);
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = store_priv_fail(self, rc, "find a run by logical date", err);
    }
    store_priv_reset(stmt);
    return ret;
}

int
store_run_last_scheduled(
    store_t *self, const char *dag, int64_t *start, int64_t *end, errbuf_t *err)
{
    assert(self && dag && start && end);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT interval_start, interval_end FROM runs"
        " WHERE dag = ?1 AND trigger = 'scheduled' AND logical_at IS NOT NULL"
        " ORDER BY interval_end DESC LIMIT 1",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dag);
    int rc = sqlite3_step(stmt);
    int ret = STORE_ENOTFOUND;
    if (rc == SQLITE_ROW) {
        *start = sqlite3_column_int64(stmt, 0);
        *end = sqlite3_column_int64(stmt, 1);
        ret = 0;
    } else if (rc != SQLITE_DONE) {
        ret = store_priv_fail(self, rc, "read the last scheduled run", err);
    }
    store_priv_reset(stmt);
    return ret;
}

int
store_run_count_active(store_t *self,
                       const char *dag,
                       int64_t from,
                       int64_t to,
                       uint32_t *count,
                       errbuf_t *err)
{
    assert(self && dag && count);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT count(*) FROM runs WHERE dag = ?1 AND logical_at BETWEEN ?2"
        " AND ?3 AND state IN ('queued', 'running')",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dag);
    sqlite3_bind_int64(stmt, 2, from);
    sqlite3_bind_int64(stmt, 3, to);
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        *count = (uint32_t) sqlite3_column_int64(stmt, 0);
    } else {
        ret = store_priv_fail(self, rc, "count active runs", err);
    }
    store_priv_reset(stmt);
    return ret;
}

/* ------------------------------------------------------------ backfills */

int
store_backfill_add(store_t *self,
                   const store_backfill_t *b,
                   int64_t now,
                   uint64_t *id,
                   errbuf_t *err)
{
    assert(self && b && id);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO backfills (dag, from_at, next_at, to_at, max_active,"
        " rerun_failed, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, b->dag);
    sqlite3_bind_int64(stmt, 2, b->from_at);
    sqlite3_bind_int64(stmt, 3, b->next_at);
    sqlite3_bind_int64(stmt, 4, b->to_at);
    sqlite3_bind_int64(stmt, 5, b->max_active);
    sqlite3_bind_int(stmt, 6, b->rerun_failed);
    sqlite3_bind_int64(stmt, 7, now);
    int rc = store_priv_exec(self, stmt, "record a backfill", err);
    *id = rc == 0 ? (uint64_t) sqlite3_last_insert_rowid(self->db) : 0;
    return rc;
}

typedef struct {
    store_backfill_fn *fn;
    void *arg;
} backfill_ctx_t;

static int
s_backfill_row(sqlite3_stmt *stmt, void *arg)
{
    backfill_ctx_t *ctx = arg;
    store_backfill_t b = {
        .id = (uint64_t) sqlite3_column_int64(stmt, 0),
        .dag = store_priv_text(stmt, 1),
        .from_at = sqlite3_column_int64(stmt, 2),
        .next_at = sqlite3_column_int64(stmt, 3),
        .to_at = sqlite3_column_int64(stmt, 4),
        .max_active = (uint32_t) sqlite3_column_int64(stmt, 5),
        .rerun_failed = sqlite3_column_int(stmt, 6) != 0,
        .done_at = sqlite3_column_int64(stmt, 7),
    };
    return ctx->fn(ctx->arg, &b);
}

int
store_backfill_each(
    store_t *self, uint64_t id, store_backfill_fn *fn, void *arg, errbuf_t *err)
{
    assert(self && fn);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT id, dag, from_at, next_at, to_at, max_active, rerun_failed,"
        " done_at FROM backfills WHERE (?1 = 0 AND done_at = 0) OR id = ?1"
        " ORDER BY id",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) id);
    backfill_ctx_t ctx = {fn, arg};
    return store_priv_each(self, stmt, s_backfill_row, &ctx, "read backfills",
                           err);
}

int
store_backfill_advance(
    store_t *self, uint64_t id, int64_t next_at, int64_t done_at, errbuf_t *err)
{
    assert(self);
    sqlite3_stmt *stmt = store_priv_sql(
        self, "UPDATE backfills SET next_at = ?2, done_at = ?3 WHERE id = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) id);
    sqlite3_bind_int64(stmt, 2, next_at);
    sqlite3_bind_int64(stmt, 3, done_at);
    return store_priv_exec(self, stmt, "move a backfill on", err);
}

int
store_dag_paused(store_t *self, const char *name, bool *paused, errbuf_t *err)
{
    assert(self && name && paused);
    sqlite3_stmt *stmt =
        store_priv_sql(self, "SELECT 1 FROM dag_paused WHERE dag = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt);
    int ret = 0;
    *paused = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ret = store_priv_fail(self, rc, "read whether a DAG is paused", err);
    }
    store_priv_reset(stmt);
    return ret;
}

int
store_dag_set_paused(store_t *self,
                     const char *name,
                     bool paused,
                     const char *by,
                     int64_t now,
                     bool *changed,
                     errbuf_t *err)
{
    assert(self && name && changed);
    int rc = store_dag_get(self, name, NULL, NULL, err);
    if (rc < 0) {
        return rc;
    }
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        paused ? "INSERT OR IGNORE INTO dag_paused (dag, since, by)"
                 " VALUES (?1, ?2, ?3)"
               : "DELETE FROM dag_paused WHERE dag = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    sqlite3_bind_int64(stmt, 2, now);
    store_priv_bind_text(stmt, 3, by ? by : "");
    rc = store_priv_exec(self, stmt, "pause a DAG", err);
    *changed = rc == 0 && sqlite3_changes(self->db) > 0;
    return rc;
}
