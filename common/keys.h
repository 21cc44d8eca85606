/* keys — Ed25519 signing keys and their files.
 *
 * A key file holds one line "sluice-ed25519-secret HEX" (the 64-byte libsodium
 * secret key) and is created 0600 with O_EXCL; a public file holds
 * "sluice-ed25519-public HEX". Loading a secret file that group or others can
 * read is refused with a message that says how to fix it. */
#ifndef SLUICE_KEYS_H
#define SLUICE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

#define KEYS_PUBLIC_SIZE 32
#define KEYS_SECRET_SIZE 64
#define KEYS_SIG_SIZE    64
#define KEYS_HEX_SIZE    (KEYS_PUBLIC_SIZE * 2 + 1) /* hex public key + NUL */
#define KEYS_FP_SIZE     24 /* "ab12:cd34:ef56:7890" + NUL */

typedef struct keys_t keys_t;

/* A fresh random key pair. Never NULL. */
keys_t *keys_generate(void);

/* Loads a secret key file; NULL with err set when missing, unreadable,
 * malformed or readable by group/others. */
keys_t *keys_load(const char *path, errbuf_t *err);

/* Writes the secret key to path (0600, refuses to overwrite) and, when
 * pub_path is not NULL, the public key beside it (0644). */
int keys_save(const keys_t *self,
              const char *path,
              const char *pub_path,
              errbuf_t *err);

/* Frees and nulls *self_p; accepts NULL. Wipes the secret. */
void keys_destroy(keys_t **self_p);

/* The 32-byte public key; borrowed, lives as long as self. */
const uint8_t *keys_public(const keys_t *self);

/* Detached Ed25519 signature of data into sig (KEYS_SIG_SIZE bytes). */
void keys_sign(const keys_t *self, const void *data, size_t size, uint8_t *sig);

/* True when sig is pub's signature of data. */
bool keys_verify(const uint8_t *pub,
                 const void *data,
                 size_t size,
                 const uint8_t *sig);

/* Hex of a public key into out (KEYS_HEX_SIZE bytes). */
void keys_public_hex(const uint8_t *pub, char *out);

/* Parses 64 hex chars into pub (KEYS_PUBLIC_SIZE bytes); -1 when bad. */
int keys_public_from_hex(const char *hex, uint8_t *pub);

/* Reads a public key file ("sluice-ed25519-public HEX"). */
int keys_load_public(const char *path, uint8_t *pub, errbuf_t *err);

/* The X25519 (CURVE) key pair of this Ed25519 key (libsodium's
 * crypto_sign_ed25519_*_to_curve25519): lets a client's one key pair both
 * sign and open its CURVE connection. 32 bytes each. */
void keys_curve_secret(const keys_t *self, uint8_t *secret_out);

/* The X25519 public key of Ed25519 public key pub; -1 when pub is not a
 * valid point. */
int keys_curve_public(const uint8_t *pub, uint8_t *out);

/* Short fingerprint people compare: first 8 bytes of BLAKE2b(pub) as
 * "ab12:cd34:ef56:7890". */
void keys_fingerprint(const uint8_t *pub, char *out);

#endif
