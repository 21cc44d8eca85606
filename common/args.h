/* args — the command line of one `sluice` verb: its flags from a table,
 * the flags every verb has (--dir, --json, --help), its positional
 * arguments, its --help text, and the exit codes all verbs share. */
#ifndef SLUICE_ARGS_H
#define SLUICE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a verb exits with; every verb's --help lists them. */
#define ARGS_EXIT_OK          0 /* done; for trigger --wait: the run succeeded */
#define ARGS_EXIT_FAIL        1 /* the thing asked about failed (run, file) */
#define ARGS_EXIT_USAGE       2 /* bad flags or arguments */
#define ARGS_EXIT_UNREACHABLE 3 /* no scheduler answered */
#define ARGS_EXIT_ERROR       4 /* refused, errored, or no usable state dir */

typedef enum {
    ARGS_BOOL,   /* --wait */
    ARGS_STRING, /* --date 2026-01-01, last one wins */
    ARGS_LIST,   /* --param a=1 --param b=2, all kept in order */
    ARGS_UINT,   /* --limit 50 */
} args_kind_t;

/* One verb-specific flag. */
typedef struct {
    const char *name; /* long form without dashes: "param" */
    char shorthand;   /* 'f' for -f, 0 for none */
    args_kind_t kind;
    const char *metavar; /* "KEY=VALUE"; NULL for ARGS_BOOL */
    const char *help;
} args_flag_t;

typedef struct {
    const char *usage;        /* "sluice trigger NAME [flags]" */
    const char *summary;      /* one line for --help */
    const args_flag_t *flags; /* ends with {NULL}; NULL for none */
    int min_args;             /* positional arguments */
    int max_args;             /* -1: any number */
} args_spec_t;

typedef struct args_t args_t;

/* Parses argv (argv[0] is the verb) by spec. NULL when the verb should
 * return *exit_code at once: ARGS_EXIT_OK after --help was printed,
 * ARGS_EXIT_USAGE after a usage error was printed. Caller owns the result;
 * the strings in it are borrowed from argv. */
args_t *
args_parse(const args_spec_t *spec, int argc, char **argv, int *exit_code);

/* Frees the arguments and nulls *self_p; accepts NULL. */
void args_destroy(args_t **self_p);

/* The verb's name as it was called (argv[0]). */
const char *args_verb(const args_t *self);

/* --dir, NULL when not given. */
const char *args_dir(const args_t *self);

/* True when --json was given. */
bool args_json(const args_t *self);

int args_count(const args_t *self);

/* Positional argument index (< args_count). */
const char *args_get(const args_t *self, int index);

/* True when the bool flag `name` was given. */
bool args_flag(const args_t *self, const char *name);

/* The string flag's value, NULL when not given. */
const char *args_string(const args_t *self, const char *name);

/* The uint flag's value, dflt when not given. */
uint64_t args_uint(const args_t *self, const char *name, uint64_t dflt);

/* The list flag's values in order (borrowed); *count may be 0. */
const char *const *
args_list(const args_t *self, const char *name, size_t *count);

#endif
