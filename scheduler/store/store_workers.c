/* store_workers — the workers table: what each worker said about itself
 * at its last Register, its connection state, and what an operator
 * decided about it (migration 13), which a Register never changes. */
#include "scheduler/store/store_workers.h"

#include <assert.h>

#include "scheduler/store/store_priv.h"

int
store_worker_upsert(store_t *self, const store_worker_t *worker, errbuf_t *err)
{
    assert(self && worker && worker->name);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO workers (name, hostname, public_hex, state, slots, cpus,"
        " memory_mb, gpus, labels, first_seen, last_seen, state_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?10)"
        " ON CONFLICT (name) DO UPDATE SET hostname = excluded.hostname,"
        " public_hex = excluded.public_hex,"
        " state_at = CASE WHEN state = excluded.state THEN state_at"
        " ELSE excluded.state_at END, state = excluded.state,"
        " slots = excluded.slots, cpus = excluded.cpus,"
        " memory_mb = excluded.memory_mb, gpus = excluded.gpus,"
        " labels = excluded.labels, last_seen = excluded.last_seen",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, worker->name);
    store_priv_bind_text(stmt, 2, worker->hostname);
    store_priv_bind_text(stmt, 3, worker->public_hex);
    store_priv_bind_text(stmt, 4, worker->state ? worker->state : "connected");
    sqlite3_bind_int64(stmt, 5, worker->slots);
    sqlite3_bind_int64(stmt, 6, worker->cpus);
    sqlite3_bind_int64(stmt, 7, (int64_t) worker->memory_mb);
    sqlite3_bind_int64(stmt, 8, worker->gpus);
    store_priv_bind_text(stmt, 9, worker->labels);
    sqlite3_bind_int64(stmt, 10, worker->now);
    return store_priv_exec(self, stmt, "record a worker", err);
}

int
store_worker_set_state(store_t *self,
                       const char *name,
                       const char *state,
                       int64_t now,
                       errbuf_t *err)
{
    assert(self && name && state);
    sqlite3_stmt *stmt = store_priv_sql(
        self, "UPDATE workers SET state = ?2, state_at = ?3 WHERE name = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    store_priv_bind_text(stmt, 2, state);
    sqlite3_bind_int64(stmt, 3, now);
    int rc = store_priv_exec(self, stmt, "set a worker's state", err);
    if (rc == 0 && sqlite3_changes(self->db) == 0) {
        errbuf_set(err,
                   "cannot set a worker's state: worker '%s' does not "
                   "exist in the store",
                   name);
        rc = -1;
    }
    return rc;
}

int
store_workers_reset(store_t *self, int64_t now, errbuf_t *err)
{
    assert(self);
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "UPDATE workers SET state = 'lost', state_at = ?1"
                       " WHERE state NOT IN ('gone', 'lost')",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, now);
    return store_priv_exec(self, stmt, "mark workers lost", err);
}

int
store_worker_set_admin(store_t *self,
                       const char *name,
                       const char *admin,
                       errbuf_t *err)
{
    assert(self && name && admin);
    sqlite3_stmt *stmt = store_priv_sql(
        self, "UPDATE workers SET admin = ?2 WHERE name = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    store_priv_bind_text(stmt, 2, admin);
    return store_priv_exec(self, stmt,
                           "record an operator's decision about "
                           "a worker",
                           err);
}

typedef struct {
    store_admin_fn *fn;
    void *arg;
} s_admin_ctx_t;

static int
s_admin_row(sqlite3_stmt *stmt, void *arg)
{
    s_admin_ctx_t *ctx = arg;
    store_worker_admin_t row = {.name = store_priv_text(stmt, 0),
                                .admin = store_priv_text(stmt, 1),
                                .hostname = store_priv_text(stmt, 2),
                                .public_hex = store_priv_text(stmt, 3),
                                .last_seen = sqlite3_column_int64(stmt, 4)};
    return ctx->fn(ctx->arg, &row) < 0 ? -1 : 0;
}

int
store_workers_admin(store_t *self, store_admin_fn *fn, void *arg, errbuf_t *err)
{
    assert(self && fn);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT name, admin, hostname, public_hex, last_seen FROM workers"
        " WHERE admin != '' ORDER BY name",
        err);
    if (!stmt) {
        return -1;
    }
    s_admin_ctx_t ctx = {.fn = fn, .arg = arg};
    return store_priv_each(self, stmt, s_admin_row, &ctx,
                           "read what operators decided about workers", err);
}
