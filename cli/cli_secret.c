/* cli_secret — sluice secret set|list|rm: values go in on stdin and never
 * come back out; list shows names and when they were set. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/limits.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

static int
s_check_name(const char *name)
{
    if (dag_secret_name_ok(name)) {
        return 0;
    }
    fprintf(stderr,
            "sluice: '%s' is not a secret name; use letters, digits and "
            "'_', not starting with a digit (e.g. DB_PASSWORD)\n",
            name);
    return -1;
}

/* --------------------------------------------------------------- set */

/* Reads the whole of stdin (at most LIMITS_SECRET_VALUE_MAX + 1 bytes, to tell
 * "too long"). On a terminal, asks for one line without echoing it. */
static char *
s_read_value(const char *name, size_t *len)
{
    struct termios saved, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        fprintf(stderr,
                "value of secret '%s' (not shown; end with Enter): ", name);
        quiet = saved;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    size_t cap = LIMITS_SECRET_VALUE_MAX + 2;
    char *buf = xmalloc(cap);
    *len = 0;
    while (*len < cap - 1) {
        ssize_t n = read(STDIN_FILENO, buf + *len, cap - 1 - *len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        *len += (size_t) n;
        if (tty && buf[*len - 1] == '\n') {
            break;
        }
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        fputc('\n', stderr);
    }
    /* `echo VALUE | sluice secret set NAME` should not store the newline. */
    if (*len > 0 && buf[*len - 1] == '\n') {
        (*len)--;
        if (*len > 0 && buf[*len - 1] == '\r') {
            (*len)--;
        }
    }
    buf[*len] = '\0';
    return buf;
}

static const args_spec_t s_set_spec = {
    .usage = "sluice secret set NAME < VALUE",
    .summary = "store secret NAME (value from stdin, one trailing newline "
               "dropped), sealed in the scheduler's store; DAG files use it "
               "as '{{ secret.NAME }}' in env",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

static int
s_set(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_set_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    const char *name = args_get(args, 0);
    if (s_check_name(name) < 0) {
        args_destroy(&args);
        return CLI_USAGE;
    }
    size_t len;
    char *value = s_read_value(name, &len);
    if (len == 0 || len > LIMITS_SECRET_VALUE_MAX) {
        if (len) {
            fprintf(stderr,
                    "sluice: the value of secret '%s' is over %d bytes; "
                    "store a short token or a path instead\n",
                    name, LIMITS_SECRET_VALUE_MAX);
        } else {
            fprintf(stderr,
                    "sluice: the value of secret '%s' is empty; pipe it in, "
                    "e.g. 'printf %%s \"$TOKEN\" | sluice secret set %s'\n",
                    name, name);
        }
        free(value);
        args_destroy(&args);
        return CLI_USAGE;
    }
    Sluice__Request *req = cli_request_new();
    Sluice__SecretSetReq *op = xmalloc(sizeof *op);
    *op = (Sluice__SecretSetReq) SLUICE__SECRET_SET_REQ__INIT;
    op->name = xstrdup(name);
    op->value.data = (uint8_t *) value; /* freed with the request */
    op->value.len = len;
    req->op_case = SLUICE__REQUEST__OP_SECRET_SET;
    req->secret_set = op;
    Sluice__Reply *reply;
    rc = cli_request(args, &req, SLUICE__REPLY__OP_SECRET_SET, &reply);
    if (rc == CLI_OK) {
        if (args_json(args)) {
            pbjson_print(&reply->secret_set->base);
        } else {
            printf("secret '%s' %s\n", reply->secret_set->name,
                   reply->secret_set->replaced ? "replaced" : "set");
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    args_destroy(&args);
    return rc;
}

/* -------------------------------------------------------------- list */

static const args_spec_t s_list_spec = {
    .usage = "sluice secret list",
    .summary = "list the secrets' names and when each was set (never their "
               "values)",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

static int
s_list(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_list_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    Sluice__Request *req = cli_request_new();
    Sluice__SecretListReq *op = xmalloc(sizeof *op);
    *op = (Sluice__SecretListReq) SLUICE__SECRET_LIST_REQ__INIT;
    req->op_case = SLUICE__REQUEST__OP_SECRET_LIST;
    req->secret_list = op;
    Sluice__Reply *reply;
    rc = cli_request(args, &req, SLUICE__REPLY__OP_SECRET_LIST, &reply);
    if (rc == CLI_OK) {
        const Sluice__SecretListRep *list = reply->secret_list;
        if (args_json(args)) {
            pbjson_print(&list->base);
        } else {
            const char *headers[] = {"NAME", "SET", NULL};
            table_t *table = table_new(headers);
            for (size_t i = 0; i < list->n_secrets; i++) {
                char when[32];
                table_row(table, list->secrets[i]->name,
                          clock_fmt_local(list->secrets[i]->updated_ms, when,
                                          sizeof when));
            }
            table_print(table, stdout);
            table_destroy(&table);
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    args_destroy(&args);
    return rc;
}

/* ---------------------------------------------------------------- rm */

static const args_spec_t s_rm_spec = {
    .usage = "sluice secret rm NAME",
    .summary = "remove secret NAME; tasks that use it fail until it is set "
               "again",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

static int
s_rm(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_rm_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    if (s_check_name(args_get(args, 0)) < 0) {
        args_destroy(&args);
        return CLI_USAGE;
    }
    Sluice__Request *req = cli_request_new();
    Sluice__SecretRmReq *op = xmalloc(sizeof *op);
    *op = (Sluice__SecretRmReq) SLUICE__SECRET_RM_REQ__INIT;
    op->name = xstrdup(args_get(args, 0));
    req->op_case = SLUICE__REQUEST__OP_SECRET_RM;
    req->secret_rm = op;
    Sluice__Reply *reply;
    rc = cli_request(args, &req, SLUICE__REPLY__OP_SECRET_RM, &reply);
    if (rc == CLI_OK) {
        if (args_json(args)) {
            pbjson_print(&reply->secret_rm->base);
        } else {
            printf("secret '%s' removed\n", reply->secret_rm->name);
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    args_destroy(&args);
    return rc;
}

/* ------------------------------------------------------------- verb */

static const cli_verb_t s_secret_verbs[] = {
    {"set", s_set, "store a secret, value from stdin"},
    {"list", s_list, "list secret names and when they were set"},
    {"rm", s_rm, "remove a secret"},
};

int
cli_secret(int argc, char **argv)
{
    return cli_dispatch("secret", s_secret_verbs,
                        sizeof s_secret_verbs / sizeof s_secret_verbs[0],
                        "DAG files use a secret as '{{ secret.NAME }}' in env "
                        "values only.",
                        argc, argv);
}
