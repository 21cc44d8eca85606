/* store_results — task results, one row per attempt that left one
 * (migration 15). */
#include "scheduler/store/store_results.h"

#include <sqlite3.h>

#include "common/xalloc.h"
#include "scheduler/store/store_priv.h"

int
store_results_put(store_t *self,
                  uint64_t attempt_id,
                  const char *json,
                  errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "INSERT OR REPLACE INTO attempt_results (attempt_id,"
                       " result) VALUES (?1, ?2)",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) attempt_id);
    store_priv_bind_text(stmt, 2, json);
    return store_priv_exec(self, stmt, "store a task result", err);
}

/* The first column of the one row stmt (bound) may return. */
static int
s_one_text(store_t *self, sqlite3_stmt *stmt, char **out, errbuf_t *err)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *out = xstrdup(store_priv_text(stmt, 0));
        rc = SQLITE_DONE;
    }
    store_priv_reset(stmt);
    return rc == SQLITE_DONE
               ? 0
               : store_priv_fail(self, rc, "read a task result", err);
}

int
store_results_get(store_t *self, uint64_t attempt_id, char **out, errbuf_t *err)
{
    *out = NULL;
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT result FROM attempt_results WHERE attempt_id = ?1", err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) attempt_id);
    return s_one_text(self, stmt, out, err);
}

int
store_results_latest(store_t *self,
                     uint64_t run_id,
                     const char *task_id,
                     char **out,
                     errbuf_t *err)
{
    *out = NULL;
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT r.result FROM attempts a JOIN attempt_results r"
        " ON r.attempt_id = a.id WHERE a.run_id = ?1 AND a.task_id = ?2"
        " AND a.state = 'success' ORDER BY a.number DESC LIMIT 1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) run_id);
    store_priv_bind_text(stmt, 2, task_id);
    return s_one_text(self, stmt, out, err);
}
