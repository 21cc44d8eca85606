/* store_priv — the helpers every file of the store shares: statements
 * cached by their SQL text, stepping and resetting, binding and reading
 * text, and turning a failed SQLite call into a message (a full disk gets
 * its own code and advice). Below store.c and the topic files, so that
 * they call it and never each other in a loop. */
#include "scheduler/store/store_priv.h"

#include <assert.h>
#include <errno.h>
#include <sqlite3.h>

void
store_priv_full(store_t *self, const char *what, errbuf_t *err)
{
    errbuf_set(err,
               "cannot %s: the disk holding the store '%s' is full; free "
               "space on that disk (or move the state directory to a larger "
               "one) and try again",
               what, self->path);
}

/* Fills err for a failed SQLite call; returns STORE_EFULL for a full disk
 * (SQLITE_FULL, or an I/O error with ENOSPC), else -1. */
int
store_priv_fail(store_t *self, int rc, const char *what, errbuf_t *err)
{
    bool nospace =
        (rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(self->db) == ENOSPC;
    if ((rc & 0xff) == SQLITE_FULL || nospace) {
        self->full = self->in_txn;
        store_priv_full(self, what, err);
        return STORE_EFULL;
    }
    errbuf_set(err, "cannot %s in the store '%s': %s", what, self->path,
               sqlite3_errmsg(self->db));
    return -1;
}

static void
s_stmt_free(void **item)
{
    sqlite3_finalize(*item);
    *item = NULL;
}

sqlite3_stmt *
store_priv_sql(store_t *self, const char *sql, errbuf_t *err)
{
    assert(self && sql);
    if (!self->extra) {
        self->extra = zhashx_new();
        zhashx_set_destructor(self->extra, s_stmt_free);
    }
    sqlite3_stmt *stmt = zhashx_lookup(self->extra, sql);
    if (!stmt) {
        int rc = sqlite3_prepare_v3(self->db, sql, -1,
                                    SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
        if (rc != SQLITE_OK) {
            store_priv_fail(self, rc, "prepare a query", err);
            return NULL;
        }
        zhashx_insert(self->extra, sql, stmt);
    }
    return stmt;
}

/* Resets a statement and drops its bindings (which may point at the
 * caller's memory). */
void
store_priv_reset(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

int
store_priv_exec(store_t *self,
                sqlite3_stmt *stmt,
                const char *what,
                errbuf_t *err)
{
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ret = store_priv_fail(self, rc, what, err);
    }
    store_priv_reset(stmt);
    return ret;
}

int
store_priv_each(store_t *self,
                sqlite3_stmt *stmt,
                store_priv_row_fn *fn,
                void *arg,
                const char *what,
                errbuf_t *err)
{
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (fn(stmt, arg) < 0) {
            store_priv_reset(stmt);
            return -1;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : store_priv_fail(self, rc, what, err);
    store_priv_reset(stmt);
    return ret;
}

void
store_priv_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    sqlite3_bind_text(stmt, index, text ? text : "", -1, SQLITE_STATIC);
}

const char *
store_priv_text(sqlite3_stmt *stmt, int index)
{
    const char *text = (const char *) sqlite3_column_text(stmt, index);
    return text ? text : "";
}
