/* store — the scheduler's SQLite database.
 *
 * Durability: WAL with synchronous=FULL, so a committed transaction survives
 * a power loss, not only a process crash (NORMAL would only promise the
 * latter). The scheduler group-commits one transaction per loop turn, so the
 * one fsync per commit is shared by every change of that turn.
 *
 * Speed: every statement is prepared once, on first use, and kept in
 * self->stmts; a call only resets and binds. Statements are reset as soon as
 * they are done so that no read transaction stays open and blocks WAL
 * checkpoints. */
#include "scheduler/store/store.h"
#include "scheduler/store/store_audit.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_runs.h"
#include "scheduler/store/store_priv.h"

#include <assert.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"

/* The current attempt of a task: its latest, by number. */
#define SQL_LATEST_ATTEMPT                                                     \
    "(SELECT a.id FROM attempts a WHERE a.run_id = t.run_id"                   \
    " AND a.task_id = t.task_id ORDER BY a.number DESC LIMIT 1)"

/* Columns of an attempt row, in the order s_attempt_row reads them. */
#define SQL_ATTEMPT_COLS                                                       \
    "id, run_id, task_id, number, worker, state, created_at, started_at,"      \
    " ended_at, duration_ms, exit_code, signal, peak_rss_kb, error, cause"

/* Columns of a run row, in the order s_run_row reads them. */
#define SQL_RUN_COLS                                                           \
    "id, dag, version, state, logical_date, trigger, created_at,"              \
    " started_at, ended_at, logical_at, interval_start, interval_end,"         \
    " timezone"

static const char *const s_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT store_op",
    [ST_RELEASE] = "RELEASE store_op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO store_op",
    [ST_DAG_CURRENT] = "SELECT current_version FROM dags WHERE name = ?1",
    [ST_DAG_UPSERT] =
        "INSERT INTO dags (name, current_version, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE SET"
        " current_version = excluded.current_version,"
        " updated_at = excluded.updated_at",
    [ST_DAG_VERSION_ADD] = "INSERT OR IGNORE INTO dag_versions"
                           " (dag, version, source, filename, created_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_DAG_SOURCE] = "SELECT v.version, v.source FROM dag_versions v"
                      " WHERE v.dag = ?1 AND v.version = coalesce(?2,"
                      " (SELECT current_version FROM dags WHERE name = ?1))",
    [ST_RUN_ADD] = "INSERT INTO runs (dag, version, state, logical_date,"
                   " trigger, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_RUN_PARAM_ADD] = "INSERT INTO run_params (run_id, position, name,"
                         " value) VALUES (?1, ?2, ?3, ?4)",
    [ST_RUN_SET_STATE] =
        "UPDATE runs SET state = ?2,"
        " started_at = CASE WHEN ?2 = 'running' AND started_at = 0"
        " THEN ?3 ELSE started_at END,"
        " ended_at = CASE WHEN ?4 THEN ?3 ELSE ended_at END WHERE id = ?1",
    [ST_TRANSITION_ADD] = "INSERT INTO transitions (run_id, task_id, state,"
                          " at) VALUES (?1, ?2, ?3, ?4)",
    [ST_TASK_ADD] = "INSERT INTO task_instances (run_id, task_id, state,"
                    " updated_at) VALUES (?1, ?2, ?3, ?4)",
    [ST_TASK_SET_STATE] =
        "UPDATE task_instances SET state = ?3, tries = ?4, next_try_at = ?5,"
        " updated_at = ?6 WHERE run_id = ?1 AND task_id = ?2",
    [ST_TASK_SET_WAITING] = "UPDATE task_instances SET waiting = ?3"
                            " WHERE run_id = ?1 AND task_id = ?2",
    [ST_ATTEMPT_ADD] =
        "INSERT INTO attempts (run_id, task_id, number, worker, state,"
        " created_at, started_at) VALUES (?1, ?2, ?3, ?4, ?6, ?5,"
        " CASE WHEN ?6 = 'running' THEN ?5 ELSE 0 END)",
    [ST_ATTEMPT_START] =
        "UPDATE attempts SET state = 'running', started_at = ?2"
        " WHERE id = ?1 AND state = 'dispatched'",
    [ST_ATTEMPT_FINISH] =
        "UPDATE attempts SET state = ?2, exit_code = ?3, signal = ?4,"
        " started_at = CASE WHEN ?5 > 0 THEN ?5 ELSE started_at END,"
        " ended_at = ?6, duration_ms = ?7, peak_rss_kb = ?8, error = ?9,"
        " cause = ?10 WHERE id = ?1",
    /* One row per attempt that exists: results for made-up ids, or the
     * same one sent again, add nothing. */
    [ST_STALE_ADD] = "INSERT INTO stale_results (attempt_id, worker, detail,"
                     " at) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM"
                     " attempts WHERE id = ?1) AND NOT EXISTS (SELECT 1 FROM"
                     " stale_results WHERE attempt_id = ?1)",
    [ST_LOG_ADD] = "INSERT OR IGNORE INTO log_chunks (attempt_id, seq,"
                   " stream, at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_EVENT_ADD] = "INSERT INTO events (at, actor, kind, subject, detail,"
                     " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_ACTIVE_RUNS] = "SELECT id FROM runs WHERE state IN"
                       " ('queued', 'running') ORDER BY id",
    [ST_RUN_GET] = "SELECT " SQL_RUN_COLS " FROM runs WHERE id = ?1",
    [ST_RUN_PARAMS] = "SELECT name, value FROM run_params WHERE run_id = ?1"
                      " ORDER BY position",
    [ST_RUN_TASKS] =
        "SELECT t.task_id, t.state, t.tries, t.next_try_at, t.updated_at,"
        " a.id, a.worker, t.waiting FROM task_instances t"
        " LEFT JOIN attempts a"
        " ON t.state IN ('queued', 'dispatched', 'running') AND a.id "
        "= " SQL_LATEST_ATTEMPT " WHERE t.run_id = ?1 ORDER BY t.task_id",
    [ST_DAG_LIST] = "SELECT d.name, d.current_version, v.source, v.filename,"
                    " d.created_at, d.updated_at,"
                    " (SELECT count(*) FROM runs r WHERE r.dag = d.name),"
                    " (SELECT r.id FROM runs r WHERE r.dag = d.name"
                    " ORDER BY r.id DESC LIMIT 1),"
                    " (SELECT r.state FROM runs r WHERE r.dag = d.name"
                    " ORDER BY r.id DESC LIMIT 1),"
                    " EXISTS (SELECT 1 FROM dag_paused p WHERE p.dag = d.name)"
                    " FROM dags d JOIN dag_versions v"
                    " ON v.dag = d.name AND v.version = d.current_version"
                    " WHERE ?1 IS NULL OR d.name = ?1 ORDER BY d.name",
    [ST_RUNS_ALL] = "SELECT " SQL_RUN_COLS " FROM runs ORDER BY id DESC"
                    " LIMIT ?1",
    [ST_RUNS_BY_DAG] = "SELECT " SQL_RUN_COLS " FROM runs WHERE dag = ?2"
                       " ORDER BY id DESC LIMIT ?1",
    [ST_RUN_COUNTS] = "SELECT state, count(*) FROM task_instances"
                      " WHERE run_id = ?1 GROUP BY state",
    [ST_RUN_ATTEMPTS] = "SELECT " SQL_ATTEMPT_COLS " FROM attempts"
                        " WHERE run_id = ?1 ORDER BY task_id, number",
    [ST_TASK_STATE] = "SELECT state FROM task_instances"
                      " WHERE run_id = ?1 AND task_id = ?2",
    [ST_RUN_EXISTS] = "SELECT 1 FROM runs WHERE id = ?1",
    [ST_ATTEMPT_BY_NUMBER] =
        "SELECT " SQL_ATTEMPT_COLS " FROM attempts"
        " WHERE run_id = ?1 AND task_id = ?2 AND number = ?3",
    [ST_ATTEMPT_LATEST] =
        "SELECT " SQL_ATTEMPT_COLS " FROM attempts"
        " WHERE run_id = ?1 AND task_id = ?2 ORDER BY number DESC LIMIT 1",
    [ST_ATTEMPT_BY_ID] =
        "SELECT " SQL_ATTEMPT_COLS " FROM attempts WHERE id = ?1",
    [ST_LOG_READ] = "SELECT seq, stream, at, data FROM log_chunks"
                    " WHERE attempt_id = ?1 AND seq > ?2 ORDER BY seq",
    /* A run's instances are written in DAG order in one transaction, so
     * their rowids are consecutive, in that order. */
    [ST_RUN_FIRST] = "SELECT min(rowid) FROM task_instances WHERE run_id = ?1",
    /* Rows from rowid ?1 on, whatever their run: the caller stops at the
     * first row of another run. */
    [ST_RUN_PAGE] =
        "SELECT t.task_id, t.state, t.tries, t.next_try_at, t.updated_at,"
        " a.id, a.worker, t.waiting, t.rowid, t.run_id FROM task_instances t"
        " LEFT JOIN attempts a"
        " ON t.state IN ('queued', 'running') AND a.id = " SQL_LATEST_ATTEMPT
        " WHERE t.rowid > ?1 ORDER BY t.rowid LIMIT ?2 OFFSET ?3",
    [ST_TASK_ATTEMPTS] = "SELECT " SQL_ATTEMPT_COLS " FROM attempts"
                         " WHERE run_id = ?1 AND task_id = ?2 ORDER BY number",
};

/* Forward migrations: s_migrations[v - 1] takes the schema from v - 1 to v.
 * Never edit a released one; append a new one and bump
 * STORE_SCHEMA_VERSION. tests/unit/test_store.c keeps a frozen copy of
 * migration 1 to build an old database. */
static const char *const s_migrations[STORE_SCHEMA_VERSION] = {
    /* 1: the base schema. */
    "CREATE TABLE dags ("
    " name TEXT PRIMARY KEY,"
    " current_version TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE dag_versions ("
    " dag TEXT NOT NULL REFERENCES dags (name),"
    " version TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " filename TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " PRIMARY KEY (dag, version));"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " dag TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " logical_date TEXT NOT NULL DEFAULT '',"
    " trigger TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " ended_at INTEGER NOT NULL DEFAULT 0,"
    " FOREIGN KEY (dag, version) REFERENCES dag_versions (dag, version));"
    "CREATE INDEX runs_dag ON runs (dag, id);"
    "CREATE INDEX runs_state ON runs (state);"
    "CREATE TABLE task_instances ("
    " run_id INTEGER NOT NULL REFERENCES runs (id),"
    " task_id TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " tries INTEGER NOT NULL DEFAULT 0,"
    " next_try_at INTEGER NOT NULL DEFAULT 0,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (run_id, task_id));"
    "CREATE TABLE transitions ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL,"
    " task_id TEXT NOT NULL," /* '' for the run itself */
    " state TEXT NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX transitions_run ON transitions (run_id, task_id);"
    "CREATE TABLE attempts ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " run_id INTEGER NOT NULL,"
    " task_id TEXT NOT NULL,"
    " number INTEGER NOT NULL,"
    " worker TEXT NOT NULL DEFAULT '',"
    " state TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " ended_at INTEGER NOT NULL DEFAULT 0,"
    " duration_ms INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT -1,"
    " signal INTEGER NOT NULL DEFAULT 0,"
    " FOREIGN KEY (run_id, task_id)"
    " REFERENCES task_instances (run_id, task_id));"
    "CREATE INDEX attempts_task ON attempts (run_id, task_id, number);"
    "CREATE TABLE stale_results ("
    " id INTEGER PRIMARY KEY,"
    " attempt_id INTEGER NOT NULL,"
    " worker TEXT NOT NULL DEFAULT '',"
    " detail TEXT NOT NULL DEFAULT '',"
    " at INTEGER NOT NULL);"
    "CREATE TABLE log_chunks ("
    " attempt_id INTEGER NOT NULL REFERENCES attempts (id),"
    " seq INTEGER NOT NULL,"
    " stream INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " data BLOB NOT NULL,"
    " PRIMARY KEY (attempt_id, seq));"
    "CREATE TABLE workers ("
    " name TEXT PRIMARY KEY,"
    " hostname TEXT NOT NULL DEFAULT '',"
    " public_hex TEXT NOT NULL DEFAULT '',"
    " state TEXT NOT NULL,"
    " slots INTEGER NOT NULL DEFAULT 0,"
    " cpus INTEGER NOT NULL DEFAULT 0,"
    " memory_mb INTEGER NOT NULL DEFAULT 0,"
    " gpus INTEGER NOT NULL DEFAULT 0,"
    " labels TEXT NOT NULL DEFAULT '',"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " state_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " subject TEXT NOT NULL DEFAULT '',"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE (ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    " BEGIN SELECT RAISE (ABORT, 'events are append-only'); END;",
    /* 2: run params in their own table, and what an attempt used and why
     * it failed. */
    "CREATE TABLE run_params ("
    " run_id INTEGER NOT NULL REFERENCES runs (id),"
    " position INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (run_id, position));"
    "ALTER TABLE attempts ADD COLUMN peak_rss_kb INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE attempts ADD COLUMN error TEXT NOT NULL DEFAULT '';",
    /* 3: why an attempt failed, as a word retry_on can name, and why a
     * queued task waits. */
    "ALTER TABLE attempts ADD COLUMN cause TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE task_instances ADD COLUMN waiting TEXT NOT NULL"
    " DEFAULT '';",
    /* 4: worker and client keys, join tokens (admission). */
    "CREATE TABLE transport_keys ("
    " curve_hex TEXT PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('worker', 'client')),"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'accepted',"
    "  'rejected', 'revoked')),"
    " role TEXT NOT NULL DEFAULT '',"
    " name TEXT NOT NULL DEFAULT '',"
    " host TEXT NOT NULL DEFAULT '',"
    " address TEXT NOT NULL DEFAULT '',"
    " sign_hex TEXT NOT NULL DEFAULT '',"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " decided_at INTEGER NOT NULL DEFAULT 0,"
    " decided_by TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE join_tokens ("
    " hash TEXT PRIMARY KEY,"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " uses_left INTEGER NOT NULL,"
    " used INTEGER NOT NULL DEFAULT 0);",
    /* 5: signed results and the hash-chained event log (audit), and the
     * roles of client keys. */
    "ALTER TABLE attempts ADD COLUMN result_signed BLOB;"
    "ALTER TABLE attempts ADD COLUMN result_sig BLOB;"
    "ALTER TABLE attempts ADD COLUMN result_signer TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN hash TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE client_keys ("
    " public_hex TEXT PRIMARY KEY,"
    " role TEXT NOT NULL CHECK (role IN ('viewer', 'operator')),"
    " name TEXT NOT NULL DEFAULT '',"
    " added_at INTEGER NOT NULL);",
    /* 6: secrets, sealed with the key in DIR/secrets.key (never plain). */
    "CREATE TABLE secrets ("
    " name TEXT PRIMARY KEY,"
    " nonce BLOB NOT NULL,"
    " box BLOB NOT NULL,"
    " updated_at INTEGER NOT NULL);",
    /* 7: validation reports, one per attempt of a validate task, and the
     * drift profile of each dataset's last validated version. */
    "CREATE TABLE validation_reports ("
    " attempt_id INTEGER PRIMARY KEY REFERENCES attempts (id),"
    " summary TEXT NOT NULL,"
    " report TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE dataset_profiles ("
    " dataset TEXT PRIMARY KEY,"
    " profile TEXT NOT NULL,"
    " attempt_id INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);",
    /* 8: dataset versions and lineage (store_lineage.c). */
    "CREATE TABLE dataset_versions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " uri TEXT NOT NULL,"
    " hash TEXT NOT NULL,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " produced_by INTEGER NOT NULL DEFAULT 0," /* attempt; 0 = outside */
    " at INTEGER NOT NULL);"
    "CREATE INDEX dataset_versions_uri ON dataset_versions (uri, id);"
    "CREATE INDEX dataset_versions_hash ON dataset_versions (hash);"
    "CREATE INDEX dataset_versions_producer ON dataset_versions"
    " (produced_by);"
    "CREATE TABLE dataset_reads ("
    " attempt_id INTEGER NOT NULL,"
    " version_id INTEGER NOT NULL REFERENCES dataset_versions (id),"
    " PRIMARY KEY (attempt_id, version_id));"
    "CREATE INDEX dataset_reads_version ON dataset_reads (version_id);",
    /* 9: metrics, caching and dataset triggers (store_metrics.c). */
    "CREATE TABLE attempt_metrics ("
    " attempt_id INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " value REAL NOT NULL,"
    " PRIMARY KEY (attempt_id, name));"
    "CREATE TABLE run_extras ("
    " run_id INTEGER PRIMARY KEY,"
    " no_cache INTEGER NOT NULL DEFAULT 0,"
    " triggered_by TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE task_cache ("
    " cache_key TEXT NOT NULL,"
    " attempt_id INTEGER NOT NULL,"
    " run_id INTEGER NOT NULL,"
    " task_id TEXT NOT NULL,"
    " outputs TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " PRIMARY KEY (cache_key, attempt_id));"
    "CREATE TABLE dag_triggers ("
    " uri TEXT NOT NULL,"
    " dag TEXT NOT NULL,"
    " PRIMARY KEY (uri, dag));",
    /* 10: schedules: data intervals of runs, one run per (DAG, logical
     * date), paused DAGs. logical_at is NULL for runs from before it. */
    "ALTER TABLE runs ADD COLUMN logical_at INTEGER;"
    "ALTER TABLE runs ADD COLUMN interval_start INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE runs ADD COLUMN interval_end INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE runs ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';"
    "CREATE UNIQUE INDEX runs_logical ON runs (dag, logical_at)"
    " WHERE logical_at IS NOT NULL;"
    "CREATE INDEX runs_interval ON runs (dag, trigger, interval_end);"
    "CREATE TABLE dag_paused ("
    " dag TEXT PRIMARY KEY,"
    " since INTEGER NOT NULL,"
    " by TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE backfills ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " dag TEXT NOT NULL,"
    " from_at INTEGER NOT NULL,"
    " next_at INTEGER NOT NULL,"
    " to_at INTEGER NOT NULL,"
    " max_active INTEGER NOT NULL,"
    " rerun_failed INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " done_at INTEGER NOT NULL DEFAULT 0);",
    /* 11: concurrency limits: pools (store_pools.c). What is in use is
     * not stored: the planner counts the attempts in flight, which the
     * store keeps, so a restart counts them again. */
    "CREATE TABLE pools ("
    " name TEXT PRIMARY KEY,"
    " slots INTEGER NOT NULL,"
    " description TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);",
    /* 12: alerts: the routes and time rules (sla, deadline, expect) of
     * applied DAGs, the misses found (each once), and the delivery queue:
     * one row per (event, target), the event named by its dedupe key. */
    "CREATE TABLE alert_routes ("
    " dag TEXT NOT NULL,"
    " position INTEGER NOT NULL,"
    " kinds INTEGER NOT NULL,"
    " target TEXT NOT NULL,"
    " PRIMARY KEY (dag, position, target)) WITHOUT ROWID;"
    "CREATE TABLE alert_rules ("
    " dag TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " task_id TEXT NOT NULL," /* '' for the DAG's deadline */
    " limit_ms INTEGER NOT NULL,"
    " PRIMARY KEY (dag, version, task_id)) WITHOUT ROWID;"
    "CREATE TABLE alert_expects ("
    " dag TEXT PRIMARY KEY,"
    " success_by TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE alert_misses ("
    " dedupe TEXT PRIMARY KEY,"
    " at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE alerts ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " uid TEXT NOT NULL," /* random: the receivers' dedupe id */
    " dedupe TEXT NOT NULL,"
    " dag TEXT NOT NULL,"
    " run_id INTEGER NOT NULL,"
    " task_id TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),"
    " tries INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " next_at INTEGER NOT NULL,"
    " sent_at INTEGER NOT NULL DEFAULT 0,"
    " error TEXT NOT NULL DEFAULT '',"
    " UNIQUE (dedupe, target));"
    "CREATE INDEX alerts_due ON alerts (state, next_at);",
    /* 13: a worker's name bound to its signing key (store_keys.c), with
     * the bindings that ended kept so that an old result can be checked
     * against the key its attempt was sent to; and what an operator
     * decided about a worker (draining), which a Register never changes.
     * Bindings start from each accepted key's last name, one name per key
     * and one key per name, most recently seen first. */
    "CREATE TABLE worker_names ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " sign_hex TEXT NOT NULL,"
    " bound_at INTEGER NOT NULL,"
    " released_at INTEGER NOT NULL DEFAULT 0," /* 0: bound now */
    " bound_by TEXT NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX worker_names_name ON worker_names (name)"
    " WHERE released_at = 0;"
    "CREATE UNIQUE INDEX worker_names_key ON worker_names (sign_hex)"
    " WHERE released_at = 0;"
    "CREATE INDEX worker_names_history ON worker_names (name, bound_at);"
    "INSERT OR IGNORE INTO worker_names (name, sign_hex, bound_at, bound_by)"
    " SELECT name, sign_hex, 0, 'upgrade' FROM transport_keys"
    " WHERE kind = 'worker' AND state = 'accepted' AND sign_hex != ''"
    " AND name != '' ORDER BY last_seen DESC;"
    "ALTER TABLE workers ADD COLUMN admin TEXT NOT NULL DEFAULT ''"
    " CHECK (admin IN ('', 'draining', 'cordoned', 'removed'));"
    "UPDATE workers SET admin = 'draining' WHERE state = 'draining';",
    /* 14: API tokens for the HTTP API (store_apitokens.c), kept by the
     * hash of the token only; a revoked one is kept for the audit. */
    "CREATE TABLE api_tokens ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " hash TEXT NOT NULL UNIQUE,"
    " role TEXT NOT NULL CHECK (role IN ('viewer', 'operator')),"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL DEFAULT 0," /* 0: never */
    " revoked_at INTEGER NOT NULL DEFAULT 0," /* 0: live */
    " last_used_at INTEGER NOT NULL DEFAULT 0);",
    /* 15: the JSON results tasks write to $SLUICE_RESULT
     * (store_results.c), at most 64 KiB each, checked by the worker. */
    "CREATE TABLE attempt_results (attempt_id INTEGER PRIMARY KEY,"
    " result TEXT NOT NULL);",
};

/* ------------------------------------------------------------ helpers */

/* The cached statement `id`, prepared on first use; NULL with err set. */
sqlite3_stmt *
store_priv_stmt(store_t *self, stmt_id_t id, errbuf_t *err)
{
    assert(self && id < ST_COUNT && s_sql[id]);
    if (!self->stmts[id]) {
        int rc = sqlite3_prepare_v3(self->db, s_sql[id], -1,
                                    SQLITE_PREPARE_PERSISTENT, &self->stmts[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            store_priv_fail(self, rc, "prepare a query", err);
            return NULL;
        }
    }
    return self->stmts[id];
}

/* Runs cached statement `id` with no parameters. */
static int
s_exec_id(store_t *self, stmt_id_t id, const char *what, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, id, err);
    return stmt ? store_priv_exec(self, stmt, what, err) : -1;
}

/* A statement that changed nothing means its subject does not exist. */
static int
s_expect_change(store_t *self, const char *what, errbuf_t *err)
{
    if (sqlite3_changes(self->db) == 0) {
        errbuf_set(err, "cannot %s: it does not exist in the store", what);
        return -1;
    }
    return 0;
}

/* Savepoints make multi-statement writes atomic inside or outside the
 * caller's transaction. */
static int
s_atomic_begin(store_t *self, errbuf_t *err)
{
    return s_exec_id(self, ST_SAVEPOINT, "start a savepoint", err);
}

static int
s_atomic_end(store_t *self, int rc, errbuf_t *err)
{
    if (rc != 0 && !sqlite3_get_autocommit(self->db)) {
        s_exec_id(self, ST_ROLLBACK_TO, "roll back a savepoint", NULL);
    }
    if (!sqlite3_get_autocommit(self->db)) {
        int release = s_exec_id(self, ST_RELEASE, "release a savepoint",
                                rc == 0 ? err : NULL);
        if (rc == 0) {
            rc = release;
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- open */

static int
s_pragma(store_t *self, const char *sql, errbuf_t *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(self->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        errbuf_set(err, "cannot open the store '%s': %s failed: %s", self->path,
                   sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return rc == SQLITE_FULL ? STORE_EFULL : -1;
    }
    return 0;
}

static int
s_user_version(store_t *self)
{
    sqlite3_stmt *stmt = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &stmt, NULL) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        version = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return version;
}

static int
s_set_wal(store_t *self, errbuf_t *err)
{
    sqlite3_stmt *stmt = NULL;
    bool wal = false;
    if (sqlite3_prepare_v2(self->db, "PRAGMA journal_mode=WAL", -1, &stmt,
                           NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        wal = strcmp(store_priv_text(stmt, 0), "wal") == 0;
    }
    sqlite3_finalize(stmt);
    if (!wal) {
        errbuf_set(err,
                   "cannot put the store '%s' in WAL mode (%s); keep the "
                   "state directory on a local file system",
                   self->path, sqlite3_errmsg(self->db));
        return -1;
    }
    return 0;
}

/* Runs every migration past the on-disk version, all in one transaction. */
static int
s_migrate(store_t *self, errbuf_t *err)
{
    int version = s_user_version(self);
    if (version < 0 || version > STORE_SCHEMA_VERSION) {
        errbuf_set(err,
                   "the store '%s' has schema version %d, which this sluice "
                   "does not know (it knows up to %d); run a newer sluice",
                   self->path, version, STORE_SCHEMA_VERSION);
        return -1;
    }
    if (version == STORE_SCHEMA_VERSION) {
        return 0;
    }
    if (s_pragma(self, "BEGIN IMMEDIATE", err) != 0) {
        return -1;
    }
    for (int v = version + 1; v <= STORE_SCHEMA_VERSION; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
        if (s_pragma(self, s_migrations[v - 1], err) != 0 ||
            s_pragma(self, pragma, err) != 0) {
            errbuf_prefix(err, "migration to schema version %d", v);
            sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    if (s_pragma(self, "COMMIT", err) != 0) {
        return -1;
    }
    log_info("store '%s': migrated the schema from version %d to %d",
             self->path, version, STORE_SCHEMA_VERSION);
    return 0;
}

store_t *
store_open(const char *path, errbuf_t *err)
{
    assert(path);
    store_t *self = xcalloc(1, sizeof *self);
    self->path = xstrdup(path);
    /* Private whatever the umask: SQLite gives its -wal and -shm files
     * the mode of the database file. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
    }
    int rc = sqlite3_open_v2(
        path, &self->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        errbuf_set(err,
                   "cannot open the store '%s': %s; check that its "
                   "directory exists and is writable",
                   path,
                   self->db ? sqlite3_errmsg(self->db) : sqlite3_errstr(rc));
        store_destroy(&self);
        return NULL;
    }
    sqlite3_extended_result_codes(self->db, 1);
    sqlite3_busy_timeout(self->db, 5000);
    if (s_set_wal(self, err) != 0 ||
        s_pragma(self, "PRAGMA synchronous = FULL", err) != 0 ||
        s_pragma(self, "PRAGMA foreign_keys = ON", err) != 0 ||
        s_migrate(self, err) != 0) {
        store_destroy(&self);
        return NULL;
    }
    return self;
}

store_t *
store_open_readonly(const char *path, errbuf_t *err)
{
    assert(path);
    store_t *self = xcalloc(1, sizeof *self);
    self->path = xstrdup(path);
    int rc = sqlite3_open_v2(path, &self->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        errbuf_set(err, "cannot open the store '%s' for reading: %s", path,
                   self->db ? sqlite3_errmsg(self->db) : sqlite3_errstr(rc));
        store_destroy(&self);
        return NULL;
    }
    sqlite3_extended_result_codes(self->db, 1);
    sqlite3_busy_timeout(self->db, 5000);
    int version = s_user_version(self);
    if (version != STORE_SCHEMA_VERSION) {
        errbuf_set(err,
                   "the store '%s' has schema %d, this sluice reads %d; "
                   "start the scheduler of this version first",
                   path, version, STORE_SCHEMA_VERSION);
        store_destroy(&self);
        return NULL;
    }
    return self;
}

void
store_destroy(store_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    store_t *self = *self_p;
    if (self->db && !sqlite3_get_autocommit(self->db)) {
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    }
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(self->stmts[i]);
    }
    zhashx_destroy(&self->extra);
    sqlite3_close(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

int
store_set_sync(store_t *self, bool full, errbuf_t *err)
{
    assert(self);
    return s_pragma(self,
                    full ? "PRAGMA synchronous = FULL"
                         : "PRAGMA synchronous = NORMAL",
                    err);
}

int
store_schema_version(store_t *self)
{
    assert(self);
    return s_user_version(self);
}

/* ------------------------------------------------------------ transactions */

int
store_begin(store_t *self, errbuf_t *err)
{
    assert(self);
    if (!sqlite3_get_autocommit(self->db)) {
        return 0;
    }
    self->full = false;
    int rc = s_exec_id(self, ST_BEGIN, "begin a transaction", err);
    self->in_txn = rc == 0;
    return rc;
}

int
store_commit(store_t *self, errbuf_t *err)
{
    assert(self);
    /* A write of this transaction hit a full disk: SQLite may already have
     * rolled it back; either way none of it may be acknowledged. */
    if (self->full) {
        store_rollback(self);
        store_priv_full(self, "commit", err);
        return STORE_EFULL;
    }
    if (sqlite3_get_autocommit(self->db)) {
        self->in_txn = false;
        return 0;
    }
    int rc = s_exec_id(self, ST_COMMIT, "commit", err);
    if (rc != 0) {
        store_rollback(self);
    }
    self->in_txn = false;
    log_flag(STORE, "store '%s': commit %s", self->path,
             rc == 0 ? "done" : "failed");
    return rc;
}

void
store_rollback(store_t *self)
{
    assert(self);
    if (!sqlite3_get_autocommit(self->db)) {
        s_exec_id(self, ST_ROLLBACK, "roll back", NULL);
    }
    self->in_txn = self->full = false;
}

/* ---------------------------------------------------------------- DAGs */

/* Whether `version` is already the current version of DAG `name`. */
static int
s_dag_is_current(store_t *self,
                 const char *name,
                 const char *version,
                 bool *current,
                 errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_DAG_CURRENT, err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt);
    int ret = 0;
    *current =
        rc == SQLITE_ROW && strcmp(store_priv_text(stmt, 0), version) == 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ret = store_priv_fail(self, rc, "read a DAG", err);
    }
    store_priv_reset(stmt);
    return ret;
}

static int
s_dag_write(store_t *self,
            const char *name,
            const char *version,
            const char *source,
            const char *filename,
            int64_t now,
            errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_DAG_UPSERT, err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    store_priv_bind_text(stmt, 2, version);
    sqlite3_bind_int64(stmt, 3, now);
    int rc = store_priv_exec(self, stmt, "record a DAG", err);
    if (rc != 0 || !(stmt = store_priv_stmt(self, ST_DAG_VERSION_ADD, err))) {
        return rc != 0 ? rc : -1;
    }
    store_priv_bind_text(stmt, 1, name);
    store_priv_bind_text(stmt, 2, version);
    store_priv_bind_text(stmt, 3, source);
    store_priv_bind_text(stmt, 4, filename);
    sqlite3_bind_int64(stmt, 5, now);
    return store_priv_exec(self, stmt, "record a DAG version", err);
}

int
store_dag_put(store_t *self,
              const char *name,
              const char *version,
              const char *source,
              const char *filename,
              int64_t now,
              bool *changed,
              errbuf_t *err)
{
    assert(self && name && version && source);
    bool current = false;
    int rc = s_dag_is_current(self, name, version, &current, err);
    if (rc != 0) {
        return rc;
    }
    if (changed) {
        *changed = !current;
    }
    if (current) {
        return 0;
    }
    if ((rc = s_atomic_begin(self, err)) != 0) {
        return rc;
    }
    rc = s_dag_write(self, name, version, source, filename, now, err);
    return s_atomic_end(self, rc, err);
}

char *
store_dag_source(store_t *self,
                 const char *name,
                 const char *version,
                 char **version_out,
                 errbuf_t *err)
{
    assert(self && name);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_DAG_SOURCE, err);
    if (!stmt) {
        return NULL;
    }
    store_priv_bind_text(stmt, 1, name);
    if (version) {
        store_priv_bind_text(stmt, 2, version);
    }
    char *source = NULL;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        source = xstrdup(store_priv_text(stmt, 1));
        if (version_out) {
            *version_out = xstrdup(store_priv_text(stmt, 0));
        }
    } else if (rc == SQLITE_DONE) {
        if (version) {
            errbuf_set(err,
                       "DAG '%s' has no version '%s'; list DAGs with "
                       "'sluice dag list'",
                       name, version);
        } else {
            errbuf_set(err,
                       "DAG '%s' does not exist; apply it with 'sluice "
                       "dag apply FILE'",
                       name);
        }
    } else {
        store_priv_fail(self, rc, "read a DAG", err);
    }
    store_priv_reset(stmt);
    return source;
}

/* ---------------------------------------------------------------- runs */

/* Records a state change of a run (task_id "") or task. */
static int
s_transition(store_t *self,
             uint64_t run_id,
             const char *task_id,
             const char *state,
             int64_t now,
             errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_TRANSITION_ADD, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    store_priv_bind_text(stmt, 2, task_id);
    store_priv_bind_text(stmt, 3, state);
    sqlite3_bind_int64(stmt, 4, now);
    return store_priv_exec(self, stmt, "record a state transition", err);
}

static int
s_run_params(store_t *self,
             uint64_t run_id,
             const dag_kv_t *params,
             size_t nparams,
             errbuf_t *err)
{
    for (size_t i = 0; i < nparams; i++) {
        sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_PARAM_ADD, err);
        if (!stmt) {
            return -1;
        }
        sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
        sqlite3_bind_int64(stmt, 2, (int64_t) i);
        store_priv_bind_text(stmt, 3, params[i].name);
        store_priv_bind_text(stmt, 4, params[i].value);
        int rc = store_priv_exec(self, stmt, "record a run param", err);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int
s_run_insert(store_t *self,
             const char *dag,
             const char *version,
             const char *logical_date,
             const char *trigger,
             int64_t now,
             uint64_t *run_id,
             errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_ADD, err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dag);
    store_priv_bind_text(stmt, 2, version);
    store_priv_bind_text(stmt, 3, state_run_name(RUN_QUEUED));
    store_priv_bind_text(stmt, 4, logical_date);
    store_priv_bind_text(stmt, 5, trigger);
    sqlite3_bind_int64(stmt, 6, now);
    int rc = store_priv_exec(self, stmt, "create a run", err);
    if (rc == 0) {
        *run_id = (uint64_t) sqlite3_last_insert_rowid(self->db);
        rc = s_transition(self, *run_id, "", state_run_name(RUN_QUEUED), now,
                          err);
    }
    return rc;
}

int
store_run_create(store_t *self,
                 const char *dag,
                 const char *version,
                 const dag_kv_t *params,
                 size_t nparams,
                 const char *logical_date,
                 const char *trigger,
                 int64_t now,
                 uint64_t *run_id,
                 errbuf_t *err)
{
    assert(self && dag && version && run_id);
    int rc = s_atomic_begin(self, err);
    if (rc != 0) {
        return rc;
    }
    rc = s_run_insert(self, dag, version, logical_date, trigger, now, run_id,
                      err);
    if (rc == 0) {
        rc = s_run_params(self, *run_id, params, nparams, err);
    }
    return s_atomic_end(self, rc, err);
}

int
store_run_set_state(store_t *self,
                    uint64_t run_id,
                    run_state_t state,
                    int64_t now,
                    errbuf_t *err)
{
    assert(self && state < RUN_STATE_COUNT);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_SET_STATE, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    store_priv_bind_text(stmt, 2, state_run_name(state));
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int(stmt, 4, state_run_is_final(state));
    int rc = store_priv_exec(self, stmt, "set a run's state", err);
    if (rc == 0) {
        rc = s_expect_change(self, "set a run's state", err);
    }
    if (rc == 0) {
        rc = s_transition(self, run_id, "", state_run_name(state), now, err);
    }
    return rc;
}

/* ---------------------------------------------------------------- tasks */

int
store_task_create(store_t *self,
                  uint64_t run_id,
                  const char *task_id,
                  task_state_t state,
                  int64_t now,
                  errbuf_t *err)
{
    assert(self && task_id && state < TASK_STATE_COUNT);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_TASK_ADD, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    store_priv_bind_text(stmt, 2, task_id);
    store_priv_bind_text(stmt, 3, state_task_name(state));
    sqlite3_bind_int64(stmt, 4, now);
    int rc = store_priv_exec(self, stmt, "create a task instance", err);
    if (rc == 0) {
        rc = s_transition(self, run_id, task_id, state_task_name(state), now,
                          err);
    }
    return rc;
}

int
store_task_set_state(store_t *self,
                     uint64_t run_id,
                     const char *task_id,
                     task_state_t state,
                     uint32_t tries,
                     int64_t next_try_at,
                     int64_t now,
                     errbuf_t *err)
{
    assert(self && task_id && state < TASK_STATE_COUNT);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_TASK_SET_STATE, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    store_priv_bind_text(stmt, 2, task_id);
    store_priv_bind_text(stmt, 3, state_task_name(state));
    sqlite3_bind_int64(stmt, 4, tries);
    sqlite3_bind_int64(stmt, 5, next_try_at);
    sqlite3_bind_int64(stmt, 6, now);
    int rc = store_priv_exec(self, stmt, "set a task's state", err);
    if (rc == 0) {
        rc = s_expect_change(self, "set a task's state", err);
    }
    if (rc == 0) {
        rc = s_transition(self, run_id, task_id, state_task_name(state), now,
                          err);
    }
    return rc;
}

/* ------------------------------------------------------------- attempts */

int
store_attempt_create(store_t *self,
                     uint64_t run_id,
                     const char *task_id,
                     uint32_t number,
                     const char *worker,
                     attempt_state_t state,
                     int64_t now,
                     uint64_t *attempt_id,
                     errbuf_t *err)
{
    assert(self && task_id && attempt_id);
    assert(state == ATTEMPT_RUNNING || state == ATTEMPT_DISPATCHED);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_ATTEMPT_ADD, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    store_priv_bind_text(stmt, 2, task_id);
    sqlite3_bind_int64(stmt, 3, number);
    store_priv_bind_text(stmt, 4, worker);
    sqlite3_bind_int64(stmt, 5, now);
    store_priv_bind_text(stmt, 6, state_attempt_name(state));
    int rc = store_priv_exec(self, stmt, "create an attempt", err);
    if (rc == 0) {
        *attempt_id = (uint64_t) sqlite3_last_insert_rowid(self->db);
    }
    return rc;
}

int
store_attempt_start(store_t *self,
                    uint64_t attempt_id,
                    int64_t now,
                    errbuf_t *err)
{
    assert(self);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_ATTEMPT_START, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    sqlite3_bind_int64(stmt, 2, now);
    return store_priv_exec(self, stmt, "mark an attempt started", err);
}

int
store_attempt_finish(store_t *self,
                     uint64_t attempt_id,
                     const store_attempt_end_t *end,
                     errbuf_t *err)
{
    assert(self && end && end->state < ATTEMPT_STATE_COUNT);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_ATTEMPT_FINISH, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    store_priv_bind_text(stmt, 2, state_attempt_name(end->state));
    sqlite3_bind_int(stmt, 3, end->exit_code);
    sqlite3_bind_int(stmt, 4, end->signal);
    sqlite3_bind_int64(stmt, 5, end->started_at);
    sqlite3_bind_int64(stmt, 6, end->ended_at);
    sqlite3_bind_int64(stmt, 7, end->duration_ms);
    sqlite3_bind_int64(stmt, 8, (int64_t) end->peak_rss_kb);
    store_priv_bind_text(stmt, 9, end->error);
    store_priv_bind_text(stmt, 10, end->cause);
    int rc = store_priv_exec(self, stmt, "record the end of an attempt", err);
    if (rc == 0) {
        rc = s_expect_change(self, "record the end of an attempt", err);
    }
    return rc;
}

int
store_task_set_waiting(store_t *self,
                       uint64_t run_id,
                       const char *task_id,
                       const char *reason,
                       errbuf_t *err)
{
    assert(self && task_id);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_TASK_SET_WAITING, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    store_priv_bind_text(stmt, 2, task_id);
    store_priv_bind_text(stmt, 3, reason ? reason : "");
    return store_priv_exec(self, stmt, "record why a task waits", err);
}

int
store_attempt_stale(store_t *self,
                    uint64_t attempt_id,
                    const char *worker,
                    const char *detail,
                    int64_t now,
                    errbuf_t *err)
{
    assert(self);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_STALE_ADD, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    store_priv_bind_text(stmt, 2, worker);
    store_priv_bind_text(stmt, 3, detail);
    sqlite3_bind_int64(stmt, 4, now);
    return store_priv_exec(self, stmt, "record a stale result", err);
}

/* ----------------------------------------------------------------- logs */

int
store_log_append(store_t *self,
                 uint64_t attempt_id,
                 uint64_t seq,
                 int stream,
                 int64_t wall,
                 const void *data,
                 size_t size,
                 errbuf_t *err)
{
    assert(self && (data || size == 0));
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_LOG_ADD, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    sqlite3_bind_int64(stmt, 2, (int64_t) seq);
    sqlite3_bind_int(stmt, 3, stream);
    sqlite3_bind_int64(stmt, 4, wall);
    if (size == 0) {
        sqlite3_bind_zeroblob(stmt, 5, 0);
    } else {
        sqlite3_bind_blob64(stmt, 5, data, size, SQLITE_STATIC);
    }
    return store_priv_exec(self, stmt, "store a log chunk", err);
}

int
store_log_last_seq(store_t *self,
                   uint64_t attempt_id,
                   uint64_t *seq,
                   errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT coalesce(max(seq), 0) FROM log_chunks WHERE attempt_id = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    int rc = sqlite3_step(stmt);
    *seq = rc == SQLITE_ROW ? (uint64_t) sqlite3_column_int64(stmt, 0) : 0;
    store_priv_reset(stmt);
    return rc == SQLITE_ROW
               ? 0
               : store_priv_fail(self, rc, "read a log's end", err);
}

/* -------------------------------------------------------------- recovery */

/* Ids of the runs in queued or running state, oldest first. Collected
 * before any callback runs, so callbacks may write to the store. */
typedef struct {
    uint64_t *ids; /* owned by the caller of s_active_ids */
    size_t count;
    size_t cap;
} id_list_t;

static int
s_id_row(sqlite3_stmt *stmt, void *arg)
{
    id_list_t *list = arg;
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 16;
        list->ids = xrealloc(list->ids, list->cap * sizeof *list->ids);
    }
    list->ids[list->count++] = (uint64_t) sqlite3_column_int64(stmt, 0);
    return 0;
}

static int
s_active_ids(store_t *self, uint64_t **ids, size_t *count, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_ACTIVE_RUNS, err);
    if (!stmt) {
        return -1;
    }
    id_list_t list = {*ids, *count, *count};
    int ret = store_priv_each(self, stmt, s_id_row, &list, "list runs", err);
    *ids = list.ids;
    *count = list.count;
    return ret;
}

/* Owned copy of one active run, built row by row. */
typedef struct {
    store_run_row_t row; /* strings and arrays below are owned */
    dag_kv_t *params;
    store_task_row_t *tasks;
    size_t cap; /* of the array being filled (params, then tasks) */
} active_run_t;

static void
s_active_free(active_run_t *run)
{
    free((char *) run->row.dag);
    free((char *) run->row.version);
    free((char *) run->row.logical_date);
    free((char *) run->row.timezone);
    free((char *) run->row.trigger);
    for (size_t i = 0; i < run->row.nparams; i++) {
        free((char *) run->params[i].name);
        free((char *) run->params[i].value);
    }
    for (size_t i = 0; i < run->row.ntasks; i++) {
        free((char *) run->tasks[i].task_id);
        free((char *) run->tasks[i].worker);
    }
    free(run->params);
    free(run->tasks);
}

static int
s_param_row(sqlite3_stmt *stmt, void *arg)
{
    active_run_t *run = arg;
    if (run->row.nparams == run->cap) {
        run->cap = run->cap ? run->cap * 2 : 8;
        run->params = xrealloc(run->params, run->cap * sizeof *run->params);
    }
    dag_kv_t *kv = &run->params[run->row.nparams++];
    kv->name = xstrdup(store_priv_text(stmt, 0));
    kv->value = xstrdup(store_priv_text(stmt, 1));
    return 0;
}

static int
s_active_params(store_t *self, active_run_t *run, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_PARAMS, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run->row.run_id);
    run->cap = 0;
    int ret = store_priv_each(self, stmt, s_param_row, run, "read params", err);
    run->row.params = run->params;
    return ret;
}

static int
s_task_row(sqlite3_stmt *stmt, void *arg)
{
    active_run_t *run = arg;
    if (run->row.ntasks == run->cap) {
        run->cap = run->cap ? run->cap * 2 : 16;
        run->tasks = xrealloc(run->tasks, run->cap * sizeof *run->tasks);
    }
    store_task_row_t *task = &run->tasks[run->row.ntasks++];
    task_state_t state = TASK_PENDING;
    state_task_parse(store_priv_text(stmt, 1), &state);
    task->task_id = xstrdup(store_priv_text(stmt, 0));
    task->state = state;
    task->tries = (uint32_t) sqlite3_column_int64(stmt, 2);
    task->next_try_at = sqlite3_column_int64(stmt, 3);
    task->attempt_id = (uint64_t) sqlite3_column_int64(stmt, 5);
    task->worker = sqlite3_column_type(stmt, 6) == SQLITE_NULL
                       ? NULL
                       : xstrdup(store_priv_text(stmt, 6));
    return 0;
}

static int
s_active_tasks(store_t *self, active_run_t *run, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_TASKS, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run->row.run_id);
    run->cap = 0;
    int ret = store_priv_each(self, stmt, s_task_row, run, "read tasks", err);
    run->row.tasks = run->tasks;
    return ret;
}

/* Reads the run's own row; 1 when it no longer exists. */
static int
s_active_head(store_t *self, active_run_t *run, uint64_t run_id, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_GET, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    int rc = sqlite3_step(stmt);
    int ret = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        run_state_t state = RUN_QUEUED;
        state_run_parse(store_priv_text(stmt, 3), &state);
        run->row.run_id = run_id;
        run->row.dag = xstrdup(store_priv_text(stmt, 1));
        run->row.version = xstrdup(store_priv_text(stmt, 2));
        run->row.state = state;
        run->row.logical_date = xstrdup(store_priv_text(stmt, 4));
        run->row.has_interval = sqlite3_column_type(stmt, 9) != SQLITE_NULL;
        run->row.logical_at = sqlite3_column_int64(stmt, 9);
        run->row.interval_start = sqlite3_column_int64(stmt, 10);
        run->row.interval_end = sqlite3_column_int64(stmt, 11);
        run->row.timezone = xstrdup(store_priv_text(stmt, 12));
        run->row.trigger = xstrdup(store_priv_text(stmt, 5));
    } else if (ret < 0) {
        ret = store_priv_fail(self, rc, "read a run", err);
    }
    store_priv_reset(stmt);
    return ret;
}

/* Reads run_id with its params and tasks and calls fn; 1 when the run no
 * longer exists. */
static int
s_active_one(store_t *self,
             uint64_t run_id,
             store_active_fn *fn,
             void *arg,
             errbuf_t *err)
{
    active_run_t run = {0};
    int rc = s_active_head(self, &run, run_id, err);
    if (rc == 0) {
        rc = s_active_params(self, &run, err);
    }
    if (rc == 0) {
        rc = s_active_tasks(self, &run, err);
    }
    if (rc == 0) {
        rc = fn(arg, &run.row);
    }
    s_active_free(&run);
    return rc;
}

int
store_load_active(store_t *self, store_active_fn *fn, void *arg, errbuf_t *err)
{
    assert(self && fn);
    uint64_t *ids = NULL;
    size_t count = 0;
    int rc = s_active_ids(self, &ids, &count, err);
    for (size_t i = 0; rc >= 0 && i < count; i++) {
        rc = s_active_one(self, ids[i], fn, arg, err);
    }
    rc = rc < 0 ? rc : 0;
    free(ids);
    return rc;
}

int
store_load_run(store_t *self,
               uint64_t run_id,
               store_active_fn *fn,
               void *arg,
               errbuf_t *err)
{
    assert(self && fn);
    int rc = s_active_one(self, run_id, fn, arg, err);
    if (rc == 1) {
        errbuf_set(err,
                   "run %" PRIu64 " does not exist; list runs with "
                   "'sluice runs'",
                   run_id);
        return STORE_ENOTFOUND;
    }
    return rc;
}
