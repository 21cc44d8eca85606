/* sluice autoscale status: what the autoscaler sees and decided (issue 6). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

static void
s_status_print(const Sluice__AutoscaleStatusRep *rep)
{
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

int
cli_autoscale(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_autoscale_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    if (strcmp(args_get(args, 0), "status") != 0) {
        fprintf(stderr,
                "sluice autoscale: unknown subcommand '%s'; use "
                "'sluice autoscale status'\n",
                args_get(args, 0));
        args_destroy(&args);
        return CLI_USAGE;
    }
    Sluice__Request *req = cli_request_new();
    Sluice__AutoscaleStatusReq *op = xmalloc(sizeof *op);
    *op = (Sluice__AutoscaleStatusReq) SLUICE__AUTOSCALE_STATUS_REQ__INIT;
    req->op_case = SLUICE__REQUEST__OP_AUTOSCALE_STATUS;
    req->autoscale_status = op;
    Sluice__Reply *reply;
    rc = cli_request(args, &req, SLUICE__REPLY__OP_AUTOSCALE_STATUS, &reply);
    if (rc == CLI_OK) {
        if (args_json(args)) {
            pbjson_print(&reply->autoscale_status->base);
        } else {
            s_status_print(reply->autoscale_status);
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    args_destroy(&args);
    return rc;
}
