/* join — the one line a worker needs to join a scheduler:
 *
 *   sluice://HOST:PORT/SCHEDULER_PUBLIC_KEY_HEX
 *
 * It names the worker endpoint and pins the scheduler's signing key. */
#ifndef SLUICE_JOIN_H
#define SLUICE_JOIN_H

#include <stdint.h>

#include "common/errbuf.h"

/* "sluice://HOST:PORT/HEX" for host_port ("h:7700") and a public key.
 * Caller owns the result. */
char *join_format(const char *host_port, const uint8_t *scheduler_pub);

/* Splits a join line (or the whole "sluice worker --join LINE" command) into a ZeroMQ endpoint ("tcp://HOST:PORT", caller owns
 * *endpoint) and the scheduler's public key (32 bytes into pub). */
int join_parse(const char *line, char **endpoint, uint8_t *pub, errbuf_t *err);

/* The host:port workers should dial for a worker socket bound at `listen`
 * (e.g. tcp://0.0.0.0:7700): `advertise` when not empty, else this host's name and
 * the listen port. Caller owns the result. */
char *join_advertised(const char *listen, const char *advertise);

#endif
