/* graph — DAGs and lineage as SVG through Graphviz (libgvc).
 *
 * A graph is built as a cgraph graph plus our own list of its nodes and
 * edges, laid out (dot, or by rank for big graphs), rendered to SVG in
 * memory, and its id attributes cleaned up ("task&#45;a" -> "task-a":
 * Graphviz writes every '-' as an entity so that no "--" reaches an XML
 * comment; in an attribute it is plain text).
 *
 * Layout and render times measured on this machine (2 cores of an AMD
 * EPYC, graphviz 2.43), tests/unit/test_graph.c with GRAPH_BENCH=1:
 *
 *   tasks   shape                    dot, defaults  dot, cheap  by rank
 *   1,000   wide (1 -> 998 -> 1)     1.2 s          0.26 s      -
 *   1,000   layered (50 wide)        0.8 s          0.46 s      -
 *   2,000   wide                     -              2.4 s       0.16 s
 *   2,000   layered (50 wide)        -              6.0 s       0.22 s
 *   10,000  wide                     -              296 s       0.77 s
 *   10,000  layered (100 wide)       -              257 s       0.89 s
 *   20,000  layered (100 wide)       -              -           1.3 s
 *
 * (cheap: splines=false nslimit=1 mclimit=0.1 searchsize=10; 10,000
 * layered with nslimit=nslimit1=mclimit=0.01 still ran past 150 s.) dot's
 * crossing minimisation and network simplex grow far faster than the
 * graph, so past GRAPH_DOT_MAX_NODES we place nodes ourselves by rank and
 * let Graphviz only draw them (the "nop" engine, straight edges); most of
 * what is left is Graphviz printing the SVG. On a busy machine (load 15
 * on the 2 cores) the same runs took up to twice as long. Under make asan
 * (-O0) 10,000 tasks take 21-26 s, 2,000 about 1 s. A DAG is drawn once
 * per version while cached; states are applied to the text (a pass over
 * it), and parsing its file (0.05-0.6 s at 10,000 tasks) is skipped too
 * (graph_dag_svg_cached).
 */
#include <assert.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Graphviz's types.h has a graph_t of its own (its Agraph_t): renamed
 * while its headers are read, so that ours keeps the module's name. */
#define graph_t gv_graph_t
#include <gvc.h>
#undef graph_t

#include "common/xalloc.h"
#include "scheduler/graph.h"

/* Past this many nodes dot gets the cheap settings above. */
#define S_DOT_CHEAP_NODES 500

/* Graphviz's globals (the layout engines' statics, the plugin registry)
 * are shared by every context in the process: one lock for all. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    char *name;    /* DAG name, owned; NULL = free slot */
    char *version; /* DAG version (content hash), owned */
    char *svg;     /* the layout without states, owned */
    size_t len;    /* of svg */
    uint64_t used; /* tick of the last use: the least is evicted */
} s_entry_t;

/* The Graphviz plugins we use: the SVG renderer and two layouts. */
static const char *const s_plugins[] = {"core", "dot_layout", "neato_layout"};

#define S_NPLUGINS (sizeof s_plugins / sizeof s_plugins[0])

struct graph_t {
    GVC_t *gvc;                        /* owned, for the graph_t's life */
    void *plugins[S_NPLUGINS];         /* their dlopen handles, never
                                          closed: the layouts keep buffers
                                          in statics for the next call */
    s_entry_t cache[GRAPH_CACHE_SIZE]; /* DAG layouts by (name, version) */
    uint64_t tick;                     /* bumped on every cache use */
    size_t hits;                       /* renders served from the cache */
};

/* A graph being built: the cgraph graph and, for the rank layout, its
 * nodes and edges by index. */
typedef struct {
    Agraph_t *g;
    Agnode_t **nodes;
    size_t nnodes;
    size_t ncap;
    size_t (*edges)[2]; /* {from, to} node indexes */
    size_t nedges;
    size_t ecap;
} s_build_t;

/* Fill colours per state; a state not listed keeps the plain fill. */
static const struct {
    const char *state;
    const char *fill;
} s_colours[] = {
    {"success", "#a6e3a1"},      {"failed", "#f28b82"},
    {"running", "#aed8ff"},      {"queued", "#d5d5d5"},
    {"dispatched", "#d5d5d5"},   {"pending", "#ffffff"},
    {"up_for_retry", "#ffe58f"}, {"upstream_failed", "#ffb366"},
    {"skipped", "#f8bbd9"},      {"skipped_cached", "#c8e6c9"},
    {"timed_out", "#d7aefb"},    {"cancelled", "#bcaaa4"},
    {"lost", "#d7aefb"},
};

#define S_PLAIN_FILL "#ffffff"

/* ------------------------------------------------------------- building */

static void
s_build_init(s_build_t *b, const char *name)
{
    memset(b, 0, sizeof *b);
    b->g = agopen((char *) name, Agdirected, NULL);
    Agraph_t *g = b->g;
    agattr(g, AGRAPH, "rankdir", "LR");
    agattr(g, AGRAPH, "bgcolor", "transparent");
    agattr(g, AGRAPH, "nodesep", "0.25");
    agattr(g, AGRAPH, "ranksep", "0.5");
    agattr(g, AGNODE, "id", "");
    agattr(g, AGNODE, "class", "");
    agattr(g, AGNODE, "label", "\\N");
    agattr(g, AGNODE, "shape", "box");
    agattr(g, AGNODE, "style", "rounded,filled");
    agattr(g, AGNODE, "fillcolor", S_PLAIN_FILL);
    agattr(g, AGNODE, "penwidth", "1");
    agattr(g, AGNODE, "fontname", "Helvetica");
    agattr(g, AGNODE, "fontsize", "11");
    agattr(g, AGNODE, "pos", "");
    agattr(g, AGEDGE, "arrowsize", "0.6");
    agattr(g, AGEDGE, "color", "#666666");
}

/* A label shows text as it is: Graphviz reads \n, \l, \N ... in labels,
 * so backslashes are doubled. Caller owns the result. */
static char *
s_label_text(const char *text)
{
    size_t n = strlen(text);
    char *out = xmalloc(2 * n + 1);
    char *o = out;
    for (const char *p = text; *p; p++) {
        if (*p == '\\') {
            *o++ = '\\';
        }
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

/* Adds node `name` (its <title>, unique) with id attribute id, class
 * cls, and label text label (NULL = the name). Returns its index. */
static size_t
s_node(s_build_t *b,
       const char *name,
       const char *id,
       const char *cls,
       const char *label)
{
    Agnode_t *n = agnode(b->g, (char *) name, 1);
    agset(n, "id", (char *) id);
    agset(n, "class", (char *) cls);
    char *text = s_label_text(label ? label : name);
    agset(n, "label", text);
    free(text);
    if (b->nnodes == b->ncap) {
        b->ncap = b->ncap ? 2 * b->ncap : 64;
        b->nodes = xrealloc(b->nodes, b->ncap * sizeof *b->nodes);
    }
    b->nodes[b->nnodes] = n;
    return b->nnodes++;
}

static void
s_edge(s_build_t *b, size_t from, size_t to)
{
    agedge(b->g, b->nodes[from], b->nodes[to], NULL, 1);
    if (b->nedges == b->ecap) {
        b->ecap = b->ecap ? 2 * b->ecap : 64;
        b->edges = xrealloc(b->edges, b->ecap * sizeof *b->edges);
    }
    b->edges[b->nedges][0] = from;
    b->edges[b->nedges][1] = to;
    b->nedges++;
}

static void
s_build_clear(s_build_t *b)
{
    if (b->g) {
        agclose(b->g);
    }
    free(b->nodes);
    free(b->edges);
    memset(b, 0, sizeof *b);
}

/* --------------------------------------------------------- rank layout */

/* rank[i] = the longest path from a root to node i (Kahn's order over
 * the edges, so a cycle, which a valid DAG has not, leaves its nodes at
 * rank 0 instead of looping). */
static size_t *
s_ranks(const s_build_t *b)
{
    size_t n = b->nnodes;
    size_t *rank = xcalloc(n + 1, sizeof *rank);
    size_t *indeg = xcalloc(n + 1, sizeof *indeg);
    size_t *start = xcalloc(n + 2, sizeof *start); /* out-edges by node */
    size_t *out = xcalloc(b->nedges + 1, sizeof *out);
    size_t *queue = xcalloc(n + 1, sizeof *queue);
    for (size_t e = 0; e < b->nedges; e++) {
        indeg[b->edges[e][1]]++;
        start[b->edges[e][0] + 2]++;
    }
    for (size_t i = 2; i < n + 2; i++) {
        start[i] += start[i - 1];
    }
    for (size_t e = 0; e < b->nedges; e++) {
        out[start[b->edges[e][0] + 1]++] = b->edges[e][1];
    }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++) {
        if (indeg[i] == 0) {
            queue[tail++] = i;
        }
    }
    while (head < tail) {
        size_t v = queue[head++];
        for (size_t k = start[v]; k < start[v + 1]; k++) {
            size_t w = out[k];
            rank[w] = rank[w] > rank[v] + 1 ? rank[w] : rank[v] + 1;
            if (--indeg[w] == 0) {
                queue[tail++] = w;
            }
        }
    }
    free(indeg);
    free(start);
    free(out);
    free(queue);
    return rank;
}

typedef struct {
    size_t rank;
    double key; /* mean slot of the parents: fewer crossings */
    size_t node;
} s_slot_t;

static int
s_slot_cmp(const void *a, const void *b)
{
    const s_slot_t *x = a, *y = b;
    if (x->rank != y->rank) {
        return x->rank < y->rank ? -1 : 1;
    }
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return x->node < y->node ? -1 : x->node > y->node;
}

/* Columns by rank, left to right, each as wide as its longest label;
 * within a column, nodes in order of their parents' mean position (one
 * barycentre pass: parents' slots are known, as ranks are sorted). */
static void
s_rank_place(s_build_t *b)
{
    size_t n = b->nnodes;
    size_t *rank = s_ranks(b);
    s_slot_t *slots = xcalloc(n + 1, sizeof *slots);
    double *sum = xcalloc(n + 1, sizeof *sum);
    size_t *cnt = xcalloc(n + 1, sizeof *cnt);
    for (size_t e = 0; e < b->nedges; e++) {
        /* file order stands in for the parent's slot: close enough for
         * one pass, and free */
        sum[b->edges[e][1]] += (double) b->edges[e][0];
        cnt[b->edges[e][1]]++;
    }
    size_t maxrank = 0;
    for (size_t i = 0; i < n; i++) {
        slots[i].rank = rank[i];
        slots[i].key = cnt[i] ? sum[i] / (double) cnt[i] : (double) i;
        slots[i].node = i;
        maxrank = rank[i] > maxrank ? rank[i] : maxrank;
    }
    qsort(slots, n, sizeof *slots, s_slot_cmp);
    double *colx = xcalloc(maxrank + 2, sizeof *colx);
    for (size_t i = 0; i < n; i++) {
        const char *label = agget(b->nodes[i], "label");
        double w = 7.0 * (double) strlen(label ? label : "") + 60.0;
        if (w > colx[rank[i] + 1]) {
            colx[rank[i] + 1] = w;
        }
    }
    for (size_t r = 1; r <= maxrank + 1; r++) {
        colx[r] += colx[r - 1];
    }
    size_t row = 0;
    for (size_t i = 0; i < n; i++) {
        row = (i > 0 && slots[i].rank == slots[i - 1].rank) ? row + 1 : 0;
        char pos[64];
        snprintf(pos, sizeof pos, "%.0f,%.0f", colx[slots[i].rank],
                 -36.0 * (double) row);
        agset(b->nodes[slots[i].node], "pos", pos);
    }
    free(colx);
    free(rank);
    free(slots);
    free(sum);
    free(cnt);
}

/* ---------------------------------------------------------- rendering */

/* The length of ` id="` or ` class="` at p (the attributes where we
 * undo Graphviz's "&#45;"), else 0. */
static size_t
s_attr_start(const char *p, size_t left)
{
    static const char *attrs[] = {" id=\"", " class=\""};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(attrs[i]);
        if (left >= n && memcmp(p, attrs[i], n) == 0) {
            return n;
        }
    }
    return 0;
}

/* svg with "&#45;" inside id="..." and class="..." values written as '-'.
 * Caller owns the result (malloc), NUL-terminated. */
static char *
s_fix_ids(const char *svg, size_t len, size_t *out_len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    bool in_attr = false;
    for (size_t i = 0; i < len;) {
        size_t start = in_attr ? 0 : s_attr_start(svg + i, len - i);
        if (start) {
            memcpy(out + o, svg + i, start);
            o += start;
            i += start;
            in_attr = true;
        } else if (in_attr && svg[i] == '"') {
            out[o++] = svg[i++];
            in_attr = false;
        } else if (in_attr && len - i >= 5 &&
                   memcmp(svg + i, "&#45;", 5) == 0) {
            out[o++] = '-';
            i += 5;
        } else {
            out[o++] = svg[i++];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Lays out and renders b->g; lock held. Caller owns the result. */
static char *
s_render(graph_t *self, s_build_t *b, size_t *len, errbuf_t *err)
{
    const char *engine = "dot";
    if (b->nnodes > GRAPH_DOT_MAX_NODES) {
        s_rank_place(b);
        agsafeset(b->g, "splines", "false", "");
        engine = "nop";
    } else if (b->nnodes > S_DOT_CHEAP_NODES) {
        agsafeset(b->g, "splines", "false", "");
        agsafeset(b->g, "nslimit", "1", "");
        agsafeset(b->g, "mclimit", "0.1", "");
        agsafeset(b->g, "searchsize", "10", "");
    }
    if (gvLayout(self->gvc, b->g, engine) != 0) {
        errbuf_set(err,
                   "graphviz could not lay out the graph (%zu nodes); "
                   "the scheduler's log may say why",
                   b->nnodes);
        return NULL;
    }
    if (b->nnodes > GRAPH_DOT_MAX_NODES) {
        /* graphviz 2.43's nop layout never frees its node list (8 bytes a
         * node per call; found by ASan); nothing reads it after layout. */
        free(GD_neato_nlist(b->g));
        GD_neato_nlist(b->g) = NULL;
    }
    /* To a memory stream, not gvRenderData: that one grows its buffer a
     * page at a time, which costs a copy per page wherever realloc cannot
     * grow in place (10,000 tasks took 85 s under ASan). */
    char *data = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&data, &size);
    assert(f);
    int rc = gvRender(self->gvc, b->g, "svg", f);
    fclose(f);
    char *svg = NULL;
    if (rc == 0 && size > 0) {
        svg = s_fix_ids(data, size, len);
    } else {
        errbuf_set(err, "graphviz could not render the graph as SVG; "
                        "is its core plugin (libgvplugin_core) installed?");
    }
    free(data);
    gvFreeLayout(self->gvc, b->g);
    return svg;
}

/* -------------------------------------------------------------- states */

static const char *
s_fill(const char *state)
{
    for (size_t i = 0; i < sizeof s_colours / sizeof s_colours[0]; i++) {
        if (strcmp(s_colours[i].state, state) == 0) {
            return s_colours[i].fill;
        }
    }
    return NULL;
}

/* " state-NAME" with only [A-Za-z0-9_-] of name, into buf. */
static void
s_state_class(const char *state, char *buf, size_t size)
{
    size_t o = (size_t) snprintf(buf, size, " state-");
    for (const char *p = state; *p && o + 1 < size; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-';
        buf[o++] = ok ? c : '_';
    }
    buf[o] = '\0';
}

#define S_TASK_G "<g id=\"task-"

/* Writes the node group that starts at p (at S_TASK_G) with state's
 * class and fill to f; returns where the rest of the text starts. */
static const char *
s_put_state(FILE *f, const char *p, const char *state)
{
    const char *tag_end = strchr(p, '>');
    const char *fill = tag_end ? strstr(tag_end, "fill=\"") : NULL;
    const char *fill_end = fill ? strchr(fill + 6, '"') : NULL;
    if (!tag_end || tag_end[-1] != '"' || !fill_end) {
        return p; /* not a node as we draw them: leave it */
    }
    char cls[96];
    s_state_class(state, cls, sizeof cls);
    fwrite(p, 1, (size_t) (tag_end - 1 - p), f);
    fputs(cls, f);
    const char *colour = s_fill(state);
    if (!colour) {
        return tag_end - 1;
    }
    fwrite(tag_end - 1, 1, (size_t) (fill + 6 - (tag_end - 1)), f);
    fputs(colour, f);
    return fill_end;
}

/* base with each task's state applied: class "state-S" added to its
 * group, its shape filled in the state's colour. Caller owns the result. */
static char *
s_apply_states(const char *base,
               const graph_state_t *states,
               size_t nstates,
               size_t *len)
{
    zhashx_t *map = zhashx_new();
    for (size_t i = 0; i < nstates; i++) {
        zhashx_update(map, states[i].task_id, (void *) states[i].state);
    }
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    assert(f);
    const char *p = base;
    const char *q;
    while ((q = strstr(p, S_TASK_G)) != NULL) {
        const char *id = q + strlen(S_TASK_G);
        const char *id_end = strchr(id, '"');
        if (!id_end) {
            break;
        }
        fwrite(p, 1, (size_t) (id_end - p), f);
        char *key = xstrndup(id, (size_t) (id_end - id));
        const char *state = zhashx_lookup(map, key);
        free(key);
        p = state ? s_put_state(f, id_end, state) : id_end;
    }
    fputs(p, f);
    fclose(f);
    zhashx_destroy(&map);
    *len = size;
    return out;
}

/* ---------------------------------------------------------------- cache */

static s_entry_t *
s_cache_find(graph_t *self, const char *name, const char *version)
{
    for (size_t i = 0; i < GRAPH_CACHE_SIZE; i++) {
        s_entry_t *e = &self->cache[i];
        if (e->name && strcmp(e->name, name) == 0 &&
            strcmp(e->version, version) == 0) {
            return e;
        }
    }
    return NULL;
}

static void
s_entry_clear(s_entry_t *e)
{
    free(e->name);
    free(e->version);
    free(e->svg);
    memset(e, 0, sizeof *e);
}

/* The least recently used entry; NULL when the cache is empty. */
static s_entry_t *
s_cache_oldest(graph_t *self)
{
    s_entry_t *victim = NULL;
    for (size_t i = 0; i < GRAPH_CACHE_SIZE; i++) {
        s_entry_t *e = &self->cache[i];
        if (e->name && (!victim || e->used < victim->used)) {
            victim = e;
        }
    }
    return victim;
}

/* A free slot, else the least recently used. */
static s_entry_t *
s_cache_lru(graph_t *self)
{
    for (size_t i = 0; i < GRAPH_CACHE_SIZE; i++) {
        if (!self->cache[i].name) {
            return &self->cache[i];
        }
    }
    return s_cache_oldest(self);
}

static size_t
s_cache_bytes(const graph_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < GRAPH_CACHE_SIZE; i++) {
        n += self->cache[i].len;
    }
    return n;
}

/* Keeps svg (taken) for (name, version) in the least recently used slot. */
static s_entry_t *
s_cache_put(
    graph_t *self, const char *name, const char *version, char *svg, size_t len)
{
    s_entry_t *victim = s_cache_lru(self);
    s_entry_clear(victim);
    /* A few huge DAGs must not hold hundreds of MiB: the oldest go too
     * (each turn empties one slot, so this ends). */
    s_entry_t *old;
    while (s_cache_bytes(self) + len > GRAPH_CACHE_BYTES &&
           (old = s_cache_oldest(self)) != NULL) {
        s_entry_clear(old);
    }
    victim->name = xstrdup(name);
    victim->version = xstrdup(version);
    victim->svg = svg;
    victim->len = len;
    return victim;
}

/* ------------------------------------------------------------ public */

/* Loads plugin `name` from Graphviz's plugin folder, "graphviz/" beside
 * libgvc (where Graphviz itself looks), into gvc. The handle, or NULL. */
static void *
s_plugin(GVC_t *gvc, const char *name)
{
    Dl_info info;
    if (!dladdr((void *) gvContextPlugins, &info) || !info.dli_fname) {
        return NULL;
    }
    const char *slash = strrchr(info.dli_fname, '/');
    int dirlen = slash ? (int) (slash - info.dli_fname) : 1;
    char *file = xasprintf("%.*s/graphviz/libgvplugin_%s.so.6", dirlen,
                           slash ? info.dli_fname : ".", name);
    void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    free(file);
    char *symbol = xasprintf("gvplugin_%s_LTX_library", name);
    void *lib = handle ? dlsym(handle, symbol) : NULL;
    free(symbol);
    if (!lib) {
        if (handle) {
            dlclose(handle);
        }
        return NULL;
    }
    gvAddLibrary(gvc, lib);
    return handle;
}

/* Only the plugins we name, not every one Graphviz's config lists: the
 * config reader and pango's text layout (through fontconfig) leave memory
 * behind at exit that the ASan builds report, and Graphviz's own font
 * metrics size our labels well enough, faster. */
graph_t *
graph_new(void)
{
    static const lt_symlist_t none[] = {{NULL, NULL}};
    graph_t *self = xcalloc(1, sizeof *self);
    pthread_mutex_lock(&s_lock);
    self->gvc = gvContextPlugins(none, 0);
    bool ok = self->gvc != NULL;
    for (size_t i = 0; ok && i < S_NPLUGINS; i++) {
        self->plugins[i] = s_plugin(self->gvc, s_plugins[i]);
        ok = self->plugins[i] != NULL;
    }
    pthread_mutex_unlock(&s_lock);
    if (!ok) {
        graph_destroy(&self);
    }
    return self;
}

void
graph_destroy(graph_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    graph_t *self = *self_p;
    pthread_mutex_lock(&s_lock);
    if (self->gvc) {
        gvFreeContext(self->gvc);
    }
    pthread_mutex_unlock(&s_lock);
    for (size_t i = 0; i < GRAPH_CACHE_SIZE; i++) {
        s_entry_clear(&self->cache[i]);
    }
    free(self);
    *self_p = NULL;
}

/* Task i is node i; an edge per `after`, parent -> child. */
static void
s_dag_build(s_build_t *b, const dag_t *dag)
{
    s_build_init(b, dag_name(dag));
    size_t n = dag_task_count(dag);
    for (size_t i = 0; i < n; i++) {
        char *id = xasprintf("task-%s", dag_task(dag, i)->id);
        s_node(b, dag_task(dag, i)->id, id, "task", NULL);
        free(id);
    }
    for (size_t i = 0; i < n; i++) {
        const dag_task_t *t = dag_task(dag, i);
        for (size_t k = 0; k < t->nafter; k++) {
            s_edge(b, t->after[k], i);
        }
    }
}

char *
graph_dag_svg(graph_t *self,
              const dag_t *dag,
              const graph_state_t *states,
              size_t nstates,
              size_t *len,
              errbuf_t *err)
{
    assert(self);
    assert(dag);
    assert(len);
    if (dag_task_count(dag) > GRAPH_MAX_NODES) {
        errbuf_set(err,
                   "DAG '%s' has %zu tasks and graphs are drawn for at most "
                   "%d; use the grid view, or split the DAG",
                   dag_name(dag), dag_task_count(dag), GRAPH_MAX_NODES);
        return NULL;
    }
    pthread_mutex_lock(&s_lock);
    s_entry_t *e = s_cache_find(self, dag_name(dag), dag_version(dag));
    if (e) {
        self->hits++;
    } else {
        s_build_t b;
        s_dag_build(&b, dag);
        size_t blen = 0;
        char *svg = s_render(self, &b, &blen, err);
        s_build_clear(&b);
        if (!svg) {
            errbuf_prefix(err, "DAG '%s': ", dag_name(dag));
            pthread_mutex_unlock(&s_lock);
            return NULL;
        }
        e = s_cache_put(self, dag_name(dag), dag_version(dag), svg, blen);
    }
    e->used = ++self->tick;
    char *out = s_apply_states(e->svg, states, nstates, len);
    pthread_mutex_unlock(&s_lock);
    return out;
}

char *
graph_dag_svg_cached(graph_t *self,
                     const char *name,
                     const char *version,
                     const graph_state_t *states,
                     size_t nstates,
                     size_t *len)
{
    assert(self);
    assert(name);
    assert(version);
    assert(len);
    pthread_mutex_lock(&s_lock);
    s_entry_t *e = s_cache_find(self, name, version);
    char *out = NULL;
    if (e) {
        self->hits++;
        e->used = ++self->tick;
        out = s_apply_states(e->svg, states, nstates, len);
    }
    pthread_mutex_unlock(&s_lock);
    return out;
}

size_t
graph_cache_count(const graph_t *self)
{
    assert(self);
    size_t n = 0;
    for (size_t i = 0; i < GRAPH_CACHE_SIZE; i++) {
        n += self->cache[i].name != NULL;
    }
    return n;
}

size_t
graph_cache_hits(const graph_t *self)
{
    assert(self);
    return self->hits;
}

/* -------------------------------------------------------------- lineage */

#define S_KEY(i) ((void *) (uintptr_t) ((i) + 1))
#define S_IDX(v) ((size_t) (uintptr_t) (v) -1)

static const char *
s_basename(const char *uri)
{
    const char *slash = strrchr(uri, '/');
    return slash && slash[1] ? slash + 1 : uri;
}

static void
s_version_node(s_build_t *b, zhashx_t *seen, const Sluice__DatasetVersion *v)
{
    char key[32];
    snprintf(key, sizeof key, "ds-%" PRIu64, v->id);
    if (zhashx_lookup(seen, key)) {
        return;
    }
    const char *hash = v->hash ? v->hash : "";
    char *name =
        xasprintf("%s @ %.12s (version %" PRIu64 ")", v->uri, hash, v->id);
    char *label = xasprintf("%s\n%.12s", s_basename(v->uri), hash);
    size_t i = s_node(b, name, key, "dataset", label);
    agset(b->nodes[i], "shape", "note");
    agset(b->nodes[i], "style", "filled");
    zhashx_insert(seen, key, S_KEY(i));
    free(name);
    free(label);
}

/* The attempt's node and its edges to the versions already drawn. */
static void
s_attempt_node(s_build_t *b, zhashx_t *seen, const Sluice__LineageAttempt *a)
{
    char key[32];
    snprintf(key, sizeof key, "task-%" PRIu64, a->attempt_id);
    if (zhashx_lookup(seen, key)) {
        return;
    }
    const char *state = a->state ? a->state : "";
    char cls[96];
    s_state_class(state, cls, sizeof cls);
    char *klass = xasprintf("task%s", cls);
    char *name =
        xasprintf("%s/%s run %" PRIu64 " try %u (attempt %" PRIu64 ")", a->dag,
                  a->task_id, a->run_id, a->number, a->attempt_id);
    char *label = xasprintf("%s\n%s run %" PRIu64 " #%u", a->task_id, a->dag,
                            a->run_id, a->number);
    size_t i = s_node(b, name, key, klass, label);
    agset(b->nodes[i], "shape", "ellipse");
    agset(b->nodes[i], "style", "filled");
    const char *fill = s_fill(state);
    agset(b->nodes[i], "fillcolor", (char *) (fill ? fill : S_PLAIN_FILL));
    zhashx_insert(seen, key, S_KEY(i));
    free(klass);
    free(name);
    free(label);
    for (size_t k = 0; k < a->n_inputs + a->n_outputs; k++) {
        bool in = k < a->n_inputs;
        snprintf(key, sizeof key, "ds-%" PRIu64,
                 in ? a->inputs[k] : a->outputs[k - a->n_inputs]);
        void *v = zhashx_lookup(seen, key);
        if (v) {
            s_edge(b, in ? S_IDX(v) : i, in ? i : S_IDX(v));
        }
    }
}

static void
s_lineage_build(s_build_t *b,
                const Sluice__LineageRep *const *reps,
                size_t nreps)
{
    s_build_init(b, "lineage");
    zhashx_t *seen = zhashx_new();
    for (size_t r = 0; r < nreps; r++) {
        for (size_t i = 0; i < reps[r]->n_versions; i++) {
            s_version_node(b, seen, reps[r]->versions[i]);
        }
    }
    for (size_t r = 0; r < nreps; r++) {
        for (size_t i = 0; i < reps[r]->n_attempts; i++) {
            s_attempt_node(b, seen, reps[r]->attempts[i]);
        }
        char key[32];
        snprintf(key, sizeof key, "ds-%" PRIu64, reps[r]->root);
        void *v = reps[r]->root ? zhashx_lookup(seen, key) : NULL;
        if (v) {
            agset(b->nodes[S_IDX(v)], "class", "dataset root");
            agset(b->nodes[S_IDX(v)], "penwidth", "2.5");
        }
    }
    zhashx_destroy(&seen);
}

char *
graph_lineage_svg(graph_t *self,
                  const Sluice__LineageRep *const *reps,
                  size_t nreps,
                  size_t *len,
                  errbuf_t *err)
{
    assert(self);
    assert(reps || nreps == 0);
    assert(len);
    pthread_mutex_lock(&s_lock);
    s_build_t b;
    s_lineage_build(&b, reps, nreps);
    char *svg = s_render(self, &b, len, err);
    s_build_clear(&b);
    pthread_mutex_unlock(&s_lock);
    if (!svg) {
        errbuf_prefix(err, "lineage: ");
    }
    return svg;
}
