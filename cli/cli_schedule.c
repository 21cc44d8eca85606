/* sluice dag pause|unpause|next and sluice backfill: a DAG's schedule. */
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
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

/* ------------------------------------------------------------- backfill */

#define BACKFILL_POLL_MS 200 /* how often --wait asks for progress */

static const args_flag_t s_backfill_flags[] = {
    {"from", 0, ARGS_STRING, "DATE",
     "first interval start to run (a date or RFC 3339 time, read in the "
     "DAG's zone; inclusive)"},
    {"to", 0, ARGS_STRING, "DATE", "last interval start to run (inclusive)"},
    {"max-active", 0, ARGS_UINT, "N",
     "at most N backfill runs queued or running at once (default 16)"},
    {"rerun-failed", 0, ARGS_BOOL, NULL,
     "retry intervals whose run failed or was cancelled (default: skip "
     "every interval that has a run)"},
    {"dry-run", 'n', ARGS_BOOL, NULL,
     "only list the intervals and what "
     "would happen to each"},
    {"wait", 'w', ARGS_BOOL, NULL,
     "show progress until every run ends; exit 0 only if all succeeded"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_backfill_spec = {
    .usage = "sluice backfill NAME --from DATE --to DATE [--max-active N] "
             "[--rerun-failed] [--dry-run] [--wait]",
    .summary = "run a scheduled DAG for each past data interval whose start "
               "lies in [--from, --to], oldest first; intervals that already "
               "have a run are skipped (--rerun-failed retries failed ones); "
               "Ctrl-C stops --wait, the backfill goes on",
    .flags = s_backfill_flags,
    .min_args = 1,
    .max_args = 1,
};

static Sluice__Request *
s_backfill_request(const args_t *args, uint64_t status_id)
{
    Sluice__Request *req = cli_request_new();
    Sluice__BackfillReq *op = cli_request_op(req, SLUICE__REQUEST__OP_BACKFILL);
    op->dag = xstrdup(args_get(args, 0));
    op->from = xstrdup(args_string(args, "from"));
    op->to = xstrdup(args_string(args, "to"));
    op->max_active = (uint32_t) args_uint(args, "max-active", 0);
    op->rerun_failed = args_flag(args, "rerun-failed");
    op->dry_run = args_flag(args, "dry-run");
    op->status_id = status_id;
    return req;
}

static void
s_backfill_table(const Sluice__BackfillRep *rep)
{
    static const char *const headers[] = {"INTERVAL START", "ACTION", "RUN",
                                          "STATE", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_items; i++) {
        const Sluice__BackfillItem *item = rep->items[i];
        char run[24];
        snprintf(run, sizeof run, "%llu", (unsigned long long) item->run_id);
        table_row(table, item->start, item->action, item->run_id ? run : "-",
                  *item->state ? item->state : "-");
    }
    table_print(table, stdout);
    table_destroy(&table);
}

/* Counts of a backfill's runs: done = success; final = ended any way. */
typedef struct {
    size_t total, success, failed, final;
} backfill_count_t;

static backfill_count_t
s_backfill_count(const Sluice__BackfillRep *rep)
{
    backfill_count_t c = {.total = rep->n_items};
    for (size_t i = 0; i < rep->n_items; i++) {
        const char *state = rep->items[i]->state;
        bool ok = !strcmp(state, "success");
        bool bad = !strcmp(state, "failed") || !strcmp(state, "cancelled");
        c.success += ok;
        c.failed += bad;
        c.final += ok || bad;
    }
    return c;
}

static void
s_backfill_progress(const Sluice__BackfillRep *rep, bool tty, char *last)
{
    backfill_count_t c = s_backfill_count(rep);
    char line[256];
    snprintf(line, sizeof line,
             "backfill %llu of '%s': %zu/%zu done, %zu failed, %zu to go",
             (unsigned long long) rep->backfill_id, rep->dag, c.success,
             c.total, c.failed, c.total - c.final);
    if (tty) {
        fprintf(stderr, "\r\033[K%s", line);
    } else if (strcmp(line, last) != 0) {
        fprintf(stderr, "%s\n", line);
    }
    snprintf(last, 256, "%s", line);
}

/* Polls the backfill until every interval's run has ended. */
static int
s_backfill_wait(const args_t *args, client_t *client, uint64_t id)
{
    bool tty = isatty(STDERR_FILENO);
    char last[256] = "";
    while (!zsys_interrupted) {
        Sluice__Request *req = s_backfill_request(args, id);
        Sluice__Reply *reply = NULL;
        int rc = cli_call(client, req, SLUICE__REPLY__OP_BACKFILL, &reply);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        if (rc != CLI_OK) {
            return rc;
        }
        const Sluice__BackfillRep *rep = reply->backfill;
        backfill_count_t c = s_backfill_count(rep);
        bool over = rep->done && c.final == c.total;
        s_backfill_progress(rep, tty, last);
        if (over) {
            fprintf(stderr, tty ? "\n" : "");
            if (args_json(args)) {
                pbjson_print(&rep->base);
            } else {
                s_backfill_table(rep);
            }
            rc = c.success == c.total ? CLI_OK : CLI_FAIL;
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
        if (over) {
            return rc;
        }
        zclock_sleep(BACKFILL_POLL_MS);
    }
    fprintf(stderr,
            "\nsluice: stopped waiting; backfill %llu goes on. follow it with "
            "'sluice runs %s'\n",
            (unsigned long long) id, args_get(args, 0));
    return CLI_FAIL;
}

static void
s_backfill_print(const args_t *args, const Sluice__BackfillRep *rep)
{
    if (args_json(args) && !args_flag(args, "wait")) {
        pbjson_print(&rep->base);
        return;
    }
    if (args_flag(args, "wait")) {
        fprintf(stderr, "backfill %llu of '%s': %zu intervals\n",
                (unsigned long long) rep->backfill_id, rep->dag, rep->n_items);
        return;
    }
    if (rep->n_items == 0) {
        printf("no interval of '%s' starts in that span and has ended\n",
               rep->dag);
        return;
    }
    s_backfill_table(rep);
    if (rep->backfill_id) {
        printf("backfill %llu started; follow it with 'sluice runs %s'\n",
               (unsigned long long) rep->backfill_id, rep->dag);
    }
}

int
cli_backfill(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_backfill_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    client_t *client = NULL;
    if (!args_string(args, "from") || !args_string(args, "to")) {
        fprintf(stderr, "sluice: backfill needs --from DATE and --to DATE, "
                        "e.g. --from 2027-01-01 --to 2027-01-03\n");
        rc = CLI_USAGE;
    } else {
        rc = cli_connect(args, &client);
    }
    if (rc == CLI_OK) {
        Sluice__Request *req = s_backfill_request(args, 0);
        Sluice__Reply *reply = NULL;
        rc = cli_call(client, req, SLUICE__REPLY__OP_BACKFILL, &reply);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        if (rc == CLI_OK) {
            uint64_t id = reply->backfill->backfill_id;
            s_backfill_print(args, reply->backfill);
            protobuf_c_message_free_unpacked(&reply->base, NULL);
            if (id && args_flag(args, "wait")) {
                rc = s_backfill_wait(args, client, id);
            }
        }
    }
    client_destroy(&client);
    args_destroy(&args);
    return rc;
}
