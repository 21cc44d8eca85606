/* store_alerts — alert routes and the delivery queue (migration 12). */
#include "scheduler/store/store_alerts.h"

#include <stdlib.h>
#include <string.h>

#include "common/alert.h"
#include "common/xalloc.h"
#include "scheduler/store/store_priv.h"

/* Log bytes read back for an event's last lines. */
#define ALERT_LOG_TAIL_BYTES 16384

static int
s_rules_put(store_t *self, const char *dag, const dag_t *file, errbuf_t *err)
{
    sqlite3_stmt *add = store_priv_sql(
        self,
        "INSERT OR REPLACE INTO alert_rules (dag, version, task_id, limit_ms)"
        " VALUES (?1, ?2, ?3, ?4)",
        err);
    if (!add) {
        return -1;
    }
    for (size_t i = 0; i <= dag_task_count(file); i++) {
        const dag_task_t *t =
            i < dag_task_count(file) ? dag_task(file, i) : NULL;
        uint64_t ms = t ? t->sla_ms : dag_deadline_ms(file);
        if (ms == 0) {
            continue;
        }
        store_priv_bind_text(add, 1, dag);
        store_priv_bind_text(add, 2, dag_version(file));
        store_priv_bind_text(add, 3, t ? t->id : "");
        sqlite3_bind_int64(add, 4, (sqlite3_int64) ms);
        if (store_priv_exec(self, add, "store an sla", err) < 0) {
            return -1;
        }
    }
    sqlite3_stmt *del =
        store_priv_sql(self, "DELETE FROM alert_expects WHERE dag = ?1", err);
    if (!del) {
        return -1;
    }
    store_priv_bind_text(del, 1, dag);
    if (store_priv_exec(self, del, "forget a DAG's expect", err) < 0) {
        return -1;
    }
    if (!*dag_expect_success_by(file)) {
        return 0;
    }
    sqlite3_stmt *exp = store_priv_sql(
        self, "INSERT INTO alert_expects (dag, success_by) VALUES (?1, ?2)",
        err);
    if (!exp) {
        return -1;
    }
    store_priv_bind_text(exp, 1, dag);
    store_priv_bind_text(exp, 2, dag_expect_success_by(file));
    return store_priv_exec(self, exp, "store a DAG's expect", err);
}

int
store_alert_dag_put(store_t *self,
                    const char *dag,
                    const dag_t *file,
                    errbuf_t *err)
{
    if (s_rules_put(self, dag, file, err) < 0) {
        return -1;
    }
    sqlite3_stmt *del =
        store_priv_sql(self, "DELETE FROM alert_routes WHERE dag = ?1", err);
    if (!del) {
        return -1;
    }
    store_priv_bind_text(del, 1, dag);
    if (store_priv_exec(self, del, "forget a DAG's alert routes", err) < 0) {
        return -1;
    }
    sqlite3_stmt *add = store_priv_sql(
        self,
        "INSERT OR IGNORE INTO alert_routes (dag, position, kinds, target)"
        " VALUES (?1, ?2, ?3, ?4)",
        err);
    if (!add) {
        return -1;
    }
    for (size_t i = 0; i < dag_alert_route_count(file); i++) {
        const dag_alert_route_t *r = dag_alert_route(file, i);
        for (size_t t = 0; t < r->nto; t++) {
            store_priv_bind_text(add, 1, dag);
            sqlite3_bind_int64(add, 2, (sqlite3_int64) i);
            sqlite3_bind_int64(add, 3, (sqlite3_int64) r->on);
            store_priv_bind_text(add, 4, r->to[t]);
            if (store_priv_exec(self, add, "store an alert route", err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

typedef struct {
    unsigned bit;
    zlistx_t *targets;
    bool *has;
} routes_arg_t;

static int
s_route_row(sqlite3_stmt *stmt, void *arg)
{
    routes_arg_t *a = arg;
    *a->has = true;
    const char *target = store_priv_text(stmt, 1);
    if (((unsigned) sqlite3_column_int64(stmt, 0) & a->bit) &&
        !zlistx_find(a->targets, (void *) target)) {
        zlistx_add_end(a->targets, xstrdup(target));
    }
    return 0;
}

int
store_alert_routes_get(store_t *self,
                       const char *dag,
                       unsigned kind_bit,
                       zlistx_t *targets,
                       bool *has_routes,
                       errbuf_t *err)
{
    *has_routes = false;
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "SELECT kinds, target FROM alert_routes WHERE dag = ?1"
                       " ORDER BY position, target",
                       err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dag);
    routes_arg_t a = {kind_bit, targets, has_routes};
    return store_priv_each(self, stmt, s_route_row, &a, "read alert routes",
                           err);
}

int
store_alert_add(store_t *self,
                const store_alert_t *alert,
                int64_t now,
                bool *added,
                errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT OR IGNORE INTO alerts (uid, dag, run_id, task_id, kind,"
        " target, body, state, created_at, next_at, dedupe)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8, ?9)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, alert->uid);
    store_priv_bind_text(stmt, 2, alert->dag);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64) alert->run_id);
    store_priv_bind_text(stmt, 4, alert->task_id);
    store_priv_bind_text(stmt, 5, alert->kind);
    store_priv_bind_text(stmt, 6, alert->target);
    store_priv_bind_text(stmt, 7, alert->body);
    sqlite3_bind_int64(stmt, 8, now);
    char *dedupe = alert->dedupe ? NULL
                                 : xasprintf("%llu/%s/%s",
                                             (unsigned long long) alert->run_id,
                                             alert->task_id, alert->kind);
    store_priv_bind_text(stmt, 9, alert->dedupe ? alert->dedupe : dedupe);
    int rc = store_priv_exec(self, stmt, "queue an alert", err);
    free(dedupe);
    if (added) {
        *added = rc == 0 && sqlite3_changes(self->db) > 0;
    }
    return rc;
}

#define ALERT_COLUMNS                                                          \
    "id, uid, dag, run_id, task_id, kind, target, body, state, tries,"         \
    " created_at, next_at, sent_at, error"

typedef struct {
    store_alert_fn *fn;
    void *arg;
} each_arg_t;

typedef struct {
    store_miss_fn *fn;
    void *arg;
} each_miss_t;

static int
s_alert_row(sqlite3_stmt *stmt, void *arg)
{
    each_arg_t *a = arg;
    store_alert_t alert = {
        .id = (uint64_t) sqlite3_column_int64(stmt, 0),
        .uid = store_priv_text(stmt, 1),
        .dag = store_priv_text(stmt, 2),
        .run_id = (uint64_t) sqlite3_column_int64(stmt, 3),
        .task_id = store_priv_text(stmt, 4),
        .kind = store_priv_text(stmt, 5),
        .target = store_priv_text(stmt, 6),
        .body = store_priv_text(stmt, 7),
        .state = store_priv_text(stmt, 8),
        .tries = (uint32_t) sqlite3_column_int64(stmt, 9),
        .created_at = sqlite3_column_int64(stmt, 10),
        .next_at = sqlite3_column_int64(stmt, 11),
        .sent_at = sqlite3_column_int64(stmt, 12),
        .error = store_priv_text(stmt, 13),
    };
    return a->fn(a->arg, &alert);
}

int
store_alerts_due(store_t *self,
                 int64_t now,
                 size_t max,
                 store_alert_fn *fn,
                 void *arg,
                 errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT " ALERT_COLUMNS " FROM alerts"
        " WHERE state = 'pending' AND next_at <= ?1 ORDER BY next_at, id"
        " LIMIT ?2",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64) max);
    each_arg_t a = {fn, arg};
    return store_priv_each(self, stmt, s_alert_row, &a, "read due alerts", err);
}

int
store_alerts_next(store_t *self, int64_t *next_at, errbuf_t *err)
{
    *next_at = -1;
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT MIN(next_at) FROM alerts WHERE state = 'pending'", err);
    if (!stmt) {
        return -1;
    }
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
        *next_at = sqlite3_column_int64(stmt, 0);
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read the next alert", err);
    }
    return 0;
}

int
store_alert_outcome(store_t *self,
                    uint64_t id,
                    bool sent,
                    const char *error,
                    int64_t next_at,
                    int64_t now,
                    errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "UPDATE alerts SET"
        " state = CASE WHEN ?2 THEN 'sent' WHEN ?4 = 0 THEN 'failed'"
        "  ELSE 'pending' END,"
        " tries = tries + CASE WHEN ?2 THEN 0 ELSE 1 END,"
        " sent_at = CASE WHEN ?2 THEN ?5 ELSE sent_at END,"
        " next_at = CASE WHEN ?2 OR ?4 = 0 THEN next_at ELSE ?4 END,"
        " error = ?3"
        " WHERE id = ?1 AND state = 'pending'",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) id);
    sqlite3_bind_int(stmt, 2, sent ? 1 : 0);
    store_priv_bind_text(stmt, 3, sent ? "" : error);
    sqlite3_bind_int64(stmt, 4, next_at);
    sqlite3_bind_int64(stmt, 5, now);
    return store_priv_exec(self, stmt, "record an alert delivery", err);
}

int
store_alert_defer(store_t *self, uint64_t id, int64_t next_at, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "UPDATE alerts SET next_at = ?2 WHERE id = ?1 AND state = 'pending'",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) id);
    sqlite3_bind_int64(stmt, 2, next_at);
    return store_priv_exec(self, stmt, "put an alert off", err);
}

int
store_alerts_list(store_t *self,
                  bool failed_only,
                  size_t max,
                  store_alert_fn *fn,
                  void *arg,
                  errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "SELECT " ALERT_COLUMNS " FROM alerts"
                       " WHERE NOT ?1 OR state = 'failed' OR error != ''"
                       " ORDER BY id DESC LIMIT ?2",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int(stmt, 1, failed_only ? 1 : 0);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64) max);
    each_arg_t a = {fn, arg};
    return store_priv_each(self, stmt, s_alert_row, &a, "list alerts", err);
}

/* ------------------------------------------------------------- context */

static int
s_ctx_row(sqlite3_stmt *stmt, void *arg)
{
    store_alert_ctx_t *ctx = arg;
    ctx->run_id = (uint64_t) sqlite3_column_int64(stmt, 0);
    ctx->task_id = xstrdup(store_priv_text(stmt, 1));
    ctx->number = (uint32_t) sqlite3_column_int64(stmt, 2);
    ctx->cause = xstrdup(store_priv_text(stmt, 3));
    ctx->error = xstrdup(store_priv_text(stmt, 4));
    ctx->exit_code = (int32_t) sqlite3_column_int64(stmt, 5);
    ctx->task_state = xstrdup(store_priv_text(stmt, 6));
    ctx->run_state = xstrdup(store_priv_text(stmt, 7));
    ctx->logical_date = xstrdup(store_priv_text(stmt, 8));
    return 0;
}

/* The attempt's last log bytes (newest chunks read backwards). */
int
store_alert_log_tail(store_t *self,
                     uint64_t attempt_id,
                     char **log,
                     errbuf_t *err)
{
    *log = NULL;
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "SELECT data FROM log_chunks WHERE attempt_id = ?1"
                       " ORDER BY seq DESC LIMIT 64",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) attempt_id);
    char *buf = xcalloc(1, 1);
    size_t len = 0;
    int rc = SQLITE_DONE;
    while (len < ALERT_LOG_TAIL_BYTES &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        size_t n = (size_t) sqlite3_column_bytes(stmt, 0);
        char *next = xmalloc(len + n + 1);
        memcpy(next, sqlite3_column_blob(stmt, 0), n);
        memcpy(next + n, buf, len);
        len += n;
        next[len] = '\0';
        free(buf);
        buf = next;
    }
    store_priv_reset(stmt);
    *log = xstrdup(alert_tail_lines(buf, len, ALERT_LOG_LINES));
    free(buf);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? 0
               : store_priv_fail(self, rc, "read a log for an alert", err);
}

int
store_alert_ctx(store_t *self,
                uint64_t attempt_id,
                store_alert_ctx_t *ctx,
                errbuf_t *err)
{
    memset(ctx, 0, sizeof *ctx);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT a.run_id, a.task_id, a.number, a.cause, a.error, a.exit_code,"
        " t.state, r.state, r.logical_date"
        " FROM attempts a JOIN task_instances t"
        "  ON t.run_id = a.run_id AND t.task_id = a.task_id"
        " JOIN runs r ON r.id = a.run_id WHERE a.id = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) attempt_id);
    if (store_priv_each(self, stmt, s_ctx_row, ctx,
                        "read an attempt for an "
                        "alert",
                        err) < 0) {
        store_alert_ctx_clear(ctx);
        return -1;
    }
    if (!ctx->task_id) {
        errbuf_set(err, "attempt %llu is not in the store",
                   (unsigned long long) attempt_id);
        return -1;
    }
    return 0;
}

void
store_alert_ctx_clear(store_alert_ctx_t *ctx)
{
    free(ctx->task_id);
    free(ctx->task_state);
    free(ctx->run_state);
    free(ctx->logical_date);
    free(ctx->cause);
    free(ctx->error);
    memset(ctx, 0, sizeof *ctx);
}

/* ------------------------------------------------------------ misses */

static int
s_miss_row(sqlite3_stmt *stmt, void *arg)
{
    each_miss_t *a = arg;
    store_miss_t miss = {
        .run_id = (uint64_t) sqlite3_column_int64(stmt, 0),
        .dag = store_priv_text(stmt, 1),
        .task_id = store_priv_text(stmt, 2),
        .logical_date = store_priv_text(stmt, 3),
        .limit_ms = (uint64_t) sqlite3_column_int64(stmt, 4),
    };
    return a->fn(a->arg, &miss);
}

int
store_alert_sla_misses(
    store_t *self, int64_t now, store_miss_fn *fn, void *arg, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT r.id, r.dag, t.task_id, r.logical_date, s.limit_ms"
        " FROM runs r JOIN alert_rules s"
        "  ON s.dag = r.dag AND s.version = r.version AND s.task_id != ''"
        " JOIN task_instances t ON t.run_id = r.id AND t.task_id = s.task_id"
        " WHERE r.state = 'running' AND r.started_at > 0"
        " AND r.started_at + s.limit_ms <= ?1"
        " AND t.state IN ('pending', 'queued', 'dispatched', 'running',"
        " 'up_for_retry')"
        " AND NOT EXISTS (SELECT 1 FROM alert_misses m"
        "  WHERE m.dedupe = r.id || '/' || t.task_id || '/sla_miss')",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, now);
    each_miss_t a = {fn, arg};
    return store_priv_each(self, stmt, s_miss_row, &a, "look for sla misses",
                           err);
}

int
store_alert_miss(
    store_t *self, const char *dedupe, int64_t now, bool *first, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "INSERT OR IGNORE INTO alert_misses (dedupe, at) VALUES (?1, ?2)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dedupe);
    sqlite3_bind_int64(stmt, 2, now);
    int rc = store_priv_exec(self, stmt, "record a missed deadline", err);
    *first = rc == 0 && sqlite3_changes(self->db) > 0;
    return rc;
}

int
store_alert_deadline_misses(store_t *self,
                            int64_t now,
                            uint64_t run_id,
                            store_miss_fn *fn,
                            void *arg,
                            errbuf_t *err)
{
    /* Two statements, so that each uses its index (runs_state, the key). */
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        run_id == 0
            ? "SELECT r.id, r.dag, '', r.logical_date, s.limit_ms"
              " FROM runs r JOIN alert_rules s"
              "  ON s.dag = r.dag AND s.version = r.version AND s.task_id = ''"
              " WHERE r.state IN ('queued', 'running') AND r.interval_end > 0"
              " AND r.interval_end + s.limit_ms <= ?1 AND ?2 = 0"
              " AND NOT EXISTS (SELECT 1 FROM alert_misses m"
              "  WHERE m.dedupe = r.id || '//deadline_miss')"
            : "SELECT r.id, r.dag, '', r.logical_date, s.limit_ms"
              " FROM runs r JOIN alert_rules s"
              "  ON s.dag = r.dag AND s.version = r.version AND s.task_id = ''"
              " WHERE r.id = ?2 AND r.interval_end > 0 AND ?1 >= 0"
              " AND r.ended_at > r.interval_end + s.limit_ms"
              " AND NOT EXISTS (SELECT 1 FROM alert_misses m"
              "  WHERE m.dedupe = r.id || '//deadline_miss')",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64) run_id);
    each_miss_t a = {fn, arg};
    return store_priv_each(self, stmt, s_miss_row, &a,
                           "look for missed deadlines", err);
}

typedef struct {
    store_expect_fn *fn;
    void *arg;
} each_expect_t;

static int
s_expect_row(sqlite3_stmt *stmt, void *arg)
{
    each_expect_t *a = arg;
    return a->fn(a->arg, store_priv_text(stmt, 0), store_priv_text(stmt, 1));
}

int
store_alert_expects(store_t *self,
                    store_expect_fn *fn,
                    void *arg,
                    errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT dag, success_by FROM alert_expects ORDER BY dag", err);
    if (!stmt) {
        return -1;
    }
    each_expect_t a = {fn, arg};
    return store_priv_each(self, stmt, s_expect_row, &a, "read expectations",
                           err);
}

static int
s_seen_row(sqlite3_stmt *stmt, void *arg)
{
    (void) stmt;
    *(bool *) arg = true;
    return 0;
}

int
store_alert_missed(store_t *self, const char *dedupe, bool *seen, errbuf_t *err)
{
    *seen = false;
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT 1 FROM alert_misses WHERE dedupe = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dedupe);
    return store_priv_each(self, stmt, s_seen_row, seen, "read a miss", err);
}

int
store_alert_has_deadline(store_t *self,
                         const char *dag,
                         bool *has,
                         errbuf_t *err)
{
    *has = false;
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT 1 FROM alert_rules WHERE dag = ?1 AND task_id = '' LIMIT 1",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dag);
    return store_priv_each(self, stmt, s_seen_row, has, "read a deadline", err);
}
