/* worker — the worker daemon: registers, heartbeats, verifies and runs task
 * messages through exec, streams logs, and keeps results in its outbox until
 * the scheduler acknowledges them. */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

/* `sluice worker [--join LINE | --scheduler EP --scheduler-key HEX]
 *  [--dir DIR] [--slots N] [--name NAME] [--labels a,b] [--gpus N] ...`;
 * returns the exit code. */
int worker_main(int argc, char **argv);

#endif
