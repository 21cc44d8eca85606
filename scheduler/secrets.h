/* secrets — values a DAG uses as `{{ secret.NAME }}` in env: sealed at rest,
 * opened only to build a Task message, and masked in stored logs.
 *
 * At rest each value is a libsodium secretbox (XSalsa20-Poly1305) under a
 * 32-byte key in DIR/secrets.key (0600, created on the first `secret set`;
 * refused when group or others can read it). The store holds only the
 * nonce and the box. Plaintext lives in memory just long enough to render
 * a Task's env, and in the maskers of attempts that use it. */
#ifndef SLUICE_SECRETS_H
#define SLUICE_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "scheduler/store/store.h"

#define SECRETS_KEY_FILE   "secrets.key"
#define SECRETS_KEY_SIZE   32
#define SECRETS_NONCE_SIZE 24
#define SECRETS_MASK       "***"
typedef struct secrets_t secrets_t;

/* ------------------------------------------------------------ the vault */

/* The secrets of state directory `dir` over `store` (borrowed, must
 * outlive the result). Loads DIR/secrets.key when it exists, refusing one
 * that group or others can read (with the chmod that fixes it); without
 * one, the key is created by the first secrets_set. NULL with err set. */
secrets_t *secrets_open(const char *dir, store_t *store, errbuf_t *err);

/* Wipes the key, frees and nulls *self_p; accepts NULL. */
void secrets_destroy(secrets_t **self_p);

/* Seals value (len bytes, no NUL inside, 1..SECRETS_VALUE_MAX) and stores
 * it as `name` inside the caller's transaction. *replaced says whether an
 * older value was overwritten. -1 with err set (bad name, bad value, no
 * key file could be made, store error). */
int secrets_set(secrets_t *self,
                const char *name,
                const void *value,
                size_t len,
                int64_t now,
                bool *replaced,
                errbuf_t *err);

/* The plaintext of `name`, NUL-terminated; caller owns it and frees it
 * with secrets_free. NULL with err set: "secret 'X' is not set; set it
 * with 'sluice secret set X'", or why it cannot be opened. */
char *secrets_get(secrets_t *self, const char *name, errbuf_t *err);

/* Wipes and frees a value from secrets_get; nulls *value_p. */
void secrets_free(char **value_p);

/* Removes `name`; -1 with err when there is no such secret. */
int secrets_rm(secrets_t *self, const char *name, errbuf_t *err);

/* -------------------------------------------------------------- crypto */

/* Seals len bytes with key: fills nonce (SECRETS_NONCE_SIZE random bytes)
 * and returns the box (len + crypto_secretbox_MACBYTES bytes, caller
 * owns, *box_len set). */
uint8_t *secrets_seal(const uint8_t *key,
                      const void *value,
                      size_t len,
                      uint8_t *nonce,
                      size_t *box_len);

/* Opens a box sealed by secrets_seal: the plaintext NUL-terminated (caller
 * owns; free with secrets_free), *len set when len is not NULL. NULL with
 * err set when the key is wrong or the box was changed. */
char *secrets_open_box(const uint8_t *key,
                       const uint8_t *nonce,
                       const uint8_t *box,
                       size_t box_len,
                       size_t *len,
                       errbuf_t *err);

/* ------------------------------------------------------------- masking */

/* Replaces each secret value in a log stream by SECRETS_MASK. A value
 * split across two chunks is still masked: the end of a chunk that could
 * be the start of a value is held back and masked with the next chunk of
 * the same stream (or returned by secrets_mask_flush when the attempt
 * ends). Each stream (1 stdout, 2 stderr, 3 notes) is masked apart. */
typedef struct secrets_mask_t secrets_mask_t;

secrets_mask_t *secrets_mask_new(void);

/* Wipes the values, frees and nulls *self_p; accepts NULL. */
void secrets_mask_destroy(secrets_mask_t **self_p);

/* Adds a value to mask (copied; empty values are ignored). */
void secrets_mask_add(secrets_mask_t *self, const char *value);

/* Number of values to mask. */
size_t secrets_mask_count(const secrets_mask_t *self);

/* Masks the next chunk of `stream`: returns the bytes to store now (caller
 * owns, *out_len set, possibly 0), which may include bytes held back from
 * the previous chunk and hold back some of this one. */
uint8_t *secrets_mask(secrets_mask_t *self,
                      unsigned stream,
                      const void *data,
                      size_t len,
                      size_t *out_len);

/* What is still held back for `stream` (caller owns, *out_len set,
 * possibly 0): call when the attempt ends. */
uint8_t *
secrets_mask_flush(secrets_mask_t *self, unsigned stream, size_t *out_len);

#endif
