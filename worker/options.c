/* options — see options.h. */
#include "worker/options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "common/curve.h"
#include "common/dag.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "common/yamldoc.h"
#include "proto/msg.h"
#include "worker/gpus.h"
#include "worker/hashjob.h"
#include "worker/workdirs.h"

void
options_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice worker [--join LINE | --scheduler tcp://HOST:PORT "
            "--scheduler-key HEX] [--token-file PATH]\n"
            "                     [--dir DIR] [--slots N] [--name NAME] "
            "[--labels a,b]\n"
            "                     [--gpus N] [--grace DURATION] "
            "[--log-cap BYTES] [--heartbeat-ms N]\n"
            "                     [--run-as USER | --run-as-range FIRST-LAST] "
            "[--prefetch N]\n"
            "                     [--data-root DIR ...] [--hash-timeout "
            "DURATION]\n"
            "                     [--keep-failed DURATION] "
            "[--keep-failed-max N]\n\n"
            "  --join LINE          the line 'sluice init' or 'sluice "
            "join-line' printed\n"
            "  --scheduler EP       scheduler worker endpoint (with "
            "--scheduler-key)\n"
            "  --scheduler-key HEX  the scheduler's public key (hex or a .pub "
            "file)\n"
            "  --scheduler-curve-key HEX  its transport key (hex or "
            "scheduler.curve.pub)\n"
            "  --token-file PATH    a file (mode 0600) holding a join token "
            "('sluice token\n"
            "                       create'): admits this worker's key "
            "without an operator;\n"
            "                       SLUICE_JOIN_TOKEN works too. --token TOKEN "
            "still\n"
            "                       works but every local user sees it in "
            "ps\n"
            "                       (SLUICE_JOIN may hold the --join line)\n"
            "  --dir DIR            state directory (default $SLUICE_DIR, "
            "else ./.sluice)\n"
            "  --slots N            attempts run at once (default: cores)\n"
            "  --prefetch N         tasks held beyond the slots, started as "
            "one frees\n"
            "                       (default 1; 0 turns it off; the "
            "scheduler's\n"
            "                       'prefetch' setting caps it)\n"
            "  --name NAME          worker name (default: hostname)\n"
            "  --labels a,b         labels tasks may ask for (e.g. gpu,ssd)\n"
            "  --gpus N             GPUs offered (default: what 'nvidia-smi "
            "-L' lists,\n"
            "                       0 without it); each task sees only its "
            "own in\n"
            "                       CUDA_VISIBLE_DEVICES (\"\" when it asks "
            "for none)\n"
            "  --grace DURATION     at SIGTERM, how long running attempts may "
            "finish (30s)\n"
            "  --log-cap BYTES      log bytes forwarded per attempt (1048576; "
            "k/m suffix)\n"
            "  --heartbeat-ms N     heartbeat interval (default: the "
            "scheduler's)\n"
            "  --run-as-range A-B   a root worker runs each attempt as its "
            "own uid and\n"
            "                       gid from A-B, no account's (default "
            "61000-61999);\n"
            "                       any other worker runs tasks as itself\n"
            "  --run-as USER        a root worker runs every task as USER "
            "instead\n"
            "  --data-root DIR      declared inputs and outputs must lie under "
            "DIR (after\n"
            "                       symlinks) or in the attempt's work dir, "
            "else the\n"
            "                       attempt is refused; repeat for more "
            "roots\n"
            "  --hash-timeout DUR   hashing an attempt's inputs or outputs "
            "(as its uid, in\n"
            "                       a child) may take DUR, else the attempt "
            "fails (10m)\n"
            "  --keep-failed DUR    keep a failed attempt's work dir DUR "
            "(24h; 0: not at\n"
            "                       all); others go when their attempt "
            "ends\n"
            "  --keep-failed-max N  and at most N of them, the oldest go "
            "first (100)\n\n"
            "DIR/config.yaml may hold data_roots: [DIR, ...], run_as_range "
            "and run_as;\n"
            "flags win over it.\n");
}

static int
s_parse_u64(const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || text[0] == '-') {
        return -1;
    }
    uint64_t mult = 1;
    if (*end == 'k' || *end == 'K') {
        mult = 1024, end++;
    } else if (*end == 'm' || *end == 'M') {
        mult = 1024 * 1024, end++;
    } else if (*end == 'g' || *end == 'G') {
        mult = 1024 * 1024 * 1024, end++;
    }
    if (*end) {
        return -1;
    }
    *out = v * mult;
    return 0;
}

static int
s_opt_number(const char *flag,
             const char *text,
             uint64_t max,
             uint64_t *out,
             errbuf_t *err)
{
    if (s_parse_u64(text, out) < 0 || *out > max) {
        errbuf_set(err, "%s wants a number up to %" PRIu64 ", not '%s'", flag,
                   max, text);
        return -1;
    }
    return 0;
}

static int
s_opt_u32(const char *flag,
          const char *text,
          uint32_t max,
          uint32_t *out,
          errbuf_t *err)
{
    uint64_t v;
    if (s_opt_number(flag, text, max, &v, err) < 0) {
        return -1;
    }
    *out = (uint32_t) v;
    return 0;
}

/* ------------------------------------------------------------ join token */

static void
s_free_token(options_t *o)
{
    if (o->token) {
        sodium_memzero(o->token, strlen(o->token));
    }
    xfree(&o->token);
}

/* Overwrites an argument in place: /proc/PID/cmdline reads this memory. */
static void
s_scrub(char *arg, const char *flag)
{
    memset(arg, 'x', strlen(arg));
    log_warn("%s put a join token on the command line, where every local "
             "user can read it (ps); it is wiped from this process's "
             "arguments now, but give it with --token-file FILE or "
             "SLUICE_JOIN_TOKEN instead",
             flag);
}

/* A --join line "sluice://...?token=T": T is wiped from argv. */
static void
s_scrub_line_token(char *line)
{
    char *token = strstr(line, "token=");
    if (token && token[6]) {
        s_scrub(token + 6, "a --join line with ?token=");
    }
}

/* Takes NAME out of the environment (a copy, owned, or NULL), so that
 * nothing this worker starts inherits it. */
static char *
s_take_env(const char *name)
{
    char *value = getenv(name);
    char *copy = value && *value ? xstrdup(value) : NULL;
    if (value) {
        sodium_memzero(value, strlen(value));
        unsetenv(name);
    }
    return copy;
}

/* A token file must be private, like a key: one line, the token. */
static int
s_read_token_file(options_t *o, errbuf_t *err)
{
    if (statedir_check_private(o->token_file, err) < 0) {
        errbuf_prefix(err, "--token-file");
        return -1;
    }
    FILE *f = fopen(o->token_file, "r");
    char line[512] = "";
    bool ok = f && fgets(line, sizeof line, f);
    if (f) {
        fclose(f);
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (!ok || !*line) {
        errbuf_set(err,
                   "--token-file '%s' holds no token; write the one "
                   "'sluice token create' printed into it",
                   o->token_file);
        return -1;
    }
    o->token = xstrdup(line);
    sodium_memzero(line, sizeof line);
    return 0;
}

/* The join line and token a launcher gave through the environment, and
 * --token-file; flags given win. */
static int
s_from_environment(options_t *o, errbuf_t *err)
{
    char *join = s_take_env("SLUICE_JOIN");
    char *token = s_take_env("SLUICE_JOIN_TOKEN");
    if (!o->join && !o->endpoint) {
        o->join = join;
        join = NULL;
    }
    int rc = 0;
    if (!o->token && o->token_file) {
        rc = s_read_token_file(o, err);
    } else if (!o->token) {
        o->token = token;
        token = NULL;
    }
    if (join) {
        sodium_memzero(join, strlen(join));
    }
    if (token) {
        sodium_memzero(token, strlen(token));
    }
    free(join);
    free(token);
    return rc;
}

/* --join, --token and --token-file; false for any other flag. */
static bool
s_opt_join(options_t *o, int c, char *arg)
{
    if (c == 'j') {
        free(o->join);
        o->join = xstrdup(arg);
        s_scrub_line_token(arg);
    } else if (c == 'T') {
        s_free_token(o);
        o->token = xstrdup(arg);
        s_scrub(arg, "--token");
    } else if (c == 'F') {
        o->token_file = arg;
    }
    return c == 'j' || c == 'T' || c == 'F';
}

static int
s_opt_duration(const char *flag, const char *arg, uint64_t *ms, errbuf_t *err)
{
    if (dag_parse_duration(arg, ms) < 0) {
        errbuf_set(err,
                   "%s wants a duration like '30s', '10m' or '24h', not "
                   "'%s'",
                   flag, arg);
        return -1;
    }
    return 0;
}

/* --hash-timeout, --keep-failed and --keep-failed-max; 1 for any other
 * flag. */
static int
s_opt_files(options_t *o, int c, const char *arg, errbuf_t *err)
{
    switch (c) {
        case 'H':
            if (s_opt_duration("--hash-timeout", arg, &o->hash_timeout_ms,
                               err) < 0) {
                return -1;
            }
            if (o->hash_timeout_ms == 0) {
                errbuf_set(err, "--hash-timeout must be above 0, not '%s'",
                           arg);
                return -1;
            }
            return 0;
        case 'K':
            return s_opt_duration("--keep-failed", arg, &o->keep_failed_ms,
                                  err);
        case 'M':
            return s_opt_u32("--keep-failed-max", arg, 1000000,
                             &o->keep_failed_max, err);
        default:
            return 1;
    }
}

/* --run-as, --run-as-range and --data-root; false for any other flag. */
static bool
s_opt_isolation(options_t *o, int c, char *arg)
{
    if (c == 'u') {
        o->run_as = arg;
    } else if (c == 'U') {
        o->run_as_range = arg;
    } else if (c == 'D') {
        o->data_roots = xrealloc(o->data_roots,
                                 (o->ndata_roots + 1) * sizeof *o->data_roots);
        o->data_roots[o->ndata_roots++] = arg;
    }
    return c == 'u' || c == 'U' || c == 'D';
}

static int
s_opt_one(options_t *o, int c, char *arg, errbuf_t *err)
{
    uint64_t v = 0;
    if (s_opt_join(o, c, arg) || s_opt_isolation(o, c, arg)) {
        return 0;
    }
    int files = s_opt_files(o, c, arg, err);
    if (files <= 0) {
        return files;
    }
    switch (c) {
        case 's':
            o->endpoint = xstrdup(arg);
            return 0;
        case 'k':
            o->scheduler_key = arg;
            return 0;
        case 'd':
            o->dir = arg;
            return 0;
        case 'n':
            if (!msg_name_ok(arg)) {
                errbuf_set(err,
                           "--name wants 1 to %d letters, digits, '.', '_' "
                           "or '-', not '%s'",
                           MSG_NAME_MAX, arg);
                return -1;
            }
            o->name = arg;
            return 0;
        case 'l':
            o->labels = arg;
            return 0;
        case 'h':
            o->help = true;
            return 0;
        case 'C':
            o->scheduler_curve = arg;
            return 0;
        case 'N':
            if (s_opt_number("--slots", arg, 4096, &v, err) < 0 || v == 0) {
                errbuf_set(err,
                           "--slots wants a number from 1 to 4096, not "
                           "'%s'",
                           arg);
                return -1;
            }
            o->slots = (uint32_t) v;
            return 0;
        case 'P':
            return s_opt_u32("--prefetch", arg, 64, &o->prefetch, err);
        case 'g':
            if (dag_parse_duration(arg, &o->grace_ms) < 0) {
                errbuf_set(err,
                           "--grace wants a duration like '30s' or "
                           "'2m', not '%s'",
                           arg);
                return -1;
            }
            return 0;
        case 'c':
            return s_opt_number("--log-cap", arg, UINT64_MAX / 2, &o->log_cap,
                                err);
        case 'b':
            return s_opt_u32("--heartbeat-ms", arg, 3600000, &o->heartbeat_ms,
                             err);
        case 'G':
            o->gpus_set = true;
            return s_opt_u32("--gpus", arg, GPUS_MAX, &o->gpus, err);
        default:
            errbuf_set(err, "unknown option; run 'sluice worker --help'");
            return -1;
    }
}

int
options_parse(options_t *o, int argc, char **argv, errbuf_t *err)
{
    static const struct option longs[] = {
        {"join", required_argument, NULL, 'j'},
        {"scheduler", required_argument, NULL, 's'},
        {"scheduler-key", required_argument, NULL, 'k'},
        {"dir", required_argument, NULL, 'd'},
        {"slots", required_argument, NULL, 'N'},
        {"prefetch", required_argument, NULL, 'P'},
        {"name", required_argument, NULL, 'n'},
        {"labels", required_argument, NULL, 'l'},
        {"grace", required_argument, NULL, 'g'},
        {"log-cap", required_argument, NULL, 'c'},
        {"heartbeat-ms", required_argument, NULL, 'b'},
        {"gpus", required_argument, NULL, 'G'},
        {"run-as", required_argument, NULL, 'u'},
        {"run-as-range", required_argument, NULL, 'U'},
        {"data-root", required_argument, NULL, 'D'},
        {"token", required_argument, NULL, 'T'},
        {"token-file", required_argument, NULL, 'F'},
        {"scheduler-curve-key", required_argument, NULL, 'C'},
        {"hash-timeout", required_argument, NULL, 'H'},
        {"keep-failed", required_argument, NULL, 'K'},
        {"keep-failed-max", required_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (options_t){.prefetch = 1,
                     .grace_ms = 30000,
                     .log_cap = 1048576,
                     .hash_timeout_ms = HASHJOB_DEFAULT_TIMEOUT_MS,
                     .keep_failed_ms = WORKDIRS_DEFAULT_KEEP_MS,
                     .keep_failed_max = WORKDIRS_DEFAULT_KEEP_MAX};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == '?' || c == ':') {
            errbuf_set(err,
                       "unknown option or missing value '%s'; run "
                       "'sluice worker --help'",
                       argv[optind - 1]);
            return -1;
        }
        if (s_opt_one(o, c, optarg, err) < 0) {
            return -1;
        }
    }
    if (optind < argc) {
        errbuf_set(err,
                   "unexpected argument '%s'; run 'sluice worker "
                   "--help'",
                   argv[optind]);
        return -1;
    }
    if (s_from_environment(o, err) < 0) {
        return -1;
    }
    if (o->help) {
        return 0;
    }
    char *dir = statedir_resolve(o->dir);
    int rc = options_load_file(o, dir, err);
    free(dir);
    return rc;
}

void
options_clear(options_t *o)
{
    free(o->endpoint);
    o->endpoint = NULL;
    if (o->join) {
        sodium_memzero(o->join, strlen(o->join)); /* may hold a token */
    }
    xfree(&o->join);
    s_free_token(o);
    free(o->data_roots);
    o->data_roots = NULL;
    o->ndata_roots = 0;
    yamldoc_destroy(&o->file);
}

/* The endpoint and the pinned keys from --join; a --token wins over the
 * line's. */
static int
s_target_join(const options_t *o, join_t *out, errbuf_t *err)
{
    if (join_parse(o->join, out, err) < 0) {
        errbuf_prefix(err, "--join");
        return -1;
    }
    if (o->token) {
        free(out->token);
        out->token = xstrdup(o->token);
    }
    return 0;
}

int
options_target(const options_t *o, join_t *out, errbuf_t *err)
{
    memset(out, 0, sizeof *out);
    if (o->join) {
        return s_target_join(o, out, err);
    }
    if (!o->endpoint || !o->scheduler_key || !o->scheduler_curve) {
        errbuf_set(err, "say which scheduler to join: --join LINE (from "
                        "'sluice join-line' on the scheduler host), or "
                        "--scheduler tcp://HOST:PORT with --scheduler-key HEX "
                        "and --scheduler-curve-key HEX");
        return -1;
    }
    if (keys_public_from_hex(o->scheduler_key, out->pub) < 0 &&
        keys_load_public(o->scheduler_key, out->pub, err) < 0) {
        errbuf_set(err,
                   "--scheduler-key wants 64 hex characters or a "
                   "scheduler.pub file, not '%s'",
                   o->scheduler_key);
        return -1;
    }
    if (curve_from_hex(o->scheduler_curve, out->curve) < 0 &&
        curve_load_public(o->scheduler_curve, out->curve, err) < 0) {
        errbuf_set(err,
                   "--scheduler-curve-key wants 64 hex characters or a "
                   "scheduler.curve.pub file, not '%s'",
                   o->scheduler_curve);
        return -1;
    }
    out->endpoint = xstrdup(o->endpoint);
    out->token = o->token ? xstrdup(o->token) : NULL;
    return 0;
}
