/* ready — the planner's queue of tasks in state queued: a ring of
 * limits_ready_t entries, put in dispatch order by limits_order. Entries
 * may be stale (the task was cancelled since); the planner skips those as
 * it pops them. */
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

/* Adds an entry at the back. */
void ready_push(ready_t *self, limits_ready_t entry);

/* Puts an entry back at the front, where it was popped from. */
void ready_push_front(ready_t *self, limits_ready_t entry);

/* Takes the entry at the front; false when the queue is empty. */
bool ready_pop(ready_t *self, limits_ready_t *entry);

size_t ready_count(const ready_t *self);

/* The entry `index` places from the front; index < ready_count. */
const limits_ready_t *ready_at(const ready_t *self, size_t index);

/* Sorts the queue into dispatch order (limits_order at now_mono). */
void ready_order(ready_t *self, int64_t now_mono);

#endif
