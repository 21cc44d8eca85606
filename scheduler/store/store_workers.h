/* store_workers — the workers the scheduler has seen and their state.
 *
 * store.c. */
#ifndef SLUICE_STORE_WORKERS_H
#define SLUICE_STORE_WORKERS_H

#include <stdint.h>

#include "scheduler/store/store.h"

typedef struct {
    const char *name;
    const char *hostname;
    const char *public_hex; /* signing key, hex */
    const char *state;      /* connected, lost, gone, draining */
    uint32_t slots;
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    const char *labels; /* comma separated */
    int64_t now;        /* sets last_seen; first_seen on insert */
} store_worker_t;

/* Inserts or updates a worker by name. */
int
store_worker_upsert(store_t *self, const store_worker_t *worker, errbuf_t *err);

int store_worker_set_state(store_t *self,
                           const char *name,
                           const char *state,
                           int64_t now,
                           errbuf_t *err);

/* Marks every worker not in a final state as `lost` (used at start, before
 * workers reconnect). */
int store_workers_reset(store_t *self, int64_t now, errbuf_t *err);

#endif
