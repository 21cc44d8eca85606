/* fleet — the workers the scheduler knows: identity, routing, credit and
 * liveness.
 *
 * Credit: a worker has `slots`; the scheduler counts the attempts it sent
 * there and has not had a result for, and never sends more than the slots,
 * nor more than the free slots the worker last reported (minus what it sent
 * since). Prefetch: a worker that says so holds up to `prefetch` more,
 * started as its slots free; they are placed only where no free slot fits.
 * Liveness (Paranoid Pirate): a worker not heard from for the liveness
 * window is lost. An attempt a live worker stops listing in its heartbeats
 * for a whole window is lost too (it never arrived, or the worker restarted).
 * Times here are monotonic ms. */
#ifndef SLUICE_FLEET_H
#define SLUICE_FLEET_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/keys.h"

typedef struct fleet_t fleet_t;
typedef struct fleet_worker_t fleet_worker_t;

typedef enum {
    FLEET_CONNECTED = 0,
    FLEET_EXPECTED, /* known from the store after a restart, not yet back */
    FLEET_LOST,
    FLEET_GONE, /* said goodbye */
} fleet_state_t;

/* What a worker says about itself at registration. */
typedef struct {
    const char *name;
    const char *hostname;
    const uint8_t *public_key; /* KEYS_PUBLIC_SIZE bytes */
    uint32_t slots;
    uint32_t free_slots; /* free right now, as the worker says */
    uint32_t prefetch;   /* tasks it holds beyond its slots (0: none) */
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    const char *labels; /* comma separated, may be "" */
} fleet_info_t;

fleet_t *fleet_new(void);

void fleet_destroy(fleet_t **self_p);

/* Registers (or re-registers) a worker reached through routing_id (copied).
 * Returns NULL when the name is held by a connected worker with another
 * key. */
fleet_worker_t *fleet_register(fleet_t *self,
                               const fleet_info_t *info,
                               zframe_t *routing_id,
                               int64_t now);

/* The worker called `name`, made a placeholder (FLEET_EXPECTED) when it
 * is not known yet: after a restart, one the store says something about.
 * It is lost if it does not come back within the liveness window. */
fleet_worker_t *fleet_known(fleet_t *self, const char *name, int64_t now);

/* A placeholder for a worker that had attempt_id running before a restart;
 * it is lost if it does not come back within the liveness window. */
void
fleet_expect(fleet_t *self, const char *name, uint64_t attempt_id, int64_t now);

fleet_worker_t *fleet_by_routing(fleet_t *self, zframe_t *routing_id);

fleet_worker_t *fleet_by_name(fleet_t *self, const char *name);

/* True when some registered worker signs with this key. */
bool fleet_key_known(fleet_t *self, const uint8_t *public_key);

/* Forgets every attempt assignment (before a reload from the store). */
void fleet_clear_attempts(fleet_t *self);

/* The worker that signs with this key, or NULL. */
fleet_worker_t *fleet_by_key(fleet_t *self, const uint8_t *public_key);

/* The worker's connection changed (ZeroMQ reconnected it): reach it
 * through routing_id (copied) from now on. */
void fleet_set_routing(fleet_worker_t *worker, zframe_t *routing_id);

/* The worker says how many slots it has free (Register, Heartbeat,
 * Result, TaskRefused); credit never exceeds it. */
void fleet_report_free(fleet_worker_t *worker, uint32_t free_slots);

/* Any message from the worker: it is alive. */
void fleet_heard(fleet_worker_t *worker, int64_t now);

/* The worker listed these attempts as running (heartbeat, register). */
void fleet_report_running(fleet_worker_t *worker,
                          const uint64_t *ids,
                          size_t n,
                          int64_t now);

/* What a task asks for; 0 = not asked. Labels are borrowed. */
typedef struct {
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    size_t nlabels;
    const char *const *labels;
} fleet_need_t;

/* The worker to run a task on: one that takes work, has every label, room
 * for its cpus, memory and GPUs beside what runs there, and a free slot;
 * of the first few such (FLEET_PLACE_LOOK), the one with the most free
 * slots (spread, at a cost that does not grow with the fleet). NULL when
 * none fits
 * now, with the reason in why: busy workers, or no connected worker that
 * could ever fit it (and which requirement). Never overcommits. */
fleet_worker_t *
fleet_place(fleet_t *self, const fleet_need_t *need, char *why, size_t size);

/* The worker to hold a task in its prefetch window: one that takes work,
 * could run the task once idle and has room beyond its slots; of the first
 * few such, the one with the most room. Ask only when fleet_place found no free
 * slot. NULL when none. */
fleet_worker_t *fleet_place_prefetch(fleet_t *self, const fleet_need_t *need);

/* How many tasks the worker holds beyond its slots from now on: what its
 * heartbeat offers, or 0 after it gave a task back (until it offers again). */
void fleet_set_prefetch(fleet_worker_t *worker, uint32_t prefetch);

/* True when some worker that takes work has a free slot or prefetch room. */
bool fleet_any_room(fleet_t *self);

/* The attempt now holds a slot and `need` (may be NULL) on worker. */
void fleet_assign(fleet_worker_t *worker,
                  uint64_t attempt_id,
                  const fleet_need_t *need,
                  int64_t now);

/* Forgets an attempt (result in, lost, refused). Accepts unknown ids. */
void fleet_release(fleet_t *self, const char *name, uint64_t attempt_id);

/* True when the attempt is assigned to this worker. */
bool fleet_has_attempt(fleet_worker_t *worker, uint64_t attempt_id);

/* Marks workers not heard from within `window` ms as lost; appends their
 * names (owned strings) to `lost`. Their attempts stay assigned until the
 * caller releases them. */
void fleet_expire(fleet_t *self, int64_t now, int64_t window, zlistx_t *lost);

/* Time the scheduler itself did not run (paused, starved of CPU, stuck on
 * a slow disk) is not the workers' silence: moves every live worker's last
 * heard time, and every missing attempt's, `ms` later. */
void fleet_discount(fleet_t *self, int64_t ms);

/* Monotonic ms at which the first live worker's window ends (what
 * fleet_expire uses), or -1 when no worker is live. */
int64_t fleet_next_expiry(fleet_t *self, int64_t window);

/* Appends (as uintptr_t) attempts of `name` — all of them, for a lost
 * worker. */
void fleet_attempts(fleet_t *self, const char *name, zlistx_t *ids);

/* Appends (as uintptr_t) attempts a live worker has not listed for longer
 * than window. */
void fleet_overdue(fleet_t *self, int64_t now, int64_t window, zlistx_t *ids);

void fleet_set_state(fleet_worker_t *worker, fleet_state_t state);

/* Draining: the worker gets no new task and is asked to leave once idle.
 * It stays draining across reconnects; the scheduler stores it, so that it
 * also stays draining across a restart until it has left. */
void fleet_drain(fleet_worker_t *worker);

bool fleet_draining(const fleet_worker_t *worker);

/* What `sluice workers` shows: the state, or "draining" (with "(not back
 * yet)" for a draining worker expected after a restart). */
const char *fleet_status(const fleet_worker_t *worker);

/* A connected draining worker with nothing running that has not been asked
 * to leave yet (marks it asked), or NULL. */
fleet_worker_t *fleet_next_drained(fleet_t *self);

/* Workers connected now. */
size_t fleet_connected_count(fleet_t *self);

/* Iteration for status replies and heartbeats: NULL after the last. */
fleet_worker_t *fleet_first(fleet_t *self);

fleet_worker_t *fleet_next(fleet_t *self);

const char *fleet_name(const fleet_worker_t *worker);

const char *fleet_hostname(const fleet_worker_t *worker);

const char *fleet_labels(const fleet_worker_t *worker);

const uint8_t *fleet_public_key(const fleet_worker_t *worker);

/* Borrowed; NULL for a worker that is not connected. */
zframe_t *fleet_routing(const fleet_worker_t *worker);

fleet_state_t fleet_state(const fleet_worker_t *worker);

const char *fleet_state_name(fleet_state_t state);

uint32_t fleet_slots(const fleet_worker_t *worker);

uint32_t fleet_free(const fleet_worker_t *worker);

uint32_t fleet_cpus(const fleet_worker_t *worker);

uint64_t fleet_memory_mb(const fleet_worker_t *worker);

uint32_t fleet_gpus(const fleet_worker_t *worker);

/* Monotonic ms the worker was last heard from. */
int64_t fleet_last_heard(const fleet_worker_t *worker);

/* Wall ms of first registration in this scheduler's life. */
int64_t fleet_first_seen(const fleet_worker_t *worker);

/* Attempt ids assigned to the worker, appended as uintptr_t. */
void fleet_worker_attempts(fleet_worker_t *worker, zlistx_t *ids);

/* The protocol minor version the worker speaks (its Register's envelope):
 * what the scheduler may send it, e.g. batches from ENV_MINOR_BATCH on. */
void fleet_set_minor(fleet_worker_t *worker, int minor);

int fleet_minor(const fleet_worker_t *worker);

#endif
