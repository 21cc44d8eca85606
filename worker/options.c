/* options — see options.h. */
#include "worker/options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/curve.h"
#include "common/dag.h"
#include "common/keys.h"
#include "common/xalloc.h"
#include "proto/msg.h"
#include "worker/gpus.h"

void
options_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice worker [--join LINE | --scheduler tcp://HOST:PORT "
            "--scheduler-key HEX]\n"
            "                     [--dir DIR] [--slots N] [--name NAME] "
            "[--labels a,b]\n"
            "                     [--gpus N] [--grace DURATION] "
            "[--log-cap BYTES] [--heartbeat-ms N]\n"
            "                     [--run-as USER] [--prefetch N]\n\n"
            "  --join LINE          the line 'sluice init' or 'sluice "
            "join-line' printed\n"
            "  --scheduler EP       scheduler worker endpoint (with "
            "--scheduler-key)\n"
            "  --scheduler-key HEX  the scheduler's public key (hex or a .pub "
            "file)\n"
            "  --scheduler-curve-key HEX  its transport key (hex or "
            "scheduler.curve.pub)\n"
            "  --token TOKEN        a join token ('sluice token create'): "
            "admits this\n"
            "                       worker's key without an operator\n"
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
            "  --run-as USER        a root worker runs tasks as USER "
            "(default nobody);\n"
            "                       any other worker runs them as itself\n");
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

static int
s_opt_one(options_t *o, int c, const char *arg, errbuf_t *err)
{
    uint64_t v = 0;
    switch (c) {
        case 'j':
            o->join = arg;
            return 0;
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
        case 'T':
            o->token = arg;
            return 0;
        case 'C':
            o->scheduler_curve = arg;
            return 0;
        case 'u':
            o->run_as = arg;
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
        {"token", required_argument, NULL, 'T'},
        {"scheduler-curve-key", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (options_t){.prefetch = 1, .grace_ms = 30000, .log_cap = 1048576};
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
    return 0;
}

void
options_clear(options_t *o)
{
    free(o->endpoint);
    o->endpoint = NULL;
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
