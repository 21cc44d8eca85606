/* store_audit — integrity tables (migration 5): client keys and roles,
 * signed results kept with their attempts, and the hash chain that makes
 * the event table tamper-evident.
 *
 * The chain: each event row stores prev_hash (the hash of the row before
 * it; all zeros for the first chained row) and hash = BLAKE2b-256 over
 * prev_hash and the row's fields. Ids come from AUTOINCREMENT and are
 * never reused, so a walk in id order finds a changed row (its hash does
 * not match), a deleted one (a gap in the ids, or a link that does not
 * match) and an inserted one (the row after it is chained to the row
 * before it). Rows deleted from the end leave sqlite_sequence ahead of the
 * last id. Anyone who can rewrite the whole database can also recompute
 * the chain: it proves that rows were not edited by hand, not who wrote
 * them (see docs/security.md). */
#include "scheduler/store/store_audit.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/xalloc.h"
#include "scheduler/store/store_priv.h"

#define S_HASH_SIZE 32
#define S_GENESIS                                                              \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* ------------------------------------------------------------- clients */

static int
s_client_known(store_t *self,
               const char *public_hex,
               bool *known,
               errbuf_t *err)
{
    char role[16];
    int rc = store_client_role(self, public_hex, role, sizeof role, err);
    *known = rc == 1;
    return rc < 0 ? -1 : 0;
}

int
store_client_put(store_t *self,
                 const char *public_hex,
                 const char *role,
                 const char *name,
                 int64_t now,
                 bool *replaced,
                 errbuf_t *err)
{
    assert(self && public_hex && role);
    bool known = false;
    if (s_client_known(self, public_hex, &known, err) < 0) {
        return -1;
    }
    if (replaced) {
        *replaced = known;
    }
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO client_keys (public_hex, role, name, added_at)"
        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (public_hex) DO UPDATE SET"
        " role = excluded.role, name = CASE WHEN excluded.name = ''"
        " THEN name ELSE excluded.name END",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, public_hex);
    store_priv_bind_text(stmt, 2, role);
    store_priv_bind_text(stmt, 3, name);
    sqlite3_bind_int64(stmt, 4, now);
    return store_priv_exec(self, stmt, "record a client key", err);
}

int
store_client_role(store_t *self,
                  const char *public_hex,
                  char *role,
                  size_t size,
                  errbuf_t *err)
{
    assert(self && public_hex && role && size > 0);
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT role FROM client_keys WHERE public_hex = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, public_hex);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        snprintf(role, size, "%s", store_priv_text(stmt, 0));
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read a client key", err);
    }
    return rc == SQLITE_ROW ? 1 : 0;
}

int
store_client_by_name(store_t *self,
                     const char *name,
                     char *public_hex,
                     errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "SELECT public_hex FROM client_keys WHERE name = ?1"
                       " ORDER BY added_at DESC LIMIT 1",
                       err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        snprintf(public_hex, 65, "%s", store_priv_text(stmt, 0));
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read a client key", err);
    }
    return rc == SQLITE_ROW ? 1 : 0;
}

int
store_client_remove(store_t *self, const char *public_hex, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "DELETE FROM client_keys WHERE public_hex = ?1", err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, public_hex);
    return store_priv_exec(self, stmt, "forget a client key", err);
}

/* ------------------------------------------------------- signed results */

int
store_attempt_sign(store_t *self,
                   uint64_t attempt_id,
                   const void *signed_bytes,
                   size_t size,
                   const uint8_t *sig,
                   const char *signer_hex,
                   errbuf_t *err)
{
    assert(self && signed_bytes && sig && signer_hex);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "UPDATE attempts SET result_signed = ?2, result_sig = ?3,"
        " result_signer = ?4 WHERE id = ?1 AND result_sig IS NULL",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    sqlite3_bind_blob(stmt, 2, signed_bytes, (int) size, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 3, sig, crypto_sign_BYTES, SQLITE_STATIC);
    store_priv_bind_text(stmt, 4, signer_hex);
    return store_priv_exec(self, stmt, "store a signed result", err);
}

int
store_attempt_kept(store_t *self,
                   uint64_t attempt_id,
                   const uint8_t *sig,
                   const char *signer_hex,
                   errbuf_t *err)
{
    assert(self && sig && signer_hex);
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT result_sig, result_signer FROM attempts WHERE id = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    int rc = sqlite3_step(stmt);
    int kept = STORE_KEPT_NONE;
    if (rc == SQLITE_ROW &&
        sqlite3_column_bytes(stmt, 0) == crypto_sign_BYTES) {
        const char *signer = (const char *) sqlite3_column_text(stmt, 1);
        if (memcmp(sqlite3_column_blob(stmt, 0), sig, crypto_sign_BYTES) == 0) {
            kept = STORE_KEPT_SAME;
        } else if (signer && strcmp(signer, signer_hex) == 0) {
            kept = STORE_KEPT_OTHER;
        }
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read a signed result", err);
    }
    return kept;
}

int
store_attempt_sig_matches(store_t *self,
                          uint64_t attempt_id,
                          const uint8_t *sig,
                          errbuf_t *err)
{
    int kept = store_attempt_kept(self, attempt_id, sig, "", err);
    return kept < 0 ? -1 : kept == STORE_KEPT_SAME;
}

static int
s_run_exists(store_t *self, uint64_t run_id, errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self, "SELECT 1 FROM runs WHERE id = ?1", err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    int rc = sqlite3_step(stmt);
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read a run", err);
    }
    if (rc == SQLITE_DONE) {
        errbuf_set(err, "there is no run %" PRIu64 "; see 'sluice runs'",
                   run_id);
        return STORE_ENOTFOUND;
    }
    return 0;
}

int
store_run_signed(store_t *self,
                 uint64_t run_id,
                 store_signed_fn *fn,
                 void *arg,
                 errbuf_t *err)
{
    assert(self && fn);
    int rc = s_run_exists(self, run_id, err);
    if (rc < 0) {
        return rc;
    }
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT a.id, a.task_id, a.number, a.worker, a.result_signed,"
        " a.result_sig, a.result_signer, COALESCE((SELECT n.sign_hex"
        " FROM worker_names n WHERE n.name = a.worker"
        " AND n.bound_at <= a.created_at AND (n.released_at = 0"
        " OR n.released_at >= a.created_at) ORDER BY n.bound_at DESC"
        " LIMIT 1), (SELECT w.public_hex FROM workers w"
        " WHERE w.name = a.worker), '') FROM attempts a WHERE a.run_id = ?1"
        " ORDER BY a.id",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    int step;
    while (rc == 0 && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        store_signed_row_t row = {
            .attempt_id = (uint64_t) sqlite3_column_int64(stmt, 0),
            .task_id = store_priv_text(stmt, 1),
            .number = (uint32_t) sqlite3_column_int(stmt, 2),
            .worker = store_priv_text(stmt, 3),
            .signed_bytes = sqlite3_column_blob(stmt, 4),
            .signed_size = (size_t) sqlite3_column_bytes(stmt, 4),
            .sig = sqlite3_column_blob(stmt, 5),
            .sig_size = (size_t) sqlite3_column_bytes(stmt, 5),
            .signer_hex = store_priv_text(stmt, 6),
            .worker_hex = store_priv_text(stmt, 7),
        };
        rc = fn(arg, &row) < 0 ? -1 : 0;
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = store_priv_fail(self, step, "read signed results", err);
    }
    store_priv_reset(stmt);
    return rc;
}

/* ---------------------------------------------------------- event chain */

static void
s_hash_field(crypto_generichash_state *state, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    uint8_t prefix[4] = {(uint8_t) len, (uint8_t) (len >> 8),
                         (uint8_t) (len >> 16), (uint8_t) (len >> 24)};
    crypto_generichash_update(state, prefix, sizeof prefix);
    if (len) {
        crypto_generichash_update(state, (const uint8_t *) text, len);
    }
}

/* Fields are length-prefixed so that moving bytes from one field to the
 * next changes the hash. */
void
store_event_hash(const char *prev_hex,
                 int64_t at,
                 const char *actor,
                 const char *kind,
                 const char *subject,
                 const char *detail,
                 char *out)
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, S_HASH_SIZE);
    s_hash_field(&state, prev_hex);
    uint8_t when[8];
    for (int i = 0; i < 8; i++) {
        when[i] = (uint8_t) ((uint64_t) at >> (8 * i));
    }
    crypto_generichash_update(&state, when, sizeof when);
    s_hash_field(&state, actor);
    s_hash_field(&state, kind);
    s_hash_field(&state, subject);
    s_hash_field(&state, detail);
    uint8_t hash[S_HASH_SIZE];
    crypto_generichash_final(&state, hash, sizeof hash);
    sodium_bin2hex(out, STORE_HASH_HEX, hash, sizeof hash);
}

int
store_priv_event_link(store_t *self,
                      int64_t at,
                      const char *actor,
                      const char *kind,
                      const char *subject,
                      const char *detail,
                      char *prev,
                      char *hash,
                      errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT hash FROM events ORDER BY id DESC LIMIT 1", err);
    if (!stmt) {
        return -1;
    }
    int rc = sqlite3_step(stmt);
    const char *last = rc == SQLITE_ROW ? store_priv_text(stmt, 0) : "";
    snprintf(prev, STORE_HASH_HEX, "%s",
             strlen(last) == STORE_HASH_HEX - 1 ? last : S_GENESIS);
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read the last event", err);
    }
    store_event_hash(prev, at, actor, kind, subject, detail, hash);
    return 0;
}

/* Where a walk of the chain stands: the last two rows seen. */
typedef struct {
    bool chained;                /* a hashed row was seen */
    uint64_t last_id;            /* 0 before the first row */
    char last[STORE_HASH_HEX];   /* hash of the last row */
    char before[STORE_HASH_HEX]; /* hash of the row before it */
    store_chain_t *out;
} s_walk_t;

static void s_bad(s_walk_t *walk, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_bad(s_walk_t *walk, uint64_t id, const char *fmt, ...)
{
    walk->out->first_bad = id;
    va_list args;
    va_start(args, fmt);
    vsnprintf(walk->out->problem, sizeof walk->out->problem, fmt, args);
    va_end(args);
}

/* Checks one row against the walk so far; false (with out->first_bad set)
 * at the first break. */
static bool
s_check_row(s_walk_t *walk, sqlite3_stmt *stmt)
{
    uint64_t id = (uint64_t) sqlite3_column_int64(stmt, 0);
    const char *prev = store_priv_text(stmt, 6);
    const char *hash = store_priv_text(stmt, 7);
    if (id != walk->last_id + 1) {
        s_bad(walk, walk->last_id + 1,
              "event %" PRIu64 " was deleted: event %" PRIu64
              " follows event %" PRIu64,
              walk->last_id + 1, id, walk->last_id);
        return false;
    }
    if (!*hash) {
        if (walk->chained) {
            s_bad(walk, id,
                  "event %" PRIu64 " has no hash: it was inserted or changed "
                  "after the chain began",
                  id);
            return false;
        }
        walk->out->unchained++;
        walk->last_id = id;
        return true;
    }
    char want[STORE_HASH_HEX];
    store_event_hash(prev, sqlite3_column_int64(stmt, 1),
                     store_priv_text(stmt, 2), store_priv_text(stmt, 3),
                     store_priv_text(stmt, 4), store_priv_text(stmt, 5), want);
    if (strcmp(want, hash) != 0) {
        s_bad(walk, id,
              "event %" PRIu64 " was changed (or inserted): its fields do "
              "not match its hash",
              id);
        return false;
    }
    const char *link = walk->chained ? walk->last : S_GENESIS;
    if (strcmp(prev, link) != 0) {
        if (walk->chained && strcmp(prev, walk->before) == 0) {
            s_bad(walk, walk->last_id,
                  "event %" PRIu64 " was inserted: event %" PRIu64
                  " is chained to the row before it",
                  walk->last_id, id);
        } else if (walk->chained) {
            s_bad(walk, walk->last_id,
                  "event %" PRIu64 " was changed (its hash recomputed) or "
                  "rows before event %" PRIu64 " were deleted",
                  walk->last_id, id);
        } else {
            s_bad(walk, id,
                  "rows before event %" PRIu64 " were deleted or changed: it "
                  "is chained to a row that is not there",
                  id);
        }
        return false;
    }
    snprintf(walk->before, sizeof walk->before, "%s", walk->last);
    snprintf(walk->last, sizeof walk->last, "%s", hash);
    walk->chained = true;
    walk->last_id = id;
    return true;
}

/* Rows deleted from the end leave AUTOINCREMENT's high-water mark ahead of
 * the last id. */
static int
s_check_tail(store_t *self, s_walk_t *walk, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT seq FROM sqlite_sequence WHERE name = 'events'", err);
    if (!stmt) {
        return -1;
    }
    int rc = sqlite3_step(stmt);
    uint64_t seq =
        rc == SQLITE_ROW ? (uint64_t) sqlite3_column_int64(stmt, 0) : 0;
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read the event sequence", err);
    }
    if (seq > walk->last_id) {
        s_bad(walk, walk->last_id + 1,
              "events %" PRIu64 " to %" PRIu64 " were deleted from the end",
              walk->last_id + 1, seq);
    }
    return 0;
}

int
store_events_verify(store_t *self, store_chain_t *out, errbuf_t *err)
{
    assert(self && out);
    memset(out, 0, sizeof *out);
    s_walk_t walk = {.out = out};
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT id, at, actor, kind, subject, detail, prev_hash, hash"
        " FROM events ORDER BY id",
        err);
    if (!stmt) {
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        out->events++;
        if (!s_check_row(&walk, stmt)) {
            break;
        }
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read the events", err);
    }
    return out->first_bad ? 0 : s_check_tail(self, &walk, err);
}

/* --------------------------------------------------------------- events */

int
store_event(store_t *self,
            int64_t now,
            const char *actor,
            const char *kind,
            const char *subject,
            const char *detail,
            errbuf_t *err)
{
    assert(self && actor && kind);
    /* Each row carries the hash of the one before it (store_audit.c), so
     * a row changed, inserted or deleted later breaks the chain. */
    char prev[STORE_HASH_HEX], hash[STORE_HASH_HEX];
    if (store_priv_event_link(self, now, actor, kind, subject, detail, prev,
                              hash, err) < 0) {
        return -1;
    }
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_EVENT_ADD, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, now);
    store_priv_bind_text(stmt, 2, actor);
    store_priv_bind_text(stmt, 3, kind);
    store_priv_bind_text(stmt, 4, subject);
    store_priv_bind_text(stmt, 5, detail);
    store_priv_bind_text(stmt, 6, prev);
    store_priv_bind_text(stmt, 7, hash);
    return store_priv_exec(self, stmt, "record an event", err);
}
