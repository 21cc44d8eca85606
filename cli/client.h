/* client — the CLI's connection to a scheduler's client socket.
 *
 * Reads the state directory (config.yaml for the endpoint, client.key to
 * sign with, scheduler.pub to pin the scheduler's signing key), connects a
 * DEALER and exchanges signed Request/Reply envelopes. */
#ifndef SLUICE_CLIENT_H
#define SLUICE_CLIENT_H

#include <stdint.h>

#include "common/errbuf.h"
#include "proto/sluice.pb-c.h"

/* How long client_call waits for the reply while no scheduler has taken
 * the connection: under 2 s, so that a verb with no scheduler to talk to
 * ends within 2 s, process start included. */
#define CLIENT_TIMEOUT_MS 1900

/* ... and once a scheduler has (CURVE handshake done): it is there, only
 * busy, so the reply is worth waiting for. */
#define CLIENT_BUSY_TIMEOUT_MS 30000

/* Why the last client_call returned NULL (client_error). */
#define CLIENT_OK       0
#define CLIENT_ETIMEOUT -1 /* no reply in time (see above) */
#define CLIENT_EREFUSED -2 /* the scheduler sent a Refuse */
#define CLIENT_EINTR    -3 /* SIGINT/SIGTERM arrived while waiting */
#define CLIENT_ESEND    -4 /* the request could not be encoded or sent */

typedef struct client_t client_t;

/* Opens a client for the state directory dir_flag (NULL: $SLUICE_DIR, else
 * ./.sluice). NULL with err set when the directory holds no keys or config
 * that can be read. Connecting never blocks: a missing scheduler shows at
 * the first client_call. */
client_t *client_open(const char *dir_flag, errbuf_t *err);

/* Frees and nulls *self_p; accepts NULL. */
void client_destroy(client_t **self_p);

/* Sends req (its request_id is overwritten) and waits up to
 * CLIENT_TIMEOUT_MS, or CLIENT_BUSY_TIMEOUT_MS once a scheduler has
 * accepted the connection, for the scheduler's reply to it. Caller owns the reply
 * (free it with protobuf_c_message_free_unpacked). NULL with err set when no
 * scheduler answered in time, the scheduler refused us, or the wait was
 * interrupted; client_error says which. */
Sluice__Reply *client_call(client_t *self, Sluice__Request *req, errbuf_t *err);

/* The state directory in use; borrowed. */
const char *client_dir(const client_t *self);

/* The endpoint dialled ("tcp://127.0.0.1:7701"); borrowed. */
const char *client_endpoint(const client_t *self);

/* CLIENT_OK after a reply, else the CLIENT_E* reason of the last call. */
int client_error(const client_t *self);

#endif
