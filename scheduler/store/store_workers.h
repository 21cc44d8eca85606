/* store_workers — the workers the scheduler has seen and their state.
 *
 * store_workers.c. */
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

/* What an operator decided about worker `name`: "draining", or "" when
 * nothing (a drain that is over). store_worker_upsert never changes it. */
int store_worker_set_admin(store_t *self,
                           const char *name,
                           const char *admin,
                           errbuf_t *err);

/* A worker an operator decided something about. Strings are borrowed for
 * the call. */
typedef struct {
    const char *name;
    const char *admin; /* draining (cordoned, removed: reserved) */
    const char *hostname;
    const char *public_hex; /* the signing key it last registered with */
    int64_t last_seen;      /* wall ms */
} store_worker_admin_t;

typedef int(store_admin_fn)(void *arg, const store_worker_admin_t *row);

/* Calls fn for every worker whose admin state is set, by name; fn returns
 * 0 to go on. */
int store_workers_admin(store_t *self,
                        store_admin_fn *fn,
                        void *arg,
                        errbuf_t *err);

#endif
