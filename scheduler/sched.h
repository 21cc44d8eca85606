/* sched — the scheduler daemon: one event loop over the worker socket, the
 * client socket and timers; dependency resolution, dispatch, results,
 * retries, timeouts, heartbeats, lost workers; group commit per turn.
 *
 * The daemon is an object, so that a test can run one (or two) in its own
 * process: sched_new opens the store and binds the sockets, sched_turn runs
 * one turn of the loop, sched_run turns until interrupted. */
#ifndef SLUICE_SCHED_H
#define SLUICE_SCHED_H

#include "common/config.h"
#include "common/errbuf.h"

typedef struct sched_t sched_t;

/* The sockets a scheduler binds. */
typedef enum {
    SCHED_WORKERS, /* ROUTER the workers connect to (config "listen") */
    SCHED_CLIENTS, /* ROUTER the clients connect to ("client_listen") */
} sched_socket_t;

/* Opens the scheduler of state directory `dir` (its keys, store and
 * secrets; see 'sluice init'), restores the active runs, binds both
 * sockets and starts the autoscaler when configured. Takes ownership of
 * *config_p (set to NULL, also on failure). Endpoints may end in ":*" (an
 * ephemeral port) or be inproc://; sched_endpoint says what was bound.
 * Returns NULL with err set when it cannot start. */
sched_t *sched_new(const char *dir, config_t **config_p, errbuf_t *err);

/* Closes the sockets, stops the autoscaler, closes the store; accepts
 * NULL and sets *self_p to NULL. Nothing is committed: call sched_run (or
 * sched_turn) first so that the last turn's work is written. */
void sched_destroy(sched_t **self_p);

/* The endpoint `which` was bound to, with the port chosen for ":*"
 * (e.g. "tcp://127.0.0.1:41234"). Borrowed; valid until sched_destroy. */
const char *sched_endpoint(sched_t *self, sched_socket_t which);

/* One turn of the loop: waits up to timeout_ms (-1: until the next timer
 * is due; never past it) for a message, then takes every waiting message,
 * runs the timers, dispatches, commits and sends what the turn produced.
 * Returns 0 after a turn, -1 without one when interrupted (SIGINT,
 * SIGTERM: zsys_interrupted). A failed commit is not an error here: the
 * turn's output is dropped, clients are told, memory is rebuilt. */
int sched_turn(sched_t *self, int timeout_ms);

/* Turns until interrupted, then runs one last turn to commit and answer
 * what arrived. Logs the listening endpoints and the join line first.
 * Returns 0. */
int sched_run(sched_t *self);

/* `sluice scheduler [--dir DIR] [--listen EP] [--client-listen EP]
 *  [--print-config] [--SETTING VALUE]...`; returns the exit code. */
int sched_main(int argc, char **argv);

#endif
