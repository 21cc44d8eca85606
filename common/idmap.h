/* idmap — a czmq hash table keyed by 64-bit ids (attempt ids, run ids)
 * kept in the key pointer itself: nothing is copied or freed for a key. */
#ifndef SLUICE_IDMAP_H
#define SLUICE_IDMAP_H

#include <czmq.h>
#include <stdint.h>

/* The key for id; IDMAP_ID turns a key (e.g. zhashx_cursor) back. */
#define IDMAP_KEY(id) ((void *) (uintptr_t) (id))
#define IDMAP_ID(key) ((uint64_t) (uintptr_t) (key))

/* An empty table; destructor frees its values (NULL: they are borrowed).
 * Caller owns it (zhashx_destroy). */
zhashx_t *idmap_new(zhashx_destructor_fn *destructor);

#endif
