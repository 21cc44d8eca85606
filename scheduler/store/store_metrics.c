/* store_metrics — per-attempt metrics, the run's cache switch and trigger
 * origin, the task cache, and the dataset triggers of each DAG
 * (migration 9). */
#include "scheduler/store/store_metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "scheduler/store/store_priv.h"

/* ---------------------------------------------------------------- metrics */

int
store_metrics_put(store_t *self,
                  uint64_t attempt_id,
                  const char *const *names,
                  const double *values,
                  size_t n,
                  errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT OR REPLACE INTO attempt_metrics (attempt_id, name, value)"
        " VALUES (?1, ?2, ?3)",
        err);
    if (!stmt) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64) attempt_id);
        store_priv_bind_text(stmt, 2, names[i]);
        sqlite3_bind_double(stmt, 3, values[i]);
        int rc = store_priv_exec(self, stmt, "store metrics", err);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* Fills row->metrics of row->attempt_id (owned arrays). */
static int
s_metrics_of(store_t *self, store_metrics_row_t *row, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT name, value FROM attempt_metrics WHERE attempt_id = ?1"
        " ORDER BY rowid",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) row->attempt_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (row->nmetrics == cap) {
            cap = cap ? cap * 2 : 8;
            row->names = xrealloc(row->names, cap * sizeof *row->names);
            row->values = xrealloc(row->values, cap * sizeof *row->values);
        }
        row->names[row->nmetrics] = xstrdup(store_priv_text(stmt, 0));
        row->values[row->nmetrics++] = sqlite3_column_double(stmt, 1);
    }
    store_priv_reset(stmt);
    return rc == SQLITE_DONE ? 0
                             : store_priv_fail(self, rc, "read metrics", err);
}

static int
s_params_of(store_t *self, store_metrics_row_t *row, errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "SELECT name, value FROM run_params WHERE run_id = ?1"
                       " ORDER BY position",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) row->run_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (row->nparams == cap) {
            cap = cap ? cap * 2 : 8;
            row->params = xrealloc(row->params, cap * sizeof *row->params);
        }
        row->params[row->nparams].name = xstrdup(store_priv_text(stmt, 0));
        row->params[row->nparams++].value = xstrdup(store_priv_text(stmt, 1));
    }
    store_priv_reset(stmt);
    return rc == SQLITE_DONE ? 0
                             : store_priv_fail(self, rc, "read params", err);
}

static void
s_row_clear(store_metrics_row_t *row)
{
    free((char *) row->task_id);
    free((char *) row->state);
    free((char *) row->logical_date);
    for (size_t i = 0; i < row->nmetrics; i++) {
        free((char *) row->names[i]);
    }
    free(row->names);
    free(row->values);
    for (size_t i = 0; i < row->nparams; i++) {
        free((char *) row->params[i].name);
        free((char *) row->params[i].value);
    }
    free(row->params);
    memset(row, 0, sizeof *row);
}

/* The task instances asked for, each with its latest attempt (for a task
 * skipped from the cache: the attempt whose outputs it reused). */
#define SQL_METRIC_TASKS                                                       \
    "SELECT r.id, t.task_id, t.state, r.created_at, r.logical_date,"           \
    " coalesce((SELECT max(a.id) FROM attempts a WHERE a.run_id = r.id"        \
    " AND a.task_id = t.task_id), (SELECT c.attempt_id FROM task_cache c"      \
    " WHERE c.cache_key = 'hit:' || r.id || ':' || t.task_id), 0)"             \
    " FROM runs r JOIN task_instances t ON t.run_id = r.id"

int
store_metrics_list(store_t *self,
                   const char *dag,
                   const char *task_id,
                   uint64_t run_id,
                   uint32_t limit,
                   store_metrics_fn *fn,
                   void *arg,
                   errbuf_t *err)
{
    sqlite3_stmt *stmt =
        run_id ? store_priv_sql(self,
                                SQL_METRIC_TASKS " WHERE r.id = ?1"
                                                 " ORDER BY t.task_id",
                                err)
               : store_priv_sql(self,
                                SQL_METRIC_TASKS
                                " WHERE r.dag = ?2 AND t.task_id = ?3"
                                " ORDER BY r.id DESC LIMIT ?4",
                                err);
    if (!stmt) {
        return -1;
    }
    if (run_id) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64) run_id);
    } else {
        store_priv_bind_text(stmt, 2, dag);
        store_priv_bind_text(stmt, 3, task_id);
        sqlite3_bind_int64(stmt, 4, limit ? limit : 20);
    }
    /* Copy the rows first: the callback and the sub-queries use the store. */
    size_t n = 0, cap = 0;
    store_metrics_row_t *rows = NULL;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        store_metrics_row_t *row = &rows[n++];
        memset(row, 0, sizeof *row);
        row->run_id = (uint64_t) sqlite3_column_int64(stmt, 0);
        row->task_id = xstrdup(store_priv_text(stmt, 1));
        row->state = xstrdup(store_priv_text(stmt, 2));
        row->created_at = sqlite3_column_int64(stmt, 3);
        row->logical_date = xstrdup(store_priv_text(stmt, 4));
        row->attempt_id = (uint64_t) sqlite3_column_int64(stmt, 5);
    }
    store_priv_reset(stmt);
    int out =
        rc == SQLITE_DONE ? 0 : store_priv_fail(self, rc, "list metrics", err);
    for (size_t i = 0; i < n; i++) {
        if (out == 0 && (s_metrics_of(self, &rows[i], err) < 0 ||
                         s_params_of(self, &rows[i], err) < 0)) {
            out = -1;
        }
        if (out == 0 && fn(arg, &rows[i]) != 0) {
            out = -1;
        }
        s_row_clear(&rows[i]);
    }
    free(rows);
    return out;
}

/* ------------------------------------------------------------ run extras */

int
store_run_extras_put(store_t *self,
                     uint64_t run_id,
                     bool no_cache,
                     const char *triggered_by,
                     errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT OR REPLACE INTO run_extras (run_id, no_cache, triggered_by)"
        " VALUES (?1, ?2, ?3)",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) run_id);
    sqlite3_bind_int(stmt, 2, no_cache);
    store_priv_bind_text(stmt, 3, triggered_by);
    return store_priv_exec(self, stmt, "record how a run was triggered", err);
}

int
store_run_extras_get(store_t *self,
                     uint64_t run_id,
                     bool *no_cache,
                     char *triggered_by,
                     size_t size,
                     errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT no_cache, triggered_by FROM run_extras WHERE run_id = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) run_id);
    int rc = sqlite3_step(stmt);
    if (no_cache) {
        *no_cache = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0);
    }
    if (triggered_by && size) {
        snprintf(triggered_by, size, "%s",
                 rc == SQLITE_ROW ? store_priv_text(stmt, 1) : "");
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read a run", err);
    }
    return 0;
}

/* ------------------------------------------------------------------ cache */

int
store_cache_put(store_t *self,
                const char *key,
                uint64_t attempt_id,
                uint64_t run_id,
                const char *task_id,
                const char *outputs,
                int64_t now,
                errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT OR REPLACE INTO task_cache (cache_key, attempt_id, run_id,"
        " task_id, outputs, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64) attempt_id);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64) run_id);
    store_priv_bind_text(stmt, 4, task_id);
    store_priv_bind_text(stmt, 5, outputs);
    sqlite3_bind_int64(stmt, 6, now);
    return store_priv_exec(self, stmt, "record a cache entry", err);
}

int
store_cache_find(store_t *self,
                 const char *key,
                 store_cache_fn *fn,
                 void *arg,
                 errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT attempt_id, run_id, outputs FROM task_cache"
        " WHERE cache_key = ?1 ORDER BY attempt_id DESC LIMIT 16",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, key);
    int rc, found = 0;
    while (!found && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        found = fn(arg, (uint64_t) sqlite3_column_int64(stmt, 0),
                   (uint64_t) sqlite3_column_int64(stmt, 1),
                   store_priv_text(stmt, 2));
    }
    store_priv_reset(stmt);
    if (!found && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read the task cache", err);
    }
    return found ? 1 : 0;
}

/* ----------------------------------------------------------- dag triggers */

int
store_dag_triggers_set(store_t *self,
                       const char *dag,
                       const char *const *uris,
                       size_t n,
                       errbuf_t *err)
{
    sqlite3_stmt *del =
        store_priv_sql(self, "DELETE FROM dag_triggers WHERE dag = ?1", err);
    if (!del) {
        return -1;
    }
    store_priv_bind_text(del, 1, dag);
    int rc = store_priv_exec(self, del, "forget a DAG's triggers", err);
    sqlite3_stmt *add = rc < 0 ? NULL
                               : store_priv_sql(self,
                                                "INSERT OR IGNORE INTO"
                                                " dag_triggers (uri, dag)"
                                                " VALUES (?1, ?2)",
                                                err);
    for (size_t i = 0; add && i < n && rc == 0; i++) {
        store_priv_bind_text(add, 1, uris[i]);
        store_priv_bind_text(add, 2, dag);
        rc = store_priv_exec(self, add, "record a DAG's triggers", err);
    }
    return add ? rc : -1;
}

int
store_dag_triggers_for(store_t *self,
                       const char *uri,
                       zlistx_t *dags,
                       errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT dag FROM dag_triggers WHERE uri = ?1 ORDER BY dag", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, uri);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        zlistx_add_end(dags, xstrdup(store_priv_text(stmt, 0)));
    }
    store_priv_reset(stmt);
    return rc == SQLITE_DONE ? 0
                             : store_priv_fail(self, rc, "read triggers", err);
}
