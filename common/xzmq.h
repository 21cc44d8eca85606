/* xzmq — whole ZeroMQ messages, whatever signals arrive.
 *
 * A signal (SIGCHLD when a task ends, SIGTERM) can interrupt libzmq between
 * the frames of a multi-frame message. czmq's zmsg_send then drops the rest
 * of the message, and zmsg_recv drops the frames it has read, leaving the
 * rest to be read as a malformed message of its own. These retry the
 * interrupted frame instead, so a message goes out and comes in whole, or
 * (a real error, or nothing waiting) not at all. */
#ifndef SLUICE_XZMQ_H
#define SLUICE_XZMQ_H

#include <czmq.h>

/* Sends every frame of *msg_p on dest (a zsock_t or a libzmq socket) and
 * destroys it, sent or not. 0 on success; -1 with zmq_errno() set (EAGAIN:
 * the socket cannot take it now) otherwise. */
int xzmq_send(zmsg_t **msg_p, void *dest);

/* Receives one whole message from source; frames keep their metadata
 * (zframe_meta). NULL when nothing could be read (EAGAIN, a signal before
 * the first frame, the context ending). Caller owns the message. */
zmsg_t *xzmq_recv(void *source);

#endif
