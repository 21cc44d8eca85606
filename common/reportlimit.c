#include "common/reportlimit.h"

#include <czmq.h>

#include "common/xalloc.h"

struct reportlimit_t {
    zhashx_t *slots; /* "kind/who" -> slot_t, owned */
    size_t max_keys;
};

/* When one peer's kind of wrong was last reported, and what was not. */
typedef struct {
    int64_t at;
    int64_t window_ms;
    uint64_t suppressed;
} slot_t;

static void
s_slot_free(void **item)
{
    free(*item);
    *item = NULL;
}

reportlimit_t *
reportlimit_new(size_t max_keys)
{
    reportlimit_t *self = xcalloc(1, sizeof *self);
    self->slots = zhashx_new();
    zhashx_set_destructor(self->slots, s_slot_free);
    self->max_keys = max_keys;
    return self;
}

void
reportlimit_destroy(reportlimit_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy(&(*self_p)->slots);
        xfree(self_p);
    }
}

/* Forgets slots whose window has passed; true when there is room. */
static bool
s_room(reportlimit_t *self, int64_t now)
{
    if (zhashx_size(self->slots) < self->max_keys) {
        return true;
    }
    zlistx_t *old = zlistx_new();
    for (slot_t *s = zhashx_first(self->slots); s;
         s = zhashx_next(self->slots)) {
        if (now - s->at >= s->window_ms) {
            zlistx_add_end(old, (void *) zhashx_cursor(self->slots));
        }
    }
    for (const char *k = zlistx_first(old); k; k = zlistx_next(old)) {
        zhashx_delete(self->slots, k);
    }
    zlistx_destroy(&old);
    return zhashx_size(self->slots) < self->max_keys;
}

bool
reportlimit_due(reportlimit_t *self,
                const char *kind,
                const char *who,
                int64_t window_ms,
                int64_t now,
                uint64_t *suppressed)
{
    char *key = xasprintf("%s/%s", kind, who);
    slot_t *s = zhashx_lookup(self->slots, key);
    if (!s && !s_room(self, now)) {
        free(key); /* full of peers seen within their window: they share */
        key = xasprintf("%s/*", kind);
        s = zhashx_lookup(self->slots, key);
    }
    bool due = !s || now - s->at >= window_ms;
    if (!s) {
        s = xcalloc(1, sizeof *s);
        zhashx_insert(self->slots, key, s);
    }
    free(key);
    s->window_ms = window_ms;
    *suppressed = due ? s->suppressed : 0;
    if (due) {
        s->at = now;
        s->suppressed = 0;
    } else {
        s->suppressed++;
    }
    return due;
}
