/* admit — who may connect: the scheduler's ZAP handler and its admission
 * decisions, backed by the store.
 *
 * Both scheduler sockets are CURVE servers; libzmq asks the ZAP handler
 * (RFC 27, inproc://zeromq.zap.01) about every CURVE client key during the
 * handshake. The handler answers from an in-memory copy of the store's
 * transport_keys table and records what it has never seen:
 *
 *   worker socket: accepted -> allowed; unknown -> recorded pending and
 *                  allowed through, but only a Register with a valid join
 *                  token is served on it (sched_keys.c); pending -> same;
 *                  rejected, revoked -> refused at the handshake.
 *   client socket: accepted client keys, and keys converted from a
 *                  signing key trusted with `sluice keys add-client`
 *                  (a client's CURVE key is derived from its client.key);
 *                  an unknown one is recorded pending (so `sluice keys
 *                  list` shows it) and refused.
 *
 * The ZAP reply's user id is the key in hex, so each message can be tied
 * to the CURVE key of its connection (zframe_meta "User-Id"). The REP
 * socket is served from the scheduler's own loop: no thread. */
#ifndef SLUICE_ADMIT_H
#define SLUICE_ADMIT_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/curve.h"
#include "common/errbuf.h"
#include "scheduler/store/store.h"

#define ADMIT_ZAP_ENDPOINT  "inproc://zeromq.zap.01"
#define ADMIT_DOMAIN_WORKER "worker"
#define ADMIT_DOMAIN_CLIENT "client"

/* Unknown keys recorded as pending at most; past it a stranger's new key is
 * refused without a trace, so a key-generating flood cannot fill the store. */
#define ADMIT_PENDING_MAX 1000

/* What a key that is not admitted does wrong (a refused token, a message
 * it may not send) is reported, in the log and as a stored event, at most
 * once per key, kind and ADMIT_REPORT_MS, with the count of what was left
 * unsaid since; at most ADMIT_REPORT_KEYS keys are tracked (past it, keys
 * share one slot), so a flood grows neither the store nor the log nor
 * memory past a fixed amount. */
#define ADMIT_REPORT_MS   60000
#define ADMIT_REPORT_KEYS 4096
/* Answers to a key that is not admitted: at most one per key per
 * ADMIT_ANSWER_MS (a worker asks again after a second at the soonest),
 * so that one that sends without reading cannot fill the
 * scheduler's send queue with refusals. */
#define ADMIT_ANSWER_MS 500

/* A join token as printed: "sjt_" + 64 hex digits, + NUL. */
#define ADMIT_TOKEN_SIZE 69

/* What ZAP answers for a key (admit_zap). */
typedef enum {
    ADMIT_DENY = 0,   /* refused at the handshake */
    ADMIT_ALLOW = 1,  /* an accepted key */
    ADMIT_PENDING = 2 /* a worker key waiting for a decision: connected,
                         but only Register with a token is served */
} admit_verdict_t;

/* admit_* results besides 0 and -1 (store failure). */
#define ADMIT_ENOTFOUND  -3 /* no key matches the fingerprint */
#define ADMIT_EAMBIGUOUS -4 /* several keys match the prefix */
#define ADMIT_EINVALID   -5 /* the decision makes no sense in its state */
#define ADMIT_ETOKEN     -6 /* unknown, expired or used-up token */
#define ADMIT_EMISMATCH  -7 /* the key is bound to another signing key */
#define ADMIT_ENAMED     -8 /* the signing key is bound to another name */
#define ADMIT_ETAKEN     -9 /* the name is bound to another signing key */

typedef struct admit_t admit_t;

/* Loads every key from store (borrowed; must outlive the result). NULL
 * with err set when the store cannot be read. */
admit_t *admit_new(store_t *store, errbuf_t *err);

/* Frees and nulls *self_p; accepts NULL. */
void admit_destroy(admit_t **self_p);

/* Binds the ZAP handler's REP socket (one per process). */
int admit_bind(admit_t *self, errbuf_t *err);

/* The REP socket, for the caller's poller; NULL before admit_bind. */
zsock_t *admit_socket(admit_t *self);

/* Answers every waiting ZAP request (bounded). Store writes happen in the
 * caller's open transaction; -1 with err set when one failed. */
int admit_serve(admit_t *self, int64_t now, errbuf_t *err);

/* The verdict for CURVE key `curve` on `domain`, recording an unknown key
 * as pending (with the peer's address). -1 with err on a store failure. */
int admit_zap(admit_t *self,
              const char *domain,
              const uint8_t *curve,
              const char *address,
              int64_t now,
              errbuf_t *err);

/* The key's state ("pending", "accepted", "rejected", "revoked"), NULL
 * when unknown. Borrowed. */
const char *admit_state(admit_t *self, const uint8_t *curve);

/* The signing key (hex) bound to a worker's CURVE key at its first
 * Register, "" when none yet. Borrowed. */
const char *admit_sign_hex(admit_t *self, const uint8_t *curve);

/* A client key's role ("viewer", "operator"), "" when none. Borrowed. */
const char *admit_role(admit_t *self, const uint8_t *curve);

/* True when `curve` is an accepted worker key bound to signing key `sign`
 * (32 bytes): the only connections whose messages a worker may send. */
bool admit_signer_ok(admit_t *self, const uint8_t *curve, const uint8_t *sign);

/* At an accepted worker's Register: binds the signing key `sign` to the
 * CURVE key (first time) and `name` (a msg_name_ok name) to the signing
 * key (first time, stored), records name and host. ADMIT_EMISMATCH when
 * the CURVE key is bound to another signing key, ADMIT_ENAMED when the
 * signing key is bound to another name, ADMIT_ETAKEN when the name is
 * bound to another signing key; err says what the operator can do. */
int admit_bind_worker(admit_t *self,
                      const uint8_t *curve,
                      const uint8_t *sign,
                      const char *name,
                      const char *host,
                      int64_t now,
                      errbuf_t *err);

/* Notes the name and host a pending worker's Register gave, for people
 * deciding on its key (written only when they changed). */
int admit_note(admit_t *self,
               const uint8_t *curve,
               const char *name,
               const char *host,
               int64_t now,
               errbuf_t *err);

/* Sets a key's kind, state and role outright (e.g. the local CLI's key:
 * client, accepted, operator), recording an event when it changed. */
int admit_set(admit_t *self,
              const uint8_t *curve,
              const char *kind,
              const char *state,
              const char *role,
              const char *by,
              int64_t now,
              errbuf_t *err);

/* An operator's decision: action "accept", "reject" or "revoke" on the key
 * whose fingerprint (or a unique prefix of it, or its hex) is `fp`. Fills
 * curve (32 bytes) with the key decided and records the event. 0, -1 on a
 * store failure, or ADMIT_ENOTFOUND / EAMBIGUOUS / EINVALID with err. */
int admit_decide(admit_t *self,
                 const char *fp,
                 const char *action,
                 const char *by,
                 int64_t now,
                 uint8_t *curve,
                 errbuf_t *err);

/* An operator's rename: the signing key bound to worker name `from` is
 * bound to `to` from now on (the worker must register as `to`). Fills
 * sign_hex (KEYS_HEX_SIZE) with that key and records the event. 0, -1 on
 * a store failure, ADMIT_ENOTFOUND (no such name) or ADMIT_EINVALID (`to`
 * is not a worker name, or is bound) with err. */
int admit_rename(admit_t *self,
                 const char *from,
                 const char *to,
                 int64_t now,
                 char *sign_hex,
                 errbuf_t *err);

/* Whether to report `kind` (e.g. "token_refused") for CURVE key `curve` now
 * (monotonic ms): true once per key and kind per window_ms, with
 * *suppressed set to the reports left out since the last one. */
bool admit_report(admit_t *self,
                  const uint8_t *curve,
                  const char *kind,
                  int64_t window_ms,
                  int64_t now,
                  uint64_t *suppressed);

/* A new join token valid for ttl_ms (0 = no expiry) and `uses` workers
 * (at least 1), written into token (ADMIT_TOKEN_SIZE bytes); only its hash
 * is stored. */
int admit_token_create(admit_t *self,
                       uint64_t ttl_ms,
                       uint32_t uses,
                       int64_t now,
                       char *token,
                       errbuf_t *err);

/* Spends one use of `token`: 0, ADMIT_ETOKEN with err saying why it was
 * refused (unknown, expired, used up), or -1 on a store failure. */
int admit_token_redeem(admit_t *self,
                       const char *token,
                       int64_t now,
                       errbuf_t *err);

#endif
