#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_keys.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_query.h"
#include "scheduler/store/store_results.h"
#include "scheduler/store/store_runs.h"
#include "scheduler/store/store_workers.h"
#include "tests/unit/suites.h"

/* A fresh temp dir per test, holding store.db and its WAL files. */
static char s_dir[64];
static char s_db[96];

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    snprintf(s_db, sizeof s_db, "%s/store.db", s_dir);
}

static void
s_teardown(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *path = xasprintf("%s%s", s_db, suffixes[i]);
        unlink(path);
        free(path);
    }
    rmdir(s_dir);
}

static const char *const s_source = "name: hello\ntasks:\n  - id: a\n";

/* Puts DAG hello and a run of it with tasks a and b; returns the run id. */
static uint64_t
s_make_run(store_t *store, int64_t now)
{
    errbuf_t err;
    bool changed;
    ck_assert_int_eq(store_dag_put(store, "hello", "v1", s_source, "hello.yaml",
                                   now, &changed, &err),
                     0);
    dag_kv_t params[] = {{"model", "small"}, {"epochs", "3"}};
    uint64_t run_id = 0;
    ck_assert_int_eq(store_run_create(store, "hello", "v1", params, 2,
                                      "2026-11-26", "manual", now, &run_id,
                                      &err),
                     0);
    ck_assert_int_eq(
        store_task_create(store, run_id, "a", TASK_PENDING, now, &err), 0);
    ck_assert_int_eq(
        store_task_create(store, run_id, "b", TASK_PENDING, now, &err), 0);
    return run_id;
}

typedef struct {
    int calls;
    uint64_t run_id;
    char params[128];
    char tasks[256];
} seen_t;

static int
s_on_detail(void *arg, const store_run_detail_t *d)
{
    seen_t *seen = arg;
    seen->calls++;
    seen->run_id = d->run.run_id;
    for (size_t i = 0; i < d->nparams; i++) {
        size_t len = strlen(seen->params);
        snprintf(seen->params + len, sizeof seen->params - len, "%s=%s;",
                 d->params[i].name, d->params[i].value);
    }
    for (size_t i = 0; i < d->ntasks; i++) {
        const store_task_info_t *t = &d->tasks[i];
        size_t len = strlen(seen->tasks);
        snprintf(seen->tasks + len, sizeof seen->tasks - len, "%s:%s:%zu",
                 t->task_id, state_task_name(t->state), t->nattempts);
        for (size_t k = 0; k < t->nattempts; k++) {
            len = strlen(seen->tasks);
            snprintf(seen->tasks + len, sizeof seen->tasks - len,
                     "[%u %s %s %d %s]", t->attempts[k].number,
                     t->attempts[k].worker,
                     state_attempt_name(t->attempts[k].state),
                     t->attempts[k].exit_code, t->attempts[k].error);
        }
        len = strlen(seen->tasks);
        snprintf(seen->tasks + len, sizeof seen->tasks - len, ";");
    }
    return 0;
}

typedef struct {
    char text[1024];
    size_t chunks;
    uint64_t last_seq;
} logs_t;

static int
s_on_log(void *arg, const store_log_row_t *chunk)
{
    logs_t *logs = arg;
    size_t len = strlen(logs->text);
    snprintf(logs->text + len, sizeof logs->text - len, "%.*s",
             (int) chunk->size, (const char *) chunk->data);
    logs->chunks++;
    logs->last_seq = chunk->seq;
    return 0;
}

START_TEST(test_store_usage)
{
    /* The scheduler opens the store, records a DAG, a run, its tasks and an
     * attempt with its logs in one transaction, commits, and everything is
     * there after a restart. */
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_msg(store, "%s", err.msg);
    ck_assert_int_eq(store_schema_version(store), STORE_SCHEMA_VERSION);

    ck_assert_int_eq(store_begin(store, &err), 0);
    uint64_t run_id = s_make_run(store, 1000);
    ck_assert_int_eq(
        store_run_set_state(store, run_id, RUN_RUNNING, 1001, &err), 0);
    ck_assert_int_eq(store_task_set_state(store, run_id, "a", TASK_RUNNING, 1,
                                          0, 1002, &err),
                     0);
    uint64_t attempt_id = 0;
    ck_assert_int_eq(store_attempt_create(store, run_id, "a", 1, "w1",
                                          ATTEMPT_RUNNING, 1002, &attempt_id,
                                          &err),
                     0);
    ck_assert_int_eq(
        store_log_append(store, attempt_id, 1, 1, 1003, "hello ", 6, &err), 0);
    ck_assert_int_eq(
        store_log_append(store, attempt_id, 2, 2, 1004, "world", 5, &err), 0);
    store_attempt_end_t end = {.state = ATTEMPT_SUCCESS,
                               .exit_code = 0,
                               .started_at = 1002,
                               .ended_at = 1005,
                               .duration_ms = 3,
                               .peak_rss_kb = 2048};
    ck_assert_int_eq(store_attempt_finish(store, attempt_id, &end, &err), 0);
    ck_assert_int_eq(store_task_set_state(store, run_id, "a", TASK_SUCCESS, 1,
                                          0, 1005, &err),
                     0);
    ck_assert_int_eq(
        store_event(store, 1000, "cli", "trigger", "run 1", "dag hello", &err),
        0);
    ck_assert_int_eq(store_commit(store, &err), 0);
    store_destroy(&store);
    ck_assert_ptr_null(store);
    store_destroy(&store); /* accepts NULL */

    store = store_open(s_db, &err);
    ck_assert_msg(store, "%s", err.msg);
    seen_t seen = {0};
    ck_assert_int_eq(store_run_show(store, run_id, s_on_detail, &seen, &err),
                     0);
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_str_eq(seen.params, "model=small;epochs=3;");
    ck_assert_str_eq(seen.tasks, "a:success:1[1 w1 success 0 ];b:pending:0;");
    logs_t logs = {0};
    bool more = true;
    ck_assert_int_eq(store_log_read(store, attempt_id, 0, 1 << 20, s_on_log,
                                    &logs, &more, &err),
                     0);
    ck_assert_str_eq(logs.text, "hello world");
    ck_assert(!more);
    char *version = NULL;
    char *source = store_dag_source(store, "hello", NULL, &version, &err);
    ck_assert_str_eq(source, s_source);
    ck_assert_str_eq(version, "v1");
    free(source);
    free(version);
    store_destroy(&store);
}

END_TEST

/* Migration 1 exactly as released: an old sluice made databases like this. */
static const char *const s_schema_v1 =
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
    " BEGIN SELECT RAISE (ABORT, 'events are append-only'); END;";

START_TEST(test_store_migrates_from_v1)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, s_schema_v1, NULL, NULL, NULL),
                     SQLITE_OK);
    const char *rows =
        "PRAGMA user_version = 1;"
        "INSERT INTO dags VALUES ('old', 'v0', 1, 1);"
        "INSERT INTO dag_versions VALUES ('old', 'v0', 'name: old', "
        "'old.yaml', 1);"
        "INSERT INTO runs (dag, version, state, created_at)"
        " VALUES ('old', 'v0', 'running', 5);"
        "INSERT INTO task_instances VALUES (1, 't', 'running', 1, 0, 5);"
        "INSERT INTO attempts (run_id, task_id, number, worker, state,"
        " created_at) VALUES (1, 't', 1, 'w9', 'running', 5);";
    ck_assert_int_eq(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_msg(store, "%s", err.msg);
    ck_assert_int_eq(store_schema_version(store), STORE_SCHEMA_VERSION);
    store_attempt_row_t attempt;
    task_state_t task_state;
    ck_assert_int_eq(
        store_attempt_find(store, 1, "t", 0, &attempt, &task_state, &err), 0);
    ck_assert_uint_eq(attempt.attempt_id, 1);
    ck_assert_uint_eq(attempt.peak_rss_kb, 0);
    ck_assert_int_eq(task_state, TASK_RUNNING);
    /* What migration 2 added works on the old rows. */
    store_attempt_end_t end = {.state = ATTEMPT_FAILED,
                               .exit_code = 1,
                               .ended_at = 9,
                               .peak_rss_kb = 77,
                               .error = "boom"};
    ck_assert_int_eq(store_attempt_finish(store, 1, &end, &err), 0);
    ck_assert_int_eq(store_attempt_get(store, 1, &attempt, &err), 0);
    ck_assert_uint_eq(attempt.peak_rss_kb, 77);
    ck_assert_int_eq(attempt.state, ATTEMPT_FAILED);
    store_destroy(&store);

    /* A newer schema than we know is refused, with advice. */
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(db);
    store = store_open(s_db, &err);
    ck_assert_ptr_null(store);
    ck_assert_ptr_nonnull(strstr(err.msg, "run a newer sluice"));
}

END_TEST

static int
s_name_row(void *arg, const char *name, const char *sign_hex)
{
    char *out = arg;
    size_t len = strlen(out);
    snprintf(out + len, 256 - len, "%s=%s;", name, sign_hex);
    return 0;
}

static int
s_admin_row(void *arg, const store_worker_admin_t *row)
{
    char *out = arg;
    size_t len = strlen(out);
    snprintf(out + len, 256 - len, "%s:%s;", row->name, row->admin);
    return 0;
}

/* Migration 13 binds each accepted worker key's last name (one key per
 * name: the most recently seen wins) and keeps a stored drain. */
START_TEST(test_store_migration_binds_worker_names)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_msg(store, "%s", err.msg);
    store_destroy(&store);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    const char *v12 = /* every later migration undone too */
        "DROP TABLE attempt_results;"
        "DROP TABLE api_tokens;"
        "DROP TABLE worker_names;"
        "ALTER TABLE workers DROP COLUMN admin;"
        "PRAGMA user_version = 12;"
        "INSERT INTO transport_keys (curve_hex, kind, state, name, sign_hex,"
        " first_seen, last_seen) VALUES"
        " ('c1', 'worker', 'accepted', 'w1', 'k1', 1, 10),"
        " ('c2', 'worker', 'accepted', 'w1', 'k2', 1, 20),"
        " ('c3', 'worker', 'accepted', 'w3', 'k3', 1, 5),"
        " ('c4', 'worker', 'revoked', 'w4', 'k4', 1, 5),"
        " ('c5', 'worker', 'pending', 'w5', '', 1, 5);"
        "INSERT INTO workers (name, state, first_seen, last_seen) VALUES"
        " ('w1', 'draining', 1, 1), ('w3', 'lost', 1, 1);";
    ck_assert_int_eq(sqlite3_exec(db, v12, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    store = store_open(s_db, &err);
    ck_assert_msg(store, "%s", err.msg);
    char names[256] = "", admin[256] = "";
    ck_assert_int_eq(store_name_list(store, s_name_row, names, &err), 0);
    ck_assert_str_eq(names, "w1=k2;w3=k3;");
    ck_assert_int_eq(store_workers_admin(store, s_admin_row, admin, &err), 0);
    ck_assert_str_eq(admin, "w1:draining;");
    /* One name per key and one key per name, from now on too. */
    ck_assert_int_lt(store_name_bind(store, "w9", "k3", "t", 30, &err), 0);
    ck_assert_int_lt(store_name_bind(store, "w3", "k9", "t", 30, &err), 0);
    ck_assert_int_eq(store_name_release(store, "k3", 30, &err), 0);
    ck_assert_int_eq(store_name_bind(store, "w3", "k9", "t", 31, &err), 0);
    store_destroy(&store);
}

END_TEST

/* Runs one SQL statement on a second connection; returns the SQLite code
 * and the first column of the first row in out (if any). */
static int
s_sql(const char *sql, char *out, size_t size)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW && out) {
            snprintf(out, size, "%s", sqlite3_column_text(stmt, 0));
        }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rc;
}

START_TEST(test_store_wal_and_append_only_events)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_msg(store, "%s", err.msg);
    ck_assert_int_eq(store_event(store, 1, "operator", "key_accepted",
                                 "worker w1", "", &err),
                     0);
    char mode[16] = "";
    ck_assert_int_eq(s_sql("PRAGMA journal_mode", mode, sizeof mode),
                     SQLITE_ROW);
    ck_assert_str_eq(mode, "wal");
    ck_assert_int_eq(s_sql("UPDATE events SET actor = 'x'", NULL, 0),
                     SQLITE_CONSTRAINT);
    ck_assert_int_eq(s_sql("DELETE FROM events", NULL, 0), SQLITE_CONSTRAINT);
    char count[16] = "";
    s_sql("SELECT count(*) FROM events", count, sizeof count);
    ck_assert_str_eq(count, "1");
    store_destroy(&store);
}

END_TEST

START_TEST(test_store_duplicate_log_chunk_ignored)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    uint64_t run_id = s_make_run(store, 1);
    uint64_t attempt_id;
    ck_assert_int_eq(store_attempt_create(store, run_id, "a", 1, "w1",
                                          ATTEMPT_RUNNING, 2, &attempt_id,
                                          &err),
                     0);
    ck_assert_int_eq(
        store_log_append(store, attempt_id, 1, 1, 3, "one", 3, &err), 0);
    /* The worker resends after a reconnect: the first copy wins. */
    ck_assert_int_eq(
        store_log_append(store, attempt_id, 1, 1, 4, "ONE", 3, &err), 0);
    ck_assert_int_eq(store_log_append(store, attempt_id, 2, 1, 5, "", 0, &err),
                     0);
    ck_assert_int_eq(
        store_log_append(store, attempt_id, 3, 1, 6, "two", 3, &err), 0);
    logs_t logs = {0};
    ck_assert_int_eq(
        store_log_read(store, attempt_id, 0, 1024, s_on_log, &logs, NULL, &err),
        0);
    ck_assert_str_eq(logs.text, "onetwo");
    ck_assert_uint_eq(logs.chunks, 3);
    /* Paging: at most 1 byte still passes one chunk. */
    memset(&logs, 0, sizeof logs);
    bool more = false;
    ck_assert_int_eq(
        store_log_read(store, attempt_id, 2, 1, s_on_log, &logs, &more, &err),
        0);
    ck_assert_str_eq(logs.text, "two");
    ck_assert(!more);
    memset(&logs, 0, sizeof logs);
    ck_assert_int_eq(
        store_log_read(store, attempt_id, 0, 3, s_on_log, &logs, &more, &err),
        0);
    ck_assert_uint_eq(logs.chunks, 2); /* "one" then "" fit; "two" waits */
    ck_assert(more);
    /* A chunk for an attempt that does not exist is refused. */
    ck_assert_int_eq(store_log_append(store, 999, 1, 1, 3, "x", 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "log chunk"));
    store_destroy(&store);
}

END_TEST

typedef struct {
    int runs;
    char text[512];
} active_t;

static int
s_on_active(void *arg, const store_run_row_t *run)
{
    active_t *a = arg;
    a->runs++;
    size_t len = strlen(a->text);
    snprintf(a->text + len, sizeof a->text - len, "run %s %s p%zu:", run->dag,
             state_run_name(run->state), run->nparams);
    for (size_t i = 0; i < run->ntasks; i++) {
        const store_task_row_t *t = &run->tasks[i];
        len = strlen(a->text);
        snprintf(a->text + len, sizeof a->text - len, " %s/%s/%u/%s",
                 t->task_id, state_task_name(t->state), t->tries,
                 t->worker ? t->worker : "-");
    }
    len = strlen(a->text);
    snprintf(a->text + len, sizeof a->text - len, ";");
    return 0;
}

START_TEST(test_store_stale_results_are_bounded)
{
    /* One row per attempt however often it comes, none for made-up ids. */
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    uint64_t run_id = s_make_run(store, 1);
    uint64_t attempt_id;
    ck_assert_int_eq(store_attempt_create(store, run_id, "a", 1, "w1",
                                          ATTEMPT_RUNNING, 2, &attempt_id,
                                          &err),
                     0);
    for (uint64_t i = 0; i < 100; i++) {
        ck_assert_int_eq(
            store_attempt_stale(store, attempt_id, "w2", "late", 3, &err), 0);
        ck_assert_int_eq(
            store_attempt_stale(store, 100000 + i, "w2", "made up", 3, &err),
            0);
    }
    store_destroy(&store);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM stale_results",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(stmt, 0), 1);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

END_TEST

START_TEST(test_store_load_active)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_int_eq(store_begin(store, &err), 0);
    uint64_t done = s_make_run(store, 1);
    ck_assert_int_eq(store_run_set_state(store, done, RUN_SUCCESS, 2, &err), 0);
    uint64_t live = s_make_run(store, 3);
    ck_assert_int_eq(store_run_set_state(store, live, RUN_RUNNING, 4, &err), 0);
    /* a: tried on w1 (lost), now running on w2; b: failed once on w3, up for
     * retry, so no current attempt. */
    uint64_t id1, id2, id3;
    store_attempt_create(store, live, "a", 1, "w1", ATTEMPT_RUNNING, 5, &id1,
                         &err);
    store_attempt_end_t lost = {.state = ATTEMPT_LOST, .exit_code = -1};
    store_attempt_finish(store, id1, &lost, &err);
    store_attempt_create(store, live, "a", 2, "w2", ATTEMPT_RUNNING, 6, &id2,
                         &err);
    store_task_set_state(store, live, "a", TASK_RUNNING, 2, 0, 6, &err);
    store_attempt_create(store, live, "b", 1, "w3", ATTEMPT_RUNNING, 5, &id3,
                         &err);
    store_task_set_state(store, live, "b", TASK_UP_FOR_RETRY, 1, 99, 6, &err);
    ck_assert_int_eq(store_commit(store, &err), 0);

    active_t a = {0};
    ck_assert_int_eq(store_load_active(store, s_on_active, &a, &err), 0);
    ck_assert_int_eq(a.runs, 1);
    ck_assert_str_eq(a.text, "run hello running p2: a/running/2/w2"
                             " b/up_for_retry/1/-;");
    store_destroy(&store);
}

END_TEST

static int
s_limit_pages(sqlite3 *db, char **msg, const void *api)
{
    (void) msg;
    (void) api;
    sqlite3_exec(db, "PRAGMA max_page_count = 128", NULL, NULL, NULL);
    return SQLITE_OK;
}

START_TEST(test_store_full_disk)
{
    /* A database that may not grow past 128 pages stands in for a full
     * disk: SQLite answers SQLITE_FULL exactly as it does for ENOSPC. */
    sqlite3_auto_extension((void (*)(void)) s_limit_pages);
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_msg(store, "%s", err.msg);
    uint64_t run_id = s_make_run(store, 1);
    uint64_t attempt_id;
    store_attempt_create(store, run_id, "a", 1, "w1", ATTEMPT_RUNNING, 2,
                         &attempt_id, &err);
    ck_assert_int_eq(store_begin(store, &err), 0);
    char data[4096];
    memset(data, 'x', sizeof data);
    int rc = 0;
    for (uint64_t seq = 1; seq <= 1000 && rc == 0; seq++) {
        rc = store_log_append(store, attempt_id, seq, 1, 3, data, sizeof data,
                              &err);
    }
    ck_assert_int_eq(rc, STORE_EFULL);
    ck_assert_ptr_nonnull(strstr(err.msg, "is full"));
    ck_assert_ptr_nonnull(strstr(err.msg, "free space"));
    errbuf_clear(&err);
    ck_assert_int_eq(store_commit(store, &err), STORE_EFULL);
    ck_assert_ptr_nonnull(strstr(err.msg, "is full"));
    /* The store is still usable for what fits. */
    ck_assert_int_eq(store_event(store, 4, "sched", "disk_full", "", "", &err),
                     0);
    store_destroy(&store);
    sqlite3_reset_auto_extension();
}

END_TEST

START_TEST(test_store_not_found)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    seen_t seen = {0};
    ck_assert_int_eq(store_run_show(store, 42, s_on_detail, &seen, &err),
                     STORE_ENOTFOUND);
    ck_assert_str_eq(err.msg, "run 42 does not exist; list runs with "
                              "'sluice runs'");
    ck_assert_int_eq(seen.calls, 0);
    uint64_t run_id = s_make_run(store, 1);
    store_attempt_row_t attempt;
    task_state_t state;
    ck_assert_int_eq(
        store_attempt_find(store, run_id, "zz", 0, &attempt, &state, &err),
        STORE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "has no task 'zz'"));
    ck_assert_int_eq(
        store_attempt_find(store, run_id, "a", 0, &attempt, &state, &err),
        STORE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "has not started yet"));
    ck_assert_int_eq(store_dag_get(store, "nope", NULL, NULL, &err),
                     STORE_ENOTFOUND);
    ck_assert_int_eq(store_dag_get(store, "hello", NULL, NULL, &err), 0);
    ck_assert_ptr_null(store_dag_source(store, "nope", NULL, NULL, &err));
    ck_assert_int_eq(
        store_task_set_state(store, 77, "a", TASK_QUEUED, 0, 0, 1, &err), -1);
    store_destroy(&store);
}

END_TEST

typedef struct {
    int count;
    uint64_t ids[8];
    uint32_t running[8];
} runs_seen_t;

static int
s_on_run(void *arg, const store_run_info_t *run)
{
    runs_seen_t *r = arg;
    r->running[r->count] = run->counts[TASK_PENDING];
    r->ids[r->count++] = run->run_id;
    return 0;
}

START_TEST(test_store_runs_list)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    for (int i = 0; i < 3; i++) {
        s_make_run(store, i);
    }
    runs_seen_t r = {0};
    ck_assert_int_eq(store_runs_list(store, "hello", 2, s_on_run, &r, &err), 0);
    ck_assert_int_eq(r.count, 2);
    ck_assert_uint_eq(r.ids[0], 3); /* newest first */
    ck_assert_uint_eq(r.ids[1], 2);
    ck_assert_uint_eq(r.running[0], 2);
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(store_runs_list(store, "other", 5, s_on_run, &r, &err), 0);
    ck_assert_int_eq(r.count, 0);
    store_destroy(&store);
}

END_TEST

/* A task's JSON result is kept with its attempt; downstream templates read
 * the one of the task's latest successful attempt. */
START_TEST(test_store_results)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_msg(store, "%s", err.msg);
    uint64_t run_id = s_make_run(store, 1000);
    uint64_t ids[3] = {0};
    const attempt_state_t states[3] = {ATTEMPT_SUCCESS, ATTEMPT_SUCCESS,
                                       ATTEMPT_FAILED};
    for (uint32_t i = 0; i < 3; i++) {
        ck_assert_int_eq(store_attempt_create(store, run_id, "a", i + 1, "w1",
                                              ATTEMPT_RUNNING, 1001, &ids[i],
                                              &err),
                         0);
        store_attempt_end_t end = {.state = states[i], .ended_at = 1002};
        ck_assert_int_eq(store_attempt_finish(store, ids[i], &end, &err), 0);
    }
    char *json = NULL;
    ck_assert_int_eq(store_results_latest(store, run_id, "a", &json, &err), 0);
    ck_assert_ptr_null(json); /* none left one */
    ck_assert_int_eq(store_results_put(store, ids[0], "{\"n\":1}", &err), 0);
    ck_assert_int_eq(store_results_put(store, ids[1], "{\"n\":2}", &err), 0);
    ck_assert_int_eq(store_results_put(store, ids[2], "{\"n\":3}", &err), 0);
    ck_assert_int_eq(store_results_put(store, ids[1], "{\"n\":22}", &err), 0);
    ck_assert_int_eq(store_results_latest(store, run_id, "a", &json, &err), 0);
    ck_assert_str_eq(json, "{\"n\":22}"); /* not the failed attempt 3 */
    free(json);
    ck_assert_int_eq(store_results_get(store, ids[0], &json, &err), 0);
    ck_assert_str_eq(json, "{\"n\":1}");
    free(json);
    ck_assert_int_eq(store_results_latest(store, run_id, "b", &json, &err), 0);
    ck_assert_ptr_null(json);
    store_destroy(&store);
}

END_TEST

Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_store_usage);
    tcase_add_test(tc, test_store_migrates_from_v1);
    tcase_add_test(tc, test_store_migration_binds_worker_names);
    tcase_add_test(tc, test_store_results);
    tcase_add_test(tc, test_store_wal_and_append_only_events);
    tcase_add_test(tc, test_store_duplicate_log_chunk_ignored);
    tcase_add_test(tc, test_store_stale_results_are_bounded);
    tcase_add_test(tc, test_store_load_active);
    tcase_add_test(tc, test_store_full_disk);
    tcase_add_test(tc, test_store_not_found);
    tcase_add_test(tc, test_store_runs_list);
    suite_add_tcase(s, tc);
    return s;
}
