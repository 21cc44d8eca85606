/* sched — the scheduler daemon: one event loop over the worker socket, the
 * client socket and timers; dependency resolution, dispatch, results,
 * retries, timeouts, heartbeats, lost workers; group commit per turn. */
#ifndef SLUICE_SCHED_H
#define SLUICE_SCHED_H

/* `sluice scheduler [--dir DIR] [--listen EP] [--client-listen EP]
 *  [--print-config] [--SETTING VALUE]...`; returns the exit code. */
int sched_main(int argc, char **argv);

#endif
