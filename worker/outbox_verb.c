#include "worker/outbox_verb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/args.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/statedir.h"
#include "common/table.h"
#include "proto/msg.h"
#include "proto/pbjson.h"
#include "proto/sluice.pb-c.h"
#include "worker/exec.h"
#include "worker/outbox.h"

/* What is printed while the outbox is read: a table for text, or a JSON
 * array with --json (the other is NULL). */
typedef struct {
    table_t *table; /* owned: the text form */
    json_t *json;   /* owned: the --json form */
    size_t count;   /* results seen so far */
} s_outbox_t;

/* The worker's own words for the outcome ("exited 3", "timed out", ...),
 * as its log says them. The Result's outcome numbers are exec's. */
static void
s_outcome(const Sluice__Result *res, char *buf, size_t size)
{
    exec_result_t r = {.outcome = (exec_outcome_t) res->outcome,
                       .exit_code = res->exit_code,
                       .signal = res->signal};
    snprintf(r.error, sizeof r.error, "%s", res->error ? res->error : "");
    exec_describe(&r, buf, size);
}

static void
s_entry(void *arg, uint64_t attempt_id, const void *data, size_t size)
{
    s_outbox_t *self = arg;
    Sluice__Result *res = msg_result_unpack(data, size);
    self->count++;
    if (self->json) {
        json_object_begin(self->json);
        json_kv_uint(self->json, "attempt_id", attempt_id);
        if (res) {
            json_key(self->json, "result");
            pbjson_write(self->json, &res->base);
        } else {
            json_kv_string(self->json, "error", "does not decode");
        }
        json_object_end(self->json);
    } else {
        char id[24], outcome[64] = "does not decode", ended[32] = "-";
        snprintf(id, sizeof id, "%" PRIu64, attempt_id);
        if (res) {
            s_outcome(res, outcome, sizeof outcome);
            clock_fmt_local(res->ended_ms, ended, sizeof ended);
        }
        table_row(self->table, id, outcome, ended);
    }
    if (res) {
        sluice__result__free_unpacked(res, NULL);
    }
}

static const args_spec_t s_outbox_spec = {
    .usage = "sluice outbox [--dir WORKER_DIR] [--json]",
    .summary = "list the results this worker holds that the scheduler has "
               "not acknowledged yet (read-only; safe beside a running "
               "worker). A result leaves the outbox once the scheduler "
               "has committed it.",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

int
outbox_verb_main(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_outbox_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    char *dir = statedir_resolve(args_dir(args));
    char *outbox = statedir_path(dir, STATEDIR_OUTBOX);
    static const char *const headers[] = {"ATTEMPT", "OUTCOME", "ENDED", NULL};
    s_outbox_t self = {0};
    if (args_json(args)) {
        self.json = json_new(stdout, true);
        json_array_begin(self.json);
    } else {
        self.table = table_new(headers);
    }
    errbuf_t err;
    rc = outbox_peek(outbox, s_entry, &self, &err) < 0 ? ARGS_EXIT_ERROR
                                                       : ARGS_EXIT_OK;
    if (rc != ARGS_EXIT_OK) {
        fprintf(stderr, "sluice outbox: %s\n", errbuf_msg(&err));
    }
    if (self.json) {
        json_array_end(self.json);
        json_destroy(&self.json);
    } else if (rc == ARGS_EXIT_OK && self.count == 0) {
        printf("no results waiting in %s\n", outbox);
    } else if (rc == ARGS_EXIT_OK) {
        printf("%zu result%s waiting in %s for the scheduler's ack:\n",
               self.count, self.count == 1 ? "" : "s", outbox);
        table_print(self.table, stdout);
    }
    table_destroy(&self.table);
    free(outbox);
    free(dir);
    args_destroy(&args);
    return rc;
}
