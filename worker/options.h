/* options — the flags of `sluice worker` and its --help. */
#ifndef SLUICE_OPTIONS_H
#define SLUICE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/errbuf.h"
#include "common/join.h"

/* Settings from the command line. Strings are borrowed from argv except
 * join, endpoint, token and the data_roots array (owned: free with
 * options_clear). */
typedef struct {
    char *join; /* --join, else $SLUICE_JOIN */
    char *endpoint;
    const char *scheduler_key;
    const char *dir;
    const char *name;
    const char *labels;
    uint32_t slots;
    uint32_t prefetch; /* tasks held beyond the slots (default 1) */
    uint64_t grace_ms;
    uint64_t log_cap;
    uint32_t heartbeat_ms; /* 0 = the scheduler's */
    uint32_t gpus;         /* --gpus, when gpus_set */
    bool gpus_set;         /* else: count what nvidia-smi lists */
    /* --run-as USER: a root worker runs every task as USER; NULL: a root
     * worker gives each attempt its own uid from run_as_range, any other
     * runs tasks as itself */
    const char *run_as;
    const char *run_as_range; /* --run-as-range FIRST-LAST, or NULL */
    const char **data_roots;  /* --data-root DIR, repeatable */
    size_t ndata_roots;
    /* A join token: --token, else --token-file's, else
     * $SLUICE_JOIN_TOKEN; wiped by options_clear. */
    char *token;
    const char *token_file;      /* --token-file PATH */
    const char *scheduler_curve; /* --scheduler-curve-key HEX or file */
    uint64_t hash_timeout_ms;    /* --hash-timeout: hashing one attempt's
                                    inputs or outputs (default 10m) */
    uint64_t keep_failed_ms;     /* --keep-failed: a failed attempt's work
                                    dir stays this long (default 24h) */
    uint32_t keep_failed_max;    /* --keep-failed-max: at most this many
                                    (default 100) */
    bool help;
    struct yamldoc_node_t *file; /* DIR/config.yaml, owned; strings above may
                                    be borrowed from it */
} options_t;

/* Prints the usage text to out. */
void options_usage(FILE *out);

/* Fills *o from argv (defaults for what is not given), the environment and
 * the state directory's config.yaml (options_load_file); -1 with err on an unknown flag, a bad value or a stray
 * argument. A join token given on the command line (--token, or in a
 * --join line) is wiped from argv, so ps no longer shows it, with a
 * warning; SLUICE_JOIN and SLUICE_JOIN_TOKEN are taken out of the
 * environment. Call options_clear after either result. */
int options_parse(options_t *o, int argc, char **argv, errbuf_t *err);

/* Reads DIR/config.yaml of the worker's state directory, when there is
 * one: `data_roots: [DIR, ...]`, `run_as_range: FIRST-LAST` and `run_as:
 * USER`, each used unless a flag said otherwise. -1 with err
 * ("FILE:LINE:COL: ...") on a malformed file or an unknown setting. */
int options_load_file(options_t *o, const char *dir, errbuf_t *err);

/* Frees what options_parse allocated; accepts a cleared *o. */
void options_clear(options_t *o);

/* The scheduler to join, from --join (a --token wins over the line's) or
 * from --scheduler, --scheduler-key and --scheduler-curve-key; free *out
 * with join_clear. -1 with err when they are missing or malformed. */
int options_target(const options_t *o, join_t *out, errbuf_t *err);

#endif
