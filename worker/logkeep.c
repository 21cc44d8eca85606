/* logkeep — log chunks kept until their attempt's result is acknowledged;
 * see logkeep.h.
 *
 * One array in arrival order: chunks of one attempt arrive in seq order,
 * and forget compacts in place. A worker holds a handful of attempts, so
 * a linear pass is cheaper than any index. */
#include "worker/logkeep.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

struct logkeep_t {
    logkeep_chunk_t *chunks; /* owned; each data owned */
    size_t count;
    size_t cap;
    size_t bytes;
    size_t max_bytes;
    uint64_t dropped;
};

logkeep_t *
logkeep_new(size_t max_bytes)
{
    logkeep_t *self = xcalloc(1, sizeof *self);
    self->max_bytes = max_bytes;
    return self;
}

void
logkeep_destroy(logkeep_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    logkeep_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free((void *) self->chunks[i].data);
    }
    free(self->chunks);
    free(self);
    *self_p = NULL;
}

bool
logkeep_add(logkeep_t *self, const logkeep_chunk_t *chunk)
{
    assert(self && chunk && (chunk->data || chunk->size == 0));
    if (self->bytes + chunk->size > self->max_bytes) {
        self->dropped++;
        return false;
    }
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->chunks = xrealloc(self->chunks, self->cap * sizeof *self->chunks);
    }
    void *copy = xmalloc(chunk->size ? chunk->size : 1);
    memcpy(copy, chunk->data, chunk->size);
    logkeep_chunk_t *kept = &self->chunks[self->count++];
    *kept = *chunk;
    kept->data = copy;
    self->bytes += chunk->size;
    return true;
}

void
logkeep_forget(logkeep_t *self, uint64_t attempt_id)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->count; i++) {
        logkeep_chunk_t *chunk = &self->chunks[i];
        if (chunk->attempt_id == attempt_id) {
            self->bytes -= chunk->size;
            free((void *) chunk->data);
        } else {
            self->chunks[kept++] = *chunk;
        }
    }
    self->count = kept;
}

void
logkeep_each(const logkeep_t *self, logkeep_each_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->count; i++) {
        fn(arg, &self->chunks[i]);
    }
}

size_t
logkeep_count(const logkeep_t *self)
{
    return self->count;
}

size_t
logkeep_bytes(const logkeep_t *self)
{
    return self->bytes;
}

uint64_t
logkeep_dropped(const logkeep_t *self)
{
    return self->dropped;
}
