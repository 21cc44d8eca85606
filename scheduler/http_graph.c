/* http_graph — the .svg routes: read the DAG, run states or lineage from
 * the store, draw with graph_, answer image/svg+xml. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "scheduler/graph.h"
#include "scheduler/http_graph.h"
#include "scheduler/sched_internal.h"
#include "scheduler/state.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_query.h"

#define S_SVG       "image/svg+xml"
#define S_PAGE_SIZE 5000 /* task states read per store call */
#define S_MAX_DEPTH 1000

/* One renderer for the process: Graphviz's state is process-wide anyway
 * (graph.h), and the cache's keys are content hashes, so two schedulers in
 * one process may share it. Made at the first request; reachable until
 * exit. */
static graph_t *s_graph;
static pthread_once_t s_graph_once = PTHREAD_ONCE_INIT;

static void
s_graph_make(void)
{
    s_graph = graph_new();
}

/* The renderer; NULL after answering req when Graphviz cannot be used. */
static graph_t *
s_renderer(http_req_t *req)
{
    pthread_once(&s_graph_once, s_graph_make);
    if (!s_graph) {
        http_reply_error(req, 500,
                         "Graphviz's plugins (libgvplugin_core, "
                         "libgvplugin_dot_layout, libgvplugin_neato_layout) "
                         "could not be loaded; install the graphviz "
                         "package on the scheduler's host");
    }
    return s_graph;
}

/* A decimal id > 0 in text, else 0. */
static uint64_t
s_id(const char *text)
{
    if (!text || *text < '0' || *text > '9') {
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    return (errno || *end) ? 0 : (uint64_t) v;
}

static int
s_reply_svg(http_req_t *req, char *svg, size_t len, const errbuf_t *err)
{
    if (!svg) {
        return http_reply_error(req, 500, "%s", errbuf_msg(err));
    }
    int rc = http_reply(req, 200, S_SVG, svg, len);
    free(svg);
    return rc;
}

/* ------------------------------------------------------------ DAG graph */

/* A run's DAG, version and task states, read page by page. */
typedef struct {
    char *dag;
    char *version;
    graph_state_t *states; /* owned task ids; states are static names */
    size_t count;
    uint64_t next; /* cursor of the next page, 0 after the last */
} s_run_t;

static int
s_on_page(void *arg, const store_run_detail_t *detail)
{
    s_run_t *run = arg;
    if (!run->dag && detail->run.dag) {
        run->dag = xstrdup(detail->run.dag);
        run->version = xstrdup(detail->run.version);
    }
    run->states = xrealloc(run->states, (run->count + detail->ntasks + 1) *
                                            sizeof *run->states);
    for (size_t i = 0; i < detail->ntasks; i++) {
        graph_state_t *s = &run->states[run->count++];
        s->task_id = xstrdup(detail->tasks[i].task_id);
        s->state = state_task_name(detail->tasks[i].state);
    }
    run->next = detail->next;
    return 0;
}

static void
s_run_clear(s_run_t *run)
{
    for (size_t i = 0; i < run->count; i++) {
        free((char *) run->states[i].task_id);
    }
    free(run->states);
    free(run->dag);
    free(run->version);
    memset(run, 0, sizeof *run);
}

/* Reads run_id into *run: 0, 404 when there is none, 500 on a store
 * error (err set). Pages are bounded by the most tasks a DAG may have. */
static int
s_run_read(store_t *store, uint64_t run_id, s_run_t *run, errbuf_t *err)
{
    int rc = store_run_page(store, run_id, S_PAGE_SIZE, 0, 0, NULL, s_on_page,
                            run, err);
    for (size_t page = 0;
         rc == 0 && run->next && page <= DAG_MAX_TASKS / S_PAGE_SIZE; page++) {
        rc = store_run_page(store, run_id, S_PAGE_SIZE, 0, run->next, NULL,
                            s_on_page, run, err);
    }
    if (rc == STORE_ENOTFOUND) {
        return 404;
    }
    return rc < 0 ? 500 : 0;
}

/* DAG `name` at `version` (NULL = current) as SVG with the given states:
 * from the cache when it has that version, else parsed from the stored
 * source and laid out. NULL with *status and err set. */
static char *
s_dag_draw(graph_t *graph,
           store_t *store,
           const char *name,
           const char *version,
           const s_run_t *run,
           size_t *len,
           unsigned *status,
           errbuf_t *err)
{
    char *current = NULL;
    char *source = store_dag_source(store, name, version, &current, err);
    if (!source) {
        *status = 404;
        errbuf_set(err, "no DAG '%s'%s%s; 'GET /api/v1/dags' lists them", name,
                   version ? " at version " : "", version ? version : "");
        return NULL;
    }
    char *svg = current ? graph_dag_svg_cached(graph, name, current,
                                               run->states, run->count, len)
                        : NULL;
    dag_t *dag = svg ? NULL : dag_parse(name, source, strlen(source), NULL);
    if (!svg && dag) {
        svg = graph_dag_svg(graph, dag, run->states, run->count, len, err);
        *status = 500;
    } else if (!svg) {
        *status = 500;
        errbuf_set(err,
                   "the stored source of DAG '%s' does not parse with this "
                   "scheduler; apply the file again ('sluice dag apply')",
                   name);
    }
    dag_destroy(&dag);
    free(source);
    free(current);
    return svg;
}

static int
s_dag_svg(http_req_t *req, void *arg)
{
    (void) arg;
    const char *name = http_req_param(req, "dag");
    const char *run_text = http_req_query(req, "run");
    uint64_t run_id = s_id(run_text);
    if (run_text && !run_id) {
        return http_reply_error(req, 400,
                                "'run=%s' is not a run id; give ?run=N with "
                                "an id that 'GET /api/v1/runs' lists",
                                run_text);
    }
    graph_t *graph = s_renderer(req);
    if (!graph) {
        return 0;
    }
    store_t *store = http_req_store(req);
    errbuf_t err = {{0}};
    s_run_t run = {0};
    if (run_id) {
        int status = s_run_read(store, run_id, &run, &err);
        if (status == 0 && (!run.dag || strcmp(run.dag, name) != 0)) {
            status = 404;
        }
        if (status) {
            s_run_clear(&run);
            return status == 404
                       ? http_reply_error(req, 404,
                                          "DAG '%s' has no run %" PRIu64
                                          "; 'GET /api/v1/runs?dag=%s' "
                                          "lists its runs",
                                          name, run_id, name)
                       : http_reply_error(req, 500, "%s", errbuf_msg(&err));
        }
    }
    unsigned status = 500;
    size_t len = 0;
    char *svg =
        s_dag_draw(graph, store, name, run.version, &run, &len, &status, &err);
    s_run_clear(&run);
    if (!svg) {
        return http_reply_error(req, status, "%s", errbuf_msg(&err));
    }
    return s_reply_svg(req, svg, len, &err);
}

/* -------------------------------------------------------------- lineage */

/* The target from ?uri=, as GET /api/v1/lineage reads it: a URI or a
 * hash prefix as they are, an absolute path as a file:// URI. Caller owns
 * it; NULL when it is none of those. */
static char *
s_target(const char *uri)
{
    size_t n = strlen(uri);
    if (strstr(uri, "://") ||
        (n >= 4 && strspn(uri, "0123456789abcdef") == n)) {
        return xstrdup(uri);
    }
    return uri[0] == '/' ? xasprintf("file://%s", uri) : NULL;
}

/* One walk of sched_lineage; NULL after answering req with its error. */
static Sluice__Reply *
s_walk(http_req_t *req, Sluice__LineageReq *q)
{
    Sluice__Request call = SLUICE__REQUEST__INIT;
    call.op_case = SLUICE__REQUEST__OP_LINEAGE;
    call.lineage = q;
    Sluice__Reply *rep = sched_lineage(http_req_store(req), &call);
    if (rep->op_case == SLUICE__REPLY__OP_LINEAGE) {
        return rep;
    }
    bool missing = rep->op_case == SLUICE__REPLY__OP_ERROR &&
                   rep->error->code == API_E_NOT_FOUND;
    http_reply_error(req, missing ? 404 : 500, "%s",
                     rep->op_case == SLUICE__REPLY__OP_ERROR
                         ? rep->error->message
                         : "the lineage walk gave no lineage");
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    return NULL;
}

static int
s_lineage_svg(http_req_t *req, void *arg)
{
    (void) arg;
    const char *uri = http_req_query(req, "uri");
    const char *run_text = http_req_query(req, "run");
    const char *depth_text = http_req_query(req, "depth");
    uint64_t run_id = s_id(run_text);
    uint64_t depth = s_id(depth_text);
    char *target = uri && *uri ? s_target(uri) : NULL;
    if ((!target && !run_id) || (depth_text && !depth) || depth > S_MAX_DEPTH) {
        free(target);
        return http_reply_error(
            req, 400,
            "give ?uri= a URI (file:///data/x), an absolute path or a "
            "version's hash (4 hex digits or more), or ?run=ID; depth, when "
            "given, is 1 to %d task levels",
            S_MAX_DEPTH);
    }
    graph_t *graph = s_renderer(req);
    if (!graph) {
        free(target);
        return 0;
    }
    Sluice__LineageReq q = SLUICE__LINEAGE_REQ__INIT;
    q.target = target ? target : "";
    q.depth = (uint32_t) depth;
    q.run_id = target ? 0 : run_id;
    Sluice__Reply *reps[2] = {s_walk(req, &q), NULL};
    if (reps[0] && target) {
        q.downstream = true;
        reps[1] = s_walk(req, &q);
    }
    free(target);
    if (!reps[0] || (q.downstream && !reps[1])) {
        if (reps[0]) {
            protobuf_c_message_free_unpacked(&reps[0]->base, NULL);
        }
        return 0; /* answered by s_walk */
    }
    const Sluice__LineageRep *lineage[2] = {reps[0]->lineage,
                                            reps[1] ? reps[1]->lineage : NULL};
    errbuf_t err = {{0}};
    size_t len = 0;
    char *svg = graph_lineage_svg(graph, lineage, reps[1] ? 2 : 1, &len, &err);
    for (size_t i = 0; i < 2; i++) {
        if (reps[i]) {
            protobuf_c_message_free_unpacked(&reps[i]->base, NULL);
        }
    }
    return s_reply_svg(req, svg, len, &err);
}

/* --------------------------------------------------------------- routes */

static const http_route_t s_routes[] = {
    {"GET", "/api/v1/dags/{dag}/graph.svg", HTTP_ROLE_VIEWER, s_dag_svg},
    {"GET", "/api/v1/lineage.svg", HTTP_ROLE_VIEWER, s_lineage_svg},
};

void
http_graph_routes(http_t *http, void *arg)
{
    http_add_routes(http, s_routes, sizeof s_routes / sizeof s_routes[0], arg);
}
