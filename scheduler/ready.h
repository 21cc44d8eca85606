/* ready — the planner's queue of tasks in state queued, kept in dispatch
 * order (limits_ready_before) as entries come and go, so that taking the
 * next one costs O(log n), not a sort of the whole queue. A dispatch round
 * starts with ready_order and pops until it is done; entries pushed during
 * the round (held back, waiting for a worker, newly queued) wait for the
 * next round. Entries may be stale (the task was cancelled since); the
 * planner skips those as it pops them. */
#ifndef SLUICE_READY_H
#define SLUICE_READY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/limits.h"

typedef struct ready_t ready_t;

ready_t *ready_new(void);

void ready_destroy(ready_t **self_p);

/* A number for a new entry's `seq`: grows with every call. */
uint64_t ready_next_seq(ready_t *self);

/* Adds an entry; it takes its place in the order at the next ready_order
 * (until then ready_pop does not return it). */
void ready_push(ready_t *self, limits_ready_t entry);

/* Puts an entry popped in this round back in its place (the front, when
 * it was the last one popped). */
void ready_push_front(ready_t *self, limits_ready_t entry);

/* Takes the first entry in dispatch order as of the last ready_order;
 * false when none is left but those pushed since. */
bool ready_pop(ready_t *self, limits_ready_t *entry);

size_t ready_count(const ready_t *self);

/* Entry `index` of all ready_count entries, in no particular order (to
 * visit them all). */
const limits_ready_t *ready_at(const ready_t *self, size_t index);

/* Starts a dispatch round: entries pushed since the last call take their
 * places, and pops compare aging priorities at now_mono. */
void ready_order(ready_t *self, int64_t now_mono);

#endif
