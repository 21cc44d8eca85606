/* sluice keys list|accept|reject|revoke|rename, sluice token create:
 * admission of worker and client transport keys, the names bound to worker
 * keys, and join tokens (API tokens: cli_apitokens.c). `keys add-client` and
 * `keys client-key` live in cli_clients.c; this file routes to them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/escape.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

/* ---------------------------------------------------------------- list */

static void
s_keys_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__KeysListRep *rep = body;
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

static const cli_simple_t s_keys_list = {
    .spec = &s_list_spec,
    .op = SLUICE__REQUEST__OP_KEYS_LIST,
    .expect = SLUICE__REPLY__OP_KEYS_LIST,
    .show = {.print = s_keys_print},
};

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

/* The action is the sub-verb's name: accept, reject or revoke. */
static int
s_decide_fill(const args_t *args, void *op)
{
    Sluice__KeysDecideReq *decide = op;
    decide->fingerprint = xstrdup(args_get(args, 0));
    decide->action = xstrdup(args_verb(args));
    return CLI_OK;
}

static void
s_decide_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__KeysDecideRep *d = body;
    if (!d->key) {
        return;
    }
    char *name = escape_dup(d->key->name); /* the worker chose it */
    printf("%s key %s%s%s%s is %s\n", d->key->kind, d->key->fingerprint,
           *name ? " ('" : "", name, *name ? "')" : "", d->key->state);
    free(name);
    if (d->disconnected) {
        printf("the worker was cut off; %u running attempt%s re-queued\n",
               d->requeued, d->requeued == 1 ? "" : "s");
    }
}

static const cli_simple_t s_keys_decide = {
    .spec = &s_decide_spec,
    .op = SLUICE__REQUEST__OP_KEYS_DECIDE,
    .expect = SLUICE__REPLY__OP_KEYS_DECIDE,
    .fill = s_decide_fill,
    .show = {.print = s_decide_print},
};

/* -------------------------------------------------------------- rename */

static const args_spec_t s_rename_spec = {
    .usage = "sluice keys rename OLD NEW",
    .summary = "bind the key of the worker named OLD to the name NEW (a "
               "worker's name is bound to its key when it is first "
               "admitted); stop the worker first, then start it with "
               "--name NEW",
    .flags = NULL,
    .min_args = 2,
    .max_args = 2,
};

static int
s_rename_fill(const args_t *args, void *op)
{
    Sluice__KeysRenameReq *rename = op;
    rename->from = xstrdup(args_get(args, 0));
    rename->to = xstrdup(args_get(args, 1));
    return CLI_OK;
}

static void
s_rename_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__KeysRenameRep *r = body;
    printf("worker '%s' is now '%s' (signing key %s); start it with --name "
           "%s\n",
           r->from, r->to, r->sign_fingerprint, r->to);
}

static const cli_simple_t s_keys_rename = {
    .spec = &s_rename_spec,
    .op = SLUICE__REQUEST__OP_KEYS_RENAME,
    .expect = SLUICE__REPLY__OP_KEYS_RENAME,
    .fill = s_rename_fill,
    .show = {.print = s_rename_print},
};

/* ---------------------------------------------------------------- keys */

static const cli_verb_t s_keys_verbs[] = {
    {"list", NULL, "list transport keys and their state", &s_keys_list},
    {"accept", NULL, "admit a pending key: accept FINGERPRINT", &s_keys_decide},
    {"reject", NULL, "refuse a pending key: reject FINGERPRINT",
     &s_keys_decide},
    {"revoke", NULL,
     "cut off an accepted key at once and free its worker name: revoke "
     "FINGERPRINT",
     &s_keys_decide},
    {"rename", NULL, "move a worker key's bound name: rename OLD NEW",
     &s_keys_rename},
    {"add-client", cli_keys_add_client,
     "trust a client: add-client PUBKEY --role viewer|operator", NULL},
    {"client-key", cli_keys_client_key,
     "print (and create) this state dir's client key", NULL},
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
    {"api", 0, ARGS_BOOL, NULL,
     "make an API token for the HTTP API instead; see 'sluice token "
     "create --api --help'"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_token_spec = {
    .usage = "sluice token create [--ttl 1h] [--uses N]",
    .summary = "make a join token: a worker given it (--token-file FILE or "
               "SLUICE_JOIN_TOKEN) is admitted without 'sluice keys "
               "accept'; it is shown once",
    .flags = s_token_flags,
    .min_args = 0,
    .max_args = 0,
};

static int
s_token_fill(const args_t *args, void *op)
{
    Sluice__TokenCreateReq *token = op;
    const char *ttl_text = args_string(args, "ttl");
    uint64_t ttl = 3600 * 1000;
    uint64_t uses = args_uint(args, "uses", 1);
    if (ttl_text && dag_parse_duration(ttl_text, &ttl) < 0) {
        fprintf(stderr,
                "sluice token: --ttl wants a duration like '30m' or '1h', "
                "not '%s'\n",
                ttl_text);
        return CLI_USAGE;
    }
    if (uses == 0 || uses > UINT32_MAX) {
        fprintf(stderr, "sluice token: --uses wants a number from 1\n");
        return CLI_USAGE;
    }
    token->ttl_ms = ttl;
    token->uses = (uint32_t) uses;
    return CLI_OK;
}

/* The token alone on stdout, for $(sluice token create). */
static void
s_token_print(const args_t *args, const void *body)
{
    (void) args;
    printf("%s\n", ((const Sluice__TokenCreateRep *) body)->token);
    fprintf(stderr,
            "give it to workers off the command line (ps shows arguments): "
            "'sluice worker --join LINE --token-file FILE' with the token "
            "in a 0600 FILE, or SLUICE_JOIN_TOKEN=TOKEN in the worker's "
            "environment\n");
}

static const cli_simple_t s_token = {
    .spec = &s_token_spec,
    .op = SLUICE__REQUEST__OP_TOKEN_CREATE,
    .expect = SLUICE__REPLY__OP_TOKEN_CREATE,
    .fill = s_token_fill,
    .show = {.print = s_token_print},
};

/* create: a join token, or with --api an API token (cli_apitokens.c). */
static int
s_token_create(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--api") == 0) {
            return cli_apitoken_create(argc, argv);
        }
    }
    return cli_simple(&s_token, argc, argv);
}

static const cli_verb_t s_token_verbs[] = {
    {"create", s_token_create,
     "make a join token for workers, or with --api an API token for the "
     "HTTP API",
     NULL},
    {"list", cli_apitoken_list, "list API tokens (--api)", NULL},
    {"revoke", cli_apitoken_revoke, "revoke an API token: revoke ID|NAME",
     NULL},
};

int
cli_token(int argc, char **argv)
{
    return cli_dispatch("token", s_token_verbs,
                        sizeof s_token_verbs / sizeof s_token_verbs[0],
                        "Join tokens admit workers; API tokens ('sluice "
                        "token create --api --role viewer') open the HTTP "
                        "API and web UI.",
                        argc, argv);
}
