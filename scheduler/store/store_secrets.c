/* store_secrets — the secrets table (migration 6): sealed boxes only. */
#include "scheduler/store/store_secrets.h"

#include <string.h>

#include "common/xalloc.h"
#include "scheduler/store/store_priv.h"

static uint8_t *
s_blob(sqlite3_stmt *stmt, int col, size_t *len)
{
    *len = (size_t) sqlite3_column_bytes(stmt, col);
    uint8_t *copy = xmalloc(*len + 1);
    if (*len) {
        memcpy(copy, sqlite3_column_blob(stmt, col), *len);
    }
    return copy;
}

static int
s_exists(store_t *self, const char *name, bool *found, errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self, "SELECT 1 FROM secrets WHERE name = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt);
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read a secret", err);
    }
    *found = rc == SQLITE_ROW;
    return 0;
}

int
store_secret_put(store_t *self,
                 const char *name,
                 const uint8_t *nonce,
                 size_t nonce_len,
                 const uint8_t *box,
                 size_t box_len,
                 int64_t now,
                 bool *replaced,
                 errbuf_t *err)
{
    bool found = false;
    if (s_exists(self, name, &found, err) < 0) {
        return -1;
    }
    if (replaced) {
        *replaced = found;
    }
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO secrets (name, nonce, box, updated_at)"
        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET"
        " nonce = excluded.nonce, box = excluded.box,"
        " updated_at = excluded.updated_at",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    sqlite3_bind_blob(stmt, 2, nonce, (int) nonce_len, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 3, box, (int) box_len, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, now);
    return store_priv_exec(self, stmt, "store a secret", err);
}

int
store_secret_get(store_t *self,
                 const char *name,
                 uint8_t **nonce_p,
                 size_t *nonce_len,
                 uint8_t **box_p,
                 size_t *box_len,
                 errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT nonce, box FROM secrets WHERE name = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *nonce_p = s_blob(stmt, 0, nonce_len);
        *box_p = s_blob(stmt, 1, box_len);
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read a secret", err);
    }
    return rc == SQLITE_ROW;
}

int
store_secret_rm(store_t *self, const char *name, bool *removed, errbuf_t *err)
{
    if (s_exists(self, name, removed, err) < 0) {
        return -1;
    }
    sqlite3_stmt *stmt =
        store_priv_sql(self, "DELETE FROM secrets WHERE name = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    return store_priv_exec(self, stmt, "remove a secret", err);
}

int
store_secret_list(store_t *self, store_secret_fn *fn, void *arg, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT name, updated_at FROM secrets ORDER BY name", err);
    if (!stmt) {
        return -1;
    }
    int rc, ret = 0;
    while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        ret = fn(arg, store_priv_text(stmt, 0), sqlite3_column_int64(stmt, 1));
    }
    store_priv_reset(stmt);
    if (ret == 0 && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "list secrets", err);
    }
    return ret;
}
