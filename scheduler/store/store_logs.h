/* store_logs — the log chunks of attempts: appended as workers send them,
 * read back a page at a time.
 *
 * Writes in store.c, reads in store_query.c. */
#ifndef SLUICE_STORE_LOGS_H
#define SLUICE_STORE_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/store/store.h"

/* Appends one log chunk of an attempt. stream: 1 stdout, 2 stderr, 3 sluice.
 * A chunk with a seq already stored is ignored (resend after reconnect). */
int store_log_append(store_t *self,
                     uint64_t attempt_id,
                     uint64_t seq,
                     int stream,
                     int64_t wall,
                     const void *data,
                     size_t size,
                     errbuf_t *err);

/* The highest seq stored for an attempt's log (0: none). */
int store_log_last_seq(store_t *self,
                       uint64_t attempt_id,
                       uint64_t *seq,
                       errbuf_t *err);

/* One stored log chunk. */
typedef struct {
    uint64_t seq;
    int stream; /* 1 stdout, 2 stderr, 3 sluice */
    int64_t wall;
    const void *data;
    size_t size;
} store_log_row_t;

typedef int(store_log_fn)(void *arg, const store_log_row_t *chunk);

/* Calls fn for the chunks of attempt `attempt_id` with seq > after_seq, in
 * seq order, until passing the next one would exceed max_bytes of data (the
 * first chunk is always passed). *more (if not NULL) tells whether chunks
 * remain after the last one passed. */
int store_log_read(store_t *self,
                   uint64_t attempt_id,
                   uint64_t after_seq,
                   size_t max_bytes,
                   store_log_fn *fn,
                   void *arg,
                   bool *more,
                   errbuf_t *err);

#endif
