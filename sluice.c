/* sluice — one executable: daemons and client verbs, reached by name. */
#include <stdio.h>
#include <string.h>

#include "common/sensor.h"
#include "common/version.h"
#include "cli/cli.h"
#include "scheduler/sched.h"
#include "worker/hashjob.h"
#include "worker/outbox_verb.h"
#include "worker/validate.h"
#include "worker/worker.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb_t;

static const verb_t s_verbs[] = {
    {"init", cli_init, "create a state directory with keys and config"},
    {"join-line", cli_join_line, "print the line a worker needs to join"},
    {"scheduler", sched_main, "run the scheduler daemon"},
    {"worker", worker_main, "run a worker daemon"},
    {"dag", cli_dag, "validate, apply, list and show DAG files"},
    {"trigger", cli_trigger, "start a run of a DAG"},
    {"backfill", cli_backfill,
     "run a scheduled DAG for each past interval in a span"},
    {"runs", cli_runs, "list runs"},
    {"metrics", cli_metrics, "compare a task's metrics across runs"},
    {"run", cli_run, "show one run: 'sluice run show RUN_ID'"},
    {"logs", cli_logs, "print (or follow) a task's logs"},
    {"cancel", cli_cancel, "cancel a run"},
    {"retry", cli_retry, "re-run the failed tasks of a run (or one task)"},
    {"workers", cli_workers, "list workers"},
    {"drain", cli_drain, "stop sending work to a worker; it leaves when idle"},
    {"autoscale", cli_autoscale,
     "show the autoscaler's demand, capacity and decisions"},
    {"keys", cli_keys, "list, accept, reject and revoke worker/client keys"},
    {"token", cli_token,
     "create join tokens (workers) and API tokens (HTTP API); list and "
     "revoke API tokens"},
    {"verify", cli_verify,
     "re-check a run's signed results or the event chain"},
    {"alerts", cli_alerts, "list alert deliveries, send a test alert"},
    {"secret", cli_secret, "set, list and remove secrets for DAG env values"},
    {"pool", cli_pool, "set, list and remove pools that limit tasks"},
    {"datasets", cli_datasets, "list datasets and their latest versions"},
    {"lineage", cli_lineage, "show where a dataset came from or went"},
    {"report", cli_report, "print the validation report of a validate task"},
    {"outbox", outbox_verb_main,
     "list a worker's results the scheduler has not acknowledged yet"},
};

#define VERB_COUNT (sizeof s_verbs / sizeof s_verbs[0])

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice VERB [ARGS]   (sluice VERB --help for details)\n\n"
            "sluice %s: a distributed orchestrator for data and ML "
            "pipelines\n\nverbs:\n",
            SLUICE_VERSION);
    for (size_t i = 0; i < VERB_COUNT; i++) {
        fprintf(out, "  %-10s %s\n", s_verbs[i].name, s_verbs[i].summary);
    }
    fprintf(out, "\nstate directory: --dir DIR, else $SLUICE_DIR, "
                 "else ./.sluice\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        s_usage(stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return CLI_OK;
    }
    if (strcmp(argv[1], "__validate") == 0) {
        return validate_main(argc - 1, argv + 1); /* a worker's child */
    }
    if (strcmp(argv[1], "__sensor") == 0) {
        return sensor_main(argc - 1, argv + 1); /* a worker's child */
    }
    if (strcmp(argv[1], "__hash") == 0) {
        return hashjob_main(argc - 1, argv + 1); /* a worker's child */
    }
    for (size_t i = 0; i < VERB_COUNT; i++) {
        if (strcmp(argv[1], s_verbs[i].name) == 0) {
            return s_verbs[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "sluice: unknown verb '%s'; run 'sluice --help'\n",
            argv[1]);
    return CLI_USAGE;
}
