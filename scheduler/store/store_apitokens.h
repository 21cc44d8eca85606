/* store_apitokens — API tokens of the HTTP API (migration 14): a name, a
 * role, an expiry and a revocation, found by the hash of the token (hex);
 * the token itself is never stored.
 *
 * store_apitokens.c. */
#ifndef SLUICE_STORE_APITOKENS_H
#define SLUICE_STORE_APITOKENS_H

#include <stdint.h>

#include "scheduler/store/store.h"

/* Longest token name, in bytes. */
#define STORE_APITOKEN_NAME_MAX 64

/* One token; a value, nothing borrowed. Times are wall ms. */
typedef struct {
    uint64_t id;
    char name[STORE_APITOKEN_NAME_MAX + 1];
    char role[16]; /* "viewer" or "operator" */
    int64_t created_at;
    int64_t expires_at;   /* 0 = never */
    int64_t revoked_at;   /* 0 = live */
    int64_t last_used_at; /* 0 = never recorded */
} store_apitoken_t;

/* Records a token by its hash (hex); name "" names it "token-ID". Fills
 * *out with the row as stored. STORE_EEXISTS when the name (or hash) is
 * taken, -1 with err set on failure. Writable connection only. */
int store_apitoken_add(store_t *self,
                       const char *name,
                       const char *role,
                       const char *hash_hex,
                       int64_t now,
                       int64_t expires_at,
                       store_apitoken_t *out,
                       errbuf_t *err);

/* Calls fn for every token, revoked ones too, by id; fn returns 0 to go
 * on. */
typedef int(store_apitoken_fn)(void *arg, const store_apitoken_t *token);

int store_apitoken_list(store_t *self,
                        store_apitoken_fn *fn,
                        void *arg,
                        errbuf_t *err);

/* 1 and *out when the token with this id (when id != 0) or else this name
 * exists, 0 when it does not, -1 with err set. */
int store_apitoken_find(store_t *self,
                        uint64_t id,
                        const char *name,
                        store_apitoken_t *out,
                        errbuf_t *err);

/* 1 and *out when a token has this hash (hex), 0 when none has, -1 with
 * err set. Only reads: works on a read-only connection. Expiry and
 * revocation are the caller's to judge (out->expires_at, revoked_at). */
int store_apitoken_by_hash(store_t *self,
                           const char *hash_hex,
                           store_apitoken_t *out,
                           errbuf_t *err);

/* Revokes token id at now; a token already revoked keeps its first
 * revocation time. STORE_ENOTFOUND when there is no such token. */
int
store_apitoken_revoke(store_t *self, uint64_t id, int64_t now, errbuf_t *err);

/* Records that token id was used at now. Writable connection only. */
int
store_apitoken_touch(store_t *self, uint64_t id, int64_t now, errbuf_t *err);

#endif
