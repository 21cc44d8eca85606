/* audit — the event hash chain, signed results kept with their attempts,
 * and client roles (scheduler/store/store_audit.c, env_reopen). Tampering is done
 * the way an intruder would: sqlite3 on the file, after dropping the
 * append-only triggers. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/xalloc.h"
#include "proto/envelope.h"
#include "scheduler/store/store_audit.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_runs.h"
#include "tests/unit/suites.h"

static char s_dir[64];
static char s_db[96];

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-audit-XXXXXX");
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

/* A store with `n` events, closed again. */
static void
s_make_events(int n)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_ptr_nonnull(store);
    for (int i = 1; i <= n; i++) {
        char subject[32];
        snprintf(subject, sizeof subject, "run %d", i);
        ck_assert_int_eq(store_event(store, 1000 + i, "client", "trigger",
                                     subject, "hello", &err),
                         0);
    }
    store_destroy(&store);
}

/* Runs sql on the file directly, the append-only triggers dropped. */
static void
s_tamper(const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db,
                          "DROP TRIGGER IF EXISTS events_no_update;"
                          "DROP TRIGGER IF EXISTS events_no_delete;",
                          NULL, NULL, &msg);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    }
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_close(db);
}

static store_chain_t
s_verify(void)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_ptr_nonnull(store);
    store_chain_t chain;
    ck_assert_int_eq(store_events_verify(store, &chain, &err), 0);
    store_destroy(&store);
    return chain;
}

START_TEST(test_chain_intact)
{
    s_make_events(5);
    store_chain_t chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 0);
    ck_assert_str_eq(chain.problem, "");
    /* events: 5 written here (store_open writes none) */
    ck_assert_uint_eq(chain.events, 5);
    ck_assert_uint_eq(chain.unchained, 0);
    /* the chain goes on across a reopen */
    s_make_events(2);
    chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 0);
    ck_assert_uint_eq(chain.events, 7);
}

END_TEST

START_TEST(test_changed_row_is_found)
{
    s_make_events(5);
    s_tamper("UPDATE events SET detail = 'evil' WHERE id = 3");
    store_chain_t chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 3);
    ck_assert_ptr_nonnull(strstr(chain.problem, "changed"));
}

END_TEST

START_TEST(test_changed_and_rehashed_row_is_found)
{
    s_make_events(5);
    /* The intruder recomputes the changed row's own hash; the next row is
     * still chained to the old one. */
    char prev[STORE_HASH_HEX], hash[STORE_HASH_HEX];
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    sqlite3_stmt *stmt;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT prev_hash FROM events"
                                        " WHERE id = 3",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    snprintf(prev, sizeof prev, "%s", sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    store_event_hash(prev, 1003, "client", "trigger", "run 3", "evil", hash);
    char *sql = xasprintf(
        "UPDATE events SET detail = 'evil', hash = '%s' WHERE id = 3", hash);
    s_tamper(sql);
    free(sql);
    store_chain_t chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 3);
}

END_TEST

START_TEST(test_deleted_row_is_found)
{
    s_make_events(5);
    s_tamper("DELETE FROM events WHERE id = 3");
    store_chain_t chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 3);
    ck_assert_ptr_nonnull(strstr(chain.problem, "deleted"));
}

END_TEST

START_TEST(test_deleted_first_and_last_rows_are_found)
{
    s_make_events(5);
    s_tamper("DELETE FROM events WHERE id = 5");
    store_chain_t chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 5);
    ck_assert_ptr_nonnull(strstr(chain.problem, "deleted"));
    s_tamper("DELETE FROM events WHERE id = 1");
    chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 1);
}

END_TEST

START_TEST(test_inserted_row_is_found)
{
    s_make_events(5);
    /* Make room at id 3 and insert a row that is correctly hashed onto
     * row 2: row 4 (the old 3) is still chained to row 2. */
    char prev[STORE_HASH_HEX], hash[STORE_HASH_HEX];
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    sqlite3_stmt *stmt;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT hash FROM events WHERE id = 2",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    snprintf(prev, sizeof prev, "%s", sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    store_event_hash(prev, 1002, "client", "cancel", "run 1", "", hash);
    char *sql = xasprintf(
        "UPDATE events SET id = id + 1000 WHERE id >= 3;"
        "UPDATE events SET id = id - 999 WHERE id >= 1000;"
        "INSERT INTO events (id, at, actor, kind, subject, detail,"
        " prev_hash, hash) VALUES (3, 1002, 'client', 'cancel', 'run 1', '',"
        " '%s', '%s');",
        prev, hash);
    s_tamper(sql);
    free(sql);
    store_chain_t chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 3);
    ck_assert_ptr_nonnull(strstr(chain.problem, "inserted"));
}

END_TEST

START_TEST(test_appended_row_is_found)
{
    s_make_events(3);
    s_tamper("INSERT INTO events (at, actor, kind) VALUES (1, 'x', 'y')");
    store_chain_t chain = s_verify();
    ck_assert_uint_eq(chain.first_bad, 4);
}

END_TEST

/* --------------------------------------------------------- signed results */

/* A run with one attempt; returns the attempt id. */
static uint64_t
s_make_attempt(store_t *store)
{
    errbuf_t err;
    bool changed;
    ck_assert_int_eq(store_dag_put(store, "hello", "v1",
                                   "name: hello\ntasks:\n  - id: a\n",
                                   "hello.yaml", 1, &changed, &err),
                     0);
    uint64_t run_id = 0, attempt_id = 0;
    ck_assert_int_eq(store_run_create(store, "hello", "v1", NULL, 0,
                                      "2026-01-01", "manual", 1, &run_id, &err),
                     0);
    ck_assert_int_eq(
        store_task_create(store, run_id, "a", TASK_RUNNING, 1, &err), 0);
    ck_assert_int_eq(store_attempt_create(store, run_id, "a", 1, "w1",
                                          ATTEMPT_RUNNING, 1, &attempt_id,
                                          &err),
                     0);
    return attempt_id;
}

typedef struct {
    int rows;
    int ok;
    uint64_t named;
} s_seen_t;

/* Re-opens each stored result the way 'sluice verify' does. */
static int
s_on_signed(void *arg, const store_signed_row_t *row)
{
    s_seen_t *seen = arg;
    seen->rows++;
    uint8_t signer[KEYS_PUBLIC_SIZE];
    ck_assert_int_eq(keys_public_from_hex(row->signer_hex, signer), 0);
    env_msg_t env;
    errbuf_t err;
    if (env_reopen(row->signed_bytes, row->signed_size, signer, row->sig, &env,
                   &err) == ENV_OK) {
        seen->ok++;
        seen->named = ((Sluice__Result *) env.body)->attempt_id;
        env_msg_clear(&env);
    }
    return 0;
}

/* Flips the low bit of byte `at` of attempt 1's blob column `column`. */
static void
s_flip_bit(const char *column, int at)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(s_db, &db), SQLITE_OK);
    char *sql = xasprintf("SELECT %s FROM attempts WHERE id = 1", column);
    sqlite3_stmt *stmt;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    free(sql);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    int size = sqlite3_column_bytes(stmt, 0);
    ck_assert_int_gt(size, at);
    uint8_t *blob = xmalloc((size_t) size);
    memcpy(blob, sqlite3_column_blob(stmt, 0), (size_t) size);
    sqlite3_finalize(stmt);
    blob[at] ^= 1;
    sql = xasprintf("UPDATE attempts SET %s = ?1 WHERE id = 1", column);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    free(sql);
    sqlite3_bind_blob(stmt, 1, blob, size, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    free(blob);
    sqlite3_close(db);
}

START_TEST(test_signed_result_round_trip)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_ptr_nonnull(store);
    uint64_t attempt_id = s_make_attempt(store);
    /* The worker seals, the scheduler opens and keeps what was signed. */
    keys_t *worker = keys_generate();
    Sluice__Result result = SLUICE__RESULT__INIT;
    result.attempt_id = attempt_id;
    result.outcome = SLUICE__OUTCOME__OUTCOME_EXITED;
    zmsg_t *msg = env_seal(SLUICE__MSG_TYPE__MSG_RESULT, &result.base, worker);
    env_msg_t env;
    ck_assert_int_eq(env_open(msg, NULL, NULL, &env, &err), ENV_OK);
    ck_assert_ptr_nonnull(env.signed_bytes);
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(env.signer, hex);
    ck_assert_int_eq(
        store_attempt_sig_matches(store, attempt_id, env.sig, &err), 0);
    ck_assert_int_eq(store_attempt_sign(store, attempt_id, env.signed_bytes,
                                        env.signed_size, env.sig, hex, &err),
                     0);
    /* the same message again is recognised */
    ck_assert_int_eq(
        store_attempt_sig_matches(store, attempt_id, env.sig, &err), 1);
    ck_assert_int_eq(store_attempt_kept(store, attempt_id, env.sig, hex, &err),
                     STORE_KEPT_SAME);
    /* its worker sending it again under another signature (a new batch),
     * and another signer's result for the attempt */
    uint8_t other_sig[KEYS_SIG_SIZE];
    memcpy(other_sig, env.sig, sizeof other_sig);
    other_sig[0] ^= 0x01;
    ck_assert_int_eq(
        store_attempt_kept(store, attempt_id, other_sig, hex, &err),
        STORE_KEPT_OTHER);
    ck_assert_int_eq(
        store_attempt_kept(store, attempt_id, other_sig, "00", &err),
        STORE_KEPT_NONE);
    ck_assert_int_eq(
        store_attempt_kept(store, attempt_id + 100, env.sig, hex, &err),
        STORE_KEPT_NONE);
    env_msg_clear(&env);
    zmsg_destroy(&msg);
    keys_destroy(&worker);
    s_seen_t seen = {0};
    ck_assert_int_eq(store_run_signed(store, 1, s_on_signed, &seen, &err), 0);
    ck_assert_int_eq(seen.rows, 1);
    ck_assert_int_eq(seen.ok, 1);
    ck_assert_uint_eq(seen.named, attempt_id);
    ck_assert_int_eq(store_run_signed(store, 99, s_on_signed, &seen, &err),
                     STORE_ENOTFOUND);
    store_destroy(&store);

    /* One flipped bit in the stored body: it no longer verifies. */
    s_flip_bit("result_signed", 4);
    store = store_open(s_db, &err);
    ck_assert_ptr_nonnull(store);
    seen = (s_seen_t){0};
    ck_assert_int_eq(store_run_signed(store, 1, s_on_signed, &seen, &err), 0);
    ck_assert_int_eq(seen.rows, 1);
    ck_assert_int_eq(seen.ok, 0);
    store_destroy(&store);
    /* flipped back, then a bit of the signature: still refused */
    s_flip_bit("result_signed", 4);
    s_flip_bit("result_sig", 10);
    store = store_open(s_db, &err);
    ck_assert_ptr_nonnull(store);
    seen = (s_seen_t){0};
    ck_assert_int_eq(store_run_signed(store, 1, s_on_signed, &seen, &err), 0);
    ck_assert_int_eq(seen.ok, 0);
    store_destroy(&store);
}

END_TEST

START_TEST(test_client_roles)
{
    errbuf_t err;
    store_t *store = store_open(s_db, &err);
    ck_assert_ptr_nonnull(store);
    const char *hex =
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char role[16];
    ck_assert_int_eq(store_client_role(store, hex, role, sizeof role, &err), 0);
    bool replaced = true;
    ck_assert_int_eq(
        store_client_put(store, hex, "viewer", "ann", 1, &replaced, &err), 0);
    ck_assert(!replaced);
    ck_assert_int_eq(store_client_role(store, hex, role, sizeof role, &err), 1);
    ck_assert_str_eq(role, "viewer");
    ck_assert_int_eq(
        store_client_put(store, hex, "operator", "", 2, &replaced, &err), 0);
    ck_assert(replaced);
    ck_assert_int_eq(store_client_role(store, hex, role, sizeof role, &err), 1);
    ck_assert_str_eq(role, "operator");
    /* no third role */
    ck_assert_int_lt(store_client_put(store, hex, "root", "", 3, NULL, &err),
                     0);
    store_destroy(&store);
}

END_TEST

Suite *
audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_chain_intact);
    tcase_add_test(tc, test_changed_row_is_found);
    tcase_add_test(tc, test_changed_and_rehashed_row_is_found);
    tcase_add_test(tc, test_deleted_row_is_found);
    tcase_add_test(tc, test_deleted_first_and_last_rows_are_found);
    tcase_add_test(tc, test_inserted_row_is_found);
    tcase_add_test(tc, test_appended_row_is_found);
    tcase_add_test(tc, test_signed_result_round_trip);
    tcase_add_test(tc, test_client_roles);
    suite_add_tcase(s, tc);
    return s;
}
