/* peer — a stand-in worker or client for tests: a DEALER with keys of its
 * own that speaks the real protocol (CURVE transport, signed envelopes,
 * the protobuf codec) to a scheduler running in the same process.
 *
 * The scheduler has no thread of its own in a test: while a peer waits for
 * an answer it calls a driver (one turn of the scheduler) between looks at
 * its socket, so one thread plays both sides and every wait has a
 * deadline. Messages that arrive while the peer waits for another type are
 * kept, in order, for a later peer_recv. */
#ifndef SLUICE_TEST_PEER_H
#define SLUICE_TEST_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/curve.h"
#include "common/errbuf.h"
#include "common/keys.h"
#include "proto/envelope.h"
#include "proto/sluice.pb-c.h"

/* How long a test waits for an answer the scheduler owes: long enough for
 * a slow or busy machine (valgrind), short enough to fail a test soon. */
#define PEER_WAIT_MS 5000

typedef struct peer_t peer_t;

/* One step of the scheduler under test, waiting at most timeout_ms for
 * something to do; arg is what peer_set_driver was given. */
typedef void(peer_drive_fn)(void *arg, int timeout_ms);

/* A worker named `name` with a fresh signing key and CURVE key, which
 * trusts the scheduler keys a join line would give it (sched_pub: its
 * signing key, sched_curve: its CURVE key). Not connected yet. */
peer_t *peer_new_worker(const char *name,
                        const uint8_t *sched_pub,
                        const uint8_t *sched_curve);

/* The local CLI of state directory dir: signs with client.key, opens its
 * connection with the CURVE key converted from it, and trusts
 * scheduler.pub and scheduler.curve.pub. NULL with err set. */
peer_t *peer_new_client(const char *dir, errbuf_t *err);

/* Frees and nulls *self_p, with anything still kept; accepts NULL. */
void peer_destroy(peer_t **self_p);

/* Calls drive(arg, ms) whenever the peer waits. */
void peer_set_driver(peer_t *self, peer_drive_fn *drive, void *arg);

/* Connects a fresh DEALER to endpoint, closing the earlier one and
 * forgetting what it kept, as a worker does after it lost the scheduler.
 * -1 when the endpoint is malformed. */
int peer_connect(peer_t *self, const char *endpoint);

/* The peer's signing key (KEYS_PUBLIC_SIZE bytes); borrowed. */
const uint8_t *peer_public(const peer_t *self);

/* Seals body as message `type` with the peer's key and sends it. */
void peer_send(peer_t *self, int type, const ProtobufCMessage *body);

/* Seals what batch holds (emptying it) as a 1.1 peer does: several items
 * in one MSG_BATCH signed once; sends it. */
void peer_send_batch(peer_t *self, env_batch_t *batch);

/* Waits up to timeout_ms for a message of `type` signed by the trusted
 * scheduler key and returns its body (cast it by type; caller owns it:
 * protobuf_c_message_free_unpacked), or NULL when none came in time.
 * Messages of other types are kept for later calls. */
ProtobufCMessage *peer_recv(peer_t *self, int type, int timeout_ms);

/* How many MSG_BATCH envelopes the peer received (their items are kept
 * one by one, in order, for peer_recv). */
size_t peer_batches(const peer_t *self);

/* Worker: sends Register with `slots` slots (all free), the join token
 * (NULL: none) and the attempts it still runs. */
void peer_register(peer_t *self,
                   uint32_t slots,
                   const char *token,
                   const uint64_t *running,
                   size_t nrunning);

/* Worker: sends the Result of attempt_id; outcome is a Sluice__Outcome,
 * exit_code counts for OUTCOME_EXITED. Reports every slot free again. */
void peer_result(peer_t *self,
                 uint64_t attempt_id,
                 Sluice__Outcome outcome,
                 int exit_code);

/* Worker: waits up to timeout_ms until the scheduler has acknowledged the
 * Result of attempt_id, by a ResultAck or in a Task's acks (it sends them
 * on the next Task when it has one). False when it did not in time. */
bool peer_acked(peer_t *self, uint64_t attempt_id, int timeout_ms);

/* Client: sends req (its request_id is set here) and waits up to
 * timeout_ms for the reply to it. Caller owns the reply
 * (protobuf_c_message_free_unpacked); NULL when none came in time. */
Sluice__Reply *peer_call(peer_t *self, Sluice__Request *req, int timeout_ms);

#endif
