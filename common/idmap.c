/* idmap — see idmap.h. */
#include "common/idmap.h"

/* A 64-bit mix (MurmurHash3's finalizer): ids are sequential, buckets
 * should not be. */
static size_t
s_hash(const void *key)
{
    uint64_t x = IDMAP_ID(key);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t) x;
}

static int
s_compare(const void *a, const void *b)
{
    uint64_t x = IDMAP_ID(a), y = IDMAP_ID(b);
    return x < y ? -1 : x > y;
}

zhashx_t *
idmap_new(zhashx_destructor_fn *destructor)
{
    zhashx_t *map = zhashx_new();
    zhashx_set_key_hasher(map, s_hash);
    zhashx_set_key_comparator(map, s_compare);
    zhashx_set_key_duplicator(map, NULL);
    zhashx_set_key_destructor(map, NULL);
    zhashx_set_destructor(map, destructor);
    return map;
}
