/* cli — the client verbs of the `sluice` executable.
 *
 * Each verb takes (argc, argv) with argv[0] the verb's name, parses its own
 * flags (every verb: --dir DIR, --json, --help), prints, and returns the
 * process exit code below. Only verbs print errors; modules fill errbuf_t.
 * `sluice outbox`, a worker-side verb, lives in worker/outbox_verb.h. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include "common/args.h"

/* The exit codes every verb shares (common/args.h), by the client's names. */
#define CLI_OK          ARGS_EXIT_OK
#define CLI_FAIL        ARGS_EXIT_FAIL
#define CLI_USAGE       ARGS_EXIT_USAGE
#define CLI_UNREACHABLE ARGS_EXIT_UNREACHABLE
#define CLI_ERROR       ARGS_EXIT_ERROR

/* sluice init [--dir DIR] [--listen EP] [--client-listen EP] */
int cli_init(int argc, char **argv);
/* sluice join-line [--dir DIR] */
int cli_join_line(int argc, char **argv);
/* sluice dag validate|apply|list|show ... */
int cli_dag(int argc, char **argv);
/* sluice dag validate FILE... (works offline) */
int cli_dag_validate(int argc, char **argv);

/* sluice dag pause|unpause|next NAME: a DAG's schedule (cli_schedule.c). */
int cli_dag_pause(int argc, char **argv);

int cli_dag_unpause(int argc, char **argv);

int cli_dag_next(int argc, char **argv);

/* sluice backfill NAME --from DATE --to DATE (cli_schedule.c). */
int cli_backfill(int argc, char **argv);
/* sluice trigger NAME [--param K=V]... [--date YYYY-MM-DD] [--wait] */
int cli_trigger(int argc, char **argv);
/* sluice runs [NAME] [--limit N] */
int cli_runs(int argc, char **argv);

/* sluice metrics DAG TASK [--limit N] (cli_metrics.c) */
int cli_metrics(int argc, char **argv);
/* sluice run show RUN_ID */
int cli_run(int argc, char **argv);
/* sluice logs RUN_ID TASK_ID [--attempt N] [-f] */
int cli_logs(int argc, char **argv);
/* sluice cancel RUN_ID */
int cli_cancel(int argc, char **argv);
/* sluice retry RUN_ID [TASK_ID] */
int cli_retry(int argc, char **argv);
/* sluice drain WORKER */
int cli_drain(int argc, char **argv);
/* sluice workers */
int cli_workers(int argc, char **argv);
/* sluice keys list|accept|reject|revoke FP | add-client | client-key */
int cli_keys(int argc, char **argv);
/* sluice token create [--ttl 1h] [--uses N] (join tokens) |
 * create --api | list | revoke (API tokens, cli_apitokens.c) */
int cli_token(int argc, char **argv);
/* sluice token create --api --role viewer|operator [--ttl D] [--name N] */
int cli_apitoken_create(int argc, char **argv);
/* sluice token list [--api] */
int cli_apitoken_list(int argc, char **argv);
/* sluice token revoke [--api] ID|NAME */
int cli_apitoken_revoke(int argc, char **argv);
/* sluice verify RUN_ID | sluice verify --events (cli_clients.c) */
int cli_verify(int argc, char **argv);
/* sluice keys add-client PUBKEY --role viewer|operator [--name NAME];
 * argv[0] is "add-client" (called by the `keys` verb) */
int cli_keys_add_client(int argc, char **argv);
/* sluice keys client-key [--dir DIR]; argv[0] is "client-key" */
int cli_keys_client_key(int argc, char **argv);
/* sluice alerts list [--failed] | alerts test TARGET */
int cli_alerts(int argc, char **argv);

/* sluice secret set NAME < VALUE | secret list | secret rm NAME */
int cli_secret(int argc, char **argv);
/* sluice pool set NAME SLOTS [--description TEXT] | pool list | pool rm NAME
 * (cli_pool.c) */
int cli_pool(int argc, char **argv);
/* sluice datasets [--limit N] (cli_lineage.c) */
int cli_datasets(int argc, char **argv);
/* sluice lineage URI_OR_HASH [--upstream|--downstream] [--depth N] |
 * --openlineage RUN_ID */
int cli_lineage(int argc, char **argv);

/* sluice report RUN_ID TASK_ID [--json] (cli_report.c) */
int cli_report(int argc, char **argv);

/* sluice autoscale status [--json] (cli_autoscale.c) */
int cli_autoscale(int argc, char **argv);

#endif
