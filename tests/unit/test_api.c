#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dag.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_runs.h"
#include "tests/unit/suites.h"

/* A fresh temp dir per test, holding store.db and its WAL files. */
static char s_dir[64];
static char s_db[96];

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-api-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    snprintf(s_db, sizeof s_db, "%s/store.db", s_dir);
}

static void
s_teardown(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *path = xasprintf("%s%s", s_db, suffixes[i]);
        unlink(path);
        free(path);
    }
    rmdir(s_dir);
}

/* Tasks deliberately not in alphabetical order. */
static const char *const s_yaml = "dag: hello\n"
                                  "description: fan out and join\n"
                                  "params:\n"
                                  "  greeting: hi\n"
                                  "tasks:\n"
                                  "  - id: start\n"
                                  "    run: echo start\n"
                                  "    retries: 2\n"
                                  "  - id: left\n"
                                  "    after: [start]\n"
                                  "    run: echo left\n"
                                  "  - id: join\n"
                                  "    after: [left]\n"
                                  "    run: echo joined\n";

typedef struct {
    store_t *store;
    uint64_t run_id;
    uint64_t attempt_id;
} fixture_t;

/* The version (content hash) of a DAG text, in a static buffer. */
static const char *
s_version_of(const char *yaml)
{
    static char version[65];
    dag_t *dag = dag_parse("hello.yaml", yaml, strlen(yaml), NULL);
    ck_assert_ptr_nonnull(dag);
    snprintf(version, sizeof version, "%s", dag_version(dag));
    dag_destroy(&dag);
    return version;
}

/* Applies hello, triggers it, runs `start` (2 attempts: the first failed)
 * with three log chunks, and `left` is queued. */
static void
s_fixture(fixture_t *f)
{
    errbuf_t err;
    f->store = store_open(s_db, &err);
    ck_assert_msg(f->store, "%s", err.msg);
    dag_t *dag = dag_parse("hello.yaml", s_yaml, strlen(s_yaml), NULL);
    ck_assert_ptr_nonnull(dag);
    const char *version = dag_version(dag);
    bool changed;
    store_t *st = f->store;
    ck_assert_int_eq(store_dag_put(st, "hello", version, s_yaml, "hello.yaml",
                                   1, &changed, &err),
                     0);
    dag_kv_t params[] = {{"greeting", "hello"}};
    ck_assert_int_eq(store_run_create(st, "hello", version, params, 1,
                                      "2026-11-26", "manual", 2, &f->run_id,
                                      &err),
                     0);
    dag_destroy(&dag);
    store_run_set_state(st, f->run_id, RUN_RUNNING, 3, &err);
    store_task_create(st, f->run_id, "start", TASK_RUNNING, 3, &err);
    store_task_create(st, f->run_id, "left", TASK_QUEUED, 3, &err);
    store_task_create(st, f->run_id, "join", TASK_PENDING, 3, &err);
    uint64_t first;
    store_attempt_create(st, f->run_id, "start", 1, "w1", ATTEMPT_RUNNING, 4,
                         &first, &err);
    store_attempt_end_t end = {.state = ATTEMPT_FAILED,
                               .exit_code = 3,
                               .ended_at = 5,
                               .error = "exit 3"};
    store_attempt_finish(st, first, &end, &err);
    store_attempt_create(st, f->run_id, "start", 2, "w2", ATTEMPT_RUNNING, 6,
                         &f->attempt_id, &err);
    const char *lines[] = {"one\n", "two\n", "three\n"};
    for (uint64_t i = 0; i < 3; i++) {
        ck_assert_int_eq(store_log_append(st, f->attempt_id, i + 1, 1, 7,
                                          lines[i], strlen(lines[i]), &err),
                         0);
    }
}

/* A request with op `op` set to msg (borrowed: the request is on the
 * stack and only read). */
static Sluice__Request
s_request(Sluice__Request__OpCase op, void *msg)
{
    Sluice__Request req = SLUICE__REQUEST__INIT;
    req.request_id = 77;
    req.op_case = op;
    req.dag_list = msg; /* every member of the union is a pointer */
    return req;
}

START_TEST(test_api_usage)
{
    /* The scheduler passes each read-only request to api_read, sends the
     * reply and frees it. */
    fixture_t f;
    s_fixture(&f);
    Sluice__RunShowReq show = SLUICE__RUN_SHOW_REQ__INIT;
    show.run_id = f.run_id;
    Sluice__Request req = s_request(SLUICE__REQUEST__OP_RUN_SHOW, &show);
    Sluice__Reply *rep = api_read(f.store, &req);
    ck_assert_ptr_nonnull(rep);
    ck_assert_uint_eq(rep->request_id, 77);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_RUN_SHOW);
    Sluice__RunShowRep *rs = rep->run_show;
    ck_assert_str_eq(rs->run->state, "running");
    ck_assert_uint_eq(rs->run->total, 3);
    ck_assert_uint_eq(rs->run->running, 2);
    ck_assert_str_eq(rs->run->logical_date, "2026-11-26");
    ck_assert_uint_eq(rs->n_params, 1);
    ck_assert_str_eq(rs->params[0]->value, "hello");
    /* In DAG order, with edges and every attempt. */
    ck_assert_uint_eq(rs->n_tasks, 3);
    ck_assert_str_eq(rs->tasks[0]->task_id, "start");
    ck_assert_str_eq(rs->tasks[1]->task_id, "left");
    ck_assert_str_eq(rs->tasks[2]->task_id, "join");
    ck_assert_uint_eq(rs->tasks[2]->n_after, 1);
    ck_assert_str_eq(rs->tasks[2]->after[0], "left");
    ck_assert_uint_eq(rs->tasks[0]->n_attempts, 2);
    ck_assert_str_eq(rs->tasks[0]->attempts[0]->state, "failed");
    ck_assert_str_eq(rs->tasks[0]->attempts[0]->error, "exit 3");
    ck_assert_int_eq(rs->tasks[0]->attempts[0]->exit_code, 3);
    ck_assert_str_eq(rs->tasks[0]->attempts[1]->worker, "w2");
    ck_assert_uint_eq(rs->tasks[1]->n_attempts, 0);
    /* It survives the wire. */
    size_t size = sluice__reply__get_packed_size(rep);
    uint8_t *buf = xmalloc(size);
    sluice__reply__pack(rep, buf);
    Sluice__Reply *back = sluice__reply__unpack(NULL, size, buf);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(back->run_show->tasks[2]->task_id, "join");
    sluice__reply__free_unpacked(back, NULL);
    free(buf);
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    /* Write-side ops are the scheduler's: api_read declines them. */
    Sluice__CancelReq cancel = SLUICE__CANCEL_REQ__INIT;
    req = s_request(SLUICE__REQUEST__OP_CANCEL, &cancel);
    ck_assert_ptr_null(api_read(f.store, &req));
    store_destroy(&f.store);
}

END_TEST

START_TEST(test_api_dags)
{
    fixture_t f;
    s_fixture(&f);
    Sluice__DagListReq list = SLUICE__DAG_LIST_REQ__INIT;
    Sluice__Request req = s_request(SLUICE__REQUEST__OP_DAG_LIST, &list);
    Sluice__Reply *rep = api_read(f.store, &req);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_DAG_LIST);
    ck_assert_uint_eq(rep->dag_list->n_dags, 1);
    Sluice__DagSummary *sum = rep->dag_list->dags[0];
    ck_assert_str_eq(sum->name, "hello");
    ck_assert_str_eq(sum->description, "fan out and join");
    ck_assert_uint_eq(sum->tasks, 3);
    ck_assert_uint_eq(sum->runs, 1);
    ck_assert_uint_eq(sum->last_run_id, f.run_id);
    ck_assert_str_eq(sum->last_run_state, "running");
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    Sluice__DagShowReq show = SLUICE__DAG_SHOW_REQ__INIT;
    show.name = "hello";
    req = s_request(SLUICE__REQUEST__OP_DAG_SHOW, &show);
    rep = api_read(f.store, &req);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_DAG_SHOW);
    ck_assert_str_eq(rep->dag_show->source, s_yaml);
    ck_assert_uint_eq(rep->dag_show->n_tasks, 3);
    ck_assert_str_eq(rep->dag_show->tasks[0]->id, "start");
    ck_assert_uint_eq(rep->dag_show->tasks[0]->retries, 2);
    ck_assert_str_eq(rep->dag_show->tasks[1]->after[0], "start");
    ck_assert_uint_eq(rep->dag_show->n_params, 1);
    ck_assert_str_eq(rep->dag_show->params[0]->name, "greeting");
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    show.name = "nope";
    rep = api_read(f.store, &req);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_ERROR);
    ck_assert_uint_eq(rep->error->code, API_E_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(rep->error->message, "'sluice dag list'"));
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    store_destroy(&f.store);
}

END_TEST

START_TEST(test_api_runs)
{
    fixture_t f;
    s_fixture(&f);
    Sluice__RunsReq runs = SLUICE__RUNS_REQ__INIT;
    Sluice__Request req = s_request(SLUICE__REQUEST__OP_RUNS, &runs);
    Sluice__Reply *rep = api_read(f.store, &req);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_RUNS);
    ck_assert_uint_eq(rep->runs->n_runs, 1);
    ck_assert_uint_eq(rep->runs->runs[0]->run_id, f.run_id);
    ck_assert_str_eq(rep->runs->runs[0]->trigger, "manual");
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    runs.dag = "nope";
    rep = api_read(f.store, &req);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_ERROR);
    ck_assert_uint_eq(rep->error->code, API_E_NOT_FOUND);
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    Sluice__RunShowReq show = SLUICE__RUN_SHOW_REQ__INIT;
    show.run_id = 42;
    req = s_request(SLUICE__REQUEST__OP_RUN_SHOW, &show);
    rep = api_read(f.store, &req);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_ERROR);
    ck_assert_uint_eq(rep->error->code, API_E_NOT_FOUND);
    ck_assert_str_eq(rep->error->message,
                     "run 42 does not exist; list runs with 'sluice runs'");
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    store_destroy(&f.store);
}

END_TEST

static Sluice__Reply *
s_logs(fixture_t *f, const char *task, uint32_t attempt, uint64_t after)
{
    Sluice__LogsReq logs = SLUICE__LOGS_REQ__INIT;
    logs.run_id = f->run_id;
    logs.task_id = (char *) task;
    logs.attempt = attempt;
    logs.after_seq = after;
    Sluice__Request req = s_request(SLUICE__REQUEST__OP_LOGS, &logs);
    return api_read(f->store, &req);
}

START_TEST(test_api_logs_paging)
{
    fixture_t f;
    s_fixture(&f);
    /* The latest attempt, still running: not finished. */
    Sluice__Reply *rep = s_logs(&f, "start", 0, 0);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_LOGS);
    ck_assert_uint_eq(rep->logs->attempt, 2);
    ck_assert_uint_eq(rep->logs->attempt_id, f.attempt_id);
    ck_assert_uint_eq(rep->logs->n_chunks, 3);
    ck_assert(!rep->logs->finished);
    ck_assert_str_eq(rep->logs->task_state, "running");
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    /* Following: only what came after seq 2. */
    rep = s_logs(&f, "start", 0, 2);
    ck_assert_uint_eq(rep->logs->n_chunks, 1);
    ck_assert_uint_eq(rep->logs->chunks[0]->seq, 3);
    ck_assert_mem_eq(rep->logs->chunks[0]->data.data, "three\n", 6);
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    /* More than one reply's worth: the rest comes on the next ask. */
    errbuf_t err;
    char *big = xmalloc(API_LOG_REPLY_BYTES);
    memset(big, 'x', API_LOG_REPLY_BYTES);
    store_log_append(f.store, f.attempt_id, 4, 1, 8, big, API_LOG_REPLY_BYTES,
                     &err);
    store_log_append(f.store, f.attempt_id, 5, 2, 9, "bye\n", 4, &err);
    free(big);
    store_attempt_end_t end = {
        .state = ATTEMPT_SUCCESS, .exit_code = 0, .ended_at = 10};
    store_attempt_finish(f.store, f.attempt_id, &end, &err);
    rep = s_logs(&f, "start", 2, 3);
    ck_assert_uint_eq(rep->logs->n_chunks, 1); /* the big one, alone */
    ck_assert(!rep->logs->finished);           /* "bye" remains */
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    rep = s_logs(&f, "start", 2, 4);
    ck_assert_uint_eq(rep->logs->n_chunks, 1);
    ck_assert(rep->logs->finished);
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    /* The first, failed attempt by number. */
    rep = s_logs(&f, "start", 1, 0);
    ck_assert_uint_eq(rep->logs->n_chunks, 0);
    ck_assert(rep->logs->finished);
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    store_destroy(&f.store);
}

END_TEST

START_TEST(test_api_logs_not_found)
{
    fixture_t f;
    s_fixture(&f);

    struct {
        const char *task;
        uint32_t attempt;
        uint32_t code;
        const char *says;
    } cases[] = {
        {"nope", 0, API_E_NOT_FOUND, "has no task 'nope'"},
        {"start", 9, API_E_NOT_FOUND, "has no attempt 9"},
        {"join", 0, API_E_NOT_FOUND, "has not started yet (it is pending)"},
        {"", 0, API_E_BAD_REQUEST, "name the task"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Sluice__Reply *rep = s_logs(&f, cases[i].task, cases[i].attempt, 0);
        ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_ERROR);
        ck_assert_uint_eq(rep->error->code, cases[i].code);
        ck_assert_msg(strstr(rep->error->message, cases[i].says), "%s",
                      rep->error->message);
        protobuf_c_message_free_unpacked(&rep->base, NULL);
    }
    f.run_id = 999;
    Sluice__Reply *rep = s_logs(&f, "start", 0, 0);
    ck_assert_str_eq(rep->error->message,
                     "run 999 does not exist; list runs with 'sluice runs'");
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    store_destroy(&f.store);
}

END_TEST

static Sluice__Reply *
s_page(fixture_t *f,
       uint32_t limit,
       uint32_t offset,
       uint64_t cursor,
       const uint32_t *counts)
{
    Sluice__RunShowReq show = SLUICE__RUN_SHOW_REQ__INIT;
    show.run_id = f->run_id;
    show.limit = limit;
    show.offset = offset;
    show.cursor = cursor;
    Sluice__Request req = s_request(SLUICE__REQUEST__OP_RUN_SHOW, &show);
    Sluice__Reply *rep = api_run_show(f->store, &req, counts);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_RUN_SHOW);
    return rep;
}

START_TEST(test_api_run_show_pages)
{
    /* A paged run show walks the tasks in DAG order (not by id), a page at
     * a time: the first page has the run and its counts per state, each
     * page the cursor of the next, 0 after the last. A later run's tasks
     * never leak into the last page. */
    fixture_t f;
    s_fixture(&f);
    errbuf_t err;
    uint64_t other;
    ck_assert_int_eq(store_run_create(f.store, "hello", s_version_of(s_yaml),
                                      NULL, 0, "2026-11-27", "manual", 9,
                                      &other, &err),
                     0);
    store_task_create(f.store, other, "start", TASK_PENDING, 9, &err);
    Sluice__Reply *rep = s_page(&f, 2, 0, 0, NULL);
    const Sluice__RunShowRep *page = rep->run_show;
    ck_assert_ptr_nonnull(page->run);
    ck_assert_uint_eq(page->run->total, 3);
    ck_assert_uint_eq(page->n_params, 1);
    ck_assert_uint_eq(page->n_states, 3); /* pending, queued, running */
    ck_assert_uint_eq(page->n_tasks, 2);
    ck_assert_str_eq(page->tasks[0]->task_id, "start");
    ck_assert_uint_eq(page->tasks[0]->n_attempts, 2);
    ck_assert_uint_eq(page->tasks[0]->n_after, 0); /* paged: no DAG parse */
    ck_assert_str_eq(page->tasks[1]->task_id, "left");
    uint64_t next = page->next;
    ck_assert_uint_ne(next, 0);
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    rep = s_page(&f, 2, 0, next, NULL);
    page = rep->run_show;
    ck_assert_ptr_null(page->run); /* only the first page has it */
    ck_assert_uint_eq(page->n_tasks, 1);
    ck_assert_str_eq(page->tasks[0]->task_id, "join");
    ck_assert_uint_eq(page->next, 0);
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    /* A full last page says so; an offset skips in DAG order; past the
     * end is an empty page. */
    rep = s_page(&f, 3, 0, 0, NULL);
    ck_assert_uint_eq(rep->run_show->n_tasks, 3);
    ck_assert_uint_eq(rep->run_show->next, 0);
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    rep = s_page(&f, 5, 1, 0, NULL);
    ck_assert_uint_eq(rep->run_show->n_tasks, 2);
    ck_assert_str_eq(rep->run_show->tasks[0]->task_id, "left");
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    rep = s_page(&f, 5, 3, 0, NULL);
    ck_assert_uint_eq(rep->run_show->n_tasks, 0);
    ck_assert_uint_eq(rep->run_show->next, 0);
    protobuf_c_message_free_unpacked(&rep->base, NULL);

    /* Counts the caller keeps (the planner's) are used as they are. */
    uint32_t counts[TASK_STATE_COUNT] = {0};
    counts[TASK_SUCCESS] = 7;
    rep = s_page(&f, 1, 0, 0, counts);
    ck_assert_uint_eq(rep->run_show->run->total, 7);
    ck_assert_uint_eq(rep->run_show->run->succeeded, 7);
    ck_assert_uint_eq(rep->run_show->n_states, 1);
    ck_assert_str_eq(rep->run_show->states[0]->state, "success");
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    store_destroy(&f.store);
}

END_TEST

START_TEST(test_api_error)
{
    Sluice__Reply *rep =
        api_error(5, API_E_STORE_FULL, "disk %s is full", "/var");
    ck_assert_uint_eq(rep->request_id, 5);
    ck_assert_int_eq(rep->op_case, SLUICE__REPLY__OP_ERROR);
    ck_assert_uint_eq(rep->error->code, 5);
    ck_assert_str_eq(rep->error->message, "disk /var is full");
    protobuf_c_message_free_unpacked(&rep->base, NULL);
}

END_TEST

Suite *
api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_api_usage);
    tcase_add_test(tc, test_api_dags);
    tcase_add_test(tc, test_api_runs);
    tcase_add_test(tc, test_api_logs_paging);
    tcase_add_test(tc, test_api_logs_not_found);
    tcase_add_test(tc, test_api_run_show_pages);
    tcase_add_test(tc, test_api_error);
    suite_add_tcase(s, tc);
    return s;
}
