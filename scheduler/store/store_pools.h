/* store_pools — pools: named counts of slots that tasks taking `pool:`
 * share across every worker. Only the definitions are stored; how many
 * slots are in use the planner counts from the attempts in flight.
 *
 * store_pools.c. */
#ifndef SLUICE_STORE_POOLS_H
#define SLUICE_STORE_POOLS_H

#include <stdint.h>

#include "scheduler/store/store.h"

/* One pool as stored. Strings are borrowed. */
typedef struct {
    const char *name;
    uint32_t slots;
    const char *description; /* "" when none */
    int64_t created_at;
    int64_t updated_at;
} store_pool_row_t;

/* Creates pool `name` or changes its slots and description (a NULL
 * description keeps the one stored). */
int store_pool_set(store_t *self,
                   const char *name,
                   uint32_t slots,
                   const char *description,
                   int64_t now,
                   errbuf_t *err);

/* Removes pool `name`: 1 when it was there, 0 when not, -1 with err. */
int store_pool_rm(store_t *self, const char *name, errbuf_t *err);

/* Calls fn for every pool, by name; fn returns 0 to go on. */
typedef int(store_pool_fn)(void *arg, const store_pool_row_t *row);

int store_pool_list(store_t *self, store_pool_fn *fn, void *arg, errbuf_t *err);

#endif
