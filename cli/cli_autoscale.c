/* sluice autoscale status: what the autoscaler sees and decided. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/table.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

static void
s_status_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__AutoscaleStatusRep *rep = body;
    if (!strcmp(rep->provider, "none")) {
        printf("autoscaler off (autoscale_provider: none); %u tasks waiting\n",
               rep->waiting);
        return;
    }
    printf("provider %s, %u to %u workers; %u tasks waiting, %u launches in "
           "flight\n\n",
           rep->provider, rep->min_workers, rep->max_workers, rep->waiting,
           rep->in_flight);
    static const char *const headers[] = {"SHAPE",     "DEMAND",   "CONNECTED",
                                          "LAUNCHING", "DRAINING", "BACKOFF",
                                          "FAILURES",  NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_shapes; i++) {
        const Sluice__AutoscaleShapeStatus *s = rep->shapes[i];
        char demand[16], conn[16], launching[16], draining[16], backoff[32],
            failures[16];
        snprintf(demand, sizeof demand, "%u", s->demand);
        snprintf(conn, sizeof conn, "%u", s->connected);
        snprintf(launching, sizeof launching, "%u", s->launching);
        snprintf(draining, sizeof draining, "%u", s->draining);
        if (s->backoff_ms) {
            snprintf(backoff, sizeof backoff, "%.1fs",
                     (double) s->backoff_ms / 1000.0);
        } else {
            snprintf(backoff, sizeof backoff, "-");
        }
        snprintf(failures, sizeof failures, "%u", s->failures);
        table_row(table, s->name, demand, conn, launching, draining, backoff,
                  failures);
    }
    table_print(table, stdout);
    table_destroy(&table);
    for (size_t i = 0; i < rep->n_unfit; i++) {
        printf("%s\n", rep->unfit[i]);
    }
    printf("\nlast decisions:\n");
    if (rep->n_decisions == 0) {
        printf("  none yet\n");
    }
    for (size_t i = 0; i < rep->n_decisions; i++) {
        const Sluice__AutoscaleDecision *d = rep->decisions[i];
        char at[32];
        clock_fmt_local(d->at_ms, at, sizeof at);
        printf("  %s  %-24s %-24s %s\n", at, d->kind, d->subject, d->detail);
    }
}

static const args_spec_t s_autoscale_spec = {
    .usage = "sluice autoscale status",
    .summary = "show the autoscaler: demand per shape, capacity, launches in "
               "flight, backoff, and its last decisions with their reasons",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

/* Only one sub-verb so far: status. */
static int
s_autoscale_fill(const args_t *args, void *op)
{
    (void) op;
    if (strcmp(args_get(args, 0), "status") != 0) {
        fprintf(stderr,
                "sluice autoscale: unknown subcommand '%s'; use "
                "'sluice autoscale status'\n",
                args_get(args, 0));
        return CLI_USAGE;
    }
    return CLI_OK;
}

static const cli_simple_t s_autoscale = {
    .spec = &s_autoscale_spec,
    .op = SLUICE__REQUEST__OP_AUTOSCALE_STATUS,
    .expect = SLUICE__REPLY__OP_AUTOSCALE_STATUS,
    .fill = s_autoscale_fill,
    .show = {.print = s_status_print},
};

int
cli_autoscale(int argc, char **argv)
{
    return cli_simple(&s_autoscale, argc, argv);
}
