/* DAGs and lineage as SVG (scheduler/graph): ids the web UI finds nodes
 * by, state classes and colours, escaping, the layout cache, big DAGs.
 * GRAPH_BENCH=1 also times 1,000 and 10,000 tasks (minutes with dot). */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"
#include "scheduler/graph.h"
#include "tests/unit/suites.h"

static const char s_three[] = "dag: three\n"
                              "tasks:\n"
                              "  - id: a\n"
                              "    run: echo a\n"
                              "  - id: b-2\n"
                              "    run: echo b\n"
                              "    after: [a]\n"
                              "  - id: c.x\n"
                              "    run: echo c\n"
                              "    after: [a, b-2]\n";

static dag_t *
s_parse(const char *text)
{
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse("t.yaml", text, strlen(text), errors);
    if (!dag) {
        for (char *e = zlist_first(errors); e; e = zlist_next(errors)) {
            fprintf(stderr, "%s\n", e);
        }
    }
    zlist_destroy(&errors);
    ck_assert_ptr_nonnull(dag);
    return dag;
}

static size_t
s_count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what)) {
        n++;
    }
    return n;
}

/* Every '&' starts an entity, and no attribute value holds a raw '<':
 * enough to catch text that reached the SVG unescaped. */
static void
s_expect_escaped(const char *svg)
{
    static const char *entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#"};
    for (const char *p = strchr(svg, '&'); p; p = strchr(p + 1, '&')) {
        bool ok = false;
        for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++) {
            ok = ok || strncmp(p, entities[i], strlen(entities[i])) == 0;
        }
        ck_assert_msg(ok, "raw '&' in SVG at: %.40s", p);
    }
}

static void
s_expect_svg(const char *svg, size_t len)
{
    ck_assert_ptr_nonnull(svg);
    ck_assert_uint_eq(strlen(svg), len);
    ck_assert(strncmp(svg, "<?xml", 5) == 0 || strncmp(svg, "<svg", 4) == 0);
    ck_assert_ptr_nonnull(strstr(svg, "</svg>"));
    s_expect_escaped(svg);
}

START_TEST(test_dag_svg)
{
    graph_t *graph = graph_new();
    ck_assert_ptr_nonnull(graph);
    dag_t *dag = s_parse(s_three);
    errbuf_t err;
    size_t len = 0;
    ck_assert_ptr_null(
        graph_dag_svg_cached(graph, "three", dag_version(dag), NULL, 0, &len));
    char *svg = graph_dag_svg(graph, dag, NULL, 0, &len, &err);
    s_expect_svg(svg, len);
    /* Each task is a group the UI finds by id and restyles by class. */
    ck_assert_ptr_nonnull(strstr(svg, "<g id=\"task-a\" class=\"node task\">"));
    ck_assert_ptr_nonnull(strstr(svg, "id=\"task-b-2\""));
    ck_assert_ptr_nonnull(strstr(svg, "id=\"task-c.x\""));
    ck_assert_uint_eq(s_count(svg, "class=\"node task\""), 3);
    ck_assert_uint_eq(s_count(svg, "class=\"edge\""), 3);
    ck_assert_ptr_null(strstr(svg, "state-"));
    /* The same DAG again comes from the cache, byte for byte. */
    size_t len2 = 0;
    char *again = graph_dag_svg(graph, dag, NULL, 0, &len2, &err);
    ck_assert_uint_eq(graph_cache_hits(graph), 1);
    ck_assert_uint_eq(graph_cache_count(graph), 1);
    ck_assert_uint_eq(len2, len);
    ck_assert_str_eq(again, svg);
    free(again);
    /* Without parsing, by name and version, states applied. */
    graph_state_t done = {"a", "success"};
    again =
        graph_dag_svg_cached(graph, "three", dag_version(dag), &done, 1, &len2);
    ck_assert_ptr_nonnull(again);
    ck_assert_ptr_nonnull(strstr(again, "state-success"));
    ck_assert_ptr_null(
        graph_dag_svg_cached(graph, "three", "other", NULL, 0, &len2));
    free(again);
    free(svg);
    dag_destroy(&dag);
    graph_destroy(&graph);
    ck_assert_ptr_null(graph);
    graph_destroy(&graph);
}

END_TEST

/* A task id goes into an id attribute unescaped past Graphviz, and may:
 * dag_parse allows only letters, digits, '_', '-' and '.' in one. */
START_TEST(test_task_ids_are_safe)
{
    static const char *bad[] = {"a\"b", "a&b", "a<b", "a'b", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = xasprintf("dag: d\ntasks: [{id: '%s', run: x}]\n", bad[i]);
        if (strchr(bad[i], '\'')) {
            free(text);
            text = xasprintf("dag: d\ntasks: [{id: \"%s\", run: x}]\n", bad[i]);
        }
        ck_assert_msg(!dag_parse("t.yaml", text, strlen(text), NULL),
                      "task id '%s' was accepted", bad[i]);
        free(text);
    }
}

END_TEST

START_TEST(test_dag_states)
{
    graph_t *graph = graph_new();
    dag_t *dag = s_parse(s_three);
    graph_state_t states[] = {
        {"a", "success"},
        {"b-2", "failed"},
        {"nosuch", "running"},
        {"c.x", "weird\"state"},
    };
    errbuf_t err;
    size_t len = 0;
    char *svg = graph_dag_svg(graph, dag, states, 4, &len, &err);
    s_expect_svg(svg, len);
    const char *a =
        strstr(svg, "id=\"task-a\" class=\"node task state-success\"");
    ck_assert_ptr_nonnull(a);
    /* The shape right after the group's title gets the state's colour. */
    const char *fill = strstr(a, "fill=\"");
    ck_assert_int_eq(strncmp(fill, "fill=\"#a6e3a1\"", 14), 0);
    ck_assert_ptr_nonnull(
        strstr(svg, "id=\"task-b-2\" class=\"node task state-failed\""));
    /* An unknown state keeps the plain fill, its class made safe. */
    ck_assert_ptr_nonnull(
        strstr(svg, "id=\"task-c.x\" class=\"node task state-weird_state\""));
    free(svg);
    /* States never reach the cached layout. */
    svg = graph_dag_svg(graph, dag, NULL, 0, &len, &err);
    ck_assert_ptr_null(strstr(svg, "state-"));
    ck_assert_ptr_null(strstr(svg, "#a6e3a1"));
    free(svg);
    dag_destroy(&dag);
    graph_destroy(&graph);
}

END_TEST

START_TEST(test_cache_lru)
{
    graph_t *graph = graph_new();
    errbuf_t err;
    for (int i = 0; i < GRAPH_CACHE_SIZE + 4; i++) {
        char *text = xasprintf("dag: d%d\ntasks: [{id: t, run: x}]\n", i);
        dag_t *dag = s_parse(text);
        size_t len = 0;
        char *svg = graph_dag_svg(graph, dag, NULL, 0, &len, &err);
        ck_assert_ptr_nonnull(svg);
        free(svg);
        dag_destroy(&dag);
        free(text);
    }
    ck_assert_uint_eq(graph_cache_count(graph), GRAPH_CACHE_SIZE);
    ck_assert_uint_eq(graph_cache_hits(graph), 0);
    graph_destroy(&graph);
}

END_TEST

/* A LineageRep as sched_lineage builds one: raw -> [clean] -> model. */
START_TEST(test_lineage)
{
    Sluice__DatasetVersion v[3];
    Sluice__DatasetVersion *vp[3];
    const char *uris[] = {"file:///d/raw \"q\" & <x>.csv", "file:///d/clean",
                          "file:///d/back\\nslash"};
    for (int i = 0; i < 3; i++) {
        sluice__dataset_version__init(&v[i]);
        v[i].id = (uint64_t) i + 1;
        v[i].uri = (char *) uris[i];
        v[i].hash = "0123456789abcdef0123";
        vp[i] = &v[i];
    }
    v[1].produced_by = 7;
    uint64_t in[] = {1, 99}; /* 99: not in the reply, drawn without */
    uint64_t out[] = {2, 3};
    Sluice__LineageAttempt a;
    sluice__lineage_attempt__init(&a);
    a.attempt_id = 7;
    a.run_id = 3;
    a.dag = "pipe";
    a.task_id = "clean";
    a.number = 1;
    a.state = "success";
    a.inputs = in;
    a.n_inputs = 2;
    a.outputs = out;
    a.n_outputs = 2;
    Sluice__LineageAttempt *ap[] = {&a};
    Sluice__LineageRep rep;
    sluice__lineage_rep__init(&rep);
    rep.root = 1;
    rep.versions = vp;
    rep.n_versions = 3;
    rep.attempts = ap;
    rep.n_attempts = 1;
    /* The same reply twice, as upstream and downstream: drawn once. */
    const Sluice__LineageRep *reps[] = {&rep, &rep};
    graph_t *graph = graph_new();
    errbuf_t err;
    size_t len = 0;
    char *svg = graph_lineage_svg(graph, reps, 2, &len, &err);
    s_expect_svg(svg, len);
    ck_assert_ptr_nonnull(
        strstr(svg, "id=\"ds-1\" class=\"node dataset root\""));
    ck_assert_ptr_nonnull(strstr(svg, "id=\"ds-2\" class=\"node dataset\""));
    ck_assert_ptr_nonnull(
        strstr(svg, "id=\"task-7\" class=\"node task state-success\""));
    ck_assert_uint_eq(s_count(svg, "class=\"node"), 4);
    ck_assert_uint_eq(s_count(svg, "class=\"edge\""), 3);
    /* Names are escaped by Graphviz; a backslash is shown, not read. */
    ck_assert_ptr_nonnull(strstr(svg, "raw &quot;q&quot; &amp; &lt;x&gt;.csv"));
    ck_assert_ptr_nonnull(strstr(svg, ">back\\nslash<"));
    ck_assert_ptr_nonnull(strstr(svg, ">0123456789ab<"));
    free(svg);
    graph_destroy(&graph);
}

END_TEST

/* Renders its own DAG (arg: an index) a few times, with states. */
static void *
s_thread(void *arg)
{
    graph_t *graph = ((void **) arg)[0];
    int index = (int) (intptr_t) ((void **) arg)[1];
    char *text = xasprintf("dag: t%d\ntasks: [{id: a, run: x}, "
                           "{id: b, run: x, after: [a]}]\n",
                           index % 3);
    dag_t *dag = s_parse(text);
    free(text);
    graph_state_t st = {"b", "running"};
    for (int i = 0; i < 5; i++) {
        errbuf_t err;
        size_t len = 0;
        char *svg = graph_dag_svg(graph, dag, &st, 1, &len, &err);
        ck_assert_ptr_nonnull(svg);
        ck_assert_ptr_nonnull(strstr(svg, "class=\"node task state-running\""));
        free(svg);
    }
    dag_destroy(&dag);
    return NULL;
}

/* The HTTP server's threads share one renderer (and Graphviz). */
START_TEST(test_threads)
{
    graph_t *graph = graph_new();
    graph_t *other = graph_new(); /* a second context, same Graphviz */
    pthread_t threads[6];
    void *args[6][2];
    for (int i = 0; i < 6; i++) {
        args[i][0] = i % 2 ? graph : other;
        args[i][1] = (void *) (intptr_t) i;
        ck_assert_int_eq(pthread_create(&threads[i], NULL, s_thread, args[i]),
                         0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(threads[i], NULL);
    }
    ck_assert_uint_eq(graph_cache_count(graph), 3);
    ck_assert_uint_ge(graph_cache_hits(graph), 15 - 3);
    graph_destroy(&graph);
    graph_destroy(&other);
}

END_TEST

/* count tasks: "wide" is one root, count - 2 children, one sink;
 * "layered" is ranks of `width`, each task after two of the rank before. */
static char *
s_big_yaml(const char *shape, size_t count, size_t width)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    fprintf(f, "dag: %s-%zu\ntasks:\n", shape, count);
    for (size_t i = 0; i < count; i++) {
        fprintf(f, "  - {id: t%zu, run: x", i);
        if (strcmp(shape, "wide") == 0 && i > 0) {
            if (i < count - 1) {
                fprintf(f, ", after: [t0]");
            } else {
                fprintf(f, ", after: [t1, t%zu]", count / 2);
            }
        } else if (strcmp(shape, "layered") == 0 && i >= width) {
            size_t base = (i / width - 1) * width;
            fprintf(f, ", after: [t%zu, t%zu]", base + (i * 7) % width,
                    base + (i * 13 + 1) % width);
        }
        fprintf(f, "}\n");
    }
    fclose(f);
    return text;
}

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Renders shape at count tasks; returns the seconds it took. */
static double
s_time_big(graph_t *graph, const char *shape, size_t count, size_t width)
{
    char *text = s_big_yaml(shape, count, width);
    dag_t *dag = s_parse(text);
    free(text);
    errbuf_t err;
    size_t len = 0;
    double t0 = s_now();
    char *svg = graph_dag_svg(graph, dag, NULL, 0, &len, &err);
    double took = s_now() - t0;
    ck_assert_msg(svg, "%s", errbuf_msg(&err));
    ck_assert_uint_eq(s_count(svg, "class=\"node task\""), count);
    ck_assert_ptr_nonnull(strstr(svg, "id=\"task-t0\""));
    free(svg);
    dag_destroy(&dag);
    return took;
}

/* Past GRAPH_DOT_MAX_NODES the rank layout keeps a render quick. */
START_TEST(test_big)
{
    graph_t *graph = graph_new();
    double took = s_time_big(graph, "layered", 1500, 50);
    ck_assert_msg(took < 10.0, "1,500 tasks took %.1f s", took);
    graph_destroy(&graph);
}

END_TEST

START_TEST(test_bench)
{
    if (!getenv("GRAPH_BENCH")) {
        return;
    }
    graph_t *graph = graph_new();

    static const struct {
        const char *shape;
        size_t count, width;
    } runs[] = {
        {"wide", 1000, 0},     {"layered", 1000, 50}, {"wide", 2000, 0},
        {"layered", 2000, 50}, {"wide", 10000, 0},    {"layered", 10000, 100},
    };

    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        double took =
            s_time_big(graph, runs[i].shape, runs[i].count, runs[i].width);
        printf("graph_bench: %s %zu tasks: %.2f s\n", runs[i].shape,
               runs[i].count, took);
    }
    graph_destroy(&graph);
}

END_TEST

Suite *
graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("graph");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_dag_svg);
    tcase_add_test(tc, test_task_ids_are_safe);
    tcase_add_test(tc, test_dag_states);
    tcase_add_test(tc, test_cache_lru);
    tcase_add_test(tc, test_lineage);
    tcase_add_test(tc, test_big);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    TCase *bench = tcase_create("bench");
    tcase_set_timeout(bench, 3600);
    tcase_add_test(bench, test_bench);
    suite_add_tcase(s, bench);
    return s;
}
