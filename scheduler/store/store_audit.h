/* store_audit — client keys and their roles, signed results kept with their
 * attempts, and the hash chain of the event table (see store_event).
 *
 * store_audit.c. */
#ifndef SLUICE_STORE_AUDIT_H
#define SLUICE_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/store/store.h"

/* A BLAKE2b-256 hash as lowercase hex, with its NUL. */
#define STORE_HASH_HEX 65

/* Trusts client key public_hex (64 hex chars) with role "viewer" or
 * "operator"; a known key gets the new role (and name, unless ""). *replaced
 * (if not NULL) tells whether the key was known. */
int store_client_put(store_t *self,
                     const char *public_hex,
                     const char *role,
                     const char *name,
                     int64_t now,
                     bool *replaced,
                     errbuf_t *err);

/* The role of client key public_hex copied into role (size bytes): 1 when
 * the key is known, 0 when not, -1 with err set. */
int store_client_role(store_t *self,
                      const char *public_hex,
                      char *role,
                      size_t size,
                      errbuf_t *err);

/* The key of the client named `name` ("local CLI") into public_hex (65
 * bytes): 1 when there is one, 0 when not, -1 with err set. */
int store_client_by_name(store_t *self,
                         const char *name,
                         char *public_hex,
                         errbuf_t *err);

/* Forgets client key public_hex (it is no longer trusted). */
int store_client_remove(store_t *self, const char *public_hex, errbuf_t *err);

/* Keeps the signed Result of attempt `attempt_id`: the bytes exactly as
 * signed (version, type, body), the signature and the signer's key (hex).
 * The first one stored stays: a later one changes nothing. */
int store_attempt_sign(store_t *self,
                       uint64_t attempt_id,
                       const void *signed_bytes,
                       size_t size,
                       const uint8_t *sig,
                       const char *signer_hex,
                       errbuf_t *err);

/* How a Result stands against the one kept with its attempt: none kept
 * (or one by another signer); one by the same signer under another
 * signature (its worker sending it again, in a batch of its own each
 * time); the very signature (a replay or a resend). */
#define STORE_KEPT_NONE  0
#define STORE_KEPT_OTHER 1
#define STORE_KEPT_SAME  2

/* STORE_KEPT_* for a Result of attempt `attempt_id` signed with sig by
 * signer_hex, or -1 with err set. */
int store_attempt_kept(store_t *self,
                       uint64_t attempt_id,
                       const uint8_t *sig,
                       const char *signer_hex,
                       errbuf_t *err);

/* 1 when the signature stored with attempt `attempt_id` is sig (the same
 * Result again: a replay or a resend), 0 when not, -1 with err set. */
int store_attempt_sig_matches(store_t *self,
                              uint64_t attempt_id,
                              const uint8_t *sig,
                              errbuf_t *err);

/* One attempt with what is stored of its signed Result; signed_bytes and
 * sig are NULL (sizes 0) when none is. Pointers are borrowed for the call. */
typedef struct {
    uint64_t attempt_id;
    const char *task_id;
    uint32_t number;
    const char *worker;
    const uint8_t *signed_bytes;
    size_t signed_size;
    const uint8_t *sig;
    size_t sig_size;
    const char *signer_hex; /* "" when none */
    const char *worker_hex; /* the signing key bound to `worker` when the
                               attempt was sent; "" when none is known */
} store_signed_row_t;

typedef int(store_signed_fn)(void *arg, const store_signed_row_t *row);

/* Calls fn for every attempt of run `run_id`, by id; STORE_ENOTFOUND when
 * there is no such run. fn must not call the store. */
int store_run_signed(store_t *self,
                     uint64_t run_id,
                     store_signed_fn *fn,
                     void *arg,
                     errbuf_t *err);

/* The chain hash of an event row: BLAKE2b-256 over the previous row's hash
 * (hex) and this row's fields, as hex into out (STORE_HASH_HEX bytes). */
void store_event_hash(const char *prev_hex,
                      int64_t at,
                      const char *actor,
                      const char *kind,
                      const char *subject,
                      const char *detail,
                      char *out);

/* What a walk of the event chain found. */
typedef struct {
    uint64_t events;    /* rows read */
    uint64_t unchained; /* rows from before the chain began (schema < 5) */
    uint64_t first_bad; /* id of the first changed, inserted or deleted
                           row; 0 when the chain is intact */
    char problem[256];  /* what is wrong with it, "" when intact */
} store_chain_t;

/* Walks the event table in id order and checks every link. 0 with *out
 * filled (intact or not), -1 with err set when the store cannot be read. */
int store_events_verify(store_t *self, store_chain_t *out, errbuf_t *err);

#endif
