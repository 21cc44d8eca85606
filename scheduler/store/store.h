/* store — the scheduler's SQLite database, the one source of truth.
 *
 * WAL mode; the scheduler is its only writer. The schema is versioned with
 * PRAGMA user_version and migrated forward at open. Writes happen inside
 * store_begin/store_commit: the scheduler opens one transaction per turn of
 * its event loop (group commit) and acknowledges nothing before it commits.
 * Every query on a hot path uses an index. Times are wall-clock ms. */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dag.h"
#include "common/errbuf.h"
#include "scheduler/state.h"

/* Latest schema version store_open migrates to. */
#define STORE_SCHEMA_VERSION 9

/* Returned (negated) when the disk or database is full, so callers can tell
 * the user to free space instead of reporting a generic failure. */
#define STORE_EFULL -2

typedef struct store_t store_t;

/* Opens (creating if needed) the database at path, sets WAL, migrates the
 * schema. NULL with err set on failure. */
store_t *store_open(const char *path, errbuf_t *err);

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

/* ---------------------------------------------------------------- DAGs */

/* Records DAG `name` at `version` (content hash) with its YAML source and
 * makes it the current version. *changed is false when that version was
 * already current. */
int store_dag_put(store_t *self,
                  const char *name,
                  const char *version,
                  const char *source,
                  const char *filename,
                  int64_t now,
                  bool *changed,
                  errbuf_t *err);

/* The source of DAG `name` at `version` (NULL = current). Caller owns the
 * result; *version_out (if not NULL) gets an owned copy of the version.
 * Returns NULL with err set when there is no such DAG/version. */
char *store_dag_source(store_t *self,
                       const char *name,
                       const char *version,
                       char **version_out,
                       errbuf_t *err);

/* ---------------------------------------------------------------- runs */

/* Creates a run in state queued with its effective params (kept in their
 * own table, in order). Sets *run_id. */
int store_run_create(store_t *self,
                     const char *dag,
                     const char *version,
                     const dag_kv_t *params,
                     size_t nparams,
                     const char *logical_date,
                     const char *trigger,
                     int64_t now,
                     uint64_t *run_id,
                     errbuf_t *err);

/* Sets the run's state; started_at is set on running, ended_at on finals. */
int store_run_set_state(store_t *self,
                        uint64_t run_id,
                        run_state_t state,
                        int64_t now,
                        errbuf_t *err);

/* ---------------------------------------------------------------- tasks */

/* Creates the task instance (run_id, task_id) in `state`. */
int store_task_create(store_t *self,
                      uint64_t run_id,
                      const char *task_id,
                      task_state_t state,
                      int64_t now,
                      errbuf_t *err);

/* Sets a task instance's state and try count; next_try_at is the wall ms of
 * the next retry for up_for_retry (else 0). */
int store_task_set_state(store_t *self,
                         uint64_t run_id,
                         const char *task_id,
                         task_state_t state,
                         uint32_t tries,
                         int64_t next_try_at,
                         int64_t now,
                         errbuf_t *err);

/* Records why a queued task waits (e.g. no worker has 2 GPUs); "" clears
 * it. Written only when the reason changes. */
int store_task_set_waiting(store_t *self,
                           uint64_t run_id,
                           const char *task_id,
                           const char *reason,
                           errbuf_t *err);

/* ------------------------------------------------------------- attempts */

/* Creates an attempt in state running, sent to `worker`. Sets *attempt_id,
 * the fencing token carried by the Task message. */
int store_attempt_create(store_t *self,
                         uint64_t run_id,
                         const char *task_id,
                         uint32_t number,
                         const char *worker,
                         int64_t now,
                         uint64_t *attempt_id,
                         errbuf_t *err);

typedef struct {
    attempt_state_t state;
    int exit_code;      /* -1 when it did not exit */
    int signal;         /* 0 when none */
    int64_t started_at; /* worker wall ms, 0 = unknown */
    int64_t ended_at;   /* wall ms */
    int64_t duration_ms;
    uint64_t peak_rss_kb;
    const char *error; /* borrowed; NULL or "" = none */
    const char *cause; /* borrowed: exit, signal, oom, timeout, lost,
                          cancelled, spawn, refused; NULL or "" = none */
} store_attempt_end_t;

/* Records how an attempt ended. */
int store_attempt_finish(store_t *self,
                         uint64_t attempt_id,
                         const store_attempt_end_t *end,
                         errbuf_t *err);

/* Records a result that arrived for an attempt that is no longer current
 * (fencing): kept for audit, changes no task state. */
int store_attempt_stale(store_t *self,
                        uint64_t attempt_id,
                        const char *worker,
                        const char *detail,
                        int64_t now,
                        errbuf_t *err);

/* ----------------------------------------------------------------- logs */

/* Appends one log chunk of an attempt. stream: 1 stdout, 2 stderr, 3 sluice.
 * A chunk with a seq already stored is ignored (resend after reconnect). */
int store_log_append(store_t *self,
                     uint64_t attempt_id,
                     uint64_t seq,
                     int stream,
                     int64_t wall,
                     const void *data,
                     size_t size,
                     errbuf_t *err);

/* The highest seq stored for an attempt's log (0: none). */
int store_log_last_seq(store_t *self,
                       uint64_t attempt_id,
                       uint64_t *seq,
                       errbuf_t *err);

/* --------------------------------------------------------------- events */

/* Appends to the audit table: who (actor) did what (kind) to what (subject),
 * with free-form detail. E.g. ("cli", "trigger", "run 42", "dag hello"). */
int store_event(store_t *self,
                int64_t now,
                const char *actor,
                const char *kind,
                const char *subject,
                const char *detail,
                errbuf_t *err);

/* -------------------------------------------------------------- workers */

typedef struct {
    const char *name;
    const char *hostname;
    const char *public_hex; /* signing key, hex */
    const char *state;      /* connected, lost, gone, draining */
    uint32_t slots;
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    const char *labels; /* comma separated */
    int64_t now;        /* sets last_seen; first_seen on insert */
} store_worker_t;

/* Inserts or updates a worker by name. */
int
store_worker_upsert(store_t *self, const store_worker_t *worker, errbuf_t *err);

int store_worker_set_state(store_t *self,
                           const char *name,
                           const char *state,
                           int64_t now,
                           errbuf_t *err);

/* -------------------------------------------------------------- recovery */

/* One task instance of an active run, as the scheduler rebuilds it. */
typedef struct {
    const char *task_id;
    task_state_t state;
    uint32_t tries; /* attempts started so far */
    int64_t next_try_at;
    uint64_t attempt_id; /* current attempt, 0 when none */
    const char *worker;  /* of the current attempt, NULL when none */
} store_task_row_t;

typedef struct {
    uint64_t run_id;
    const char *dag;
    const char *version;
    size_t nparams;
    const dag_kv_t *params;
    const char *logical_date;
    run_state_t state;
    size_t ntasks;
    const store_task_row_t *tasks;
} store_run_row_t;

/* Called once per run that is not final. All pointers are borrowed for the
 * duration of the call. Return 0 to go on, -1 to stop with an error. */
typedef int(store_active_fn)(void *arg, const store_run_row_t *run);

/* Calls fn for every run in queued or running state, oldest first. */
int
store_load_active(store_t *self, store_active_fn *fn, void *arg, errbuf_t *err);

/* Calls fn once for run `run_id`, whatever its state (for a retry of a
 * finished run); STORE_ENOTFOUND when there is none. */
int store_load_run(store_t *self,
                   uint64_t run_id,
                   store_active_fn *fn,
                   void *arg,
                   errbuf_t *err);

/* Marks every worker not in a final state as `lost` (used at start, before
 * workers reconnect). */
int store_workers_reset(store_t *self, int64_t now, errbuf_t *err);

/* ------------------------------------------------------------- reads
 *
 * Read-only queries for the control API. Rows are passed to a callback;
 * every pointer in a row is borrowed for the duration of that call only
 * (copy what you keep). A callback returns 0 to go on or -1 to stop; the
 * query then returns -1. A callback must not call the store. */

/* Returned (negated) when the thing asked for does not exist; err then says
 * what is missing and how to find what exists. */
#define STORE_ENOTFOUND -3

/* A DAG at its current version. */
typedef struct {
    const char *name;
    const char *version; /* current version */
    const char *source;  /* YAML of the current version */
    const char *filename;
    int64_t created_at;
    int64_t updated_at;         /* when the current version was applied */
    uint64_t runs;              /* runs of any version */
    uint64_t last_run_id;       /* 0 when never run */
    const char *last_run_state; /* "" when never run */
} store_dag_row_t;

typedef int(store_dag_fn)(void *arg, const store_dag_row_t *dag);

/* Calls fn for every DAG, by name. */
int store_dag_list(store_t *self, store_dag_fn *fn, void *arg, errbuf_t *err);

/* Calls fn (may be NULL: an existence check) for DAG `name`;
 * STORE_ENOTFOUND when there is none. */
int store_dag_get(store_t *self,
                  const char *name,
                  store_dag_fn *fn,
                  void *arg,
                  errbuf_t *err);

/* A run with the number of its task instances in each state. */
typedef struct {
    uint64_t run_id;
    const char *dag;
    const char *version;
    run_state_t state;
    const char *logical_date;
    const char *trigger;
    int64_t created_at;
    int64_t started_at;                /* 0 = not started */
    int64_t ended_at;                  /* 0 = not ended */
    uint32_t ntasks;                   /* task instances */
    uint32_t counts[TASK_STATE_COUNT]; /* task instances per state */
} store_run_info_t;

typedef int(store_run_fn)(void *arg, const store_run_info_t *run);

/* Calls fn for the newest `limit` runs (of DAG `dag`, or all when NULL or
 * ""), newest first. */
int store_runs_list(store_t *self,
                    const char *dag,
                    uint32_t limit,
                    store_run_fn *fn,
                    void *arg,
                    errbuf_t *err);

/* Calls fn once with run `run_id` and its task counts, without its tasks
 * (cheap enough to poll); STORE_ENOTFOUND when there is none. */
int store_run_get(
    store_t *self, uint64_t run_id, store_run_fn *fn, void *arg, errbuf_t *err);

/* One attempt. Times are wall ms, 0 = not yet. */
typedef struct {
    uint64_t attempt_id;
    uint64_t run_id;
    const char *task_id;
    uint32_t number; /* 1-based try */
    const char *worker;
    attempt_state_t state;
    int64_t created_at; /* sent to the worker */
    int64_t started_at;
    int64_t ended_at;
    int64_t duration_ms;
    int exit_code; /* -1 when it did not exit */
    int signal;
    uint64_t peak_rss_kb;
    const char *error; /* "" = none */
    const char *cause; /* "" = none (success); see store_attempt_end_t */
} store_attempt_row_t;

/* One task instance with all its attempts, oldest first. */
typedef struct {
    const char *task_id;
    task_state_t state;
    uint32_t tries;
    int64_t next_try_at;
    int64_t updated_at;
    const char *waiting; /* why a queued task waits, "" = it does not */
    size_t nattempts;
    const store_attempt_row_t *attempts;
} store_task_info_t;

/* A run with its params (in order) and task instances (by task id). */
typedef struct {
    store_run_info_t run;
    size_t nparams;
    const dag_kv_t *params;
    size_t ntasks;
    const store_task_info_t *tasks;
} store_run_detail_t;

typedef int(store_run_detail_fn)(void *arg, const store_run_detail_t *run);

/* Calls fn once for run `run_id`; STORE_ENOTFOUND when there is none. The
 * detail is copied before the call, so fn may call the store. */
int store_run_show(store_t *self,
                   uint64_t run_id,
                   store_run_detail_fn *fn,
                   void *arg,
                   errbuf_t *err);

/* Finds attempt `number` (0 = the latest) of task `task_id` in run
 * `run_id` and the task's state, copying them into *attempt (its strings are
 * NULL) and *task_state. STORE_ENOTFOUND, with err saying whether the run,
 * the task or the attempt is missing. */
int store_attempt_find(store_t *self,
                       uint64_t run_id,
                       const char *task_id,
                       uint32_t number,
                       store_attempt_row_t *attempt,
                       task_state_t *task_state,
                       errbuf_t *err);

/* Copies attempt `attempt_id` (how and when it ended) into *attempt, whose
 * strings are NULL. STORE_ENOTFOUND when there is none. */
int store_attempt_get(store_t *self,
                      uint64_t attempt_id,
                      store_attempt_row_t *attempt,
                      errbuf_t *err);

/* One stored log chunk. */
typedef struct {
    uint64_t seq;
    int stream; /* 1 stdout, 2 stderr, 3 sluice */
    int64_t wall;
    const void *data;
    size_t size;
} store_log_row_t;

typedef int(store_log_fn)(void *arg, const store_log_row_t *chunk);

/* Calls fn for the chunks of attempt `attempt_id` with seq > after_seq, in
 * seq order, until passing the next one would exceed max_bytes of data (the
 * first chunk is always passed). *more (if not NULL) tells whether chunks
 * remain after the last one passed. */
int store_log_read(store_t *self,
                   uint64_t attempt_id,
                   uint64_t after_seq,
                   size_t max_bytes,
                   store_log_fn *fn,
                   void *arg,
                   bool *more,
                   errbuf_t *err);

/* ------------------------------------------- secrets (issue 4, part C) */

/* Stores secret `name` as a sealed box (never plaintext; see
 * scheduler/secrets.h), replacing an older one; *replaced (if not NULL)
 * tells whether there was one. */
int store_secret_put(store_t *self,
                     const char *name,
                     const uint8_t *nonce,
                     size_t nonce_len,
                     const uint8_t *box,
                     size_t box_len,
                     int64_t now,
                     bool *replaced,
                     errbuf_t *err);

/* The sealed box of `name`: 1 when found (caller owns *nonce_p and
 * *box_p), 0 when there is no such secret, -1 with err set. */
int store_secret_get(store_t *self,
                     const char *name,
                     uint8_t **nonce_p,
                     size_t *nonce_len,
                     uint8_t **box_p,
                     size_t *box_len,
                     errbuf_t *err);

/* Removes `name`; *removed tells whether it existed. */
int
store_secret_rm(store_t *self, const char *name, bool *removed, errbuf_t *err);

/* Calls fn with each secret's name and when it was set, by name; stops
 * and returns fn's value when it is not 0. */
typedef int(store_secret_fn)(void *arg, const char *name, int64_t updated_at);

int
store_secret_list(store_t *self, store_secret_fn *fn, void *arg, errbuf_t *err);

/* ----------------------------------------- integrity (issue 4, part B)
 *
 * Client keys and their roles, signed results kept with their attempts,
 * and the hash chain of the event table (see store_event). */

/* A BLAKE2b-256 hash as lowercase hex, with its NUL. */
#define STORE_HASH_HEX 65

/* Trusts client key public_hex (64 hex chars) with role "viewer" or
 * "operator"; a known key gets the new role (and name, unless ""). *replaced
 * (if not NULL) tells whether the key was known. */
int store_client_put(store_t *self,
                     const char *public_hex,
                     const char *role,
                     const char *name,
                     int64_t now,
                     bool *replaced,
                     errbuf_t *err);

/* The role of client key public_hex copied into role (size bytes): 1 when
 * the key is known, 0 when not, -1 with err set. */
int store_client_role(store_t *self,
                      const char *public_hex,
                      char *role,
                      size_t size,
                      errbuf_t *err);

/* Keeps the signed Result of attempt `attempt_id`: the bytes exactly as
 * signed (version, type, body), the signature and the signer's key (hex).
 * The first one stored stays: a later one changes nothing. */
int store_attempt_sign(store_t *self,
                       uint64_t attempt_id,
                       const void *signed_bytes,
                       size_t size,
                       const uint8_t *sig,
                       const char *signer_hex,
                       errbuf_t *err);

/* 1 when the signature stored with attempt `attempt_id` is sig (the same
 * Result again: a replay or a resend), 0 when not, -1 with err set. */
int store_attempt_sig_matches(store_t *self,
                              uint64_t attempt_id,
                              const uint8_t *sig,
                              errbuf_t *err);

/* One attempt with what is stored of its signed Result; signed_bytes and
 * sig are NULL (sizes 0) when none is. Pointers are borrowed for the call. */
typedef struct {
    uint64_t attempt_id;
    const char *task_id;
    uint32_t number;
    const char *worker;
    const uint8_t *signed_bytes;
    size_t signed_size;
    const uint8_t *sig;
    size_t sig_size;
    const char *signer_hex; /* "" when none */
} store_signed_row_t;

typedef int(store_signed_fn)(void *arg, const store_signed_row_t *row);

/* Calls fn for every attempt of run `run_id`, by id; STORE_ENOTFOUND when
 * there is no such run. fn must not call the store. */
int store_run_signed(store_t *self,
                     uint64_t run_id,
                     store_signed_fn *fn,
                     void *arg,
                     errbuf_t *err);

/* The chain hash of an event row: BLAKE2b-256 over the previous row's hash
 * (hex) and this row's fields, as hex into out (STORE_HASH_HEX bytes). */
void store_event_hash(const char *prev_hex,
                      int64_t at,
                      const char *actor,
                      const char *kind,
                      const char *subject,
                      const char *detail,
                      char *out);

/* What a walk of the event chain found. */
typedef struct {
    uint64_t events;    /* rows read */
    uint64_t unchained; /* rows from before the chain began (schema < 5) */
    uint64_t first_bad; /* id of the first changed, inserted or deleted
                           row; 0 when the chain is intact */
    char problem[256];  /* what is wrong with it, "" when intact */
} store_chain_t;

/* Walks the event table in id order and checks every link. 0 with *out
 * filled (intact or not), -1 with err set when the store cannot be read. */
int store_events_verify(store_t *self, store_chain_t *out, errbuf_t *err);

/* ---------------------------------------- admission (issue 4, part A) */

/* A CURVE transport key and what was decided about it. Strings are
 * borrowed ("" for none). */
typedef struct {
    const char *curve_hex; /* the CURVE public key, 64 hex digits */
    const char *kind;      /* worker, client */
    const char *state;     /* pending, accepted, rejected, revoked */
    const char *role;      /* clients: viewer, operator; else "" */
    const char *name;      /* worker name (from Register), client label */
    const char *host;      /* hostname the worker reported */
    const char *address;   /* peer IP address ZAP saw */
    const char *sign_hex;  /* the Ed25519 key bound to it at Register */
    int64_t first_seen;
    int64_t last_seen;
    int64_t decided_at;     /* 0 = never decided */
    const char *decided_by; /* "operator", "token", "scheduler" */
} store_key_row_t;

/* Inserts or replaces the key row->curve_hex (first_seen is kept). */
int store_key_put(store_t *self, const store_key_row_t *row, errbuf_t *err);

/* Calls fn for every key, oldest first; fn returns 0 to go on. */
typedef int(store_key_fn)(void *arg, const store_key_row_t *row);

int store_key_list(store_t *self, store_key_fn *fn, void *arg, errbuf_t *err);

/* Records a join token by its hash (hex); expires_at 0 = never. */
int store_token_add(store_t *self,
                    const char *hash_hex,
                    int64_t now,
                    int64_t expires_at,
                    uint32_t uses,
                    errbuf_t *err);

/* 1 and the token's expiry and remaining uses when it exists, 0 when it
 * does not, -1 with err set. */
int store_token_get(store_t *self,
                    const char *hash_hex,
                    int64_t *expires_at,
                    uint32_t *uses_left,
                    errbuf_t *err);

/* Takes one use off the token. */
int store_token_use(store_t *self, const char *hash_hex, errbuf_t *err);

/* 1 and its role when a client signing key trusted with 'sluice keys
 * add-client' (part B's client_keys) converts to CURVE key `curve` (32
 * bytes); 0 when none does. */
int store_key_client_role(store_t *self,
                          const uint8_t *curve,
                          char *role,
                          size_t size,
                          errbuf_t *err);

/* ---------------------------------------- issue 5, part F: lineage */

/* A dataset version as a worker reported it (borrowed strings). */
typedef struct {
    const char *uri;  /* file:///absolute/path */
    const char *hash; /* BLAKE2b-256, hex */
    uint64_t size;
} store_dataset_ref_t;

/* A stored dataset version (owned strings; store_dataset_clear). */
typedef struct {
    uint64_t id;
    char *uri;
    char *hash;
    uint64_t size;
    uint64_t produced_by; /* attempt id; 0 = not produced by sluice */
    int64_t at;
} store_dataset_t;

/* An attempt as lineage shows it (owned strings). */
typedef struct {
    uint64_t attempt_id;
    uint64_t run_id;
    char *dag;
    char *dag_version;
    char *task_id;
    uint32_t number;
    char *worker;
    char *state;
    char *error;
    int64_t created_at;
    int64_t started_at;
    int64_t ended_at;
} store_lineage_attempt_t;

void store_dataset_clear(store_dataset_t *row);

void store_lineage_attempt_clear(store_lineage_attempt_t *row);

/* Records what attempt read (each input is tied to the latest stored
 * version with its uri and hash, else recorded as a version no attempt
 * produced) and wrote (a new version each, produced by attempt). Call in
 * the transaction that commits the attempt's result. */
int store_lineage_record(store_t *self,
                         uint64_t attempt_id,
                         const store_dataset_ref_t *inputs,
                         size_t ninputs,
                         const store_dataset_ref_t *outputs,
                         size_t noutputs,
                         int64_t now,
                         errbuf_t *err);

/* 1 and the latest version whose uri is target or whose hash starts with
 * target (at least 4 hex digits), 0 when none, -1 with err. */
int store_dataset_find(store_t *self,
                       const char *target,
                       store_dataset_t *out,
                       errbuf_t *err);

/* 1 and version `id`, 0 when none, -1 with err. */
int store_dataset_get(store_t *self,
                      uint64_t id,
                      store_dataset_t *out,
                      errbuf_t *err);

/* 1 and attempt `id` with its run's DAG and version, 0 when none. */
int store_lineage_attempt(store_t *self,
                          uint64_t id,
                          store_lineage_attempt_t *out,
                          errbuf_t *err);

/* Ids (caller owns *ids) of: the versions an attempt read (what =
 * STORE_LINEAGE_READ) or wrote (STORE_LINEAGE_WROTE), the attempts that
 * read a version (STORE_LINEAGE_READERS), the attempts of a run
 * (STORE_LINEAGE_RUN), in id order. */
typedef enum {
    STORE_LINEAGE_READ,
    STORE_LINEAGE_WROTE,
    STORE_LINEAGE_READERS,
    STORE_LINEAGE_RUN,
} store_lineage_edge_t;

int store_lineage_ids(store_t *self,
                      store_lineage_edge_t what,
                      uint64_t id,
                      uint64_t **ids,
                      size_t *count,
                      errbuf_t *err);

/* The latest version of each dataset (uri), newest first, at most limit;
 * *counts[i] = versions recorded of rows[i]'s uri. Caller owns both
 * arrays and clears each row. */
int store_datasets_latest(store_t *self,
                          size_t limit,
                          store_dataset_t **rows,
                          uint32_t **counts,
                          size_t *count,
                          errbuf_t *err);

/* ------------------- metrics, cache, dataset triggers (issue 5, part G)
 *
 * store_metrics.c, migration 9. */

/* Stores the metrics of attempt `attempt_id` (a repeated name replaces). */
int store_metrics_put(store_t *self,
                      uint64_t attempt_id,
                      const char *const *names,
                      const double *values,
                      size_t n,
                      errbuf_t *err);

/* One task instance of a run with the metrics of its latest attempt (for a
 * skipped_cached task: of the attempt it reused). */
typedef struct {
    uint64_t run_id;
    const char *task_id;
    const char *state;
    int64_t created_at; /* of the run */
    const char *logical_date;
    uint64_t attempt_id; /* 0 when none */
    size_t nparams;
    dag_kv_t *params;
    size_t nmetrics;
    const char **names;
    double *values;
} store_metrics_row_t;

typedef int(store_metrics_fn)(void *arg, const store_metrics_row_t *row);

/* run_id != 0: every task of that run, by task id. Else task `task_id` of
 * DAG `dag` in its latest `limit` runs (0 = 20), newest first. fn may call
 * the store; rows are borrowed for the call. */
int store_metrics_list(store_t *self,
                       const char *dag,
                       const char *task_id,
                       uint64_t run_id,
                       uint32_t limit,
                       store_metrics_fn *fn,
                       void *arg,
                       errbuf_t *err);

/* Records whether a run skips its cache and which dataset version
 * triggered it ("" = none). */
int store_run_extras_put(store_t *self,
                         uint64_t run_id,
                         bool no_cache,
                         const char *triggered_by,
                         errbuf_t *err);

/* Reads them back (false and "" for a run without a row); either output
 * may be NULL. */
int store_run_extras_get(store_t *self,
                         uint64_t run_id,
                         bool *no_cache,
                         char *triggered_by,
                         size_t size,
                         errbuf_t *err);

/* Remembers that attempt `attempt_id` (task `task_id` of run `run_id`)
 * succeeded under cache key `key` and wrote `outputs` (lines of
 * "URI<TAB>SIZE<TAB>HASH"). */
int store_cache_put(store_t *self,
                    const char *key,
                    uint64_t attempt_id,
                    uint64_t run_id,
                    const char *task_id,
                    const char *outputs,
                    int64_t now,
                    errbuf_t *err);

/* Called for the entries of a key, newest first; returns non-zero to take
 * that entry. */
typedef int(store_cache_fn)(void *arg,
                            uint64_t attempt_id,
                            uint64_t run_id,
                            const char *outputs);

/* 1 when fn took an entry of `key`, 0 when none, -1 with err set. */
int store_cache_find(store_t *self,
                     const char *key,
                     store_cache_fn *fn,
                     void *arg,
                     errbuf_t *err);

/* Replaces the dataset URIs whose new versions trigger DAG `dag`. */
int store_dag_triggers_set(store_t *self,
                           const char *dag,
                           const char *const *uris,
                           size_t n,
                           errbuf_t *err);

/* Appends (owned copies of) the DAGs triggered by `uri` to dags. */
int store_dag_triggers_for(store_t *self,
                           const char *uri,
                           zlistx_t *dags,
                           errbuf_t *err);

/* ---------------------------------- validation reports (issue 5, E) */

/* One stored report; strings owned (store_report_clear frees). */
typedef struct {
    char *task_id;
    uint64_t attempt_id;
    uint32_t attempt; /* 1-based try */
    char *summary;    /* one line */
    char *report;     /* JSON */
    char *text;       /* for people */
} store_report_t;

/* Keeps the report of a validate attempt (store_reports.c). */
int store_report_put(store_t *self,
                     uint64_t attempt_id,
                     const char *summary,
                     const char *report,
                     const char *text,
                     int64_t now,
                     errbuf_t *err);

/* The latest report of each task of a run (task_id NULL or ""), or of one
 * task; *reports is an owned array of *count (free with
 * store_reports_free). */
int store_reports_get(store_t *self,
                      uint64_t run_id,
                      const char *task_id,
                      store_report_t **reports,
                      size_t *count,
                      errbuf_t *err);

void store_reports_free(store_report_t *reports, size_t count);

/* The drift profile of a dataset's last validated version: owned text, ""
 * when none. NULL with err on a store error. */
char *store_profile_get(store_t *self, const char *dataset, errbuf_t *err);

int store_profile_put(store_t *self,
                      const char *dataset,
                      const char *profile,
                      uint64_t attempt_id,
                      int64_t now,
                      errbuf_t *err);

#endif
