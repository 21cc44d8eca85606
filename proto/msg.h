/* msg — wire messages to and from bytes outside an envelope: what a peer
 * keeps on disk between starts (the worker's outbox records a Result).
 * Only proto/ packs and unpacks; everyone else goes through here or
 * through the envelope (envelope.h). */
#ifndef SLUICE_MSG_H
#define SLUICE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/sluice.pb-c.h"

/* Packs m into a fresh buffer and sets *len to its size (0 for a message
 * with every field unset). Caller owns the result (free); never NULL. */
uint8_t *msg_pack(const ProtobufCMessage *m, size_t *len);

/* Decodes a Result from data/len; NULL when the bytes are malformed.
 * Caller frees the result with protobuf_c_message_free_unpacked. */
Sluice__Result *msg_result_unpack(const uint8_t *data, size_t len);

/* A deep copy of task that outlives the envelope it came in (a worker
 * holds a prefetched task until a slot frees). Caller frees it with
 * protobuf_c_message_free_unpacked. */
Sluice__Task *msg_task_copy(const Sluice__Task *task);

/* The longest worker name a Register may carry. */
#define MSG_NAME_MAX 64

/* True when name is a worker name the protocol allows: 1 to MSG_NAME_MAX
 * of [A-Za-z0-9._-], so that it prints safely wherever it is shown. */
bool msg_name_ok(const char *name);

#endif
