/* Client keys and integrity checks: sluice keys add-client, sluice keys
 * client-key, sluice verify. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

/* ----------------------------------------------------------- add-client */

static const args_flag_t s_add_flags[] = {
    {"role", 0, ARGS_STRING, "viewer|operator",
     "what the key may do: viewer reads, operator also changes"},
    {"name", 0, ARGS_STRING, "NAME", "a label for the key, e.g. a person"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_add_spec = {
    .usage = "sluice keys add-client PUBKEY --role viewer|operator "
             "[--name NAME]",
    .summary = "trust a client's key (from 'sluice keys client-key') with a "
               "role",
    .flags = s_add_flags,
    .min_args = 1,
    .max_args = 1,
};

static int
s_add_fill(const args_t *args, void *op)
{
    Sluice__ClientAddReq *add = op;
    const char *role = args_string(args, "role");
    uint8_t pub[KEYS_PUBLIC_SIZE];
    if (!role || (strcmp(role, "viewer") != 0 && strcmp(role, "operator"))) {
        fprintf(stderr, "sluice keys add-client: give --role viewer or "
                        "--role operator\n");
        return CLI_USAGE;
    }
    if (keys_public_from_hex(args_get(args, 0), pub) < 0) {
        fprintf(stderr,
                "sluice keys add-client: '%s' is not a public key; give the "
                "64 hex characters that 'sluice keys client-key' prints\n",
                args_get(args, 0));
        return CLI_USAGE;
    }
    add->public_hex = xstrdup(args_get(args, 0));
    add->role = xstrdup(role);
    const char *name = args_string(args, "name");
    add->name = xstrdup(name ? name : "");
    return CLI_OK;
}

static void
s_add_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__ClientAddRep *r = body;
    printf("client key %s %s %s\n", r->fingerprint,
           r->replaced ? "is now" : "trusted as", r->role);
}

static const cli_simple_t s_add = {
    .spec = &s_add_spec,
    .op = SLUICE__REQUEST__OP_CLIENT_ADD,
    .expect = SLUICE__REPLY__OP_CLIENT_ADD,
    .fill = s_add_fill,
    .show = {.print = s_add_print},
};

int
cli_keys_add_client(int argc, char **argv)
{
    return cli_simple(&s_add, argc, argv);
}

/* ----------------------------------------------------------- client-key */

static const args_spec_t s_key_spec = {
    .usage = "sluice keys client-key [--dir DIR]",
    .summary = "print this client's public key (DIR/client.key, created when "
               "missing) for an operator to add with 'sluice keys "
               "add-client'",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

/* Loads DIR/client.key, creating it (and DIR) when missing. */
static int
s_client_key(const char *dir, uint8_t *pub, errbuf_t *err)
{
    char *key_path = statedir_path(dir, STATEDIR_CLIENT_KEY);
    char *pub_path = statedir_path(dir, STATEDIR_CLIENT_PUB);
    keys_t *key = NULL;
    int rc = -1;
    if (statedir_exists(key_path)) {
        key = keys_load(key_path, err);
    } else if (statedir_create(dir, err) == 0) {
        key = keys_generate();
        if (keys_save(key, key_path, pub_path, err) < 0) {
            keys_destroy(&key);
        }
    }
    if (key) {
        memcpy(pub, keys_public(key), KEYS_PUBLIC_SIZE);
        rc = 0;
    }
    keys_destroy(&key);
    free(key_path);
    free(pub_path);
    return rc;
}

int
cli_keys_client_key(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_key_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    char *dir = statedir_resolve(args_dir(args));
    uint8_t pub[KEYS_PUBLIC_SIZE];
    errbuf_t err;
    rc = CLI_OK;
    if (s_client_key(dir, pub, &err) < 0) {
        fprintf(stderr, "sluice keys client-key: %s\n", errbuf_msg(&err));
        rc = CLI_ERROR;
    } else {
        char hex[KEYS_HEX_SIZE];
        keys_public_hex(pub, hex);
        printf("%s\n", hex);
        char *sched_pub = statedir_path(dir, STATEDIR_SCHEDULER_PUB);
        if (!statedir_exists(sched_pub)) {
            fprintf(stderr,
                    "next: an operator runs 'sluice keys add-client %s "
                    "--role viewer'; copy %s, %s and %s.pub from the "
                    "scheduler's state directory into %s\n",
                    hex, STATEDIR_CONFIG, STATEDIR_SCHEDULER_PUB,
                    STATEDIR_SCHEDULER_CURVE, dir);
        }
        free(sched_pub);
    }
    free(dir);
    args_destroy(&args);
    return rc;
}

/* --------------------------------------------------------------- verify */

static const args_flag_t s_verify_flags[] = {
    {"events", 0, ARGS_BOOL, NULL,
     "check the hash chain of the event table instead of a run"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_verify_spec = {
    .usage = "sluice verify RUN_ID | sluice verify --events",
    .summary = "re-check the signed results stored for a run (or the event "
               "table's hash chain); exit 1 when something does not verify",
    .flags = s_verify_flags,
    .min_args = 0,
    .max_args = 1,
};

static void
s_verify_run_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__VerifyRep *r = body;
    size_t results = 0;
    for (size_t i = 0; i < r->n_attempts; i++) {
        const Sluice__AttemptCheck *a = r->attempts[i];
        results += a->has_result ? 1 : 0;
        if (a->has_result && !a->ok) {
            printf("attempt %" PRIu64 " (task '%s' try %u, worker '%s', "
                   "signer %s) does not verify: %s\n",
                   a->attempt_id, a->task_id, a->number, a->worker,
                   *a->signer ? a->signer : "-", a->problem);
        }
    }
    if (r->bad == 0) {
        printf("run %" PRIu64 ": %zu attempts, %zu signed results, all "
               "verify\n",
               r->run_id, r->n_attempts, results);
    } else {
        printf("run %" PRIu64 ": %u of %zu signed results do not verify\n",
               r->run_id, r->bad, results);
    }
}

static int
s_verify_run_status(const void *body)
{
    return ((const Sluice__VerifyRep *) body)->bad ? CLI_FAIL : CLI_OK;
}

static void
s_verify_events_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__VerifyEventsRep *r = body;
    if (!r->intact) {
        printf("event chain broken at event %" PRIu64 ": %s\n", r->first_bad,
               r->problem);
        return;
    }
    printf("%" PRIu64 " events, chain intact", r->events);
    if (r->unchained) {
        printf(" (%" PRIu64 " written before the chain began are not "
               "covered)",
               r->unchained);
    }
    printf("\n");
}

static int
s_verify_events_status(const void *body)
{
    return ((const Sluice__VerifyEventsRep *) body)->intact ? CLI_OK : CLI_FAIL;
}

static const cli_show_t s_verify_run_show = {
    .print = s_verify_run_print,
    .status = s_verify_run_status,
};

static const cli_show_t s_verify_events_show = {
    .print = s_verify_events_print,
    .status = s_verify_events_status,
};

/* Fills req for a run check (run_id) or the event chain (--events). */
static int
s_verify_request(const args_t *args, Sluice__Request *req)
{
    if (args_flag(args, "events")) {
        cli_request_op(req, SLUICE__REQUEST__OP_VERIFY_EVENTS);
        return CLI_OK;
    }
    if (args_count(args) != 1) {
        fprintf(stderr, "usage: %s\n", s_verify_spec.usage);
        return CLI_USAGE;
    }
    Sluice__VerifyReq *verify = cli_request_op(req, SLUICE__REQUEST__OP_VERIFY);
    if (cli_parse_id("run id", args_get(args, 0), &verify->run_id) < 0) {
        return CLI_USAGE;
    }
    return CLI_OK;
}

int
cli_verify(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_verify_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    Sluice__Request *req = cli_request_new();
    rc = s_verify_request(args, req);
    if (rc != CLI_OK) {
        protobuf_c_message_free_unpacked(&req->base, NULL);
    } else if (args_flag(args, "events")) {
        rc = cli_ask(args, &req, SLUICE__REPLY__OP_VERIFY_EVENTS,
                     &s_verify_events_show);
    } else {
        rc = cli_ask(args, &req, SLUICE__REPLY__OP_VERIFY, &s_verify_run_show);
    }
    args_destroy(&args);
    return rc;
}
