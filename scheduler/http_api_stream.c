/* http_api_stream — live Server-Sent Events: a run's task states and a
 * task attempt's log, followed in the store as the loop commits them.
 *
 * Each stream polls its own read-only store connection (the server's
 * per-thread one belongs to the request's handler only), opened in the
 * state directory the routes were given, every
 * S_POLL_MS, queues what changed as events and hands them out as the
 * client takes them; its state is freed by s_done however it ends. */
#include <czmq.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/http_api_internal.h"
#include "scheduler/state.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_query.h"
#include "scheduler/store/store_web.h"

#define S_POLL_MS 300

/* Events queued for the client. */
typedef struct {
    char *data; /* owned */
    size_t len;
    size_t off; /* bytes already handed out */
} s_queue_t;

static void
s_queue_add(s_queue_t *q, const char *text, size_t len)
{
    if (q->off == q->len) {
        q->off = q->len = 0;
    }
    q->data = xrealloc(q->data, q->len + len + 1);
    memcpy(q->data + q->len, text, len);
    q->len += len;
}

static void
s_queue_event(s_queue_t *q, const char *event, http_api_out_t *out)
{
    size_t size;
    char *json = http_api_out_take(out, &size); /* ends with a newline */
    char *head = xasprintf("event: %s\ndata: ", event);
    s_queue_add(q, head, strlen(head));
    s_queue_add(q, json, size);
    s_queue_add(q, "\n", 1);
    free(head);
    free(json);
}

/* What both streams share: their store, their queue, and when to poll
 * next. It is the first member of each, so a stream is its base. The
 * server sends keepalive comments while a stream has nothing. */
typedef struct s_stream_t {
    store_t *store; /* owned, read-only */
    s_queue_t queue;
    int64_t next_poll; /* monotonic ms */
    bool ended;        /* the last event is queued */
    /* Queues what changed since the last poll; -1 ends the stream. */
    int (*poll)(struct s_stream_t *self);
    void (*free_rest)(struct s_stream_t *self); /* NULL: nothing more */
} s_stream_t;

/* http_stream_fn of every stream: queued bytes first, then a poll when one
 * is due; -1 once the last event went. */
static long
s_next(void *arg, char *buf, size_t size)
{
    s_stream_t *s = arg;
    int64_t now = clock_mono_ms();
    if (s->queue.off == s->queue.len && !s->ended && now >= s->next_poll) {
        s->next_poll = now + S_POLL_MS;
        if (s->poll(s) != 0) {
            return -1;
        }
    }
    size_t n = s->queue.len - s->queue.off;
    if (n == 0) {
        return s->ended ? -1 : 0;
    }
    n = n < size ? n : size;
    memcpy(buf, s->queue.data + s->queue.off, n);
    s->queue.off += n;
    return (long) n;
}

static void
s_done(void *arg)
{
    s_stream_t *s = arg;
    if (s->free_rest) {
        s->free_rest(s);
    }
    store_destroy(&s->store);
    free(s->queue.data);
    free(s);
}

/* A read-only connection of the stream's own to the store in state dir
 * dir; NULL when it cannot, after answering 503. */
static store_t *
s_open(http_req_t *req, const char *dir)
{
    errbuf_t err = {{0}};
    char *db = dir ? statedir_path(dir, STATEDIR_STORE) : NULL;
    store_t *store = db ? store_open_readonly(db, &err) : NULL;
    free(db);
    if (!store) {
        log_warn("http: cannot open the store for a stream: %s",
                 errbuf_msg(&err));
        http_reply_error(req, 503,
                         "the scheduler cannot open its store for a "
                         "stream; see its log");
    }
    return store;
}

/* ------------------------------------------------------------ run tasks */

typedef struct {
    s_stream_t base;
    uint64_t run_id;
    zhashx_t *seen; /* task id -> "state/tries" last sent (owned strings) */
} run_stream_t;

static int
s_run_task(void *arg, const store_web_task_t *task)
{
    run_stream_t *s = arg;
    char now[64];
    snprintf(now, sizeof now, "%s/%" PRIu32, task->state, task->tries);
    const char *before = zhashx_lookup(s->seen, task->task_id);
    if (before && strcmp(before, now) == 0) {
        return 0;
    }
    zhashx_update(s->seen, task->task_id, xstrdup(now));
    http_api_out_t out;
    json_t *json = http_api_out_open(&out);
    json_object_begin(json);
    json_kv_string(json, "task", task->task_id);
    json_kv_string(json, "state", task->state);
    json_kv_uint(json, "attempt", task->tries);
    json_object_end(json);
    s_queue_event(&s->base.queue, "task", &out);
    return 0;
}

/* Queues what changed since the last poll; the run's state is read first,
 * so a final run's tasks read after it are final too. */
static int
s_run_poll(s_stream_t *base)
{
    run_stream_t *s = (run_stream_t *) base;
    errbuf_t err = {{0}};
    char state[32];
    run_state_t run_state;
    if (store_web_run_state(s->base.store, s->run_id, state, sizeof state,
                            &err) != 0 ||
        store_web_tasks(s->base.store, s->run_id, s_run_task, s, &err) != 0) {
        log_warn("http: run %" PRIu64 " stream: %s", s->run_id,
                 errbuf_msg(&err));
        return -1;
    }
    if (state_run_parse(state, &run_state) == 0 &&
        state_run_is_final(run_state)) {
        http_api_out_t out;
        json_t *json = http_api_out_open(&out);
        json_object_begin(json);
        json_kv_uint(json, "run", s->run_id);
        json_kv_string(json, "state", state);
        json_object_end(json);
        s_queue_event(&s->base.queue, "run", &out);
        s->base.ended = true;
    }
    return 0;
}

static void
s_run_free(s_stream_t *base)
{
    zhashx_destroy(&((run_stream_t *) base)->seen);
}

int
http_api_run_stream(http_req_t *req, void *arg)
{
    errbuf_t err = {{0}};
    uint64_t run_id;
    char state[32];
    if (http_api_param_run(req, &run_id, &err) != 0) {
        return http_api_bad(req, &err);
    }
    store_t *ro = http_api_store(req);
    if (!ro) {
        return 0;
    }
    int rc = store_web_run_state(ro, run_id, state, sizeof state, &err);
    if (rc != 0) {
        return http_reply_error(req, rc == STORE_ENOTFOUND ? 404 : 500, "%s",
                                errbuf_msg(&err));
    }
    store_t *store = s_open(req, arg);
    if (!store) {
        return 0;
    }
    run_stream_t *s = xcalloc(1, sizeof *s);
    s->base = (s_stream_t){
        .store = store, .poll = s_run_poll, .free_rest = s_run_free};
    s->run_id = run_id;
    s->seen = zhashx_new();
    zhashx_set_destructor(s->seen, (zhashx_destructor_fn *) zstr_free);
    return http_reply_stream(req, s_next, s_done, s);
}

/* ------------------------------------------------------------ task logs */

typedef struct {
    s_stream_t base;
    uint64_t attempt_id;
    uint64_t last_seq; /* the last chunk queued */
} log_stream_t;

static int
s_log_chunk(void *arg, const store_log_row_t *chunk)
{
    log_stream_t *s = arg;
    http_api_out_t out;
    json_string_len(http_api_out_open(&out), chunk->data, chunk->size);
    s_queue_event(&s->base.queue, "log", &out);
    s->last_seq = chunk->seq;
    return 0;
}

/* Queues the chunks committed since the last poll, then "end" once the
 * attempt has ended and its last chunk went: the attempt's state is read
 * first, so chunks read after a final state are all there are. */
static int
s_log_poll(s_stream_t *base)
{
    log_stream_t *s = (log_stream_t *) base;
    errbuf_t err = {{0}};
    store_attempt_row_t attempt;
    bool more = false;
    if (store_attempt_get(s->base.store, s->attempt_id, &attempt, &err) != 0 ||
        store_log_read(s->base.store, s->attempt_id, s->last_seq,
                       API_LOG_REPLY_BYTES, s_log_chunk, s, &more, &err) != 0) {
        log_warn("http: attempt %" PRIu64 " log stream: %s", s->attempt_id,
                 errbuf_msg(&err));
        return -1;
    }
    if (more) {
        s->base.next_poll = 0; /* a long log: the rest at once, not in 300 ms */
    }
    bool final =
        attempt.state != ATTEMPT_RUNNING && attempt.state != ATTEMPT_DISPATCHED;
    if (final && !more) {
        http_api_out_t out;
        json_t *json = http_api_out_open(&out);
        json_object_begin(json);
        json_kv_uint(json, "attempt", attempt.number);
        json_kv_string(json, "state", state_attempt_name(attempt.state));
        json_object_end(json);
        s_queue_event(&s->base.queue, "end", &out);
        s->base.ended = true;
    }
    return 0;
}

int
http_api_log_stream(http_req_t *req, void *arg)
{
    errbuf_t err = {{0}};
    uint64_t run_id, number;
    if (http_api_param_run(req, &run_id, &err) != 0 ||
        http_api_query_uint(req, "attempt", 0, 0, UINT32_MAX, &number, &err) !=
            0) {
        return http_api_bad(req, &err);
    }
    store_attempt_row_t attempt;
    task_state_t task_state;
    store_t *ro = http_api_store(req);
    if (!ro) {
        return 0;
    }
    int rc = store_attempt_find(ro, run_id, http_req_param(req, "task"),
                                (uint32_t) number, &attempt, &task_state, &err);
    if (rc != 0) {
        return http_reply_error(req, rc == STORE_ENOTFOUND ? 404 : 500, "%s",
                                errbuf_msg(&err));
    }
    store_t *store = s_open(req, arg);
    if (!store) {
        return 0;
    }
    log_stream_t *s = xcalloc(1, sizeof *s);
    s->base = (s_stream_t){.store = store, .poll = s_log_poll};
    s->attempt_id = attempt.attempt_id;
    return http_reply_stream(req, s_next, s_done, s);
}
