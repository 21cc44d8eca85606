/* store_keys — admission (migration 4): the CURVE transport keys of
 * workers and clients with their decisions, and hashed join tokens. */
#include "scheduler/store/store_keys.h"

#include <string.h>

#include "common/keys.h"
#include "common/xalloc.h"
#include "scheduler/store/store_priv.h"

int
store_key_put(store_t *self, const store_key_row_t *row, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO transport_keys (curve_hex, kind, state, role, name,"
        " host, address, sign_hex, first_seen, last_seen, decided_at,"
        " decided_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
        " ?12) ON CONFLICT (curve_hex) DO UPDATE SET kind = excluded.kind,"
        " state = excluded.state, role = excluded.role,"
        " name = excluded.name, host = excluded.host,"
        " address = excluded.address, sign_hex = excluded.sign_hex,"
        " last_seen = excluded.last_seen, decided_at = excluded.decided_at,"
        " decided_by = excluded.decided_by",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, row->curve_hex);
    store_priv_bind_text(stmt, 2, row->kind);
    store_priv_bind_text(stmt, 3, row->state);
    store_priv_bind_text(stmt, 4, row->role);
    store_priv_bind_text(stmt, 5, row->name);
    store_priv_bind_text(stmt, 6, row->host);
    store_priv_bind_text(stmt, 7, row->address);
    store_priv_bind_text(stmt, 8, row->sign_hex);
    sqlite3_bind_int64(stmt, 9, row->first_seen);
    sqlite3_bind_int64(stmt, 10, row->last_seen);
    sqlite3_bind_int64(stmt, 11, row->decided_at);
    store_priv_bind_text(stmt, 12, row->decided_by);
    return store_priv_exec(self, stmt, "record a transport key", err);
}

int
store_key_list(store_t *self, store_key_fn *fn, void *arg, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT curve_hex, kind, state, role, name, host, address, sign_hex,"
        " first_seen, last_seen, decided_at, decided_by FROM transport_keys"
        " ORDER BY first_seen, curve_hex",
        err);
    if (!stmt) {
        return -1;
    }
    int rc;
    int stop = 0;
    while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        store_key_row_t row = {
            .curve_hex = store_priv_text(stmt, 0),
            .kind = store_priv_text(stmt, 1),
            .state = store_priv_text(stmt, 2),
            .role = store_priv_text(stmt, 3),
            .name = store_priv_text(stmt, 4),
            .host = store_priv_text(stmt, 5),
            .address = store_priv_text(stmt, 6),
            .sign_hex = store_priv_text(stmt, 7),
            .first_seen = sqlite3_column_int64(stmt, 8),
            .last_seen = sqlite3_column_int64(stmt, 9),
            .decided_at = sqlite3_column_int64(stmt, 10),
            .decided_by = store_priv_text(stmt, 11),
        };
        stop = fn(arg, &row);
    }
    store_priv_reset(stmt);
    if (stop) {
        return -1;
    }
    return rc == SQLITE_DONE ? 0 : store_priv_fail(self, rc, "list keys", err);
}

int
store_token_add(store_t *self,
                const char *hash_hex,
                int64_t now,
                int64_t expires_at,
                uint32_t uses,
                errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO join_tokens (hash, created_at, expires_at, uses_left)"
        " VALUES (?1, ?2, ?3, ?4)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, hash_hex);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, expires_at);
    sqlite3_bind_int64(stmt, 4, uses);
    return store_priv_exec(self, stmt, "store a join token", err);
}

int
store_token_get(store_t *self,
                const char *hash_hex,
                int64_t *expires_at,
                uint32_t *uses_left,
                errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT expires_at, uses_left FROM join_tokens WHERE hash = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, hash_hex);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *expires_at = sqlite3_column_int64(stmt, 0);
        *uses_left = (uint32_t) sqlite3_column_int64(stmt, 1);
    }
    store_priv_reset(stmt);
    if (rc == SQLITE_ROW) {
        return 1;
    }
    return rc == SQLITE_DONE
               ? 0
               : store_priv_fail(self, rc, "read a join token", err);
}

int
store_token_use(store_t *self, const char *hash_hex, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "UPDATE join_tokens SET uses_left = uses_left - 1, used = used + 1"
        " WHERE hash = ?1 AND uses_left > 0",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, hash_hex);
    return store_priv_exec(self, stmt, "use a join token", err);
}

int
store_key_client_role(
    store_t *self, const uint8_t *curve, char *role, size_t size, errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self, "SELECT public_hex, role FROM client_keys", err);
    if (!stmt) {
        return -1;
    }
    int rc;
    int found = 0;
    while (!found && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        uint8_t pub[KEYS_PUBLIC_SIZE], converted[KEYS_PUBLIC_SIZE];
        if (keys_public_from_hex(store_priv_text(stmt, 0), pub) == 0 &&
            keys_curve_public(pub, converted) == 0 &&
            memcmp(converted, curve, sizeof converted) == 0) {
            snprintf(role, size, "%s", store_priv_text(stmt, 1));
            found = 1;
        }
    }
    store_priv_reset(stmt);
    if (found) {
        return 1;
    }
    return rc == SQLITE_DONE
               ? 0
               : store_priv_fail(self, rc, "read client keys", err);
}

/* ------------------------------------------------------------ names */

int
store_name_bind(store_t *self,
                const char *name,
                const char *sign_hex,
                const char *by,
                int64_t now,
                errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO worker_names (name, sign_hex, bound_at, bound_by)"
        " VALUES (?1, ?2, ?3, ?4)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    store_priv_bind_text(stmt, 2, sign_hex);
    sqlite3_bind_int64(stmt, 3, now);
    store_priv_bind_text(stmt, 4, by);
    return store_priv_exec(self, stmt, "bind a worker name to its key", err);
}

int
store_name_release(store_t *self,
                   const char *sign_hex,
                   int64_t now,
                   errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "UPDATE worker_names SET released_at = ?2"
                       " WHERE sign_hex = ?1 AND released_at = 0",
                       err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, sign_hex);
    /* 0 means bound now: a release is never at 0. */
    sqlite3_bind_int64(stmt, 2, now > 0 ? now : 1);
    return store_priv_exec(self, stmt, "release a worker name", err);
}

typedef struct {
    store_name_fn *fn;
    void *arg;
} s_name_ctx_t;

static int
s_name_row(sqlite3_stmt *stmt, void *arg)
{
    s_name_ctx_t *ctx = arg;
    return ctx->fn(ctx->arg, store_priv_text(stmt, 0),
                   store_priv_text(stmt, 1)) < 0
               ? -1
               : 0;
}

int
store_name_list(store_t *self, store_name_fn *fn, void *arg, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT name, sign_hex FROM worker_names WHERE released_at = 0"
        " ORDER BY name",
        err);
    if (!stmt) {
        return -1;
    }
    s_name_ctx_t ctx = {.fn = fn, .arg = arg};
    return store_priv_each(self, stmt, s_name_row, &ctx,
                           "read worker name bindings", err);
}
