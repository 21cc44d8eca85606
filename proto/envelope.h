/* envelope — the signed frame layout every sluice message travels in.
 *
 *   [version: 2 bytes major,minor][type: 1 byte MsgType][body: protobuf]
 *   [signer: 32-byte Ed25519 public key][signature: 64 bytes]
 *
 * The signature covers version, type and body. env_open checks the layout
 * and version, verifies the signature and the signer's trust, and only then
 * decodes the body. Only proto/ touches wire bytes. */
#ifndef SLUICE_ENVELOPE_H
#define SLUICE_ENVELOPE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "common/keys.h"
#include "proto/sluice.pb-c.h"

#define ENV_MAJOR  1
#define ENV_MINOR  1
#define ENV_FRAMES 5

/* The first minor version that speaks MSG_BATCH: a peer below it gets each
 * message in its own envelope. */
#define ENV_MINOR_BATCH 1

/* Most items one batch may hold; a batch with more is malformed. */
#define ENV_BATCH_MAX 4096

/* env_open results; the negatives name the reason a message was dropped. */
#define ENV_OK         0
#define ENV_EMALFORMED -2 /* wrong frame count or sizes, unknown type */
#define ENV_EVERSION   -3 /* incompatible major version (err says both) */
#define ENV_EUNTRUSTED -4 /* signer's key is not trusted */
#define ENV_EBADSIG    -5 /* signature does not verify */
#define ENV_EDECODE    -6 /* signed, but the body does not decode */
#define ENV_EREPLAYED  -7 /* valid, but already handled: sent again */

/* Decides whether a signer is trusted; arg is the caller's context.
 * Called after the signature has verified. */
typedef bool(env_trust_fn)(void *arg, const uint8_t *signer, int type);

/* An opened message. body is owned: release it with env_msg_clear.
 * A batch (type MSG_BATCH) comes opened: items[] holds each of its
 * messages, decoded, with the batch's version, signer and signature and
 * `batch` pointing back at it; an item's own signed_bytes is NULL (see
 * env_signed). */
typedef struct env_msg_t {
    uint8_t major;
    uint8_t minor;
    int type;                         /* Sluice__MsgType */
    uint8_t signer[KEYS_PUBLIC_SIZE]; /* who signed it */
    ProtobufCMessage *body;           /* cast by type, e.g. Sluice__Task */
    uint8_t *signed_bytes; /* owned copy of version+type+body as signed */
    size_t signed_size;
    uint8_t sig[KEYS_SIG_SIZE];    /* the signature over signed_bytes */
    size_t nitems;                 /* a batch: how many items */
    struct env_msg_t *items;       /* ... owned, in the order sealed */
    const struct env_msg_t *batch; /* an item: its batch, borrowed */
} env_msg_t;

/* Packs body as message `type`, signs it with signer and returns the five
 * frames. Caller owns the result (send it with zmsg_send). */
zmsg_t *env_seal(int type, const ProtobufCMessage *body, const keys_t *signer);

/* Opens the five frames in msg (after any routing frames were popped; msg
 * stays owned by the caller). trust may be NULL to trust any valid signer.
 * Returns ENV_OK and fills out, or a negative ENV_E* with err set. */
int env_open(
    zmsg_t *msg, env_trust_fn *trust, void *arg, env_msg_t *out, errbuf_t *err);

/* Opens a message kept as signed_bytes (version, type and body exactly as
 * signed; env_msg_t.signed_bytes of an earlier env_open), signer and sig:
 * verifies first, then decodes, as env_open. out->signed_bytes stays NULL.
 * Returns ENV_OK or a negative ENV_E* with err set. */
int env_reopen(const uint8_t *signed_bytes,
               size_t size,
               const uint8_t *signer,
               const uint8_t *sig,
               env_msg_t *out,
               errbuf_t *err);

/* Frees out->body and out->signed_bytes and zeroes out; accepts an
 * already cleared msg. */
void env_msg_clear(env_msg_t *msg);

/* The bytes that the signature in msg->sig covers: msg's own, or its
 * batch's for an item (borrowed; *size set). What env_reopen takes. */
const uint8_t *env_signed(const env_msg_t *msg, size_t *size);

/* ----------------------------------------------------------------- batch
 * What one turn has ready for one peer, sealed under one signature. */
typedef struct env_batch_t env_batch_t;

env_batch_t *env_batch_new(void);

void env_batch_destroy(env_batch_t **self_p);

/* Packs body (a message of `type`, not MSG_BATCH) as the next item. */
void env_batch_add(env_batch_t *self, int type, const ProtobufCMessage *body);

/* How many items are waiting. */
size_t env_batch_count(const env_batch_t *self);

/* Seals what is waiting and empties self: one item as a plain envelope of
 * its own type, several as one MSG_BATCH envelope signed once. When
 * peer_minor is below ENV_MINOR_BATCH, each item goes in its own envelope.
 * Appends the messages (zmsg_t *, caller owns each) to out in order and
 * returns how many. */
size_t env_batch_seal(env_batch_t *self,
                      const keys_t *signer,
                      int peer_minor,
                      zlistx_t *out);

/* The protobuf descriptor for a MsgType, NULL when unknown. */
const ProtobufCMessageDescriptor *env_descriptor(int type);

/* A short lowercase name for a MsgType ("task", "result"), for logs. */
const char *env_type_name(int type);

/* A short name for an ENV_E* code ("bad signature"), for counters. */
const char *env_strerror(int code);

#endif
