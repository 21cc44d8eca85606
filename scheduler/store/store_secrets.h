/* store_secrets — secrets as sealed boxes, never plaintext (the keys and
 * the sealing are in scheduler/secrets.h).
 *
 * store_secrets.c. */
#ifndef SLUICE_STORE_SECRETS_H
#define SLUICE_STORE_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/store/store.h"

/* Stores secret `name` as a sealed box (never plaintext; see
 * scheduler/secrets.h), replacing an older one; *replaced (if not NULL)
 * tells whether there was one. */
int store_secret_put(store_t *self,
                     const char *name,
                     const uint8_t *nonce,
                     size_t nonce_len,
                     const uint8_t *box,
                     size_t box_len,
                     int64_t now,
                     bool *replaced,
                     errbuf_t *err);

/* The sealed box of `name`: 1 when found (caller owns *nonce_p and
 * *box_p), 0 when there is no such secret, -1 with err set. */
int store_secret_get(store_t *self,
                     const char *name,
                     uint8_t **nonce_p,
                     size_t *nonce_len,
                     uint8_t **box_p,
                     size_t *box_len,
                     errbuf_t *err);

/* Removes `name`; *removed tells whether it existed. */
int
store_secret_rm(store_t *self, const char *name, bool *removed, errbuf_t *err);

/* Calls fn with each secret's name and when it was set, by name; stops
 * and returns fn's value when it is not 0. */
typedef int(store_secret_fn)(void *arg, const char *name, int64_t updated_at);

int
store_secret_list(store_t *self, store_secret_fn *fn, void *arg, errbuf_t *err);

#endif
