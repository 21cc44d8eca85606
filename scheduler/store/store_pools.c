/* store_pools — the pools table (migration 11). */
#include "scheduler/store/store_pools.h"

#include <sqlite3.h>

#include "scheduler/store/store_priv.h"

int
store_pool_set(store_t *self,
               const char *name,
               uint32_t slots,
               const char *description,
               int64_t now,
               errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO pools (name, slots, description, created_at,"
        " updated_at) VALUES (?1, ?2, coalesce(?3, ''), ?4, ?4)"
        " ON CONFLICT (name) DO UPDATE SET slots = excluded.slots,"
        " description = coalesce(?3, description), updated_at = ?4",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    sqlite3_bind_int64(stmt, 2, slots);
    if (description) {
        store_priv_bind_text(stmt, 3, description);
    } else {
        sqlite3_bind_null(stmt, 3);
    }
    sqlite3_bind_int64(stmt, 4, now);
    return store_priv_exec(self, stmt, "record a pool", err);
}

int
store_pool_rm(store_t *self, const char *name, errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self, "DELETE FROM pools WHERE name = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    if (store_priv_exec(self, stmt, "remove a pool", err) < 0) {
        return -1;
    }
    return sqlite3_changes(sqlite3_db_handle(stmt)) > 0;
}

typedef struct {
    store_pool_fn *fn;
    void *arg;
} s_list_t;

static int
s_pool_row(sqlite3_stmt *stmt, void *arg)
{
    s_list_t *list = arg;
    store_pool_row_t row = {
        .name = store_priv_text(stmt, 0),
        .slots = (uint32_t) sqlite3_column_int64(stmt, 1),
        .description = store_priv_text(stmt, 2),
        .created_at = sqlite3_column_int64(stmt, 3),
        .updated_at = sqlite3_column_int64(stmt, 4),
    };
    return list->fn(list->arg, &row) == 0 ? 0 : -1;
}

int
store_pool_list(store_t *self, store_pool_fn *fn, void *arg, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT name, slots, description, created_at, updated_at FROM pools"
        " ORDER BY name",
        err);
    if (!stmt) {
        return -1;
    }
    s_list_t list = {fn, arg};
    return store_priv_each(self, stmt, s_pool_row, &list, "list pools", err);
}
