/* sluice dag validate|apply|list|show. validate lives in cli_validate.c. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/json.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

#define SHORT_VERSION 8 /* hex digits of a version people read */

/* ---------------------------------------------------------------- apply */

/* Reads a whole DAG file into *text (owned); prints why on failure. */
static int
s_read_file(const char *path, char **text, size_t *size)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "%s:1:1: cannot read the file (%m); check the path\n",
                path);
        return -1;
    }
    char *buf = xmalloc(DAG_MAX_FILE_SIZE + 1);
    size_t len = fread(buf, 1, DAG_MAX_FILE_SIZE + 1, in);
    int failed = ferror(in);
    fclose(in);
    if (failed || len > DAG_MAX_FILE_SIZE) {
        fprintf(stderr, "%s:1:1: %s\n", path,
                failed ? "cannot read the file"
                       : "the file is over the 8 MiB limit for DAG files; "
                         "split the pipeline");
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    *text = buf;
    *size = len;
    return 0;
}

/* Parses a file locally, printing every problem; the text is kept in
 * *text so that what is sent is exactly what was checked. */
static int
s_check_file(const char *path, char **text)
{
    size_t size;
    if (s_read_file(path, text, &size) < 0) {
        return -1;
    }
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse(path, *text, size, errors);
    for (char *msg = zlist_first(errors); msg; msg = zlist_next(errors)) {
        fprintf(stderr, "%s\n", msg);
    }
    zlist_destroy(&errors);
    zlist_t *warnings = dag ? dag_warnings(dag) : NULL;
    for (char *msg = warnings ? zlist_first(warnings) : NULL; msg;
         msg = zlist_next(warnings)) {
        fprintf(stderr, "%s\n", msg);
    }
    int rc = dag ? 0 : -1;
    dag_destroy(&dag);
    if (rc < 0) {
        xfree(text);
    }
    return rc;
}

static Sluice__Request *
s_apply_request(const char *path, char **text)
{
    Sluice__Request *req = cli_request_new();
    Sluice__DagApplyReq *op =
        cli_request_op(req, SLUICE__REQUEST__OP_DAG_APPLY);
    op->filename = xstrdup(path);
    op->source = *text; /* the request owns it now */
    *text = NULL;
    return req;
}

static void
s_apply_print(const Sluice__DagApplyRep *rep, json_t *json)
{
    if (json) {
        pbjson_write(json, &rep->base);
    } else if (rep->changed) {
        printf("applied '%s' version %.*s (%u task%s)\n", rep->name,
               SHORT_VERSION, rep->version, rep->tasks,
               rep->tasks == 1 ? "" : "s");
    } else {
        printf("'%s' unchanged (version %.*s)\n", rep->name, SHORT_VERSION,
               rep->version);
    }
}

/* Sends each checked file in turn. */
static int
s_apply_send(const args_t *args, char **texts)
{
    client_t *client = NULL;
    int rc = cli_connect(args, &client);
    json_t *json = NULL;
    if (rc == CLI_OK && args_json(args)) {
        json = json_new(stdout, true);
        json_object_begin(json);
        json_key(json, "applied");
        json_array_begin(json);
    }
    for (int i = 0; rc == CLI_OK && i < args_count(args); i++) {
        Sluice__Request *req = s_apply_request(args_get(args, i), &texts[i]);
        Sluice__Reply *reply = NULL;
        rc = cli_call(client, req, SLUICE__REPLY__OP_DAG_APPLY, &reply);
        if (rc == CLI_OK) {
            s_apply_print(reply->dag_apply, json);
            protobuf_c_message_free_unpacked(&reply->base, NULL);
        }
        protobuf_c_message_free_unpacked(&req->base, NULL);
    }
    if (json) {
        json_array_end(json);
        json_object_end(json);
        json_destroy(&json);
    }
    client_destroy(&client);
    return rc;
}

static const args_spec_t s_apply_spec = {
    .usage = "sluice dag apply FILE...",
    .summary = "check DAG files here, then send them to the scheduler as the "
               "new version of their DAG",
    .flags = NULL,
    .min_args = 1,
    .max_args = -1,
};

static int
s_dag_apply(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_apply_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    int count = args_count(args);
    char **texts = xcalloc((size_t) count, sizeof *texts);
    for (int i = 0; i < count; i++) {
        if (s_check_file(args_get(args, i), &texts[i]) < 0) {
            rc = CLI_FAIL;
        }
    }
    if (rc == CLI_OK) {
        rc = s_apply_send(args, texts);
    }
    for (int i = 0; i < count; i++) {
        free(texts[i]);
    }
    free(texts);
    args_destroy(&args);
    return rc;
}

/* ---------------------------------------------------------------- list */

static void
s_list_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__DagListRep *rep = body;
    if (rep->n_dags == 0) {
        printf("no DAGs yet; add one with 'sluice dag apply FILE'\n");
        return;
    }
    static const char *const headers[] = {
        "NAME",     "TASKS",    "VERSION", "LAST RUN", "STATE",
        "SCHEDULE", "TIMEZONE", "PAUSED",  "NEXT RUN", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_dags; i++) {
        const Sluice__DagSummary *d = rep->dags[i];
        char tasks[16], version[SHORT_VERSION + 1], last[24];
        snprintf(tasks, sizeof tasks, "%u", d->tasks);
        snprintf(version, sizeof version, "%s", d->version);
        snprintf(last, sizeof last, "%llu",
                 (unsigned long long) d->last_run_id);
        bool ran = d->last_run_id != 0;
        bool sched = *d->schedule;
        table_row(table, d->name, tasks, version, ran ? last : "-",
                  ran ? d->last_run_state : "-", sched ? d->schedule : "-",
                  *d->timezone ? d->timezone : "-", d->paused ? "yes" : "no",
                  d->next_run_ms ? d->next_run : "-");
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const args_spec_t s_list_spec = {
    .usage = "sluice dag list",
    .summary = "list the DAGs the scheduler knows, with their last run, "
               "schedule, zone, whether paused, and next scheduled run",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

static const cli_simple_t s_dag_list = {
    .spec = &s_list_spec,
    .op = SLUICE__REQUEST__OP_DAG_LIST,
    .expect = SLUICE__REPLY__OP_DAG_LIST,
    .show = {.print = s_list_print},
};

/* ---------------------------------------------------------------- show */

/* The dependency graph of a shown DAG, by task index. */
typedef struct {
    size_t n;      /* tasks */
    size_t *level; /* owned: 0 for tasks with no upstream */
    size_t **kids; /* owned: downstream tasks of each task */
    size_t *nkids; /* owned */
    size_t *order; /* owned: tasks by level, then file order */
    size_t width;  /* widest task id, in bytes */
} s_graph_t;

/* Levels by Kahn's algorithm: each task sits one below its deepest
 * upstream, so fan-out and fan-in line up. O(tasks + edges). */
static void
s_graph_levels(s_graph_t *g, size_t *indeg)
{
    size_t *queue = xcalloc(g->n + 1, sizeof *queue);
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (indeg[i] == 0) {
            queue[tail++] = i;
        }
    }
    while (head < tail) {
        size_t t = queue[head++];
        for (size_t k = 0; k < g->nkids[t]; k++) {
            size_t c = g->kids[t][k];
            g->level[c] =
                g->level[t] + 1 > g->level[c] ? g->level[t] + 1 : g->level[c];
            if (--indeg[c] == 0) {
                queue[tail++] = c;
            }
        }
    }
    free(queue);
}

static int
s_cmp_order(const void *a, const void *b, void *arg)
{
    const s_graph_t *g = arg;
    size_t x = *(const size_t *) a, y = *(const size_t *) b;
    if (g->level[x] != g->level[y]) {
        return g->level[x] < g->level[y] ? -1 : 1;
    }
    return x < y ? -1 : x > y;
}

static void
s_graph_build(s_graph_t *g, const Sluice__DagShowRep *rep)
{
    g->n = rep->n_tasks;
    g->level = xcalloc(g->n + 1, sizeof *g->level);
    g->kids = xcalloc(g->n + 1, sizeof *g->kids);
    g->nkids = xcalloc(g->n + 1, sizeof *g->nkids);
    g->order = xcalloc(g->n + 1, sizeof *g->order);
    size_t *indeg = xcalloc(g->n + 1, sizeof *indeg);
    zhashx_t *index = zhashx_new();
    for (size_t i = 0; i < g->n; i++) {
        zhashx_insert(index, rep->tasks[i]->id, (void *) (uintptr_t) (i + 1));
        size_t w = strlen(rep->tasks[i]->id);
        g->width = w > g->width ? w : g->width;
    }
    for (size_t i = 0; i < g->n; i++) {
        for (size_t a = 0; a < rep->tasks[i]->n_after; a++) {
            uintptr_t up =
                (uintptr_t) zhashx_lookup(index, rep->tasks[i]->after[a]);
            if (up == 0) {
                continue; /* validated by the scheduler; skip if not */
            }
            size_t u = up - 1;
            g->kids[u] =
                xrealloc(g->kids[u], (g->nkids[u] + 1) * sizeof *g->kids[u]);
            g->kids[u][g->nkids[u]++] = i;
            indeg[i]++;
        }
    }
    zhashx_destroy(&index);
    s_graph_levels(g, indeg);
    free(indeg);
    for (size_t i = 0; i < g->n; i++) {
        g->order[i] = i;
    }
    qsort_r(g->order, g->n, sizeof *g->order, s_cmp_order, g);
}

static void
s_graph_free(s_graph_t *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->kids[i]);
    }
    free(g->kids);
    free(g->nkids);
    free(g->level);
    free(g->order);
}

/* Levels on one line each, then every edge drawn from its upstream:
 *
 *   start ─┬─▶ left
 *          └─▶ right
 *   left  ───▶ join
 */
static void
s_graph_print(const s_graph_t *g, const Sluice__DagShowRep *rep)
{
    printf("graph:\n");
    for (size_t i = 0; i < g->n; i++) {
        size_t t = g->order[i];
        bool first = i == 0 || g->level[g->order[i - 1]] != g->level[t];
        if (first) {
            printf("%s  level %zu: ", i ? "\n" : "", g->level[t] + 1);
        }
        printf("%s%s", first ? "" : ", ", rep->tasks[t]->id);
    }
    printf("\n\n");
    for (size_t i = 0; i < g->n; i++) {
        size_t t = g->order[i];
        int w = (int) g->width;
        if (g->nkids[t] == 0) {
            printf("  %s\n", rep->tasks[t]->id);
        }
        for (size_t k = 0; k < g->nkids[t]; k++) {
            const char *arrow = g->nkids[t] == 1      ? "───▶"
                                : k == 0              ? "─┬─▶"
                                : k + 1 < g->nkids[t] ? " ├─▶"
                                                      : " └─▶";
            printf("  %-*s %s %s\n", w, k == 0 ? rep->tasks[t]->id : "", arrow,
                   rep->tasks[g->kids[t][k]]->id);
        }
    }
}

static void
s_show_header(const Sluice__DagShowRep *rep)
{
    const Sluice__DagSummary *d = rep->dag;
    char updated[32];
    printf("dag:          %s\n", d->name);
    if (*d->description) {
        printf("description:  %s\n", d->description);
    }
    printf("version:      %s\n", d->version);
    printf("schedule:     %s\n", *d->schedule ? d->schedule : "-");
    printf("timezone:     %s\n", *d->timezone ? d->timezone : "-");
    printf("paused:       %s\n",
           d->paused ? "yes (manual triggers only)" : "no");
    printf("next run:     %s\n", d->next_run_ms ? d->next_run : "-");
    printf("updated:      %s\n",
           clock_fmt_local(d->updated_ms, updated, sizeof updated));
    if (d->last_run_id) {
        printf("runs:         %llu (last: run %llu, %s)\n",
               (unsigned long long) d->runs,
               (unsigned long long) d->last_run_id, d->last_run_state);
    } else {
        printf("runs:         none yet\n");
    }
}

/* A param's rules in one line: "1 <= N <= 100000", "one of a, b",
 * "matches '^x$'"; "-" when none. Caller owns. */
static char *
s_param_rules(const Sluice__ParamDef *param)
{
    char *rules = xstrdup("");
    if (*param->min || *param->max) {
        char *next =
            xasprintf("%s%s%s%s%s", param->min, *param->min ? " <= " : "",
                      "value", *param->max ? " <= " : "", param->max);
        free(rules);
        rules = next;
    }
    for (size_t i = 0; i < param->n_enum_; i++) {
        char *next = xasprintf("%s%s%s", rules,
                               i ? ", " : (*rules ? "; one of " : "one of "),
                               param->enum_[i]);
        free(rules);
        rules = next;
    }
    if (*param->pattern) {
        char *next = xasprintf("%s%smatches '%s'", rules, *rules ? "; " : "",
                               param->pattern);
        free(rules);
        rules = next;
    }
    if (!*rules) {
        free(rules);
        rules = xstrdup("-");
    }
    return rules;
}

static void
s_show_params(const Sluice__DagShowRep *rep)
{
    if (rep->n_params == 0) {
        printf("params:       none\n");
        return;
    }
    static const char *const headers[] = {"PARAM", "TYPE", "DEFAULT", "RULES",
                                          NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_params; i++) {
        const Sluice__ParamDef *param = rep->params[i];
        char *rules = s_param_rules(param);
        table_row(table, param->name, *param->type ? param->type : "string",
                  param->required ? "(required)" : param->default_, rules);
        free(rules);
    }
    printf("\nparams:\n");
    table_print(table, stdout);
    table_destroy(&table);
}

static void
s_show_tasks(const Sluice__DagShowRep *rep)
{
    static const char *const headers[] = {"TASK",    "KIND",  "RETRIES",
                                          "TIMEOUT", "AFTER", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_tasks; i++) {
        const Sluice__TaskDef *t = rep->tasks[i];
        char retries[16], timeout[32];
        snprintf(retries, sizeof retries, "%u", t->retries);
        snprintf(timeout, sizeof timeout, "-");
        if (t->timeout_ms) {
            clock_fmt_duration((int64_t) t->timeout_ms, timeout,
                               sizeof timeout);
        }
        char *after = xstrdup(t->n_after ? "" : "-");
        for (size_t a = 0; a < t->n_after; a++) {
            char *more = xasprintf("%s%s%s", after, a ? ", " : "", t->after[a]);
            free(after);
            after = more;
        }
        table_row(table, t->id, t->kind, retries, timeout, after);
        free(after);
    }
    printf("\ntasks:\n");
    table_print(table, stdout);
    table_destroy(&table);
}

static const args_spec_t s_show_spec = {
    .usage = "sluice dag show NAME",
    .summary = "show a DAG's current version: params, tasks and their graph",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

static void
s_show_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__DagShowRep *rep = body;
    if (!rep->dag) {
        return;
    }
    s_show_header(rep);
    s_show_params(rep);
    s_show_tasks(rep);
    s_graph_t graph = {0};
    s_graph_build(&graph, rep);
    printf("\n");
    s_graph_print(&graph, rep);
    s_graph_free(&graph);
}

static int
s_show_fill(const args_t *args, void *op)
{
    Sluice__DagShowReq *show = op;
    show->name = xstrdup(args_get(args, 0));
    return CLI_OK;
}

static const cli_simple_t s_dag_show = {
    .spec = &s_show_spec,
    .op = SLUICE__REQUEST__OP_DAG_SHOW,
    .expect = SLUICE__REPLY__OP_DAG_SHOW,
    .fill = s_show_fill,
    .show = {.print = s_show_print},
};

/* ---------------------------------------------------------------- dag */

static const cli_verb_t s_dag_verbs[] = {
    {"validate", cli_dag_validate, "check DAG files (works offline)", NULL},
    {"apply", s_dag_apply, "check DAG files and send them to the scheduler",
     NULL},
    {"list", NULL, "list DAGs with their last run", &s_dag_list},
    {"show", NULL, "show a DAG: params, tasks, graph", &s_dag_show},
    {"pause", cli_dag_pause, "stop a DAG's schedule from starting runs", NULL},
    {"unpause", cli_dag_unpause, "let a paused DAG's schedule start runs",
     NULL},
    {"next", cli_dag_next, "when a DAG's next scheduled runs start", NULL},
};

int
cli_dag(int argc, char **argv)
{
    return cli_dispatch("dag", s_dag_verbs,
                        sizeof s_dag_verbs / sizeof s_dag_verbs[0], NULL, argc,
                        argv);
}
