/* store_web — the reads of the HTTP API that the control API has no
 * request for: runs paged by id, a run's task states in DAG order (the
 * grid and the run's event stream), the audit events, and where a byte
 * offset falls in an attempt's log.
 *
 * store_web.c. Read-only: every function works on a store_open_readonly
 * connection. */
#ifndef SLUICE_STORE_WEB_H
#define SLUICE_STORE_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/store/store.h"

/* One run as store_web_runs lists it; strings borrowed for the call. */
typedef struct {
    uint64_t id;
    const char *state; /* as stored: "queued", "success", ... */
    const char *logical_date;
    int64_t created_at; /* wall ms */
} store_web_run_t;

typedef int(store_web_run_fn)(void *arg, const store_web_run_t *run);

/* Calls fn for the newest `limit` runs, newest first, of DAG `dag` ("" =
 * all) in state `state` ("" = any) with an id below `before` (0 = no
 * bound); fn returns 0 to go on. */
int store_web_runs(store_t *self,
                   const char *dag,
                   const char *state,
                   uint64_t before,
                   uint32_t limit,
                   store_web_run_fn *fn,
                   void *arg,
                   errbuf_t *err);

/* A run's state into *state (its stored name, state_run_parse reads it);
 * STORE_ENOTFOUND when there is no run run_id. */
int store_web_run_state(
    store_t *self, uint64_t run_id, char *state, size_t size, errbuf_t *err);

/* One task instance of a run; strings borrowed for the call. */
typedef struct {
    const char *task_id;
    const char *state; /* as stored: "success", "up_for_retry", ... */
    uint32_t tries;    /* attempts made so far */
} store_web_task_t;

typedef int(store_web_task_fn)(void *arg, const store_web_task_t *task);

/* Calls fn for every task instance of run run_id, in DAG order, in one
 * query (a run with no instances calls it never); fn returns 0 to go on. */
int store_web_tasks(store_t *self,
                    uint64_t run_id,
                    store_web_task_fn *fn,
                    void *arg,
                    errbuf_t *err);

/* One audit event (the events table); strings borrowed for the call. */
typedef struct {
    uint64_t id;
    int64_t at; /* wall ms */
    const char *actor;
    const char *kind;
    const char *subject;
    const char *detail;
} store_web_event_t;

typedef int(store_web_event_fn)(void *arg, const store_web_event_t *event);

/* Calls fn for the newest `limit` events with an id below `before` (0 = no
 * bound), newest first. */
int store_web_events(store_t *self,
                     uint64_t before,
                     uint32_t limit,
                     store_web_event_fn *fn,
                     void *arg,
                     errbuf_t *err);

/* Where byte `offset` of attempt attempt_id's log (its chunks' data in seq
 * order, all streams) falls: *after_seq is the seq of the last chunk wholly
 * before it (0: none), *skip the bytes of the next chunk before it. An
 * offset at or past the end gives the last chunk's seq and skip 0, and
 * *total says how long the log is. */
int store_web_log_seek(store_t *self,
                       uint64_t attempt_id,
                       uint64_t offset,
                       uint64_t *after_seq,
                       uint64_t *skip,
                       uint64_t *total,
                       errbuf_t *err);

#endif
