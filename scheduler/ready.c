/* ready — the ready queue, kept in dispatch order as entries come and go.
 *
 * Entries are grouped by class: own priority and kind of run (backfill or
 * not). Within a class the dispatch order (limits_ready_before) is simply
 * oldest first, since aging raises every entry of a class alike; so each
 * class is a binary min-heap by (queued_mono, seq), and the next entry is
 * the best of the class heads. A pop or a push costs O(log n + classes)
 * instead of sorting the whole queue every dispatch round; classes are
 * the distinct priorities queued, a handful in practice. */
#include "scheduler/ready.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

typedef struct {
    int32_t priority;
    bool backfill;
    limits_ready_t *heap; /* owned, count entries of cap */
    size_t count;
    size_t cap;
} class_t;

struct ready_t {
    class_t *classes; /* owned, by (backfill, priority); none empty */
    size_t nclasses;
    size_t cap;
    limits_ready_t *aside; /* owned: pushed since the last ready_order */
    size_t naside;
    size_t aside_cap;
    size_t count;     /* entries in all heaps and aside */
    int64_t now_mono; /* of the last ready_order: pops compare at it */
    uint64_t seq;     /* entries numbered so far */
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
    ready_t *self = *self_p;
    for (size_t i = 0; i < self->nclasses; i++) {
        free(self->classes[i].heap);
    }
    free(self->classes);
    free(self->aside);
    free(self);
    *self_p = NULL;
}

uint64_t
ready_next_seq(ready_t *self)
{
    return ++self->seq;
}

/* ---------------------------------------------------------------- heap */

static bool
s_older(const limits_ready_t *a, const limits_ready_t *b)
{
    return a->queued_mono != b->queued_mono ? a->queued_mono < b->queued_mono
                                            : a->seq < b->seq;
}

static void
s_heap_push(class_t *c, limits_ready_t entry)
{
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->heap = xrealloc(c->heap, c->cap * sizeof *c->heap);
    }
    size_t i = c->count++;
    while (i > 0 && s_older(&entry, &c->heap[(i - 1) / 2])) {
        c->heap[i] = c->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->heap[i] = entry;
}

static limits_ready_t
s_heap_pop(class_t *c)
{
    limits_ready_t top = c->heap[0];
    limits_ready_t last = c->heap[--c->count];
    size_t i = 0;
    for (;;) {
        size_t kid = 2 * i + 1;
        if (kid >= c->count) {
            break;
        }
        if (kid + 1 < c->count && s_older(&c->heap[kid + 1], &c->heap[kid])) {
            kid++;
        }
        if (!s_older(&c->heap[kid], &last)) {
            break;
        }
        c->heap[i] = c->heap[kid];
        i = kid;
    }
    if (c->count > 0) {
        c->heap[i] = last;
    }
    return top;
}

/* ------------------------------------------------------------- classes */

/* Where the class of (backfill, priority) is, or would be inserted. */
static size_t
s_class_find(const ready_t *self, bool backfill, int32_t priority, bool *found)
{
    size_t lo = 0, hi = self->nclasses;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const class_t *c = &self->classes[mid];
        if (c->backfill == backfill && c->priority == priority) {
            *found = true;
            return mid;
        }
        if (c->backfill < backfill ||
            (c->backfill == backfill && c->priority < priority)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

/* Into its class's heap, making the class when it is the first. */
static void
s_insert(ready_t *self, limits_ready_t entry)
{
    bool found;
    size_t at = s_class_find(self, entry.backfill, entry.priority, &found);
    if (!found) {
        if (self->nclasses == self->cap) {
            self->cap = self->cap ? self->cap * 2 : 4;
            self->classes =
                xrealloc(self->classes, self->cap * sizeof *self->classes);
        }
        memmove(&self->classes[at + 1], &self->classes[at],
                (self->nclasses - at) * sizeof *self->classes);
        self->classes[at] =
            (class_t){.priority = entry.priority, .backfill = entry.backfill};
        self->nclasses++;
    }
    s_heap_push(&self->classes[at], entry);
}

/* ------------------------------------------------------------- the API */

void
ready_push(ready_t *self, limits_ready_t entry)
{
    if (self->naside == self->aside_cap) {
        self->aside_cap = self->aside_cap ? self->aside_cap * 2 : 64;
        self->aside =
            xrealloc(self->aside, self->aside_cap * sizeof *self->aside);
    }
    self->aside[self->naside++] = entry;
    self->count++;
}

void
ready_push_front(ready_t *self, limits_ready_t entry)
{
    s_insert(self, entry);
    self->count++;
}

bool
ready_pop(ready_t *self, limits_ready_t *entry)
{
    size_t best = self->nclasses;
    for (size_t i = 0; i < self->nclasses; i++) {
        if (best == self->nclasses ||
            limits_ready_before(&self->classes[i].heap[0],
                                &self->classes[best].heap[0], self->now_mono)) {
            best = i;
        }
    }
    if (best == self->nclasses) {
        return false;
    }
    class_t *c = &self->classes[best];
    *entry = s_heap_pop(c);
    self->count--;
    if (c->count == 0) {
        free(c->heap);
        memmove(c, c + 1, (self->nclasses - best - 1) * sizeof *c);
        self->nclasses--;
    }
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
    for (size_t i = 0; i < self->nclasses; i++) {
        if (index < self->classes[i].count) {
            return &self->classes[i].heap[index];
        }
        index -= self->classes[i].count;
    }
    return &self->aside[index];
}

void
ready_order(ready_t *self, int64_t now_mono)
{
    for (size_t i = 0; i < self->naside; i++) {
        s_insert(self, self->aside[i]);
    }
    self->naside = 0;
    self->now_mono = now_mono;
}
