/* cli_alerts — sluice alerts list|test: what was queued and sent to which
 * target, with delivery errors; a sample event through the same path. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

/* -------------------------------------------------------------- list */

static const args_flag_t s_list_flags[] = {
    {"failed", 0, ARGS_BOOL, NULL,
     "only alerts whose last delivery failed (retried or given up)"},
    {"limit", 0, ARGS_UINT, "N", "alerts shown (default 100)"},
    {0},
};

static const args_spec_t s_list_spec = {
    .usage = "sluice alerts list [--failed] [--limit N] [--json]",
    .summary = "list queued alerts, newest first: event, target, delivery "
               "state, tries and the last error",
    .flags = s_list_flags,
    .min_args = 0,
    .max_args = 0,
};

static int
s_list_fill(const args_t *args, void *op)
{
    Sluice__AlertsListReq *q = op;
    q->failed = args_flag(args, "failed");
    q->limit = (uint32_t) args_uint(args, "limit", 100);
    return CLI_OK;
}

static void
s_list_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__AlertsListRep *list = body;
    const char *headers[] = {"ID",   "KIND",   "DAG",   "RUN",
                             "TASK", "TARGET", "STATE", "TRIES",
                             "WHEN", "ERROR",  NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < list->n_alerts; i++) {
        const Sluice__AlertInfo *a = list->alerts[i];
        char id[24], run[24], tries[16], when[32];
        snprintf(id, sizeof id, "%" PRIu64, a->id);
        snprintf(run, sizeof run, "%" PRIu64, a->run_id);
        snprintf(tries, sizeof tries, "%u", a->tries);
        uint64_t at = a->sent_ms ? a->sent_ms : a->created_ms;
        clock_fmt_local((int64_t) at, when, sizeof when);
        table_row(table, id, a->kind, *a->dag ? a->dag : "-",
                  a->run_id ? run : "-", *a->task_id ? a->task_id : "-",
                  a->target, a->state, tries, when, *a->error ? a->error : "-");
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const cli_simple_t s_list = {
    .spec = &s_list_spec,
    .op = SLUICE__REQUEST__OP_ALERTS_LIST,
    .expect = SLUICE__REPLY__OP_ALERTS_LIST,
    .fill = s_list_fill,
    .show = {.print = s_list_print},
};

/* -------------------------------------------------------------- test */

static const args_spec_t s_test_spec = {
    .usage = "sluice alerts test TARGET [--json]",
    .summary = "queue a sample event to TARGET, delivered like any alert "
               "(see it with 'sluice alerts list')",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

static int
s_test_fill(const args_t *args, void *op)
{
    Sluice__AlertsTestReq *q = op;
    q->target = xstrdup(args_get(args, 0));
    return CLI_OK;
}

static void
s_test_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__AlertsTestRep *rep = body;
    printf("sample alert %s queued for target '%s'; 'sluice alerts list' "
           "shows its delivery\n",
           rep->uid, rep->target);
}

static const cli_simple_t s_test = {
    .spec = &s_test_spec,
    .op = SLUICE__REQUEST__OP_ALERTS_TEST,
    .expect = SLUICE__REPLY__OP_ALERTS_TEST,
    .fill = s_test_fill,
    .show = {.print = s_test_print},
};

/* ------------------------------------------------------------- verb */

static const cli_verb_t s_alerts_verbs[] = {
    {"list", NULL, "list queued alerts and their deliveries", &s_list},
    {"test", NULL, "send a sample event to a target", &s_test},
};

int
cli_alerts(int argc, char **argv)
{
    return cli_dispatch("alerts", s_alerts_verbs,
                        sizeof s_alerts_verbs / sizeof s_alerts_verbs[0],
                        "Targets are defined in the scheduler's config.yaml "
                        "('alert_targets'); DAGs route events to them with "
                        "'alerts:'.",
                        argc, argv);
}
