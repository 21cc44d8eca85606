/* graph — DAGs and lineage drawn as SVG, laid out by Graphviz (libgvc).
 *
 * Each task node comes out as <g id="task-ID" class="node task ...">, so
 * the web UI can find a node by id and recolour it by changing its class
 * (state-success, state-failed, ...); a render given states carries those
 * classes and a fill colour per state, so a static picture is coloured
 * too. A DAG's layout (without states) is kept per (name, version) in a
 * small LRU: dot takes seconds on a big DAG, applying states takes a pass
 * over the text.
 *
 * Graphviz keeps state in globals and is not thread-safe: every call into
 * it, from any graph_t, goes through one lock in this module, so the HTTP
 * server's threads may share one graph_t or have one each. */
#ifndef SLUICE_GRAPH_H
#define SLUICE_GRAPH_H

#include <stddef.h>

#include "common/dag.h"
#include "common/errbuf.h"
#include "proto/sluice.pb-c.h"

/* DAG layouts kept per graph_t, and the most bytes of SVG they hold
 * together (a 10,000-task DAG is about 11 MiB). */
#define GRAPH_CACHE_SIZE  16
#define GRAPH_CACHE_BYTES (64 * 1024 * 1024)

/* Above this many nodes dot is not used: nodes are placed by rank
 * (longest path from a root) with straight edges, which takes well under a
 * second where dot takes minutes (numbers in graph.c). */
#define GRAPH_DOT_MAX_NODES 1000

/* The most tasks a DAG graph is drawn with (about 1.3 s and 22 MiB of
 * SVG at 20,000); a bigger DAG is refused with a message. */
#define GRAPH_MAX_NODES 20000

typedef struct graph_t graph_t;

/* A task's state for colouring: task_id and state ("success", "failed",
 * "running", ... as scheduler/state.h names them), both borrowed. */
typedef struct {
    const char *task_id;
    const char *state;
} graph_state_t;

/* A renderer with its own Graphviz context and an empty cache. */
graph_t *graph_new(void);

/* Frees the context and the cached layouts; nulls *self_p; NULL is fine. */
void graph_destroy(graph_t **self_p);

/* dag as SVG (parent -> child edges, left to right), with the given task
 * states applied (nstates may be 0: every node plain). Caller owns the
 * result (free), NUL-terminated, its length in *len; NULL with err set
 * when Graphviz fails. Laid out once per (name, version) while cached. */
char *graph_dag_svg(graph_t *self,
                    const dag_t *dag,
                    const graph_state_t *states,
                    size_t nstates,
                    size_t *len,
                    errbuf_t *err);

/* graph_dag_svg from the cache only: the layout of DAG `name` at
 * `version` with states applied, without parsing the DAG (a 10,000-task
 * file takes 0.05-0.6 s to parse); NULL when it is not cached. */
char *graph_dag_svg_cached(graph_t *self,
                           const char *name,
                           const char *version,
                           const graph_state_t *states,
                           size_t nstates,
                           size_t *len);

/* The lineage in reps (one or more LineageRep, e.g. the walk upstream and
 * the walk downstream of one version; nodes in several are drawn once)
 * as SVG: dataset versions as notes <g id="ds-VERSION_ID">, labelled with
 * the path's last part and the short hash, the root one in bold; attempts
 * as ellipses <g id="task-ATTEMPT_ID" class="node task state-STATE">;
 * edges read version -> attempt -> written version. Caller owns the
 * result; NULL with err set when Graphviz fails. */
char *graph_lineage_svg(graph_t *self,
                        const Sluice__LineageRep *const *reps,
                        size_t nreps,
                        size_t *len,
                        errbuf_t *err);

/* How many DAG layouts the cache holds, and how many renders were served
 * from it (for tests and the log). */
size_t graph_cache_count(const graph_t *self);

size_t graph_cache_hits(const graph_t *self);

#endif
