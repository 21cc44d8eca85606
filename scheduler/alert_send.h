/* alert_send — delivers alerts on a thread of its own, so that a slow or
 * dead receiver never holds up the scheduler's loop.
 *
 * The loop pushes one job per alert (a copy of its target and the body to
 * send) and pops outcomes each turn; the thread never touches the store.
 * A webhook is an HTTP(S) POST through libcurl with the body's
 * HMAC-SHA256 in `X-Sluice-Signature: sha256=HEX` and the alert's id in
 * `X-Sluice-Alert-Id`; a 2xx answer is a delivery. A command target's
 * program gets the body on stdin, no shell, and must exit 0 within the
 * target's timeout (its process group is killed past it). */
#ifndef SLUICE_ALERT_SEND_H
#define SLUICE_ALERT_SEND_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/errbuf.h"

typedef struct alert_send_t alert_send_t;

/* Starts the thread; NULL with err when it cannot. */
alert_send_t *alert_send_new(errbuf_t *err);

/* Stops the thread after the delivery in progress (bounded by its
 * timeout); queued jobs are dropped, still pending in the store. */
void alert_send_destroy(alert_send_t **self_p);

/* Queues a delivery of body (copied) to target (copied) for alert id. */
void alert_send_push(alert_send_t *self,
                     uint64_t id,
                     const char *uid,
                     const config_target_t *target,
                     const char *body);

/* Takes one finished delivery: true with *id, *ok and *error (owned, NULL
 * when ok); false when none has finished. */
bool alert_send_pop(alert_send_t *self, uint64_t *id, bool *ok, char **error);

/* Delivers one alert in the caller's thread (the thread's work, and the
 * tests'): 0, or -1 with err saying what the receiver or program did. */
int alert_send_one(const config_target_t *target,
                   const char *uid,
                   const char *body,
                   errbuf_t *err);

#endif
