/* cli_util — what every client verb shares: flag parsing from a table, the
 * request/reply round trip with its exit codes, aligned tables, time and
 * exit-status formatting, and --json output of any reply message. */
#ifndef SLUICE_CLI_UTIL_H
#define SLUICE_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/json.h"
#include "proto/sluice.pb-c.h"
#include "cli/client.h"

typedef enum {
    CLI_ARG_BOOL,   /* --wait */
    CLI_ARG_STRING, /* --date 2026-01-01, last one wins */
    CLI_ARG_LIST,   /* --param a=1 --param b=2, all kept in order */
    CLI_ARG_UINT,   /* --limit 50 */
} cli_arg_kind_t;

/* One verb-specific flag. --dir, --json and --help are added to every verb. */
typedef struct {
    const char *name; /* long form without dashes: "param" */
    char shorthand;   /* 'f' for -f, 0 for none */
    cli_arg_kind_t kind;
    const char *metavar; /* "KEY=VALUE"; NULL for CLI_ARG_BOOL */
    const char *help;
} cli_flag_t;

typedef struct {
    const char *usage;       /* "sluice trigger NAME [flags]" */
    const char *summary;     /* one line for --help */
    const cli_flag_t *flags; /* ends with {NULL}; NULL for none */
    int min_args;            /* positional arguments */
    int max_args;            /* -1: any number */
} cli_spec_t;

typedef struct cli_args_t cli_args_t;

/* Parses argv (argv[0] is the verb) by spec. NULL when the verb should
 * return *exit_code at once: CLI_OK after --help was printed, CLI_USAGE after
 * a usage error was printed. Caller owns the result; the strings in it are
 * borrowed from argv. */
cli_args_t *
cli_parse(const cli_spec_t *spec, int argc, char **argv, int *exit_code);

void cli_args_destroy(cli_args_t **self_p);

/* --dir, NULL when not given. */
const char *cli_args_dir(const cli_args_t *self);

bool cli_args_json(const cli_args_t *self);

int cli_args_count(const cli_args_t *self);

/* Positional argument index (< cli_args_count). */
const char *cli_args_get(const cli_args_t *self, int index);

/* True when the bool flag `name` was given. */
bool cli_args_flag(const cli_args_t *self, const char *name);

/* The string flag's value, NULL when not given. */
const char *cli_args_string(const cli_args_t *self, const char *name);

/* The uint flag's value, dflt when not given. */
uint64_t cli_args_uint(const cli_args_t *self, const char *name, uint64_t dflt);

/* The list flag's values in order (borrowed); *count may be 0. */
const char *const *
cli_args_list(const cli_args_t *self, const char *name, size_t *count);

/* Parses a positive decimal id; prints "WHAT 'TEXT' is not a number" and
 * returns -1 when it is not one. */
int cli_parse_id(const char *what, const char *text, uint64_t *out);

/* A request with nothing set, on the heap (free it with
 * protobuf_c_message_free_unpacked). Never NULL. */
Sluice__Request *cli_request_new(void);

/* A sub-verb of a verb group ("sluice dag apply"). */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the sub-verb */
    const char *summary;
} cli_verb_t;

/* Runs sub-verb argv[1] of `group` from verbs (n of them). No argument or
 * --help prints the list (then `footer`, when not NULL); an unknown one says
 * how to list them. Returns the exit code. */
int cli_dispatch(const char *group,
                 const cli_verb_t *verbs,
                 size_t n,
                 const char *footer,
                 int argc,
                 char **argv);

/* Opens the client for --dir; on failure prints why and returns CLI_ERROR
 * (with *client NULL), else CLI_OK. */
int cli_connect(const cli_args_t *args, client_t **client);

/* One round trip. On success CLI_OK and *reply (owned) holds op `expect`.
 * Otherwise prints why and returns CLI_UNREACHABLE (no answer) or
 * CLI_ERROR (refused, ErrorRep, unexpected reply). */
int cli_call(client_t *client,
             Sluice__Request *req,
             Sluice__Reply__OpCase expect,
             Sluice__Reply **reply);

/* cli_connect + cli_call + close; takes ownership of *req_p. */
int cli_request(const cli_args_t *args,
                Sluice__Request **req_p,
                Sluice__Reply__OpCase expect,
                Sluice__Reply **reply);

/* Writes every field of msg as a JSON object (proto field names, unset
 * oneof members left out, enums by name, bytes as text). */
void cli_json_message(json_t *json, const ProtobufCMessage *msg);

/* Prints msg to stdout as one indented JSON document. */
void cli_print_json(const ProtobufCMessage *msg);

/* Wall ms as local time "2026-11-26 05:47:12" into buf; 0 gives "-". */
char *cli_fmt_time(uint64_t wall_ms, char *buf, size_t size);

/* The duration from start to end ("-" when not started; until now when
 * not ended). */
char *cli_fmt_span(uint64_t start_ms, uint64_t end_ms, char *buf, size_t size);

/* "SIGKILL" for 9, "signal 77" for unknown ones. */
char *cli_fmt_signal(int sig, char *buf, size_t size);

typedef struct cli_table_t cli_table_t;

/* A table with the given column headers (NULL-terminated, copied). */
cli_table_t *cli_table_new(const char *const *headers);

void cli_table_destroy(cli_table_t **self_p);

/* Adds a row of exactly as many cells as there are headers (copied; NULL
 * shows "-"). */
void cli_table_row(cli_table_t *self, ...);

/* Prints headers and rows with columns aligned (UTF-8 aware) to out. */
void cli_table_print(const cli_table_t *self, FILE *out);

#endif
