/* ready — a growable ring buffer of ready entries. */
#include "scheduler/ready.h"

#include <assert.h>
#include <stdlib.h>

#include "common/xalloc.h"

struct ready_t {
    limits_ready_t *ring; /* owned, cap entries */
    size_t head;          /* index of the front entry */
    size_t count;
    size_t cap;
    uint64_t seq; /* entries numbered so far */
};

ready_t *
ready_new(void)
{
    return xcalloc(1, sizeof(ready_t));
}

void
ready_destroy(ready_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    free((*self_p)->ring);
    free(*self_p);
    *self_p = NULL;
}

uint64_t
ready_next_seq(ready_t *self)
{
    return ++self->seq;
}

/* Lays the entries out flat from index 0 in a ring of `cap` entries. */
static void
s_relayout(ready_t *self, size_t cap)
{
    limits_ready_t *ring = xmalloc(cap * sizeof *ring);
    for (size_t i = 0; i < self->count; i++) {
        ring[i] = self->ring[(self->head + i) % self->cap];
    }
    free(self->ring);
    self->ring = ring;
    self->cap = cap;
    self->head = 0;
}

void
ready_push(ready_t *self, limits_ready_t entry)
{
    if (self->count == self->cap) {
        s_relayout(self, self->cap ? self->cap * 2 : 256);
    }
    self->ring[(self->head + self->count) % self->cap] = entry;
    self->count++;
}

void
ready_push_front(ready_t *self, limits_ready_t entry)
{
    if (self->count == self->cap) {
        s_relayout(self, self->cap ? self->cap * 2 : 256);
    }
    self->head = (self->head + self->cap - 1) % self->cap;
    self->ring[self->head] = entry;
    self->count++;
}

bool
ready_pop(ready_t *self, limits_ready_t *entry)
{
    if (self->count == 0) {
        return false;
    }
    *entry = self->ring[self->head];
    self->head = (self->head + 1) % self->cap;
    self->count--;
    return true;
}

size_t
ready_count(const ready_t *self)
{
    return self->count;
}

const limits_ready_t *
ready_at(const ready_t *self, size_t index)
{
    assert(index < self->count);
    return &self->ring[(self->head + index) % self->cap];
}

void
ready_order(ready_t *self, int64_t now_mono)
{
    if (self->count < 2) {
        return;
    }
    if (self->head + self->count > self->cap) {
        s_relayout(self, self->cap);
    }
    limits_order(self->ring + self->head, self->count, now_mono);
}
