/* autoscale_async — a provider whose programs may take long (a cloud API,
 * sbatch on a busy controller: up to AUTOSCALE_EXEC_TIMEOUT_MS) run on a
 * thread of their own, so the scheduler's loop never waits for them.
 *
 * It wraps a blocking provider. `up` and `down` are queued and run in
 * order on one background thread: `up` returns at once with an empty
 * handle, and the outcome comes back through the `done` op, which the
 * autoscaler polls every step. A `down` queued after an `up` of the same
 * worker runs after it, with the handle that `up` produced. `list` runs in
 * the caller's thread once the background call in progress, if any, ends
 * (it is used at start, before anything is queued). */
#ifndef SLUICE_AUTOSCALE_ASYNC_H
#define SLUICE_AUTOSCALE_ASYNC_H

#include "scheduler/autoscale/autoscale.h"

/* Takes *inner_p (nulled); NULL only if the thread cannot start (then
 * *inner_p is left to the caller). */
autoscale_provider_t *autoscale_async_new(autoscale_provider_t **inner_p,
                                          errbuf_t *err);

#endif
