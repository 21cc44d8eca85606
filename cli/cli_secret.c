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
#include "cli/cli.h"
#include "cli/cli_util.h"

static int
s_check_name(const char *name)
{
    if (dag_name_ok(name)) {
        return 0;
    }
    fprintf(stderr,
            "sluice: '%.128s' is not a secret name; a secret name may only "
            "use " DAG_NAME_RULE " (e.g. DB_PASSWORD)\n",
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

/* Reads the value from stdin into the request; refuses an empty one or one
 * over the limit. */
static int
s_set_fill(const args_t *args, void *op)
{
    Sluice__SecretSetReq *set = op;
    const char *name = args_get(args, 0);
    if (s_check_name(name) < 0) {
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
        return CLI_USAGE;
    }
    set->name = xstrdup(name);
    set->value.data = (uint8_t *) value; /* freed with the request */
    set->value.len = len;
    return CLI_OK;
}

static void
s_set_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__SecretSetRep *rep = body;
    printf("secret '%s' %s\n", rep->name, rep->replaced ? "replaced" : "set");
}

static const cli_simple_t s_set = {
    .spec = &s_set_spec,
    .op = SLUICE__REQUEST__OP_SECRET_SET,
    .expect = SLUICE__REPLY__OP_SECRET_SET,
    .fill = s_set_fill,
    .show = {.print = s_set_print},
};

/* -------------------------------------------------------------- list */

static const args_spec_t s_list_spec = {
    .usage = "sluice secret list",
    .summary = "list the secrets' names and when each was set (never their "
               "values)",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

static void
s_list_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__SecretListRep *list = body;
    const char *headers[] = {"NAME", "SET", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < list->n_secrets; i++) {
        char when[32];
        table_row(
            table, list->secrets[i]->name,
            clock_fmt_local(list->secrets[i]->updated_ms, when, sizeof when));
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const cli_simple_t s_list = {
    .spec = &s_list_spec,
    .op = SLUICE__REQUEST__OP_SECRET_LIST,
    .expect = SLUICE__REPLY__OP_SECRET_LIST,
    .show = {.print = s_list_print},
};

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
s_rm_fill(const args_t *args, void *op)
{
    Sluice__SecretRmReq *rm = op;
    if (s_check_name(args_get(args, 0)) < 0) {
        return CLI_USAGE;
    }
    rm->name = xstrdup(args_get(args, 0));
    return CLI_OK;
}

static void
s_rm_print(const args_t *args, const void *body)
{
    (void) args;
    printf("secret '%s' removed\n", ((const Sluice__SecretRmRep *) body)->name);
}

static const cli_simple_t s_rm = {
    .spec = &s_rm_spec,
    .op = SLUICE__REQUEST__OP_SECRET_RM,
    .expect = SLUICE__REPLY__OP_SECRET_RM,
    .fill = s_rm_fill,
    .show = {.print = s_rm_print},
};

/* ------------------------------------------------------------- verb */

static const cli_verb_t s_secret_verbs[] = {
    {"set", NULL, "store a secret, value from stdin", &s_set},
    {"list", NULL, "list secret names and when they were set", &s_list},
    {"rm", NULL, "remove a secret", &s_rm},
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
