/* sluice keys list|accept|reject|revoke, sluice token create: admission of
 * worker and client transport keys, and join tokens. `keys add-client` and
 * `keys client-key` live in cli_clients.c; this file routes to them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

/* ---------------------------------------------------------------- list */

static void
s_keys_print(const Sluice__KeysListRep *rep)
{
    if (rep->n_keys == 0) {
        printf("no keys yet\n");
        return;
    }
    static const char *const headers[] = {"FINGERPRINT", "KIND", "STATE",
                                          "NAME",        "HOST", "ADDRESS",
                                          "FIRST SEEN",  NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_keys; i++) {
        const Sluice__KeyInfo *k = rep->keys[i];
        char seen[32];
        clock_fmt_local(k->first_seen_ms, seen, sizeof seen);
        char *state = *k->role ? xasprintf("%s (%s)", k->state, k->role)
                               : xstrdup(k->state);
        table_row(table, k->fingerprint, k->kind, state,
                  *k->name ? k->name : NULL, *k->host ? k->host : NULL,
                  *k->address ? k->address : NULL, seen);
        free(state);
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const args_spec_t s_list_spec = {
    .usage = "sluice keys list",
    .summary = "list worker and client transport keys: pending, accepted, "
               "rejected and revoked",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

static int
s_keys_list(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_list_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    Sluice__Request *req = cli_request_new();
    Sluice__KeysListReq *op = xmalloc(sizeof *op);
    *op = (Sluice__KeysListReq) SLUICE__KEYS_LIST_REQ__INIT;
    req->op_case = SLUICE__REQUEST__OP_KEYS_LIST;
    req->keys_list = op;
    Sluice__Reply *reply;
    rc = cli_request(args, &req, SLUICE__REPLY__OP_KEYS_LIST, &reply);
    if (rc == CLI_OK) {
        if (args_json(args)) {
            pbjson_print(&reply->keys_list->base);
        } else {
            s_keys_print(reply->keys_list);
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    args_destroy(&args);
    return rc;
}

/* -------------------------------------------------------------- decide */

static const args_spec_t s_decide_spec = {
    .usage = "sluice keys accept|reject|revoke FINGERPRINT",
    .summary = "decide on a key (a unique fingerprint prefix is enough); "
               "revoking a connected worker cuts it off and re-queues its "
               "running attempts",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

static int
s_keys_decide(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_decide_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    Sluice__Request *req = cli_request_new();
    Sluice__KeysDecideReq *op = xmalloc(sizeof *op);
    *op = (Sluice__KeysDecideReq) SLUICE__KEYS_DECIDE_REQ__INIT;
    op->fingerprint = xstrdup(args_get(args, 0));
    op->action = xstrdup(argv[0]);
    req->op_case = SLUICE__REQUEST__OP_KEYS_DECIDE;
    req->keys_decide = op;
    Sluice__Reply *reply;
    rc = cli_request(args, &req, SLUICE__REPLY__OP_KEYS_DECIDE, &reply);
    if (rc == CLI_OK) {
        const Sluice__KeysDecideRep *d = reply->keys_decide;
        if (args_json(args)) {
            pbjson_print(&d->base);
        } else if (d->key) {
            printf("%s key %s%s%s%s is %s\n", d->key->kind, d->key->fingerprint,
                   *d->key->name ? " ('" : "", d->key->name,
                   *d->key->name ? "')" : "", d->key->state);
            if (d->disconnected) {
                printf("the worker was cut off; %u running attempt%s "
                       "re-queued\n",
                       d->requeued, d->requeued == 1 ? "" : "s");
            }
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    args_destroy(&args);
    return rc;
}

/* ---------------------------------------------------------------- keys */

static const cli_verb_t s_keys_verbs[] = {
    {"list", s_keys_list, "list transport keys and their state"},
    {"accept", s_keys_decide, "admit a pending key: accept FINGERPRINT"},
    {"reject", s_keys_decide, "refuse a pending key: reject FINGERPRINT"},
    {"revoke", s_keys_decide,
     "cut off an accepted key at once: revoke FINGERPRINT"},
    {"add-client", cli_keys_add_client,
     "trust a client: add-client PUBKEY --role viewer|operator"},
    {"client-key", cli_keys_client_key,
     "print (and create) this state dir's client key"},
};

int
cli_keys(int argc, char **argv)
{
    return cli_dispatch("keys", s_keys_verbs,
                        sizeof s_keys_verbs / sizeof s_keys_verbs[0], NULL,
                        argc, argv);
}

/* --------------------------------------------------------------- token */

static const args_flag_t s_token_flags[] = {
    {"ttl", 0, ARGS_STRING, "DURATION",
     "how long the token is valid, e.g. 30m, 1h (default 1h; 0 = never "
     "expires)"},
    {"uses", 0, ARGS_UINT, "N", "how many workers it admits (default 1)"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_token_spec = {
    .usage = "sluice token create [--ttl 1h] [--uses N]",
    .summary = "make a join token: a worker started with --token TOKEN is "
               "admitted without 'sluice keys accept'; it is shown once",
    .flags = s_token_flags,
    .min_args = 1,
    .max_args = 1,
};

int
cli_token(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_token_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    const char *ttl_text = args_string(args, "ttl");
    uint64_t ttl = 3600 * 1000;
    uint64_t uses = args_uint(args, "uses", 1);
    if (strcmp(args_get(args, 0), "create") != 0) {
        fprintf(stderr, "usage: %s\n", s_token_spec.usage);
        rc = CLI_USAGE;
    } else if (ttl_text && dag_parse_duration(ttl_text, &ttl) < 0) {
        fprintf(stderr,
                "sluice token: --ttl wants a duration like '30m' or '1h', "
                "not '%s'\n",
                ttl_text);
        rc = CLI_USAGE;
    } else if (uses == 0 || uses > UINT32_MAX) {
        fprintf(stderr, "sluice token: --uses wants a number from 1\n");
        rc = CLI_USAGE;
    }
    if (rc != CLI_OK) {
        args_destroy(&args);
        return rc;
    }
    Sluice__Request *req = cli_request_new();
    Sluice__TokenCreateReq *op = xmalloc(sizeof *op);
    *op = (Sluice__TokenCreateReq) SLUICE__TOKEN_CREATE_REQ__INIT;
    op->ttl_ms = ttl;
    op->uses = (uint32_t) uses;
    req->op_case = SLUICE__REQUEST__OP_TOKEN_CREATE;
    req->token_create = op;
    Sluice__Reply *reply;
    rc = cli_request(args, &req, SLUICE__REPLY__OP_TOKEN_CREATE, &reply);
    if (rc == CLI_OK) {
        const Sluice__TokenCreateRep *t = reply->token_create;
        if (args_json(args)) {
            pbjson_print(&t->base);
        } else {
            /* The token alone on stdout, for $(sluice token create). */
            printf("%s\n", t->token);
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    args_destroy(&args);
    return rc;
}
