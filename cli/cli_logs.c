/* sluice logs: print or follow a task attempt's output. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

#define FOLLOW_POLL_MS 200 /* how often -f asks for more */
#define STREAM_SLUICE  3   /* notes from sluice itself, not the task */

/* What has been printed so far. */
typedef struct {
    uint64_t run_id;
    const char *task_id;   /* borrowed from argv */
    uint32_t attempt;      /* 0 = latest until the first reply pins it */
    uint64_t after_seq;    /* highest seq printed */
    json_t *json;          /* NULL for text; else writing "chunks": [...] */
    bool mid_line;         /* text printed so far does not end in '\n' */
    Sluice__LogsRep *last; /* owned: the latest reply, for the summary */
} s_logs_t;

static Sluice__Request *
s_logs_request(const s_logs_t *self)
{
    Sluice__Request *req = cli_request_new();
    Sluice__LogsReq *op = cli_request_op(req, SLUICE__REQUEST__OP_LOGS);
    op->run_id = self->run_id;
    op->task_id = xstrdup(self->task_id);
    op->attempt = self->attempt;
    op->after_seq = self->after_seq;
    return req;
}

/* The task's bytes go out exactly as they came; sluice's own notes get a
 * prefix and a line end. */
static void
s_print_chunk(s_logs_t *self, const Sluice__LogChunkInfo *c)
{
    if (self->json) {
        pbjson_write(self->json, &c->base);
    } else if (c->stream == STREAM_SLUICE) {
        /* A note starts its own line, even after a partial task line. */
        /* Written by the worker, a peer: escaped, unlike the task's own
         * bytes, which the user asked for as they are. */
        size_t len = c->data.len;
        len -= len > 0 && c->data.data[len - 1] == '\n';
        char *raw = xstrndup((const char *) c->data.data, len);
        char *note = escape_dup(raw);
        printf("%s[sluice] %s\n", self->mid_line ? "\n" : "", note);
        free(note);
        free(raw);
        self->mid_line = false;
    } else if (c->data.len > 0) {
        fwrite(c->data.data, 1, c->data.len, stdout);
        self->mid_line = c->data.data[c->data.len - 1] != '\n';
    }
}

/* Prints the chunks of one reply that are new and keeps the reply. */
static void
s_take_reply(s_logs_t *self, Sluice__Reply *reply)
{
    Sluice__LogsRep *rep = reply->logs;
    reply->logs = NULL;
    reply->op_case = SLUICE__REPLY__OP__NOT_SET;
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    self->attempt = rep->attempt; /* follow this attempt from now on */
    for (size_t i = 0; i < rep->n_chunks; i++) {
        if (rep->chunks[i]->seq > self->after_seq) {
            s_print_chunk(self, rep->chunks[i]);
            self->after_seq = rep->chunks[i]->seq;
        }
    }
    fflush(stdout);
    if (self->last) {
        protobuf_c_message_free_unpacked(&self->last->base, NULL);
    }
    self->last = rep;
}

/* Asks until the attempt has finished (or once, without follow). */
static int
s_logs_loop(s_logs_t *self, client_t *client, bool follow)
{
    while (!zsys_interrupted) {
        Sluice__Request *req = s_logs_request(self);
        Sluice__Reply *reply = NULL;
        int rc = cli_call(client, req, SLUICE__REPLY__OP_LOGS, &reply);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        if (rc != CLI_OK) {
            return zsys_interrupted ? CLI_OK : rc;
        }
        size_t got = reply->logs->n_chunks;
        s_take_reply(self, reply);
        if (!follow || (self->last->finished && got == 0)) {
            return CLI_OK;
        }
        if (got == 0) {
            zclock_sleep(FOLLOW_POLL_MS);
        }
    }
    return CLI_OK;
}

static void
s_json_summary(s_logs_t *self)
{
    json_array_end(self->json);
    if (self->last) {
        json_kv_uint(self->json, "attempt_id", self->last->attempt_id);
        json_kv_uint(self->json, "attempt", self->last->attempt);
        json_kv_bool(self->json, "finished", self->last->finished);
        json_kv_string(self->json, "task_state", self->last->task_state);
    }
    json_object_end(self->json);
    json_destroy(&self->json);
}

static const args_flag_t s_logs_flags[] = {
    {"attempt", 'a', ARGS_UINT, "N", "show try N (default: the latest)"},
    {"follow", 'f', ARGS_BOOL, NULL,
     "keep printing new output until the attempt ends"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_logs_spec = {
    .usage = "sluice logs RUN_ID TASK_ID [--attempt N] [-f|--follow]",
    .summary = "print a task's output (stdout and stderr as the task wrote "
               "them; notes from sluice start with '[sluice] ')",
    .flags = s_logs_flags,
    .min_args = 2,
    .max_args = 2,
};

int
cli_logs(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_logs_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    s_logs_t logs = {.task_id = args_get(args, 1)};
    uint64_t attempt = args_uint(args, "attempt", 0);
    client_t *client = NULL;
    if (cli_parse_id("run id", args_get(args, 0), &logs.run_id) < 0 ||
        attempt > UINT32_MAX) {
        rc = CLI_USAGE;
    } else {
        logs.attempt = (uint32_t) attempt;
        rc = cli_connect(args, &client);
    }
    if (rc == CLI_OK) {
        if (args_json(args)) {
            logs.json = json_new(stdout, true);
            json_object_begin(logs.json);
            json_key(logs.json, "chunks");
            json_array_begin(logs.json);
        }
        rc = s_logs_loop(&logs, client, args_flag(args, "follow"));
        if (logs.json) {
            s_json_summary(&logs);
        }
    }
    if (logs.last) {
        protobuf_c_message_free_unpacked(&logs.last->base, NULL);
    }
    client_destroy(&client);
    args_destroy(&args);
    return rc;
}
