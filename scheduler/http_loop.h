/* http_loop — how the HTTP server's threads hand a request to the
 * scheduler's loop and get the reply after the loop committed it.
 *
 * A caller thread sends a pointer to its call over an inproc socket (one
 * DEALER per thread) and waits; the loop takes calls inside its turn
 * (http_loop_take), answers them with the scheduler's request table, and
 * sends the replies only after the turn's commit (http_loop_release), as
 * it does for the CLI. A call the caller gave up on before the loop took it
 * is freed by the loop; once taken it is always answered within the turn. */
#ifndef SLUICE_HTTP_LOOP_H
#define SLUICE_HTTP_LOOP_H

#include <czmq.h>
#include <stdbool.h>

#include "common/errbuf.h"
#include "proto/sluice.pb-c.h"
#include "scheduler/http.h"

typedef struct http_loop_t http_loop_t;

/* Answers req on the loop's thread, inside its turn's transaction, for a
 * caller of the given role; actor names it in audit lines. Caller (the
 * loop) owns the reply. */
typedef Sluice__Reply *(http_loop_fn) (void *loop,
                                       const Sluice__Request *req,
                                       http_role_t role,
                                       const char *actor);

/* Binds the loop's side on an inproc endpoint of its own. NULL with err. */
http_loop_t *http_loop_new(errbuf_t *err);

/* The socket to poll for calls; borrowed. */
zsock_t *http_loop_socket(const http_loop_t *self);

/* Where callers send (http_config_t.loop_endpoint); borrowed. */
const char *http_loop_endpoint(const http_loop_t *self);

/* Takes up to max waiting calls and answers each with fn; the replies wait
 * for http_loop_release. Returns how many were taken. */
size_t
http_loop_take(http_loop_t *self, http_loop_fn *fn, void *loop, size_t max);

/* Sends the held replies: after the turn committed (failure NULL), or, when
 * it did not, an error reply saying failure to each caller instead. */
void http_loop_release(http_loop_t *self, const char *failure);

/* Frees and nulls; held replies are released with an error first. */
void http_loop_destroy(http_loop_t **self_p);

/* The caller's side, from any thread but the loop's: sends req (borrowed
 * until this returns) to the loop at endpoint and waits for the reply up
 * to timeout_ms, or until *stopping becomes true. Caller owns the reply;
 * NULL with err set when none came. */
Sluice__Reply *http_loop_call(const char *endpoint,
                              const Sluice__Request *req,
                              http_role_t role,
                              const char *actor,
                              int timeout_ms,
                              const volatile bool *stopping,
                              errbuf_t *err);

#endif
