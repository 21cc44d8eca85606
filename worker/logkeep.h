/* logkeep — log chunks the scheduler may not have, kept to send again.
 *
 * A connection that drops takes the chunks queued on it along, and chunks
 * produced while the worker is disconnected cannot be sent at all. The
 * worker keeps every chunk of an attempt until the scheduler acknowledges
 * the attempt's result (chunks go out before the result on the same
 * connection, so by then it holds them all), and sends them again after
 * each Welcome; the scheduler ignores the ones it already stored. Memory
 * only: a worker that restarts loses the kept chunks, not the result. */
#ifndef SLUICE_LOGKEEP_H
#define SLUICE_LOGKEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many bytes are kept over all attempts; past it new chunks
 * are still sent once but not kept (logkeep_dropped counts them). */
#define LOGKEEP_MAX_BYTES (64u << 20)

typedef struct logkeep_t logkeep_t;

/* One kept chunk, as logkeep_each hands it out; data is borrowed. */
typedef struct {
    uint64_t attempt_id;
    uint64_t seq;
    uint32_t stream;
    int64_t wall_ms;
    const void *data;
    size_t size;
} logkeep_chunk_t;

typedef void(logkeep_each_fn)(void *arg, const logkeep_chunk_t *chunk);

/* max_bytes: the memory bound (LOGKEEP_MAX_BYTES in the worker). */
logkeep_t *logkeep_new(size_t max_bytes);

/* Frees and nulls *self_p; accepts NULL. */
void logkeep_destroy(logkeep_t **self_p);

/* Keeps a copy of chunk->data; false (and counted) when over the bound. */
bool logkeep_add(logkeep_t *self, const logkeep_chunk_t *chunk);

/* Forgets every chunk of the attempt. */
void logkeep_forget(logkeep_t *self, uint64_t attempt_id);

/* Calls fn for every kept chunk in the order they were kept (so each
 * attempt's in seq order). fn must not add or forget. */
void logkeep_each(const logkeep_t *self, logkeep_each_fn *fn, void *arg);

/* Chunks and bytes kept now. */
size_t logkeep_count(const logkeep_t *self);
size_t logkeep_bytes(const logkeep_t *self);

/* Chunks not kept because of the bound, since logkeep_new. */
uint64_t logkeep_dropped(const logkeep_t *self);

#endif
