/* join — the one line a worker needs to join a scheduler:
 *
 *   sluice://HOST:PORT/SCHEDULER_SIGNING_KEY_HEX/SCHEDULER_CURVE_KEY_HEX
 *   sluice://HOST:PORT/SIGNING_HEX/CURVE_HEX?token=TOKEN
 *
 * It names the worker endpoint and pins the scheduler's signing key and its
 * CURVE transport key; a join token (optional) admits the worker at once. */
#ifndef SLUICE_JOIN_H
#define SLUICE_JOIN_H

#include <stdint.h>

#include "common/errbuf.h"

/* "sluice://HOST:PORT/SIGNHEX/CURVEHEX" for host_port ("h:7700"), the
 * scheduler's signing key and its CURVE key. Caller owns the result. */
char *join_format(const char *host_port,
                  const uint8_t *scheduler_pub,
                  const uint8_t *scheduler_curve);

/* What a join line says. */
typedef struct {
    char *endpoint;    /* "tcp://HOST:PORT", owned */
    uint8_t pub[32];   /* the scheduler's signing key */
    uint8_t curve[32]; /* the scheduler's CURVE key */
    char *token;       /* owned; NULL when none */
} join_t;

/* Splits a join line (or the whole "sluice worker --join LINE" command)
 * into *out (free with join_clear). A line of the old two-part form, with
 * no CURVE key, is refused with a message that says to print a new one. */
int join_parse(const char *line, join_t *out, errbuf_t *err);

/* Frees what join_parse put into *join. */
void join_clear(join_t *join);

/* The host:port workers should dial for a worker socket bound at `listen`
 * (e.g. tcp://0.0.0.0:7700): `advertise` when not empty, else this host's name and
 * the listen port. Caller owns the result. */
char *join_advertised(const char *listen, const char *advertise);

#endif
