/* store — the scheduler's SQLite database, the one source of truth.
 *
 * WAL mode; the scheduler is its only writer. The schema is versioned with
 * PRAGMA user_version and migrated forward at open. Writes happen inside
 * store_begin/store_commit: the scheduler opens one transaction per turn of
 * its event loop (group commit) and acknowledges nothing before it commits.
 * Every query on a hot path uses an index. Times are wall-clock ms.
 *
 * This header is the core: the handle, opening and closing, transactions,
 * the error codes and the event table. What is stored is declared by topic
 * in the headers beside it; include the ones you use:
 *   store_dags.h     DAG versions
 *   store_runs.h     runs, task instances, attempts; recovery at start
 *   store_workers.h  workers and their state
 *   store_logs.h     attempts' log chunks
 *   store_query.h    the control API's reads of runs and attempts
 *   store_audit.h    client keys, signed results, the event hash chain
 *   store_keys.h     admission: CURVE keys and join tokens
 *   store_secrets.h  sealed secrets
 *   store_lineage.h  dataset versions, who read and wrote them
 *   store_metrics.h  task metrics, the task cache, dataset triggers
 *   store_reports.h  validation reports and drift profiles
 *   store_apitokens.h  API tokens of the HTTP API, by their hash
 *
 * Queries that pass rows to a callback: every pointer in a row is borrowed
 * for the duration of that call only (copy what you keep). A callback
 * returns 0 to go on or -1 to stop; the query then returns -1. A callback
 * must not call the store unless its header says it may. */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"

/* Latest schema version store_open migrates to. */
#define STORE_SCHEMA_VERSION 15

/* Returned (negated) when the disk or database is full, so callers can tell
 * the user to free space instead of reporting a generic failure. */
#define STORE_EFULL -2

/* Returned (negated) when the thing asked for does not exist; err then says
 * what is missing and how to find what exists. */
#define STORE_ENOTFOUND -3

/* Returned (negated) when a unique key refuses a second row: e.g. a second
 * run of a DAG with the same logical date. */
#define STORE_EEXISTS -4

typedef struct store_t store_t;

/* Opens (creating if needed) the database at path, sets WAL, migrates the
 * schema. NULL with err set on failure. */
store_t *store_open(const char *path, errbuf_t *err);

/* Opens the database at path for reading only, as the HTTP server's
 * threads do beside the scheduler (WAL lets them read while it writes):
 * no migration; NULL with err set when it is missing or of another schema
 * version. Every store_* read works on it; a write fails. */
store_t *store_open_readonly(const char *path, errbuf_t *err);

/* Closes and nulls *self_p; accepts NULL. Rolls back an open transaction. */
void store_destroy(store_t **self_p);

/* full: every commit is synced to disk (survives power loss; the
 * default); otherwise WAL's NORMAL: a commit survives the scheduler
 * crashing, and the last ones may be lost with the machine. */
int store_set_sync(store_t *self, bool full, errbuf_t *err);

/* The schema version found on disk (after migration: STORE_SCHEMA_VERSION). */
int store_schema_version(store_t *self);

/* ------------------------------------------------------------ transactions */

/* Begins a transaction unless one is open (idempotent within a turn). */
int store_begin(store_t *self, errbuf_t *err);

/* Commits the open transaction, if any. On failure rolls back; returns -1
 * or STORE_EFULL. */
int store_commit(store_t *self, errbuf_t *err);

void store_rollback(store_t *self);

/* --------------------------------------------------------------- events */

/* Appends to the audit table: who (actor) did what (kind) to what (subject),
 * with free-form detail. E.g. ("cli", "trigger", "run 42", "dag hello").
 * Each row is chained to the one before it (store_audit.h). */
int store_event(store_t *self,
                int64_t now,
                const char *actor,
                const char *kind,
                const char *subject,
                const char *detail,
                errbuf_t *err);

#endif
