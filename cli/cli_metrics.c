/* sluice metrics DAG TASK [--limit N]: a task's metrics across runs, beside
 * the params and input dataset versions of each run. sluice metrics alone:
 * the scheduler's own counters. */
#include "cli/cli_metrics.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "cli/cli.h"

/* "%g" without losing what a person would read. */
static void
s_number(double v, char *buf, size_t size)
{
    snprintf(buf, size, "%.6g", v);
}

void
cli_metrics_run_lines(const args_t *args, uint64_t run_id)
{
    Sluice__Request *req = cli_request_new();
    Sluice__MetricsReq *op = cli_request_op(req, SLUICE__REQUEST__OP_METRICS);
    op->run_id = run_id;
    Sluice__Reply *reply;
    /* Quiet: an older scheduler without metrics must not spoil run show. */
    FILE *saved = stderr;
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        stderr = null;
    }
    int rc = cli_request(args, &req, SLUICE__REPLY__OP_METRICS, &reply);
    if (null) {
        stderr = saved;
        fclose(null);
    }
    if (rc != CLI_OK) {
        return;
    }
    const Sluice__MetricsRep *rep = reply->metrics;
    for (size_t i = 0; i < rep->n_rows; i++) {
        const Sluice__MetricsRow *row = rep->rows[i];
        if (row->n_metrics == 0) {
            continue;
        }
        printf("metrics '%s':", row->task_id);
        for (size_t j = 0; j < row->n_metrics; j++) {
            char v[64];
            s_number(row->metrics[j]->value, v, sizeof v);
            printf("%s %s=%s", j ? "," : "", row->metrics[j]->name, v);
        }
        printf("\n");
    }
    protobuf_c_message_free_unpacked(&reply->base, NULL);
}

/* Every metric name, in order of first appearance. */
static zlistx_t *
s_names(const Sluice__MetricsRep *rep)
{
    zlistx_t *names = zlistx_new();
    zlistx_set_comparator(names, (zlistx_comparator_fn *) strcmp);
    for (size_t i = 0; i < rep->n_rows; i++) {
        for (size_t j = 0; j < rep->rows[i]->n_metrics; j++) {
            char *name = rep->rows[i]->metrics[j]->name;
            if (!zlistx_find(names, name)) {
                zlistx_add_end(names, name);
            }
        }
    }
    return names;
}

static char *
s_join_params(const Sluice__MetricsRow *row)
{
    char *text = xstrdup("");
    for (size_t i = 0; i < row->n_params; i++) {
        char *next = xasprintf("%s%s%s=%s", text, i ? "," : "",
                               row->params[i]->name, row->params[i]->value);
        free(text);
        text = next;
    }
    return text;
}

static char *
s_join_inputs(const Sluice__MetricsRow *row)
{
    char *text = xstrdup("");
    for (size_t i = 0; i < row->n_inputs; i++) {
        const char *at = strrchr(row->inputs[i], '@');
        char *next = xasprintf("%s%s%s", text, i ? "," : "",
                               at ? at + 1 : row->inputs[i]);
        free(text);
        text = next;
    }
    return text;
}

#define MAX_METRIC_COLS 12 /* metric columns shown; --json has them all */

/* The scheduler's counters, one per line. */
static void
s_print_scheduler(const Sluice__MetricsRep *rep)
{
    static const char *const headers[] = {"COUNTER", "VALUE", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_scheduler; i++) {
        char v[64];
        s_number(rep->scheduler[i]->value, v, sizeof v);
        table_row(table, rep->scheduler[i]->name, v);
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static void
s_print(const args_t *args, const void *body)
{
    const Sluice__MetricsRep *rep = body;
    if (args_count(args) == 0) {
        s_print_scheduler(rep);
        return;
    }
    if (rep->n_rows == 0) {
        printf("no runs of that task yet\n");
        return;
    }
    zlistx_t *names = s_names(rep);
    while (zlistx_size(names) > MAX_METRIC_COLS) {
        zlistx_delete(names, zlistx_last(names) ? zlistx_cursor(names) : NULL);
    }
    size_t ncols = 4 + zlistx_size(names);
    const char **headers = xcalloc(ncols + 1, sizeof *headers);
    headers[0] = "RUN";
    headers[1] = "DATE";
    headers[2] = "PARAMS";
    headers[3] = "INPUTS";
    size_t k = 4;
    for (char *n = zlistx_first(names); n; n = zlistx_next(names)) {
        headers[k++] = n;
    }
    table_t *table = table_new(headers);
    /* table_row is variadic and reads as many cells as there are
     * columns: pass a fixed 16, NULL past the last. */
    char **cells = xcalloc(16, sizeof *cells);
    for (size_t i = 0; i < rep->n_rows; i++) {
        const Sluice__MetricsRow *row = rep->rows[i];
        char date[32];
        cells[0] = xasprintf("%llu", (unsigned long long) row->run_id);
        cells[1] = xstrdup(clock_fmt_local(row->created_ms, date, sizeof date));
        cells[2] = s_join_params(row);
        cells[3] = s_join_inputs(row);
        k = 4;
        for (char *n = zlistx_first(names); n; n = zlistx_next(names), k++) {
            cells[k] = NULL;
            for (size_t j = 0; j < row->n_metrics; j++) {
                if (strcmp(row->metrics[j]->name, n) == 0) {
                    char v[64];
                    s_number(row->metrics[j]->value, v, sizeof v);
                    cells[k] = xstrdup(v);
                }
            }
        }
        for (size_t c = 2; c < 4; c++) {
            if (!*cells[c]) {
                free(cells[c]);
                cells[c] = NULL; /* "-" */
            }
        }
        table_row(table, cells[0], cells[1], cells[2], cells[3], cells[4],
                  cells[5], cells[6], cells[7], cells[8], cells[9], cells[10],
                  cells[11], cells[12], cells[13], cells[14], cells[15]);
        for (size_t c = 0; c < ncols; c++) {
            xfree(&cells[c]);
        }
    }
    table_print(table, stdout);
    table_destroy(&table);
    free(cells);
    free(headers);
    zlistx_destroy(&names);
}

static const args_flag_t s_flags[] = {
    {"limit", 'n', ARGS_UINT, "N", "compare the N latest runs (default 20)"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_spec = {
    .usage = "sluice metrics [DAG TASK] [--limit N]",
    .summary = "compare the metrics task TASK wrote to $SLUICE_METRICS across "
               "the latest runs of DAG, beside each run's params and input "
               "dataset versions; with no DAG, the scheduler's own counters",
    .flags = s_flags,
    .min_args = 0,
    .max_args = 2,
};

static int
s_fill(const args_t *args, void *op)
{
    Sluice__MetricsReq *metrics = op;
    if (args_count(args) == 0) {
        return CLI_OK; /* naming nothing: the scheduler's counters */
    }
    if (args_count(args) == 1) {
        fprintf(stderr, "usage: %s\n", s_spec.usage);
        return CLI_USAGE;
    }
    uint64_t limit = args_uint(args, "limit", 0);
    metrics->dag = xstrdup(args_get(args, 0));
    metrics->task_id = xstrdup(args_get(args, 1));
    metrics->limit = limit > UINT32_MAX ? UINT32_MAX : (uint32_t) limit;
    return CLI_OK;
}

static const cli_simple_t s_metrics = {
    .spec = &s_spec,
    .op = SLUICE__REQUEST__OP_METRICS,
    .expect = SLUICE__REPLY__OP_METRICS,
    .fill = s_fill,
    .show = {.print = s_print},
};

int
cli_metrics(int argc, char **argv)
{
    return cli_simple(&s_metrics, argc, argv);
}
