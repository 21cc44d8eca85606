/* outbox_verb — `sluice outbox [--dir WORKER_DIR] [--json]`: the results a
 * worker holds that its scheduler has not acknowledged yet, read offline
 * from the worker's state directory. A worker-side verb, so it lives here,
 * beside the outbox it reads, and not among the client's verbs. */
#ifndef SLUICE_OUTBOX_VERB_H
#define SLUICE_OUTBOX_VERB_H

/* Runs the verb (argv[0] is "outbox"); returns the process exit code, one
 * of common/args.h's ARGS_EXIT_*. Safe beside a running worker: it changes
 * nothing. */
int outbox_verb_main(int argc, char **argv);

#endif
