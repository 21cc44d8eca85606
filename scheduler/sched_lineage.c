/* sched_lineage — lineage in the scheduler: records the dataset versions a
 * Result names when it is committed, and answers the read-only lineage and
 * datasets requests by walking the store. Needs only the store. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"

#define S_MAX_NODES      5000 /* versions or attempts in one reply */
#define S_DATASETS_LIMIT 100
#define S_DATASETS_MAX   10000

/* ----------------------------------------------------------- recording */

static store_dataset_ref_t *
s_refs(Sluice__DatasetRef *const *refs, size_t count)
{
    store_dataset_ref_t *out = xcalloc(count + 1, sizeof *out);
    for (size_t i = 0; i < count; i++) {
        out[i].uri = refs[i]->uri;
        out[i].hash = refs[i]->hash;
        out[i].size = refs[i]->size;
    }
    return out;
}

int
sched_lineage_on_result(void *arg, const sched_result_t *result, errbuf_t *err)
{
    store_t *store = arg;
    const Sluice__Result *res = result->res;
    size_t noutputs = result->success ? res->n_outputs : 0;
    if (res->n_inputs == 0 && noutputs == 0) {
        return 0;
    }
    store_dataset_ref_t *inputs = s_refs(res->inputs, res->n_inputs);
    store_dataset_ref_t *outputs = s_refs(res->outputs, noutputs);
    int rc = store_lineage_record(store, res->attempt_id, inputs, res->n_inputs,
                                  outputs, noutputs, clock_wall_ms(), err);
    free(inputs);
    free(outputs);
    return rc;
}

/* ---------------------------------------------------------------- graph */

typedef struct {
    store_t *store;
    Sluice__LineageRep *rep;
    size_t vcap;
    size_t acap;
    bool failed;
    errbuf_t err;
} s_graph_t;

static Sluice__DatasetVersion *
s_version_msg(const store_dataset_t *row)
{
    Sluice__DatasetVersion *v = xmalloc(sizeof *v);
    sluice__dataset_version__init(v);
    v->id = row->id;
    v->uri = xstrdup(row->uri);
    v->hash = xstrdup(row->hash);
    v->size = row->size;
    v->produced_by = row->produced_by;
    v->at_ms = (uint64_t) row->at;
    return v;
}

static bool
s_has_version(const s_graph_t *g, uint64_t id)
{
    for (size_t i = 0; i < g->rep->n_versions; i++) {
        if (g->rep->versions[i]->id == id) {
            return true;
        }
    }
    return false;
}

static bool
s_has_attempt(const s_graph_t *g, uint64_t id)
{
    for (size_t i = 0; i < g->rep->n_attempts; i++) {
        if (g->rep->attempts[i]->attempt_id == id) {
            return true;
        }
    }
    return false;
}

static void
s_add_version(s_graph_t *g, uint64_t id)
{
    if (g->failed || s_has_version(g, id) ||
        g->rep->n_versions >= S_MAX_NODES) {
        return;
    }
    store_dataset_t row;
    int rc = store_dataset_get(g->store, id, &row, &g->err);
    if (rc < 0) {
        g->failed = true;
    }
    if (rc <= 0) {
        return;
    }
    if (g->rep->n_versions == g->vcap) {
        g->vcap = g->vcap ? g->vcap * 2 : 16;
        g->rep->versions =
            xrealloc(g->rep->versions, g->vcap * sizeof *g->rep->versions);
    }
    g->rep->versions[g->rep->n_versions++] = s_version_msg(&row);
    store_dataset_clear(&row);
}

static Sluice__LineageAttempt *
s_attempt_msg(const store_lineage_attempt_t *row)
{
    Sluice__LineageAttempt *a = xmalloc(sizeof *a);
    sluice__lineage_attempt__init(a);
    a->attempt_id = row->attempt_id;
    a->run_id = row->run_id;
    a->dag = xstrdup(row->dag);
    a->dag_version = xstrdup(row->dag_version);
    a->task_id = xstrdup(row->task_id);
    a->number = row->number;
    a->worker = xstrdup(row->worker);
    a->state = xstrdup(row->state);
    a->created_ms = (uint64_t) row->created_at;
    a->started_ms = (uint64_t) row->started_at;
    a->ended_ms = (uint64_t) row->ended_at;
    a->error = xstrdup(row->error);
    a->kind = xstrdup("");
    return a;
}

/* Adds attempt id with what it read and wrote; NULL when it is there
 * already, unknown, or the reply is full. */
static Sluice__LineageAttempt *
s_add_attempt(s_graph_t *g, uint64_t id)
{
    if (g->failed || id == 0 || s_has_attempt(g, id) ||
        g->rep->n_attempts >= S_MAX_NODES) {
        return NULL;
    }
    store_lineage_attempt_t row;
    int rc = store_lineage_attempt(g->store, id, &row, &g->err);
    if (rc <= 0) {
        g->failed = rc < 0;
        return NULL;
    }
    Sluice__LineageAttempt *a = s_attempt_msg(&row);
    store_lineage_attempt_clear(&row);
    if (store_lineage_ids(g->store, STORE_LINEAGE_READ, id, &a->inputs,
                          &a->n_inputs, &g->err) < 0 ||
        store_lineage_ids(g->store, STORE_LINEAGE_WROTE, id, &a->outputs,
                          &a->n_outputs, &g->err) < 0) {
        g->failed = true;
    }
    if (g->rep->n_attempts == g->acap) {
        g->acap = g->acap ? g->acap * 2 : 16;
        g->rep->attempts =
            xrealloc(g->rep->attempts, g->acap * sizeof *g->rep->attempts);
    }
    g->rep->attempts[g->rep->n_attempts++] = a;
    for (size_t i = 0; i < a->n_inputs; i++) {
        s_add_version(g, a->inputs[i]);
    }
    for (size_t i = 0; i < a->n_outputs; i++) {
        s_add_version(g, a->outputs[i]);
    }
    return a;
}

static uint64_t
s_producer(const s_graph_t *g, uint64_t version)
{
    for (size_t i = 0; i < g->rep->n_versions; i++) {
        if (g->rep->versions[i]->id == version) {
            return g->rep->versions[i]->produced_by;
        }
    }
    return 0;
}

/* Breadth first from the root, one task level per step; the seen checks
 * make it safe on any graph, and S_MAX_NODES bounds it. */
static void
s_walk(s_graph_t *g, uint64_t root, bool downstream, uint32_t depth)
{
    s_add_version(g, root);
    uint64_t *level = xmalloc(sizeof *level);
    size_t nlevel = 1;
    level[0] = root;
    for (uint32_t step = 0; nlevel && !g->failed && (!depth || step < depth);
         step++) {
        uint64_t *next = NULL;
        size_t nnext = 0;
        for (size_t i = 0; i < nlevel && !g->failed; i++) {
            uint64_t *ids = NULL;
            size_t count = 0;
            if (downstream) {
                if (store_lineage_ids(g->store, STORE_LINEAGE_READERS, level[i],
                                      &ids, &count, &g->err) < 0) {
                    g->failed = true;
                }
            } else {
                uint64_t producer = s_producer(g, level[i]);
                if (producer) {
                    ids = xmalloc(sizeof *ids);
                    ids[count++] = producer;
                }
            }
            for (size_t j = 0; j < count; j++) {
                Sluice__LineageAttempt *a = s_add_attempt(g, ids[j]);
                if (!a) {
                    continue;
                }
                size_t n = downstream ? a->n_outputs : a->n_inputs;
                uint64_t *more = downstream ? a->outputs : a->inputs;
                next = xrealloc(next, (nnext + n + 1) * sizeof *next);
                if (n > 0) { /* an attempt with no datasets has none */
                    memcpy(next + nnext, more, n * sizeof *next);
                }
                nnext += n;
            }
            free(ids);
        }
        free(level);
        level = next;
        nlevel = nnext;
    }
    free(level);
}

Sluice__Reply *
sched_lineage(store_t *store, const Sluice__Request *req)
{
    const Sluice__LineageReq *q = req->lineage;
    Sluice__LineageRep *out = xmalloc(sizeof *out);
    sluice__lineage_rep__init(out);
    s_graph_t g = {.store = store, .rep = out};
    if (q->run_id) {
        uint64_t *ids = NULL;
        size_t count = 0;
        g.failed = store_lineage_ids(store, STORE_LINEAGE_RUN, q->run_id, &ids,
                                     &count, &g.err) < 0;
        for (size_t i = 0; i < count; i++) {
            s_add_attempt(&g, ids[i]);
        }
        free(ids);
    } else {
        store_dataset_t root;
        int rc = store_dataset_find(store, q->target ? q->target : "", &root,
                                    &g.err);
        if (rc == 0) {
            protobuf_c_message_free_unpacked(&out->base, NULL);
            return api_error(req->request_id, API_E_NOT_FOUND,
                             "no dataset version has uri or hash '%s'; "
                             "'sluice datasets' lists them",
                             q->target ? q->target : "");
        }
        g.failed = rc < 0;
        if (rc > 0) {
            out->root = root.id;
            s_walk(&g, root.id, q->downstream, q->depth);
            store_dataset_clear(&root);
        }
    }
    if (g.failed) {
        protobuf_c_message_free_unpacked(&out->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&g.err));
    }
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_LINEAGE);
    rep->lineage = out;
    return rep;
}

Sluice__Reply *
sched_datasets(store_t *store, const Sluice__Request *req)
{
    size_t limit =
        req->datasets->limit ? req->datasets->limit : S_DATASETS_LIMIT;
    limit = limit > S_DATASETS_MAX ? S_DATASETS_MAX : limit;
    store_dataset_t *rows = NULL;
    uint32_t *counts = NULL;
    size_t count = 0;
    errbuf_t err;
    int rc = store_datasets_latest(store, limit, &rows, &counts, &count, &err);
    Sluice__DatasetsRep *out = xmalloc(sizeof *out);
    sluice__datasets_rep__init(out);
    Sluice__LineageRep scratch = SLUICE__LINEAGE_REP__INIT;
    s_graph_t g = {.store = store, .rep = &scratch};
    out->versions = xcalloc(count + 1, sizeof *out->versions);
    out->version_counts = xcalloc(count + 1, sizeof *out->version_counts);
    for (size_t i = 0; i < count; i++) {
        out->versions[out->n_versions++] = s_version_msg(&rows[i]);
        out->version_counts[out->n_version_counts++] = counts[i];
        s_add_attempt(&g, rows[i].produced_by);
        store_dataset_clear(&rows[i]);
    }
    free(rows);
    free(counts);
    /* The producers without the versions the walk picked up. */
    out->producers = scratch.attempts;
    out->n_producers = scratch.n_attempts;
    for (size_t i = 0; i < scratch.n_versions; i++) {
        protobuf_c_message_free_unpacked(&scratch.versions[i]->base, NULL);
    }
    free(scratch.versions);
    if (rc < 0 || g.failed) {
        protobuf_c_message_free_unpacked(&out->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(rc < 0 ? &err : &g.err));
    }
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_DATASETS);
    rep->datasets = out;
    return rep;
}
