/* cli_report — `sluice report` and the validation lines of `run show`. */
#include "cli/cli_report.h"

#include <stdio.h>
#include <string.h>

#include "common/xalloc.h"
#include "cli/cli.h"

static Sluice__Request *
s_request(uint64_t run_id, const char *task_id)
{
    Sluice__Request *req = cli_request_new();
    Sluice__ReportReq *op = xmalloc(sizeof *op);
    sluice__report_req__init(op);
    op->run_id = run_id;
    op->task_id = xstrdup(task_id ? task_id : "");
    req->op_case = SLUICE__REQUEST__OP_REPORT;
    req->report = op;
    return req;
}

void
cli_report_run_lines(const args_t *args, uint64_t run_id)
{
    Sluice__Request *req = s_request(run_id, NULL);
    Sluice__Reply *reply = NULL;
    client_t *client = NULL;
    if (cli_connect(args, &client) != CLI_OK) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
        return;
    }
    if (cli_call(client, req, SLUICE__REPLY__OP_REPORT, &reply) == CLI_OK) {
        for (size_t i = 0; i < reply->report->n_reports; i++) {
            const Sluice__ValidationReport *r = reply->report->reports[i];
            printf("validate: %s: %s\n", r->task_id, r->summary);
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    protobuf_c_message_free_unpacked(&req->base, NULL);
    client_destroy(&client);
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

int
cli_report(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_report_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    uint64_t run_id;
    if (cli_parse_id("run id", args_get(args, 0), &run_id) < 0) {
        args_destroy(&args);
        return CLI_USAGE;
    }
    Sluice__Request *req = s_request(run_id, args_get(args, 1));
    Sluice__Reply *reply;
    rc = cli_request(args, &req, SLUICE__REPLY__OP_REPORT, &reply);
    if (rc == CLI_OK) {
        for (size_t i = 0; i < reply->report->n_reports; i++) {
            const Sluice__ValidationReport *r = reply->report->reports[i];
            if (args_json(args)) {
                printf("%s\n", r->report); /* the worker's JSON, as is */
            } else {
                printf("run %llu task '%s' attempt %u\n%s",
                       (unsigned long long) run_id, r->task_id, r->attempt,
                       r->text);
            }
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    args_destroy(&args);
    return rc;
}
