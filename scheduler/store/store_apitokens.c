/* store_apitokens — the api_tokens table (migration 14): hashes only. */
#include "scheduler/store/store_apitokens.h"

#include <string.h>

#include "scheduler/store/store_priv.h"

#define S_COLUMNS                                                              \
    "id, name, role, created_at, expires_at, revoked_at, last_used_at"

static void
s_row(sqlite3_stmt *stmt, store_apitoken_t *out)
{
    memset(out, 0, sizeof *out);
    out->id = (uint64_t) sqlite3_column_int64(stmt, 0);
    snprintf(out->name, sizeof out->name, "%s", store_priv_text(stmt, 1));
    snprintf(out->role, sizeof out->role, "%s", store_priv_text(stmt, 2));
    out->created_at = sqlite3_column_int64(stmt, 3);
    out->expires_at = sqlite3_column_int64(stmt, 4);
    out->revoked_at = sqlite3_column_int64(stmt, 5);
    out->last_used_at = sqlite3_column_int64(stmt, 6);
}

/* Steps a bound SELECT of S_COLUMNS that finds at most one row. */
static int
s_one(store_t *self, sqlite3_stmt *stmt, store_apitoken_t *out, errbuf_t *err)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        s_row(stmt, out);
    }
    store_priv_reset(stmt);
    if (rc == SQLITE_ROW) {
        return 1;
    }
    return rc == SQLITE_DONE
               ? 0
               : store_priv_fail(self, rc, "read an API token", err);
}

int
store_apitoken_add(store_t *self,
                   const char *name,
                   const char *role,
                   const char *hash_hex,
                   int64_t now,
                   int64_t expires_at,
                   store_apitoken_t *out,
                   errbuf_t *err)
{
    /* The scheduler is the only writer, so max(id) + 1 is the id the row
     * gets; a default name takes it. */
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO api_tokens (id, name, hash, role, created_at,"
        " expires_at) SELECT next, CASE WHEN ?1 = '' THEN 'token-' || next"
        " ELSE ?1 END, ?2, ?3, ?4, ?5 FROM (SELECT coalesce(max(id), 0) + 1"
        " AS next FROM api_tokens)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    store_priv_bind_text(stmt, 2, hash_hex);
    store_priv_bind_text(stmt, 3, role);
    sqlite3_bind_int64(stmt, 4, now);
    sqlite3_bind_int64(stmt, 5, expires_at);
    int rc = sqlite3_step(stmt);
    store_priv_reset(stmt);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        errbuf_set(err,
                   "an API token named '%s' exists already; choose another "
                   "--name, or revoke it with 'sluice token revoke %s'",
                   name, name);
        return STORE_EEXISTS;
    }
    if (rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "store an API token", err);
    }
    uint64_t id = (uint64_t) sqlite3_last_insert_rowid(self->db);
    return store_apitoken_find(self, id, NULL, out, err) == 1 ? 0 : -1;
}

typedef struct {
    store_apitoken_fn *fn;
    void *arg;
} s_list_t;

static int
s_list_row(sqlite3_stmt *stmt, void *arg)
{
    s_list_t *list = arg;
    store_apitoken_t token;
    s_row(stmt, &token);
    return list->fn(list->arg, &token) == 0 ? 0 : -1;
}

int
store_apitoken_list(store_t *self,
                    store_apitoken_fn *fn,
                    void *arg,
                    errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT " S_COLUMNS " FROM api_tokens ORDER BY id", err);
    if (!stmt) {
        return -1;
    }
    s_list_t list = {fn, arg};
    return store_priv_each(self, stmt, s_list_row, &list, "list API tokens",
                           err);
}

int
store_apitoken_find(store_t *self,
                    uint64_t id,
                    const char *name,
                    store_apitoken_t *out,
                    errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT " S_COLUMNS " FROM api_tokens"
        " WHERE CASE WHEN ?1 != 0 THEN id = ?1 ELSE name = ?2 END",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) id);
    store_priv_bind_text(stmt, 2, name);
    return s_one(self, stmt, out, err);
}

int
store_apitoken_by_hash(store_t *self,
                       const char *hash_hex,
                       store_apitoken_t *out,
                       errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT " S_COLUMNS " FROM api_tokens WHERE hash = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, hash_hex);
    return s_one(self, stmt, out, err);
}

int
store_apitoken_revoke(store_t *self, uint64_t id, int64_t now, errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "UPDATE api_tokens SET revoked_at = CASE WHEN"
                       " revoked_at = 0 THEN ?2 ELSE revoked_at END"
                       " WHERE id = ?1",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) id);
    /* 0 means live: a revocation is never at 0. */
    sqlite3_bind_int64(stmt, 2, now > 0 ? now : 1);
    if (store_priv_exec(self, stmt, "revoke an API token", err) < 0) {
        return -1;
    }
    if (sqlite3_changes(self->db) == 0) {
        errbuf_set(err,
                   "there is no API token %llu; 'sluice token list --api' "
                   "lists them",
                   (unsigned long long) id);
        return STORE_ENOTFOUND;
    }
    return 0;
}

int
store_apitoken_touch(store_t *self, uint64_t id, int64_t now, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) id);
    sqlite3_bind_int64(stmt, 2, now);
    return store_priv_exec(self, stmt, "record an API token's use", err);
}
