/* store_query — what the control API reads about runs: lists, one run with
 * its task counts, one run in full, one attempt.
 *
 * store_query.c. */
#ifndef SLUICE_STORE_QUERY_H
#define SLUICE_STORE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dag.h"
#include "scheduler/state.h"
#include "scheduler/store/store.h"

/* A run with the number of its task instances in each state. */
typedef struct {
    uint64_t run_id;
    const char *dag;
    const char *version;
    run_state_t state;
    const char *logical_date;
    const char *trigger;
    int64_t created_at;
    int64_t started_at; /* 0 = not started */
    int64_t ended_at;   /* 0 = not ended */
    /* The run's data interval [interval_start, interval_end) and logical
     * date, wall ms; has_interval is false for runs from before they were
     * recorded. timezone: the DAG's zone when the run was made. */
    bool has_interval;
    int64_t logical_at;
    int64_t interval_start;
    int64_t interval_end;
    const char *timezone;
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

/* Calls fn once with run `run_id` and its task counts, without its tasks;
 * STORE_ENOTFOUND when there is none. counts (TASK_STATE_COUNT, per state)
 * are used when not NULL: an active run's, kept by the planner, make this
 * cheap enough to poll whatever the run's size; NULL counts the run's rows
 * here. */
int store_run_get(store_t *self,
                  uint64_t run_id,
                  const uint32_t *counts,
                  store_run_fn *fn,
                  void *arg,
                  errbuf_t *err);

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
    uint64_t next; /* store_run_page: the cursor of the next page, 0 after
                      the last */
} store_run_detail_t;

typedef int(store_run_detail_fn)(void *arg, const store_run_detail_t *run);

/* Calls fn once for run `run_id`; STORE_ENOTFOUND when there is none. The
 * detail is copied before the call, so fn may call the store. */
int store_run_show(store_t *self,
                   uint64_t run_id,
                   store_run_detail_fn *fn,
                   void *arg,
                   errbuf_t *err);

/* One page of run `run_id`, for runs too big for store_run_show: calls fn
 * once with at most `limit` (> 0) task instances in DAG order with their
 * attempts, starting after `cursor` (a previous page's `next`) or, when
 * cursor is 0, after skipping `offset` instances. The first page (cursor
 * 0) also has the run, with counts over every task (`counts`, per
 * state, when the caller knows them, else counted here), and its params
 * (STORE_ENOTFOUND when there is no such run); a later page has only
 * run.run_id set, and costs only its own rows. */
int store_run_page(store_t *self,
                   uint64_t run_id,
                   uint32_t limit,
                   uint32_t offset,
                   uint64_t cursor,
                   const uint32_t *counts,
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

#endif
