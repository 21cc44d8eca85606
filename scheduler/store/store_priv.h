/* store_priv — what the files of the store share: the handle's body,
 * store.c's table of cached statements (also read by store_query.c), the
 * SQL helpers of store_priv.c and the event chain's link (store_audit.c).
 * Private to the store: nothing outside scheduler/store/ includes it. */
#ifndef SLUICE_STORE_PRIV_H
#define SLUICE_STORE_PRIV_H

#include <czmq.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "common/errbuf.h"
#include "scheduler/store/store.h"

/* Cached statements, one per query; their SQL is in s_sql[]. */
typedef enum {
    ST_BEGIN = 0,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_DAG_CURRENT,
    ST_DAG_UPSERT,
    ST_DAG_VERSION_ADD,
    ST_DAG_SOURCE,
    ST_RUN_ADD,
    ST_RUN_PARAM_ADD,
    ST_RUN_SET_STATE,
    ST_TRANSITION_ADD,
    ST_TASK_ADD,
    ST_TASK_SET_STATE,
    ST_TASK_SET_WAITING,
    ST_ATTEMPT_ADD,
    ST_ATTEMPT_START,
    ST_ATTEMPT_FINISH,
    ST_STALE_ADD,
    ST_LOG_ADD,
    ST_EVENT_ADD,
    ST_ACTIVE_RUNS,
    ST_RUN_GET,
    ST_RUN_PARAMS,
    ST_RUN_TASKS,
    ST_DAG_LIST,
    ST_RUNS_ALL,
    ST_RUNS_BY_DAG,
    ST_RUN_COUNTS,
    ST_RUN_ATTEMPTS,
    ST_TASK_STATE,
    ST_RUN_EXISTS,
    ST_ATTEMPT_BY_NUMBER,
    ST_ATTEMPT_LATEST,
    ST_ATTEMPT_BY_ID,
    ST_LOG_READ,
    ST_RUN_FIRST,
    ST_RUN_PAGE,
    ST_TASK_ATTEMPTS,
    ST_COUNT
} stmt_id_t;

struct store_t {
    sqlite3 *db;                   /* owned connection */
    char *path;                    /* owned copy, for messages */
    sqlite3_stmt *stmts[ST_COUNT]; /* owned; prepared on first use */
    bool in_txn;     /* store_begin opened a transaction not yet ended */
    bool full;       /* the open transaction hit a full disk */
    zhashx_t *extra; /* SQL text -> sqlite3_stmt, for the store's other
                        files (store_keys.c, ...); owned */
};

/* The cached statement `id`, prepared on first use; NULL with err set. */
sqlite3_stmt *store_priv_stmt(store_t *self, stmt_id_t id, errbuf_t *err);

/* A cached statement for `sql` (a string literal of the calling file),
 * prepared on first use: lets store_*.c files beyond store.c keep their
 * queries to themselves. NULL with err set. */
sqlite3_stmt *store_priv_sql(store_t *self, const char *sql, errbuf_t *err);

/* Steps a statement that returns no rows, then resets it; 0 or -1 /
 * STORE_EFULL with err set ("cannot `what`: ..."). */
int store_priv_exec(store_t *self,
                    sqlite3_stmt *stmt,
                    const char *what,
                    errbuf_t *err);

/* Fills err for a failed SQLite call `rc` while trying to `what`; returns
 * STORE_EFULL for a full disk, else -1. */
int store_priv_fail(store_t *self, int rc, const char *what, errbuf_t *err);

/* Called by store_priv_each for one row of stmt; 0 to go on, -1 to stop. */
typedef int(store_priv_row_fn)(sqlite3_stmt *stmt, void *arg);

/* Steps stmt (already bound) and calls fn for every row, then resets it.
 * 0; -1 when fn stopped; store_priv_fail's code ("cannot `what`") when a
 * step fails. */
int store_priv_each(store_t *self,
                    sqlite3_stmt *stmt,
                    store_priv_row_fn *fn,
                    void *arg,
                    const char *what,
                    errbuf_t *err);

/* Fills err with what the user reads when the disk is full: what failed,
 * where the store is, and the fix. */
void store_priv_full(store_t *self, const char *what, errbuf_t *err);

/* Resets a statement and drops its bindings. */
void store_priv_reset(sqlite3_stmt *stmt);

/* Binds text (NULL as ""), borrowed until the statement is reset. */
void store_priv_bind_text(sqlite3_stmt *stmt, int index, const char *text);

/* A text column, "" for NULL. */
const char *store_priv_text(sqlite3_stmt *stmt, int index);

/* Audit (store_audit.c): the hash of the last event row into prev (the
 * genesis hash, all zeros, when none is chained yet) and the hash of the
 * row about to be appended into hash; both hex, STORE_HASH_HEX bytes. */
int store_priv_event_link(store_t *self,
                          int64_t at,
                          const char *actor,
                          const char *kind,
                          const char *subject,
                          const char *detail,
                          char *prev,
                          char *hash,
                          errbuf_t *err);

#endif
