/* sluice dag pause|unpause|next: a DAG's schedule. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

/* ---------------------------------------------------------------- pause */

static int
s_pause_fill(const args_t *args, void *op)
{
    Sluice__DagPauseReq *pause = op;
    pause->name = xstrdup(args_get(args, 0));
    pause->paused = true;
    return CLI_OK;
}

static int
s_unpause_fill(const args_t *args, void *op)
{
    Sluice__DagPauseReq *pause = op;
    pause->name = xstrdup(args_get(args, 0));
    pause->paused = false;
    return CLI_OK;
}

static void
s_pause_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__DagPauseRep *rep = body;
    printf("'%s' %s%s\n", rep->name, rep->changed ? "" : "was already ",
           rep->paused ? "paused: its schedule starts no runs; manual "
                         "triggers still work"
                       : "unpaused: its schedule starts runs again");
}

static const args_spec_t s_pause_spec = {
    .usage = "sluice dag pause NAME",
    .summary = "stop a DAG's schedule from starting runs (history is kept; "
               "'sluice trigger' still works); needs the operator role",
    .min_args = 1,
    .max_args = 1,
};

static const args_spec_t s_unpause_spec = {
    .usage = "sluice dag unpause NAME",
    .summary = "let a paused DAG's schedule start runs again (with catchup: "
               "true, the intervals missed while paused run too)",
    .min_args = 1,
    .max_args = 1,
};

static const cli_simple_t s_dag_pause = {
    .spec = &s_pause_spec,
    .op = SLUICE__REQUEST__OP_DAG_PAUSE,
    .expect = SLUICE__REPLY__OP_DAG_PAUSE,
    .fill = s_pause_fill,
    .show = {.print = s_pause_print},
};

static const cli_simple_t s_dag_unpause = {
    .spec = &s_unpause_spec,
    .op = SLUICE__REQUEST__OP_DAG_PAUSE,
    .expect = SLUICE__REPLY__OP_DAG_PAUSE,
    .fill = s_unpause_fill,
    .show = {.print = s_pause_print},
};

/* ----------------------------------------------------------------- next */

static const args_flag_t s_next_flags[] = {
    {"from", 0, ARGS_STRING, "TIME",
     "list fire times after TIME (a date or RFC 3339, read in the DAG's "
     "zone; default: now)"},
    {"count", 'n', ARGS_UINT, "N", "how many fire times (default 5)"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_next_spec = {
    .usage = "sluice dag next NAME [--from TIME] [--count N] [--json]",
    .summary = "print when a DAG's next scheduled runs start, each with the "
               "data interval it covers, in the DAG's zone and in UTC",
    .flags = s_next_flags,
    .min_args = 1,
    .max_args = 1,
};

static int
s_next_fill(const args_t *args, void *op)
{
    Sluice__DagNextReq *next = op;
    next->name = xstrdup(args_get(args, 0));
    const char *from = args_string(args, "from");
    next->from = xstrdup(from ? from : "");
    next->count = (uint32_t) args_uint(args, "count", 5);
    return CLI_OK;
}

static void
s_next_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__DagNextRep *rep = body;
    printf("'%s' schedule '%s' in %s%s\n", rep->name, rep->schedule,
           rep->timezone, rep->paused ? " (paused: these will not start)" : "");
    if (rep->n_fires == 0) {
        printf("no more fire times (past its end_date)\n");
        return;
    }
    static const char *const headers[] = {"STARTS (DAG ZONE)", "STARTS (UTC)",
                                          "DATA INTERVAL START", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_fires; i++) {
        const Sluice__FireTime *f = rep->fires[i];
        char utc[40];
        clock_fmt_iso((int64_t) f->end_ms, utc, sizeof utc);
        table_row(table, f->end, utc, f->start);
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const cli_simple_t s_dag_next = {
    .spec = &s_next_spec,
    .op = SLUICE__REQUEST__OP_DAG_NEXT,
    .expect = SLUICE__REPLY__OP_DAG_NEXT,
    .fill = s_next_fill,
    .show = {.print = s_next_print},
};

int
cli_dag_pause(int argc, char **argv)
{
    return cli_simple(&s_dag_pause, argc, argv);
}

int
cli_dag_unpause(int argc, char **argv)
{
    return cli_simple(&s_dag_unpause, argc, argv);
}

int
cli_dag_next(int argc, char **argv)
{
    return cli_simple(&s_dag_next, argc, argv);
}
