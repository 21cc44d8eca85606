/* store_query — the store's read-only queries for the control API.
 *
 * Every row is passed to the caller's callback with borrowed pointers;
 * multi-query answers (a run with its tasks and attempts) are first copied
 * into owned arrays so that no statement stays open across the callback. */
#include "scheduler/store/store_query.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_priv.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* ----------------------------------------------------------------- reads */

/* Steps `stmt` and passes each row to `row` until it returns nonzero. */
typedef int(s_row_fn)(store_t *self, sqlite3_stmt *stmt, void *ctx);

static int
s_each(store_t *self,
       sqlite3_stmt *stmt,
       s_row_fn *row,
       void *ctx,
       const char *what,
       errbuf_t *err)
{
    int rc;
    int ret = 0;
    while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        ret = row(self, stmt, ctx);
    }
    if (ret == 0 && rc != SQLITE_DONE) {
        ret = store_priv_fail(self, rc, what, err);
    }
    store_priv_reset(stmt);
    return ret < 0 ? -1 : 0;
}

typedef struct {
    store_dag_fn *fn;
    void *arg;
    size_t rows;
} dag_ctx_t;

static int
s_dag_row(store_t *self, sqlite3_stmt *stmt, void *ctx_)
{
    (void) self;
    dag_ctx_t *ctx = ctx_;
    ctx->rows++;
    if (!ctx->fn) {
        return 0;
    }
    store_dag_row_t row = {
        .name = store_priv_text(stmt, 0),
        .version = store_priv_text(stmt, 1),
        .source = store_priv_text(stmt, 2),
        .filename = store_priv_text(stmt, 3),
        .created_at = sqlite3_column_int64(stmt, 4),
        .updated_at = sqlite3_column_int64(stmt, 5),
        .runs = (uint64_t) sqlite3_column_int64(stmt, 6),
        .last_run_id = (uint64_t) sqlite3_column_int64(stmt, 7),
        .last_run_state = store_priv_text(stmt, 8),
        .paused = sqlite3_column_int(stmt, 9) != 0,
    };
    return ctx->fn(ctx->arg, &row);
}

static int
s_dags(store_t *self, const char *name, dag_ctx_t *ctx, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_DAG_LIST, err);
    if (!stmt) {
        return -1;
    }
    if (name) {
        store_priv_bind_text(stmt, 1, name);
    }
    return s_each(self, stmt, s_dag_row, ctx, "list DAGs", err);
}

int
store_dag_list(store_t *self, store_dag_fn *fn, void *arg, errbuf_t *err)
{
    assert(self && fn);
    dag_ctx_t ctx = {fn, arg, 0};
    return s_dags(self, NULL, &ctx, err);
}

int
store_dag_get(
    store_t *self, const char *name, store_dag_fn *fn, void *arg, errbuf_t *err)
{
    assert(self && name);
    dag_ctx_t ctx = {fn, arg, 0};
    int rc = s_dags(self, name, &ctx, err);
    if (rc == 0 && ctx.rows == 0) {
        errbuf_set(err,
                   "DAG '%s' does not exist; list DAGs with 'sluice dag "
                   "list' or apply it with 'sluice dag apply FILE'",
                   name);
        return STORE_ENOTFOUND;
    }
    return rc;
}

/* Reads a run row (SQL_RUN_COLS) and its per-state task counts: counts
 * when not NULL, else counted in the store. */
static int
s_run_info(store_t *self,
           sqlite3_stmt *stmt,
           store_run_info_t *run,
           const uint32_t *counts,
           errbuf_t *err)
{
    memset(run, 0, sizeof *run);
    run->run_id = (uint64_t) sqlite3_column_int64(stmt, 0);
    run->dag = store_priv_text(stmt, 1);
    run->version = store_priv_text(stmt, 2);
    state_run_parse(store_priv_text(stmt, 3), &run->state);
    run->logical_date = store_priv_text(stmt, 4);
    run->trigger = store_priv_text(stmt, 5);
    run->created_at = sqlite3_column_int64(stmt, 6);
    run->started_at = sqlite3_column_int64(stmt, 7);
    run->ended_at = sqlite3_column_int64(stmt, 8);
    run->has_interval = sqlite3_column_type(stmt, 9) != SQLITE_NULL;
    run->logical_at = sqlite3_column_int64(stmt, 9);
    run->interval_start = sqlite3_column_int64(stmt, 10);
    run->interval_end = sqlite3_column_int64(stmt, 11);
    run->timezone = store_priv_text(stmt, 12);
    if (counts) {
        for (int i = 0; i < TASK_STATE_COUNT; i++) {
            run->counts[i] = counts[i];
            run->ntasks += counts[i];
        }
        return 0;
    }
    sqlite3_stmt *q = store_priv_stmt(self, ST_RUN_COUNTS, err);
    if (!q) {
        return -1;
    }
    sqlite3_bind_int64(q, 1, (int64_t) run->run_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        task_state_t state;
        uint32_t n = (uint32_t) sqlite3_column_int64(q, 1);
        if (state_task_parse(store_priv_text(q, 0), &state) == 0) {
            run->counts[state] += n;
        }
        run->ntasks += n;
    }
    int ret =
        rc == SQLITE_DONE ? 0 : store_priv_fail(self, rc, "count tasks", err);
    store_priv_reset(q);
    return ret;
}

typedef struct {
    store_run_fn *fn;
    void *arg;
    errbuf_t *err;
    const uint32_t *counts; /* NULL: count in the store */
} run_ctx_t;

static int
s_run_row(store_t *self, sqlite3_stmt *stmt, void *ctx_)
{
    run_ctx_t *ctx = ctx_;
    store_run_info_t run;
    if (s_run_info(self, stmt, &run, ctx->counts, ctx->err) != 0) {
        return -1;
    }
    return ctx->fn(ctx->arg, &run);
}

int
store_runs_list(store_t *self,
                const char *dag,
                uint32_t limit,
                store_run_fn *fn,
                void *arg,
                errbuf_t *err)
{
    assert(self && fn);
    bool by_dag = dag && *dag;
    sqlite3_stmt *stmt =
        store_priv_stmt(self, by_dag ? ST_RUNS_BY_DAG : ST_RUNS_ALL, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, limit);
    if (by_dag) {
        store_priv_bind_text(stmt, 2, dag);
    }
    run_ctx_t ctx = {fn, arg, err, NULL};
    return s_each(self, stmt, s_run_row, &ctx, "list runs", err);
}

int
store_run_get(store_t *self,
              uint64_t run_id,
              const uint32_t *counts,
              store_run_fn *fn,
              void *arg,
              errbuf_t *err)
{
    assert(self && fn);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_GET, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    run_ctx_t ctx = {fn, arg, err, counts};
    int found = 0;
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        found = 1;
        ret = s_run_row(self, stmt, &ctx);
    } else if (rc != SQLITE_DONE) {
        ret = store_priv_fail(self, rc, "read a run", err);
    }
    store_priv_reset(stmt);
    if (ret == 0 && !found) {
        errbuf_set(err,
                   "run %" PRIu64 " does not exist; list runs with "
                   "'sluice runs'",
                   run_id);
        return STORE_ENOTFOUND;
    }
    return ret;
}

/* Fills an attempt row (SQL_ATTEMPT_COLS); strings borrowed from stmt. */
static void
s_attempt_row(sqlite3_stmt *stmt, store_attempt_row_t *a)
{
    memset(a, 0, sizeof *a);
    a->attempt_id = (uint64_t) sqlite3_column_int64(stmt, 0);
    a->run_id = (uint64_t) sqlite3_column_int64(stmt, 1);
    a->task_id = store_priv_text(stmt, 2);
    a->number = (uint32_t) sqlite3_column_int64(stmt, 3);
    a->worker = store_priv_text(stmt, 4);
    state_attempt_parse(store_priv_text(stmt, 5), &a->state);
    a->created_at = sqlite3_column_int64(stmt, 6);
    a->started_at = sqlite3_column_int64(stmt, 7);
    a->ended_at = sqlite3_column_int64(stmt, 8);
    a->duration_ms = sqlite3_column_int64(stmt, 9);
    a->exit_code = sqlite3_column_int(stmt, 10);
    a->signal = sqlite3_column_int(stmt, 11);
    a->peak_rss_kb = (uint64_t) sqlite3_column_int64(stmt, 12);
    a->error = store_priv_text(stmt, 13);
    a->cause = store_priv_text(stmt, 14);
}

/* An owned copy of a run's detail, built from several queries. */
typedef struct {
    store_run_detail_t detail; /* points into the arrays below */
    char *run_strings[5]; /* dag, version, logical_date, trigger, timezone */
    dag_kv_t *params;
    store_task_info_t *tasks;
    store_attempt_row_t *attempts;
    size_t nattempts;
    size_t cap;         /* of the array being filled */
    int64_t last_rowid; /* store_run_page: of the page's last task */
    uint32_t limit;     /* store_run_page: tasks in a full page */
} run_detail_t;

static void
s_detail_free(run_detail_t *d)
{
    for (size_t i = 0; i < 5; i++) {
        free(d->run_strings[i]);
    }
    for (size_t i = 0; i < d->detail.nparams; i++) {
        free((char *) d->params[i].name);
        free((char *) d->params[i].value);
    }
    for (size_t i = 0; i < d->detail.ntasks; i++) {
        free((char *) d->tasks[i].task_id);
        free((char *) d->tasks[i].waiting);
    }
    for (size_t i = 0; i < d->nattempts; i++) {
        free((char *) d->attempts[i].task_id);
        free((char *) d->attempts[i].worker);
        free((char *) d->attempts[i].error);
        free((char *) d->attempts[i].cause);
    }
    free(d->params);
    free(d->tasks);
    free(d->attempts);
}

/* Reads the run row; STORE_ENOTFOUND when there is none. */
static int
s_detail_run(store_t *self,
             run_detail_t *d,
             uint64_t run_id,
             const uint32_t *counts,
             errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_GET, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        store_run_info_t *run = &d->detail.run;
        ret = s_run_info(self, stmt, run, counts, err);
        run->dag = d->run_strings[0] = xstrdup(run->dag);
        run->version = d->run_strings[1] = xstrdup(run->version);
        run->logical_date = d->run_strings[2] = xstrdup(run->logical_date);
        run->trigger = d->run_strings[3] = xstrdup(run->trigger);
        run->timezone = d->run_strings[4] = xstrdup(run->timezone);
    } else if (rc == SQLITE_DONE) {
        errbuf_set(err,
                   "run %" PRIu64 " does not exist; list runs with "
                   "'sluice runs'",
                   run_id);
        ret = STORE_ENOTFOUND;
    } else {
        ret = store_priv_fail(self, rc, "read a run", err);
    }
    store_priv_reset(stmt);
    return ret;
}

static int
s_detail_param(store_t *self, sqlite3_stmt *stmt, void *ctx)
{
    (void) self;
    run_detail_t *d = ctx;
    if (d->detail.nparams == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->params = xrealloc(d->params, d->cap * sizeof *d->params);
    }
    dag_kv_t *kv = &d->params[d->detail.nparams++];
    kv->name = xstrdup(store_priv_text(stmt, 0));
    kv->value = xstrdup(store_priv_text(stmt, 1));
    return 0;
}

static int
s_detail_task(store_t *self, sqlite3_stmt *stmt, void *ctx)
{
    (void) self;
    run_detail_t *d = ctx;
    if (d->detail.ntasks == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->tasks = xrealloc(d->tasks, d->cap * sizeof *d->tasks);
    }
    store_task_info_t *t = &d->tasks[d->detail.ntasks++];
    memset(t, 0, sizeof *t);
    t->task_id = xstrdup(store_priv_text(stmt, 0));
    state_task_parse(store_priv_text(stmt, 1), &t->state);
    t->tries = (uint32_t) sqlite3_column_int64(stmt, 2);
    t->next_try_at = sqlite3_column_int64(stmt, 3);
    t->updated_at = sqlite3_column_int64(stmt, 4);
    t->waiting = xstrdup(store_priv_text(stmt, 7));
    return 0;
}

static int
s_detail_attempt(store_t *self, sqlite3_stmt *stmt, void *ctx)
{
    (void) self;
    run_detail_t *d = ctx;
    if (d->nattempts == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->attempts = xrealloc(d->attempts, d->cap * sizeof *d->attempts);
    }
    store_attempt_row_t *a = &d->attempts[d->nattempts++];
    s_attempt_row(stmt, a);
    a->task_id = xstrdup(a->task_id);
    a->worker = xstrdup(a->worker);
    a->error = xstrdup(a->error);
    a->cause = xstrdup(a->cause);
    return 0;
}

/* Points each task at its slice of the attempts. Both lists are sorted by
 * task id (the same BINARY collation), so one walk does it. */
static void
s_detail_link(run_detail_t *d)
{
    size_t a = 0;
    for (size_t i = 0; i < d->detail.ntasks; i++) {
        store_task_info_t *t = &d->tasks[i];
        while (a < d->nattempts &&
               strcmp(d->attempts[a].task_id, t->task_id) < 0) {
            a++;
        }
        t->attempts = d->attempts + a;
        while (a < d->nattempts &&
               strcmp(d->attempts[a].task_id, t->task_id) == 0) {
            t->nattempts++;
            a++;
        }
    }
    d->detail.params = d->params;
    d->detail.tasks = d->tasks;
}

/* Runs a per-run list query (?1 = run id) through `row`. */
static int
s_detail_query(
    store_t *self, run_detail_t *d, stmt_id_t id, s_row_fn *row, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, id, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) d->detail.run.run_id);
    d->cap = 0;
    return s_each(self, stmt, row, d, "read a run", err);
}

int
store_run_show(store_t *self,
               uint64_t run_id,
               store_run_detail_fn *fn,
               void *arg,
               errbuf_t *err)
{
    assert(self && fn);
    run_detail_t d = {0};
    int rc = s_detail_run(self, &d, run_id, NULL, err);
    if (rc == 0) {
        rc = s_detail_query(self, &d, ST_RUN_PARAMS, s_detail_param, err);
    }
    if (rc == 0) {
        rc = s_detail_query(self, &d, ST_RUN_TASKS, s_detail_task, err);
    }
    if (rc == 0) {
        rc = s_detail_query(self, &d, ST_RUN_ATTEMPTS, s_detail_attempt, err);
    }
    if (rc == 0) {
        s_detail_link(&d);
        rc = fn(arg, &d.detail) == 0 ? 0 : -1;
    }
    s_detail_free(&d);
    return rc;
}

/* The rowid of the run's first instance into *first (0 when it has none). */
static int
s_page_first(store_t *self, uint64_t run_id, int64_t *first, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_FIRST, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *first = sqlite3_column_int64(stmt, 0);
    }
    store_priv_reset(stmt);
    return rc == SQLITE_ROW ? 0 : store_priv_fail(self, rc, "read a run", err);
}

/* One row of ST_RUN_PAGE: stops at another run's row, and at the row past
 * a full page, which says there is a next one. */
static int
s_page_task(store_t *self, sqlite3_stmt *stmt, void *ctx)
{
    run_detail_t *d = ctx;
    if ((uint64_t) sqlite3_column_int64(stmt, 9) != d->detail.run.run_id) {
        return 1;
    }
    if (d->detail.ntasks == d->limit) {
        d->detail.next = (uint64_t) d->last_rowid;
        return 1;
    }
    d->last_rowid = sqlite3_column_int64(stmt, 8);
    return s_detail_task(self, stmt, ctx);
}

/* The tasks of the page: up to limit rows of the run after rowid `after`,
 * skipping `offset`. */
static int
s_page_tasks(store_t *self,
             run_detail_t *d,
             int64_t after,
             uint32_t limit,
             uint32_t offset,
             errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_RUN_PAGE, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, after);
    sqlite3_bind_int64(stmt, 2, (int64_t) limit + 1);
    sqlite3_bind_int64(stmt, 3, offset);
    d->cap = 0;
    d->limit = limit;
    return s_each(self, stmt, s_page_task, d, "read a run", err);
}

/* The attempts of each task of the page, one indexed query per task,
 * linked in the same order. */
static int
s_page_attempts(store_t *self, run_detail_t *d, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_TASK_ATTEMPTS, err);
    if (!stmt) {
        return -1;
    }
    size_t *first = xcalloc(d->detail.ntasks + 1, sizeof *first);
    int rc = 0;
    d->cap = 0;
    for (size_t i = 0; rc == 0 && i < d->detail.ntasks; i++) {
        first[i] = d->nattempts;
        sqlite3_bind_int64(stmt, 1, (int64_t) d->detail.run.run_id);
        store_priv_bind_text(stmt, 2, d->tasks[i].task_id);
        rc = s_each(self, stmt, s_detail_attempt, d, "read a run", err);
        d->tasks[i].nattempts = d->nattempts - first[i];
    }
    for (size_t i = 0; rc == 0 && i < d->detail.ntasks; i++) {
        d->tasks[i].attempts = d->attempts + first[i];
    }
    free(first);
    d->detail.params = d->params;
    d->detail.tasks = d->tasks;
    return rc;
}

int
store_run_page(store_t *self,
               uint64_t run_id,
               uint32_t limit,
               uint32_t offset,
               uint64_t cursor,
               const uint32_t *counts,
               store_run_detail_fn *fn,
               void *arg,
               errbuf_t *err)
{
    assert(self && fn && limit > 0);
    run_detail_t d = {0};
    int64_t first = 0;
    int rc = 0;
    /* A later page has the run from the first one: it reads only tasks. */
    if (cursor == 0) {
        rc = s_detail_run(self, &d, run_id, counts, err);
        if (rc == 0) {
            rc = s_detail_query(self, &d, ST_RUN_PARAMS, s_detail_param, err);
        }
        if (rc == 0) {
            rc = s_page_first(self, run_id, &first, err);
        }
    }
    d.detail.run.run_id = run_id;
    /* An offset past the run's last task reads nothing (not the rows of
     * the runs after it). */
    bool past = !cursor && offset >= d.detail.run.ntasks;
    if (rc == 0 && (cursor || first) && !past) {
        rc = s_page_tasks(self, &d, cursor ? (int64_t) cursor : first - 1,
                          limit, cursor ? 0 : offset, err);
    }
    if (rc == 0) {
        rc = s_page_attempts(self, &d, err);
    }
    if (rc == 0) {
        rc = fn(arg, &d.detail) == 0 ? 0 : -1;
    }
    s_detail_free(&d);
    return rc;
}

/* Steps a one-row query; 0 with the row current, STORE_ENOTFOUND when
 * empty (err not set), -1 on error. Caller resets. */
static int
s_one(store_t *self, sqlite3_stmt *stmt, const char *what, errbuf_t *err)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        return 0;
    }
    return rc == SQLITE_DONE ? STORE_ENOTFOUND
                             : store_priv_fail(self, rc, what, err);
}

/* Copies the current attempt row with its strings dropped. */
static void
s_attempt_copy(sqlite3_stmt *stmt, store_attempt_row_t *attempt)
{
    s_attempt_row(stmt, attempt);
    attempt->task_id = NULL;
    attempt->worker = NULL;
    attempt->error = NULL;
}

/* The state of a task instance; STORE_ENOTFOUND with err saying whether
 * the run or the task is missing. */
static int
s_task_state(store_t *self,
             uint64_t run_id,
             const char *task_id,
             task_state_t *state,
             errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_TASK_STATE, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    store_priv_bind_text(stmt, 2, task_id);
    int rc = s_one(self, stmt, "read a task", err);
    if (rc == 0) {
        state_task_parse(store_priv_text(stmt, 0), state);
    }
    store_priv_reset(stmt);
    if (rc != STORE_ENOTFOUND ||
        !(stmt = store_priv_stmt(self, ST_RUN_EXISTS, err))) {
        return rc == STORE_ENOTFOUND ? -1 : rc;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    int run = s_one(self, stmt, "read a run", err);
    store_priv_reset(stmt);
    if (run == 0) {
        errbuf_set(err,
                   "run %" PRIu64 " has no task '%s'; see its tasks "
                   "with 'sluice run show %" PRIu64 "'",
                   run_id, task_id, run_id);
    } else if (run == STORE_ENOTFOUND) {
        errbuf_set(err,
                   "run %" PRIu64 " does not exist; list runs with "
                   "'sluice runs'",
                   run_id);
    }
    return run == 0 ? STORE_ENOTFOUND : run;
}

int
store_attempt_find(store_t *self,
                   uint64_t run_id,
                   const char *task_id,
                   uint32_t number,
                   store_attempt_row_t *attempt,
                   task_state_t *task_state,
                   errbuf_t *err)
{
    assert(self && task_id && attempt && task_state);
    int rc = s_task_state(self, run_id, task_id, task_state, err);
    if (rc != 0) {
        return rc;
    }
    sqlite3_stmt *stmt = store_priv_stmt(
        self, number ? ST_ATTEMPT_BY_NUMBER : ST_ATTEMPT_LATEST, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) run_id);
    store_priv_bind_text(stmt, 2, task_id);
    sqlite3_bind_int64(stmt, 3, number);
    rc = s_one(self, stmt, "read an attempt", err);
    if (rc == 0) {
        s_attempt_copy(stmt, attempt);
    }
    store_priv_reset(stmt);
    if (rc == STORE_ENOTFOUND && number) {
        errbuf_set(err,
                   "task '%s' of run %" PRIu64 " has no attempt %" PRIu32
                   "; see its attempts with 'sluice run show %" PRIu64 "'",
                   task_id, run_id, number, run_id);
    } else if (rc == STORE_ENOTFOUND) {
        errbuf_set(err,
                   "task '%s' of run %" PRIu64 " has not started yet "
                   "(it is %s); try again once it runs",
                   task_id, run_id, state_task_name(*task_state));
    }
    return rc;
}

int
store_attempt_get(store_t *self,
                  uint64_t attempt_id,
                  store_attempt_row_t *attempt,
                  errbuf_t *err)
{
    assert(self && attempt);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_ATTEMPT_BY_ID, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    int rc = s_one(self, stmt, "read an attempt", err);
    if (rc == 0) {
        s_attempt_copy(stmt, attempt);
    } else if (rc == STORE_ENOTFOUND) {
        errbuf_set(err, "attempt %" PRIu64 " does not exist", attempt_id);
    }
    store_priv_reset(stmt);
    return rc;
}

typedef struct {
    store_log_fn *fn;
    void *arg;
    size_t max_bytes;
    size_t bytes;  /* passed so far */
    size_t passed; /* chunks passed so far */
    bool more;     /* stopped with chunks left */
} log_ctx_t;

static int
s_log_row(store_t *self, sqlite3_stmt *stmt, void *ctx_)
{
    (void) self;
    log_ctx_t *ctx = ctx_;
    store_log_row_t chunk = {
        .seq = (uint64_t) sqlite3_column_int64(stmt, 0),
        .stream = sqlite3_column_int(stmt, 1),
        .wall = sqlite3_column_int64(stmt, 2),
        .data = sqlite3_column_blob(stmt, 3),
        .size = (size_t) sqlite3_column_bytes(stmt, 3),
    };
    if (ctx->passed > 0 && ctx->bytes + chunk.size > ctx->max_bytes) {
        ctx->more = true;
        return 1; /* stop, not an error */
    }
    ctx->bytes += chunk.size;
    ctx->passed++;
    return ctx->fn(ctx->arg, &chunk);
}

int
store_log_read(store_t *self,
               uint64_t attempt_id,
               uint64_t after_seq,
               size_t max_bytes,
               store_log_fn *fn,
               void *arg,
               bool *more,
               errbuf_t *err)
{
    assert(self && fn);
    sqlite3_stmt *stmt = store_priv_stmt(self, ST_LOG_READ, err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (int64_t) attempt_id);
    sqlite3_bind_int64(stmt, 2, (int64_t) after_seq);
    log_ctx_t ctx = {fn, arg, max_bytes, 0, 0, false};
    int rc = s_each(self, stmt, s_log_row, &ctx, "read logs", err);
    if (more) {
        *more = ctx.more;
    }
    return rc;
}
