/* cli_report — `sluice report` and the validation lines of `run show`. */
#include "cli/cli_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "cli/cli.h"

void
cli_report_run_lines(const args_t *args, uint64_t run_id)
{
    Sluice__Request *req = cli_request_new();
    Sluice__ReportReq *op = cli_request_op(req, SLUICE__REQUEST__OP_REPORT);
    op->run_id = run_id;
    Sluice__Reply *reply;
    if (cli_request(args, &req, SLUICE__REPLY__OP_REPORT, &reply) != CLI_OK) {
        return;
    }
    for (size_t i = 0; i < reply->report->n_reports; i++) {
        const Sluice__ValidationReport *r = reply->report->reports[i];
        printf("validate: %s: %s\n", r->task_id, r->summary);
    }
    protobuf_c_message_free_unpacked(&reply->base, NULL);
}

static const args_spec_t s_report_spec = {
    .usage = "sluice report RUN_ID TASK_ID",
    .summary = "print the validation report of a validate task: each "
               "check's passed and failed rows, sample bad rows with their "
               "line numbers, drift and freshness",
    .flags = NULL,
    .min_args = 2,
    .max_args = 2,
};

static int
s_report_fill(const args_t *args, void *op)
{
    Sluice__ReportReq *report = op;
    if (cli_parse_id("run id", args_get(args, 0), &report->run_id) < 0) {
        return CLI_USAGE;
    }
    report->task_id = xstrdup(args_get(args, 1));
    return CLI_OK;
}

static void
s_report_print(const args_t *args, const void *body)
{
    const Sluice__ReportRep *rep = body;
    /* The run id was checked when the request was filled. */
    unsigned long long run_id = strtoull(args_get(args, 0), NULL, 10);
    for (size_t i = 0; i < rep->n_reports; i++) {
        const Sluice__ValidationReport *r = rep->reports[i];
        printf("run %llu task '%s' attempt %u\n%s", run_id, r->task_id,
               r->attempt, r->text);
    }
}

/* --json prints the reports the worker wrote, as they are. */
static void
s_report_json(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__ReportRep *rep = body;
    for (size_t i = 0; i < rep->n_reports; i++) {
        printf("%s\n", rep->reports[i]->report);
    }
}

static const cli_simple_t s_report = {
    .spec = &s_report_spec,
    .op = SLUICE__REQUEST__OP_REPORT,
    .expect = SLUICE__REPLY__OP_REPORT,
    .fill = s_report_fill,
    .show = {.print = s_report_print, .json = s_report_json},
};

int
cli_report(int argc, char **argv)
{
    return cli_simple(&s_report, argc, argv);
}
