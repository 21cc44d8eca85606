/* outbox — results the scheduler has not acknowledged yet, kept on disk.
 *
 * One append-only journal, DIR/results.journal: outbox_put appends the
 * packed Result body before the worker sends it, outbox_ack appends a
 * tombstone. Appending to an open file costs one write(), where a file per
 * result cost a create, a rename and an unlink on the path from one task to
 * the next. A result survives the worker process dying or a lost connection
 * (not a machine crash: see outbox.c). The journal is emptied when nothing
 * is left unacknowledged and rewritten when it grows large. Results an
 * older worker left as DIR/<attempt_id>.result files are taken over. */
#ifndef SLUICE_OUTBOX_H
#define SLUICE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

/* The journal's file name inside the outbox folder. */
#define OUTBOX_JOURNAL "results.journal"

typedef struct outbox_t outbox_t;

/* Called per entry by outbox_each; data is borrowed for the call. */
typedef void(outbox_each_fn)(void *arg,
                             uint64_t attempt_id,
                             const void *data,
                             size_t size);

/* Opens (creating it 0700) the outbox folder and loads what is there: the
 * journal up to its first damaged record (a write cut short), and older
 * per-result files. NULL with err set on failure. */
outbox_t *outbox_open(const char *dir, errbuf_t *err);

/* Reads the outbox in `dir` without changing anything (a running worker
 * may own it) and calls fn for every result not acknowledged, in attempt id
 * order. 0 when there is nothing (or no outbox); -1 with err when it cannot
 * be read. */
int outbox_peek(const char *dir, outbox_each_fn *fn, void *arg, errbuf_t *err);

/* Frees and nulls *self_p; the journal stays. Accepts NULL. */
void outbox_destroy(outbox_t **self_p);

/* Stores (or replaces) the entry for attempt_id in the journal. */
int outbox_put(outbox_t *self,
               uint64_t attempt_id,
               const void *data,
               size_t size,
               errbuf_t *err);

/* Forgets the entry; 0 when it was there, -1 when unknown. */
int outbox_ack(outbox_t *self, uint64_t attempt_id);

bool outbox_has(const outbox_t *self, uint64_t attempt_id);

size_t outbox_size(const outbox_t *self);

/* Calls fn for every entry, in attempt id order. fn must not put or ack. */
void outbox_each(const outbox_t *self, outbox_each_fn *fn, void *arg);

#endif
