/* outbox — results the scheduler has not acknowledged yet, kept on disk.
 *
 * One file per attempt, DIR/<attempt_id>.result, holding the packed Result
 * body. outbox_put writes it atomically (temp file, rename) before the
 * worker sends the result, so a result survives the worker process dying or
 * a lost connection (not a machine crash: see outbox.c); outbox_ack deletes
 * it. */
#ifndef SLUICE_OUTBOX_H
#define SLUICE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

typedef struct outbox_t outbox_t;

/* Called per entry by outbox_each; data is borrowed for the call. */
typedef void(outbox_each_fn)(void *arg,
                             uint64_t attempt_id,
                             const void *data,
                             size_t size);

/* Opens (creating it 0700) the outbox folder and loads what is there;
 * stale temp files are removed. NULL with err set on failure. */
outbox_t *outbox_open(const char *dir, errbuf_t *err);

/* Frees and nulls *self_p; the files stay. Accepts NULL. */
void outbox_destroy(outbox_t **self_p);

/* Stores (or replaces) the entry for attempt_id, durably. */
int outbox_put(outbox_t *self,
               uint64_t attempt_id,
               const void *data,
               size_t size,
               errbuf_t *err);

/* Deletes the entry; 0 when it was there, -1 when unknown. */
int outbox_ack(outbox_t *self, uint64_t attempt_id);

bool outbox_has(const outbox_t *self, uint64_t attempt_id);

size_t outbox_size(const outbox_t *self);

/* Calls fn for every entry, in attempt id order. fn must not put or ack. */
void outbox_each(const outbox_t *self, outbox_each_fn *fn, void *arg);

#endif
