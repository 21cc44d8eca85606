/* store_keys — admission: CURVE transport keys and what was decided about
 * them, and join tokens.
 *
 * store_keys.c. */
#ifndef SLUICE_STORE_KEYS_H
#define SLUICE_STORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/store/store.h"

/* A CURVE transport key and what was decided about it. Strings are
 * borrowed ("" for none). */
typedef struct {
    const char *curve_hex; /* the CURVE public key, 64 hex digits */
    const char *kind;      /* worker, client */
    const char *state;     /* pending, accepted, rejected, revoked */
    const char *role;      /* clients: viewer, operator; else "" */
    const char *name;      /* worker name (from Register), client label */
    const char *host;      /* hostname the worker reported */
    const char *address;   /* peer IP address ZAP saw */
    const char *sign_hex;  /* the Ed25519 key bound to it at Register */
    int64_t first_seen;
    int64_t last_seen;
    int64_t decided_at;     /* 0 = never decided */
    const char *decided_by; /* "operator", "token", "scheduler" */
} store_key_row_t;

/* Inserts or replaces the key row->curve_hex (first_seen is kept). */
int store_key_put(store_t *self, const store_key_row_t *row, errbuf_t *err);

/* Calls fn for every key, oldest first; fn returns 0 to go on. */
typedef int(store_key_fn)(void *arg, const store_key_row_t *row);

int store_key_list(store_t *self, store_key_fn *fn, void *arg, errbuf_t *err);

/* Records a join token by its hash (hex); expires_at 0 = never. */
int store_token_add(store_t *self,
                    const char *hash_hex,
                    int64_t now,
                    int64_t expires_at,
                    uint32_t uses,
                    errbuf_t *err);

/* 1 and the token's expiry and remaining uses when it exists, 0 when it
 * does not, -1 with err set. */
int store_token_get(store_t *self,
                    const char *hash_hex,
                    int64_t *expires_at,
                    uint32_t *uses_left,
                    errbuf_t *err);

/* Takes one use off the token. */
int store_token_use(store_t *self, const char *hash_hex, errbuf_t *err);

/* 1 and its role when a client signing key trusted with 'sluice keys
 * add-client' (store_client_put in store_audit.h) converts to CURVE key
 * `curve` (32 bytes); 0 when none does. */
int store_key_client_role(store_t *self,
                          const uint8_t *curve,
                          char *role,
                          size_t size,
                          errbuf_t *err);

/* Worker names (migration 13): at its first admission a worker's name is
 * bound to its signing key; one name per key and one key per name at a
 * time. A binding that ends (revoke, rename) is kept with its end, so a
 * result can be checked against the key its attempt was sent to. */

/* Binds name to signing key sign_hex (64 hex digits) from now on; by says
 * who ("register", "operator"). Fails when either is bound already. */
int store_name_bind(store_t *self,
                    const char *name,
                    const char *sign_hex,
                    const char *by,
                    int64_t now,
                    errbuf_t *err);

/* Ends the binding of key sign_hex, if it has one. */
int store_name_release(store_t *self,
                       const char *sign_hex,
                       int64_t now,
                       errbuf_t *err);

/* Calls fn for every name bound now; fn returns 0 to go on. */
typedef int(store_name_fn)(void *arg, const char *name, const char *sign_hex);

int store_name_list(store_t *self, store_name_fn *fn, void *arg, errbuf_t *err);

#endif
