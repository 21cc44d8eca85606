/* cli_lineage — sluice datasets, sluice lineage (a tree of dataset versions
 * and the attempts that wrote and read them), and sluice lineage
 * --openlineage RUN_ID (OpenLineage RunEvents as JSON lines). */
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

#define S_SHORT_HASH 12
#define S_OL_SCHEMA                                                            \
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/"         \
    "RunEvent"
#define S_OL_PRODUCER "https://github.com/sluice/sluice/tree/main"
#define S_OL_VERSION_FACET                                                     \
    "https://openlineage.io/spec/facets/1-0-1/"                                \
    "DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"

/* "12.3 KiB" */
static char *
s_fmt_size(uint64_t size, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double) size;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(buf, len, "%llu B", (unsigned long long) size);
    } else {
        snprintf(buf, len, "%.1f %s", v, units[u]);
    }
    return buf;
}

static char *
s_short(const char *hash, char *buf)
{
    snprintf(buf, S_SHORT_HASH + 1, "%s", hash ? hash : "");
    return buf;
}

/* ------------------------------------------------------------ datasets */

static const args_flag_t s_datasets_flags[] = {
    {"limit", 0, ARGS_UINT, "N", "datasets shown (default 100)"},
    {0},
};

static const args_spec_t s_datasets_spec = {
    .usage = "sluice datasets [--limit N]",
    .summary = "list datasets (declared task outputs and inputs) with their "
               "latest version: uri, short hash, size, the run and task "
               "that produced it, and when",
    .flags = s_datasets_flags,
    .min_args = 0,
    .max_args = 0,
};

static const Sluice__LineageAttempt *
s_attempt(Sluice__LineageAttempt *const *attempts, size_t n, uint64_t id)
{
    for (size_t i = 0; id && i < n; i++) {
        if (attempts[i]->attempt_id == id) {
            return attempts[i];
        }
    }
    return NULL;
}

static void
s_datasets_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__DatasetsRep *rep = body;
    static const char *const headers[] = {
        "DATASET", "HASH", "SIZE", "VERSIONS", "PRODUCED BY", "WHEN", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_versions; i++) {
        const Sluice__DatasetVersion *v = rep->versions[i];
        const Sluice__LineageAttempt *a =
            s_attempt(rep->producers, rep->n_producers, v->produced_by);
        char hash[S_SHORT_HASH + 1], size[32], count[16], when[32];
        char *by = a ? xasprintf("run %llu task %s",
                                 (unsigned long long) a->run_id, a->task_id)
                     : xstrdup("- (not produced by sluice)");
        snprintf(count, sizeof count, "%u",
                 i < rep->n_version_counts ? rep->version_counts[i] : 1);
        table_row(table, v->uri, s_short(v->hash, hash),
                  s_fmt_size(v->size, size, sizeof size), count, by,
                  clock_fmt_local(v->at_ms, when, sizeof when));
        free(by);
    }
    table_print(table, stdout);
    table_destroy(&table);
    if (rep->n_versions == 0) {
        printf("no datasets yet: declare 'outputs:' on tasks and run them\n");
    }
}

static int
s_datasets_fill(const args_t *args, void *op)
{
    Sluice__DatasetsReq *datasets = op;
    datasets->limit = (uint32_t) args_uint(args, "limit", 0);
    return CLI_OK;
}

static const cli_simple_t s_datasets = {
    .spec = &s_datasets_spec,
    .op = SLUICE__REQUEST__OP_DATASETS,
    .expect = SLUICE__REPLY__OP_DATASETS,
    .fill = s_datasets_fill,
    .show = {.print = s_datasets_print},
};

int
cli_datasets(int argc, char **argv)
{
    return cli_simple(&s_datasets, argc, argv);
}

/* --------------------------------------------------------------- tree */

typedef struct {
    const Sluice__LineageRep *rep;
    bool downstream;
    uint64_t *seen; /* version ids printed, so a cycle ends */
    size_t nseen;
} s_tree_t;

static const Sluice__DatasetVersion *
s_version(const Sluice__LineageRep *rep, uint64_t id)
{
    for (size_t i = 0; i < rep->n_versions; i++) {
        if (rep->versions[i]->id == id) {
            return rep->versions[i];
        }
    }
    return NULL;
}

static bool
s_contains(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == id) {
            return true;
        }
    }
    return false;
}

static void
s_print_version(const Sluice__DatasetVersion *v, const char *tail)
{
    char hash[S_SHORT_HASH + 1], size[32];
    printf("%s  %s  %s%s\n", v->uri, s_short(v->hash, hash),
           s_fmt_size(v->size, size, sizeof size), tail);
}

static void
s_print_attempt(const Sluice__LineageAttempt *a, const char *verb)
{
    char when[32], version[9];
    snprintf(version, sizeof version, "%s", a->dag_version);
    printf("%s %s.%s  run %llu, attempt %llu (try %u), %s on %s, dag "
           "version %s, %s\n",
           verb, a->dag, a->task_id, (unsigned long long) a->run_id,
           (unsigned long long) a->attempt_id, a->number, a->state,
           *a->worker ? a->worker : "-", version,
           clock_fmt_local(a->ended_ms ? a->ended_ms : a->created_ms, when,
                           sizeof when));
}

static void s_tree_version(s_tree_t *t, uint64_t id, const char *prefix);

/* The attempts under a version: its producer (upstream) or its readers
 * (downstream), each with the versions it read (or wrote). */
static void
s_tree_children(s_tree_t *t, const Sluice__DatasetVersion *v, const char *pre)
{
    const Sluice__LineageAttempt **list =
        xcalloc(t->rep->n_attempts + 1, sizeof *list);
    size_t n = 0;
    for (size_t i = 0; i < t->rep->n_attempts; i++) {
        const Sluice__LineageAttempt *a = t->rep->attempts[i];
        bool child = t->downstream ? s_contains(a->inputs, a->n_inputs, v->id)
                                   : a->attempt_id == v->produced_by;
        if (child) {
            list[n++] = a;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const Sluice__LineageAttempt *a = list[i];
        bool last = i + 1 == n;
        printf("%s%s", pre, last ? "└── " : "├── ");
        s_print_attempt(a, t->downstream ? "read by" : "produced by");
        char *sub = xasprintf("%s%s", pre, last ? "    " : "│   ");
        size_t count = t->downstream ? a->n_outputs : a->n_inputs;
        const uint64_t *ids = t->downstream ? a->outputs : a->inputs;
        for (size_t j = 0; j < count; j++) {
            bool end = j + 1 == count;
            printf("%s%s", sub, end ? "└── " : "├── ");
            char *deeper = xasprintf("%s%s", sub, end ? "    " : "│   ");
            s_tree_version(t, ids[j], deeper);
            free(deeper);
        }
        free(sub);
    }
    free(list);
}

static void
s_tree_version(s_tree_t *t, uint64_t id, const char *prefix)
{
    const Sluice__DatasetVersion *v = s_version(t->rep, id);
    if (!v) {
        printf("(dataset version %llu, not shown)\n", (unsigned long long) id);
        return;
    }
    if (s_contains(t->seen, t->nseen, id)) {
        s_print_version(v, "  (shown above)");
        return;
    }
    t->seen = xrealloc(t->seen, (t->nseen + 1) * sizeof *t->seen);
    t->seen[t->nseen++] = id;
    bool upstream_end = !t->downstream && v->produced_by == 0;
    s_print_version(v, upstream_end ? "  (not produced by sluice)" : "");
    s_tree_children(t, v, prefix);
}

/* -------------------------------------------------------- openlineage */

/* A UUID from the attempt id: BLAKE2b of "sluice-attempt:ID", with the
 * variant bits and version 8 (RFC 9562: custom), so the same attempt
 * always has the same runId. */
static void
s_uuid(uint64_t attempt_id, char out[37])
{
    char name[64];
    snprintf(name, sizeof name, "sluice-attempt:%llu",
             (unsigned long long) attempt_id);
    uint8_t b[16];
    crypto_generichash(b, sizeof b, (const uint8_t *) name, strlen(name), NULL,
                       0);
    b[6] = (uint8_t) ((b[6] & 0x0f) | 0x80);
    b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
}

/* "2026-01-02T03:04:05.678Z" */
static char *
s_iso_ms(uint64_t ms, char *buf, size_t size)
{
    char base[32];
    clock_fmt_iso((int64_t) ms, base, sizeof base);
    size_t len = strlen(base);
    if (len && base[len - 1] == 'Z') {
        base[len - 1] = '\0';
    }
    snprintf(buf, size, "%s.%03lluZ", base, (unsigned long long) (ms % 1000));
    return buf;
}

static void
s_ol_datasets(json_t *json,
              const Sluice__LineageRep *rep,
              const uint64_t *ids,
              size_t n)
{
    json_array_begin(json);
    for (size_t i = 0; i < n; i++) {
        const Sluice__DatasetVersion *v = s_version(rep, ids[i]);
        if (!v) {
            continue;
        }
        const char *path =
            strncmp(v->uri, "file://", 7) == 0 ? v->uri + 7 : v->uri;
        json_object_begin(json);
        json_kv_string(json, "namespace", "file");
        json_kv_string(json, "name", path);
        json_key(json, "facets");
        json_object_begin(json);
        json_key(json, "version");
        json_object_begin(json);
        json_kv_string(json, "_producer", S_OL_PRODUCER);
        json_kv_string(json, "_schemaURL", S_OL_VERSION_FACET);
        json_kv_string(json, "datasetVersion", v->hash);
        json_object_end(json);
        json_object_end(json);
        json_object_end(json);
    }
    json_array_end(json);
}

static void
s_ol_event(const Sluice__LineageRep *rep,
           const Sluice__LineageAttempt *a,
           const char *type,
           uint64_t at)
{
    char uuid[37], when[40];
    s_uuid(a->attempt_id, uuid);
    json_t *json = json_new(stdout, false);
    json_object_begin(json);
    json_kv_string(json, "eventType", type);
    json_kv_string(json, "eventTime", s_iso_ms(at, when, sizeof when));
    json_key(json, "run");
    json_object_begin(json);
    json_kv_string(json, "runId", uuid);
    json_object_end(json);
    json_key(json, "job");
    json_object_begin(json);
    json_kv_string(json, "namespace", "sluice");
    char *name = xasprintf("%s.%s", a->dag, a->task_id);
    json_kv_string(json, "name", name);
    free(name);
    json_object_end(json);
    json_key(json, "inputs");
    s_ol_datasets(json, rep, a->inputs, a->n_inputs);
    json_key(json, "outputs");
    bool complete = strcmp(type, "COMPLETE") == 0;
    s_ol_datasets(json, rep, a->outputs, complete ? a->n_outputs : 0);
    json_kv_string(json, "producer", S_OL_PRODUCER);
    json_kv_string(json, "schemaURL", S_OL_SCHEMA);
    json_object_end(json);
    json_destroy(&json);
}

/* START, then how it ended: COMPLETE, FAIL, ABORT (cancelled); an attempt
 * still running has its START only. */
static void
s_openlineage(const Sluice__LineageRep *rep)
{
    for (size_t i = 0; i < rep->n_attempts; i++) {
        const Sluice__LineageAttempt *a = rep->attempts[i];
        uint64_t start = a->started_ms ? a->started_ms : a->created_ms;
        s_ol_event(rep, a, "START", start);
        const char *end = NULL;
        if (!strcmp(a->state, "success")) {
            end = "COMPLETE";
        } else if (!strcmp(a->state, "cancelled")) {
            end = "ABORT";
        } else if (strcmp(a->state, "running") && strcmp(a->state, "queued") &&
                   strcmp(a->state, "dispatched")) {
            end = "FAIL";
        }
        if (end) {
            s_ol_event(rep, a, end, a->ended_ms ? a->ended_ms : start);
        }
    }
}

/* ------------------------------------------------------------- lineage */

static const args_flag_t s_lineage_flags[] = {
    {"upstream", 0, ARGS_BOOL, NULL,
     "where it came from: producers and their inputs (default)"},
    {"downstream", 0, ARGS_BOOL, NULL,
     "where it went: the tasks that read it and what they wrote"},
    {"depth", 0, ARGS_UINT, "N", "task levels to walk (default: all)"},
    {"openlineage", 0, ARGS_BOOL, NULL,
     "with RUN_ID: print OpenLineage RunEvents as JSON lines"},
    {0},
};

static const args_spec_t s_lineage_spec = {
    .usage = "sluice lineage URI_OR_HASH [--upstream|--downstream] "
             "[--depth N] | sluice lineage --openlineage RUN_ID",
    .summary = "show where a dataset version came from (or went): the "
               "versions, tasks, runs, DAG versions and workers around it; "
               "a path, file:// URI or hash prefix names it",
    .flags = s_lineage_flags,
    .min_args = 1,
    .max_args = 1,
};

/* A path becomes the file:// URI workers report (absolute, resolved); a
 * hash prefix or URI goes as it is. */
static char *
s_target(const char *text)
{
    if (strstr(text, "://")) {
        return xstrdup(text);
    }
    size_t n = strlen(text);
    bool hex = n >= 4 && strspn(text, "0123456789abcdef") == n;
    char real[PATH_MAX];
    if (realpath(text, real)) {
        return xasprintf("file://%s", real);
    }
    if (hex) {
        return xstrdup(text);
    }
    if (text[0] == '/') {
        return xasprintf("file://%s", text);
    }
    char cwd[PATH_MAX];
    return xasprintf("file://%s/%s", getcwd(cwd, sizeof cwd) ? cwd : ".", text);
}

static int
s_lineage_fill(const args_t *args, void *op)
{
    Sluice__LineageReq *lineage = op;
    if (args_flag(args, "upstream") && args_flag(args, "downstream")) {
        fprintf(stderr, "sluice: give --upstream or --downstream, not both\n");
        return CLI_USAGE;
    }
    if (!args_flag(args, "openlineage")) {
        lineage->target = s_target(args_get(args, 0));
    } else if (cli_parse_id("run id", args_get(args, 0), &lineage->run_id) <
               0) {
        return CLI_USAGE;
    }
    lineage->downstream = args_flag(args, "downstream");
    lineage->depth = (uint32_t) args_uint(args, "depth", 0);
    return CLI_OK;
}

static void
s_lineage_print(const args_t *args, const void *body)
{
    const Sluice__LineageRep *l = body;
    if (args_flag(args, "openlineage")) {
        s_openlineage(l);
        return;
    }
    s_tree_t t = {.rep = l, .downstream = args_flag(args, "downstream")};
    s_tree_version(&t, l->root, "");
    free(t.seen);
}

/* --openlineage is JSON of its own, with or without --json. */
static void
s_lineage_json(const args_t *args, const void *body)
{
    if (args_flag(args, "openlineage")) {
        s_openlineage(body);
    } else {
        pbjson_print(body);
    }
}

static const cli_simple_t s_lineage = {
    .spec = &s_lineage_spec,
    .op = SLUICE__REQUEST__OP_LINEAGE,
    .expect = SLUICE__REPLY__OP_LINEAGE,
    .fill = s_lineage_fill,
    .show = {.print = s_lineage_print, .json = s_lineage_json},
};

int
cli_lineage(int argc, char **argv)
{
    return cli_simple(&s_lineage, argc, argv);
}
