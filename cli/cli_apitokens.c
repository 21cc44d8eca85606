/* cli_apitokens — sluice token create --api | list | revoke: the API
 * tokens that the HTTP API and web UI take. `sluice token create` without
 * --api makes join tokens (cli_keys.c), which routes here. */
#include <inttypes.h>
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

/* ------------------------------------------------------------- create */

static const args_flag_t s_create_flags[] = {
    {"api", 0, ARGS_BOOL, NULL,
     "an API token (without it: a join token for workers)"},
    {"role", 0, ARGS_STRING, "ROLE",
     "viewer (reads) or operator (reads and writes); required"},
    {"ttl", 0, ARGS_STRING, "DURATION",
     "how long the token is valid, e.g. 12h, 30d (default 0: never "
     "expires)"},
    {"name", 0, ARGS_STRING, "NAME",
     "a name for lists, audit lines and revoke (default token-ID)"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_create_spec = {
    .usage = "sluice token create --api --role viewer|operator [--ttl 30d] "
             "[--name NAME]",
    .summary = "make an API token for the HTTP API and web UI ('Authorization: "
               "Bearer TOKEN'); it is printed once, alone on stdout, and the "
               "scheduler keeps only its hash; needs an operator client key",
    .flags = s_create_flags,
    .min_args = 0,
    .max_args = 0,
};

static int
s_create_fill(const args_t *args, void *op)
{
    Sluice__ApiTokenCreateReq *create = op;
    const char *role = args_string(args, "role");
    const char *ttl_text = args_string(args, "ttl");
    const char *name = args_string(args, "name");
    uint64_t ttl = 0;
    if (!role ||
        (strcmp(role, "viewer") != 0 && strcmp(role, "operator") != 0)) {
        fprintf(stderr, "sluice token create --api: give --role viewer "
                        "(reads) or --role operator (reads and writes)\n");
        return CLI_USAGE;
    }
    if (ttl_text && dag_parse_duration(ttl_text, &ttl) < 0) {
        fprintf(stderr,
                "sluice token create --api: --ttl wants a duration like "
                "'12h' or '30d', or 0 for never, not '%s'\n",
                ttl_text);
        return CLI_USAGE;
    }
    create->role = xstrdup(role);
    create->ttl_ms = ttl;
    create->name = xstrdup(name ? name : "");
    return CLI_OK;
}

/* The token alone on stdout, for TOKEN=$(sluice token create --api ...). */
static void
s_create_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__ApiTokenCreateRep *rep = body;
    char when[32];
    printf("%s\n", rep->token);
    fprintf(stderr,
            "API token '%s' (%s, %s%s): it is shown only now, so keep it "
            "in a 0600 file or a secret store; send it as "
            "'Authorization: Bearer TOKEN', revoke it with 'sluice token "
            "revoke %s'\n",
            rep->name, rep->role,
            rep->expires_ms ? "expires " : "never expires",
            rep->expires_ms
                ? clock_fmt_local((int64_t) rep->expires_ms, when, sizeof when)
                : "",
            rep->name);
}

/* --json: the reply, token included, and the same warning on stderr. */
static void
s_create_json(const args_t *args, const void *body)
{
    (void) args;
    pbjson_print(body);
    fprintf(stderr, "the token is shown only now; keep it in a 0600 file or "
                    "a secret store\n");
}

static const cli_simple_t s_create = {
    .spec = &s_create_spec,
    .op = SLUICE__REQUEST__OP_API_TOKEN_CREATE,
    .expect = SLUICE__REPLY__OP_API_TOKEN_CREATE,
    .fill = s_create_fill,
    .show = {.print = s_create_print, .json = s_create_json},
};

int
cli_apitoken_create(int argc, char **argv)
{
    return cli_simple(&s_create, argc, argv);
}

/* --------------------------------------------------------------- list */

static const args_flag_t s_api_flag[] = {
    {"api", 0, ARGS_BOOL, NULL,
     "API tokens (the only kind listed and revoked here; join "
     "tokens are not listed)"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_list_spec = {
    .usage = "sluice token list [--api] [--json]",
    .summary = "list the API tokens: id, name, role, when made, when they "
               "expire, and revoked ones; never the tokens themselves. "
               "Operator",
    .flags = s_api_flag,
    .min_args = 0,
    .max_args = 0,
};

static const char *
s_state(const Sluice__ApiTokenInfo *t, int64_t now, char *buf, size_t size)
{
    char when[32];
    if (t->revoked_ms) {
        snprintf(buf, size, "revoked %s",
                 clock_fmt_local((int64_t) t->revoked_ms, when, sizeof when));
    } else if (t->expires_ms && (int64_t) t->expires_ms <= now) {
        snprintf(buf, size, "expired");
    } else {
        snprintf(buf, size, "live");
    }
    return buf;
}

static void
s_list_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__ApiTokenListRep *list = body;
    if (list->n_tokens == 0) {
        printf("no API tokens; make one with 'sluice token create --api "
               "--role viewer'\n");
        return;
    }
    const char *headers[] = {"ID",      "NAME",  "ROLE", "CREATED",
                             "EXPIRES", "STATE", NULL};
    table_t *table = table_new(headers);
    int64_t now = clock_wall_ms();
    for (size_t i = 0; i < list->n_tokens; i++) {
        const Sluice__ApiTokenInfo *t = list->tokens[i];
        char id[24], created[32], expires[32], state[64];
        snprintf(id, sizeof id, "%" PRIu64, t->id);
        clock_fmt_local((int64_t) t->created_ms, created, sizeof created);
        if (t->expires_ms) {
            clock_fmt_local((int64_t) t->expires_ms, expires, sizeof expires);
        } else {
            snprintf(expires, sizeof expires, "never");
        }
        table_row(table, id, t->name, t->role, created, expires,
                  s_state(t, now, state, sizeof state));
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const cli_simple_t s_list = {
    .spec = &s_list_spec,
    .op = SLUICE__REQUEST__OP_API_TOKEN_LIST,
    .expect = SLUICE__REPLY__OP_API_TOKEN_LIST,
    .show = {.print = s_list_print},
};

int
cli_apitoken_list(int argc, char **argv)
{
    return cli_simple(&s_list, argc, argv);
}

/* ------------------------------------------------------------- revoke */

static const args_spec_t s_revoke_spec = {
    .usage = "sluice token revoke [--api] ID|NAME",
    .summary = "revoke an API token (by the id or name 'sluice token list "
               "--api' shows): the HTTP API refuses it from now on. Operator",
    .flags = s_api_flag,
    .min_args = 1,
    .max_args = 1,
};

static int
s_revoke_fill(const args_t *args, void *op)
{
    Sluice__ApiTokenRevokeReq *revoke = op;
    const char *which = args_get(args, 0);
    if (*which && which[strspn(which, "0123456789")] == '\0') {
        return cli_parse_id("token id", which, &revoke->id) < 0 ? CLI_USAGE
                                                                : CLI_OK;
    }
    revoke->name = xstrdup(which);
    return CLI_OK;
}

static void
s_revoke_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__ApiTokenRevokeRep *rep = body;
    char when[32];
    clock_fmt_local((int64_t) rep->token->revoked_ms, when, sizeof when);
    printf("API token '%s' (id %" PRIu64 ") %s %s\n", rep->token->name,
           rep->token->id,
           rep->already ? "was already revoked at" : "revoked at", when);
}

static const cli_simple_t s_revoke = {
    .spec = &s_revoke_spec,
    .op = SLUICE__REQUEST__OP_API_TOKEN_REVOKE,
    .expect = SLUICE__REPLY__OP_API_TOKEN_REVOKE,
    .fill = s_revoke_fill,
    .show = {.print = s_revoke_print},
};

int
cli_apitoken_revoke(int argc, char **argv)
{
    return cli_simple(&s_revoke, argc, argv);
}
