/* curve — CURVE transport key pairs (Curve25519, as ZeroMQ's CURVE uses
 * them) and their files, and setting them on a socket.
 *
 * Transport keys are separate from the Ed25519 signing keys (keys.h): CURVE
 * encrypts and authenticates the connection, the signing key authenticates
 * each message. A secret file holds one line "sluice-curve-secret HEX" (the
 * 32-byte secret), created 0600 with O_EXCL, refused when group or others
 * can read it; the public file beside it holds "sluice-curve-public HEX". */
#ifndef SLUICE_CURVE_H
#define SLUICE_CURVE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "common/keys.h"

#define CURVE_KEY_SIZE 32
#define CURVE_HEX_SIZE (CURVE_KEY_SIZE * 2 + 1) /* hex + NUL */

typedef struct curve_t curve_t;

/* A fresh random key pair. Never NULL. */
curve_t *curve_generate(void);

/* Loads a secret file; NULL with err set when missing, malformed or
 * readable by group/others. */
curve_t *curve_load(const char *path, errbuf_t *err);

/* Writes the secret to path (0600, refuses to overwrite) and, when pub_path
 * is not NULL, the public key to pub_path (0644). */
int curve_save(const curve_t *self,
               const char *path,
               const char *pub_path,
               errbuf_t *err);

/* Loads DIR/name (secret) or, when it does not exist, creates it and
 * DIR/name.pub; *created (may be NULL) tells which. NULL with err set. */
curve_t *
curve_ensure(const char *dir, const char *name, bool *created, errbuf_t *err);

/* The CURVE key pair converted from an Ed25519 signing key: a client's
 * transport key, so that trusting its signing key trusts its connection. */
curve_t *curve_from_keys(const keys_t *keys);

/* Frees and nulls *self_p; accepts NULL. Wipes the secret. */
void curve_destroy(curve_t **self_p);

/* The 32-byte public key; borrowed, lives as long as self. */
const uint8_t *curve_public(const curve_t *self);

/* Reads a public file ("sluice-curve-public HEX") into pub (32 bytes). */
int curve_load_public(const char *path, uint8_t *pub, errbuf_t *err);

/* Hex of a public key into out (CURVE_HEX_SIZE bytes). */
void curve_hex(const uint8_t *pub, char *out);

/* Parses 64 hex digits into pub; -1 when malformed. */
int curve_from_hex(const char *hex, uint8_t *pub);

/* Makes socket (not yet bound) a CURVE server with self's key, whose peers
 * are checked by the ZAP handler under `domain`. */
void curve_set_server(const curve_t *self, zsock_t *socket, const char *domain);

/* Makes socket (not yet connected) a CURVE client with self's key that
 * accepts only a server holding the secret of server_pub. */
void curve_set_client(const curve_t *self,
                      zsock_t *socket,
                      const uint8_t *server_pub);

#endif
