#include "scheduler/fleet.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/idmap.h"
#include "common/xalloc.h"

struct fleet_worker_t {
    fleet_t *fleet; /* the fleet it belongs to, borrowed: keeps its indexes */
    char *name;     /* owned */
    char *hostname; /* owned */
    char *labels;   /* owned */
    uint8_t public_key[KEYS_PUBLIC_SIZE];
    zframe_t *routing; /* owned; NULL when not connected */
    fleet_state_t state;
    uint32_t slots;
    uint32_t prefetch; /* tasks it holds beyond its slots */
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    bool draining;              /* takes no new task; leaves when idle */
    bool told_to_leave;         /* the drained worker was asked to exit */
    uint32_t reported_free;     /* free slots the worker last said */
    uint32_t sent_since_report; /* tasks sent after that report */
    int64_t last_heard;         /* monotonic ms */
    int64_t first_seen;         /* wall ms */
    zhashx_t *attempts;         /* attempt id -> fleet_slot_t, owned */
    uint32_t used_cpus;         /* held by the attempts above */
    uint64_t used_memory_mb;
    uint32_t used_gpus;
    int minor; /* protocol minor of its Register's envelope */
};

/* One attempt on a worker: what it holds, and since when the worker has
 * stopped listing it (0 = listed). */
typedef struct {
    int64_t missing_since;
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
} fleet_slot_t;

struct fleet_t {
    zhashx_t *by_name;    /* name -> fleet_worker_t, owned */
    zhashx_t *by_routing; /* routing id (hex) -> worker, borrowed */
    zhashx_t *by_key;     /* signing key (hex) -> worker, borrowed */
    /* What placement looks at, so that its cost follows the workers with
     * room, not the fleet; keyed by the worker's address, borrowed. */
    zhashx_t *with_free;     /* take work and have a free slot */
    zhashx_t *with_prefetch; /* take work and have prefetch room */
};

/* Placement picks the best of at most this many workers that fit:
 * spreading as well as a look at all of them, at a fixed cost. */
#define FLEET_PLACE_LOOK 8

static void s_refresh(fleet_worker_t *worker);

#define ID_KEY(id) IDMAP_KEY(id)

/* The longest a worker's reconnect backoff makes it wait. */
#define FLEET_RECONNECT_MS 5000

/* Index keys: routing ids and signing keys as hex text. */
#define S_ROUTING_MAX 256
#define S_HEX_SIZE    (2 * S_ROUTING_MAX + 1)

static const char *
s_hex(const uint8_t *data, size_t size, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    size = size > S_ROUTING_MAX ? S_ROUTING_MAX : size;
    for (size_t i = 0; i < size; i++) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 15];
    }
    hex[2 * size] = '\0';
    return hex;
}

/* Points the routing index at worker's new connection (NULL: none). */
static void
s_set_routing(fleet_worker_t *worker, zframe_t *routing_id)
{
    char hex[S_HEX_SIZE];
    zhashx_t *index = worker->fleet->by_routing;
    if (worker->routing) {
        const char *key = s_hex(zframe_data(worker->routing),
                                zframe_size(worker->routing), hex);
        if (zhashx_lookup(index, key) == worker) {
            zhashx_delete(index, key);
        }
        zframe_destroy(&worker->routing);
    }
    if (routing_id) {
        worker->routing = zframe_dup(routing_id);
        zhashx_update(
            index, s_hex(zframe_data(routing_id), zframe_size(routing_id), hex),
            worker);
    }
    s_refresh(worker);
}

/* Points the key index at worker for its (new) signing key. */
static void
s_set_key(fleet_worker_t *worker, const uint8_t *public_key)
{
    char hex[S_HEX_SIZE];
    zhashx_t *index = worker->fleet->by_key;
    const char *old = s_hex(worker->public_key, KEYS_PUBLIC_SIZE, hex);
    if (zhashx_lookup(index, old) == worker) {
        zhashx_delete(index, old);
    }
    memcpy(worker->public_key, public_key, KEYS_PUBLIC_SIZE);
    zhashx_update(index, s_hex(public_key, KEYS_PUBLIC_SIZE, hex), worker);
}

static void
s_worker_free(void **item)
{
    fleet_worker_t *worker = *item;
    if (!worker) {
        return;
    }
    free(worker->name);
    free(worker->hostname);
    free(worker->labels);
    zframe_destroy(&worker->routing);
    zhashx_destroy(&worker->attempts);
    free(worker);
    *item = NULL;
}

static void
s_slot_free(void **item)
{
    xfree((fleet_slot_t **) item);
}

/* Holds `need` for attempt_id on worker. */
static void
s_hold(fleet_worker_t *worker, uint64_t attempt_id, const fleet_need_t *need)
{
    fleet_slot_t *old = zhashx_lookup(worker->attempts, ID_KEY(attempt_id));
    if (old) {
        worker->used_cpus -= old->cpus;
        worker->used_memory_mb -= old->memory_mb;
        worker->used_gpus -= old->gpus;
    }
    fleet_slot_t *slot = xcalloc(1, sizeof *slot);
    if (need) {
        slot->cpus = need->cpus;
        slot->memory_mb = need->memory_mb;
        slot->gpus = need->gpus;
    }
    worker->used_cpus += slot->cpus;
    worker->used_memory_mb += slot->memory_mb;
    worker->used_gpus += slot->gpus;
    zhashx_update(worker->attempts, ID_KEY(attempt_id), slot);
    s_refresh(worker);
}

static fleet_worker_t *
s_worker_new(fleet_t *fleet, const char *name)
{
    fleet_worker_t *worker = xcalloc(1, sizeof *worker);
    worker->fleet = fleet;
    worker->name = xstrdup(name);
    worker->hostname = xstrdup("");
    worker->labels = xstrdup("");
    worker->first_seen = clock_wall_ms();
    worker->attempts = idmap_new(s_slot_free);
    return worker;
}

fleet_t *
fleet_new(void)
{
    fleet_t *self = xcalloc(1, sizeof *self);
    self->by_name = zhashx_new();
    zhashx_set_destructor(self->by_name, s_worker_free);
    self->by_routing = zhashx_new();
    self->by_key = zhashx_new();
    self->with_free = idmap_new(NULL);
    self->with_prefetch = idmap_new(NULL);
    return self;
}

void
fleet_destroy(fleet_t **self_p)
{
    fleet_t *self = *self_p;
    if (self) {
        zhashx_destroy(&self->with_free);
        zhashx_destroy(&self->with_prefetch);
        zhashx_destroy(&self->by_routing);
        zhashx_destroy(&self->by_key);
        zhashx_destroy(&self->by_name);
        free(self);
        *self_p = NULL;
    }
}

static void
s_replace(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value ? value : "");
}

fleet_worker_t *
fleet_register(fleet_t *self,
               const fleet_info_t *info,
               zframe_t *routing_id,
               int64_t now)
{
    fleet_worker_t *worker = zhashx_lookup(self->by_name, info->name);
    if (worker && worker->state == FLEET_CONNECTED &&
        memcmp(worker->public_key, info->public_key, KEYS_PUBLIC_SIZE) != 0) {
        return NULL;
    }
    if (!worker) {
        worker = s_worker_new(self, info->name);
        zhashx_insert(self->by_name, info->name, worker);
    }
    s_set_key(worker, info->public_key);
    s_replace(&worker->hostname, info->hostname);
    s_replace(&worker->labels, info->labels);
    worker->slots = info->slots;
    worker->prefetch = info->prefetch;
    worker->cpus = info->cpus;
    worker->memory_mb = info->memory_mb;
    worker->gpus = info->gpus;
    s_set_routing(worker, routing_id);
    worker->state = FLEET_CONNECTED;
    worker->last_heard = now;
    fleet_report_free(worker, info->free_slots);
    return worker;
}

fleet_worker_t *
fleet_known(fleet_t *self, const char *name, int64_t now)
{
    assert(name && *name);
    fleet_worker_t *worker = zhashx_lookup(self->by_name, name);
    if (!worker) {
        worker = s_worker_new(self, name);
        worker->state = FLEET_EXPECTED;
        worker->last_heard = now;
        zhashx_insert(self->by_name, name, worker);
    }
    return worker;
}

void
fleet_expect(fleet_t *self, const char *name, uint64_t attempt_id, int64_t now)
{
    if (!name || !*name) {
        return;
    }
    /* What it holds is unknown after a restart; slots are what count. */
    s_hold(fleet_known(self, name, now), attempt_id, NULL);
}

fleet_worker_t *
fleet_by_routing(fleet_t *self, zframe_t *routing_id)
{
    char hex[S_HEX_SIZE];
    return zhashx_lookup(self->by_routing, s_hex(zframe_data(routing_id),
                                                 zframe_size(routing_id), hex));
}

fleet_worker_t *
fleet_by_name(fleet_t *self, const char *name)
{
    return zhashx_lookup(self->by_name, name);
}

bool
fleet_key_known(fleet_t *self, const uint8_t *public_key)
{
    return fleet_by_key(self, public_key) != NULL;
}

void
fleet_heard(fleet_worker_t *worker, int64_t now)
{
    worker->last_heard = now;
}

void
fleet_report_running(fleet_worker_t *worker,
                     const uint64_t *ids,
                     size_t n,
                     int64_t now)
{
    for (fleet_slot_t *slot = zhashx_first(worker->attempts); slot;
         slot = zhashx_next(worker->attempts)) {
        const void *key = zhashx_cursor(worker->attempts);
        bool listed = false;
        for (size_t i = 0; i < n && !listed; i++) {
            listed = ID_KEY(ids[i]) == key;
        }
        if (listed) {
            slot->missing_since = 0;
        } else if (slot->missing_since == 0) {
            slot->missing_since = now;
        }
    }
}

/* True when every label the task needs is among the worker's. */
static bool
s_has_labels(const fleet_worker_t *worker, const fleet_need_t *need)
{
    for (size_t i = 0; i < need->nlabels; i++) {
        size_t len = strlen(need->labels[i]);
        const char *p = worker->labels;
        bool found = false;
        while (!found && (p = strstr(p, need->labels[i]))) {
            found = (p == worker->labels || p[-1] == ',') &&
                    (p[len] == ',' || p[len] == '\0');
            p += len;
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

/* Could the worker run the task if it were idle? (0 = not asked; a worker
 * that did not say its cpus or memory is not limited by them.) */
static bool
s_could_fit(const fleet_worker_t *worker, const fleet_need_t *need)
{
    return (!need->cpus || !worker->cpus || need->cpus <= worker->cpus) &&
           (!need->memory_mb || !worker->memory_mb ||
            need->memory_mb <= worker->memory_mb) &&
           need->gpus <= worker->gpus && s_has_labels(worker, need);
}

/* Does it fit beside what already runs there, in a free slot? */
static bool
s_fits_now(const fleet_worker_t *worker, const fleet_need_t *need)
{
    return fleet_free(worker) > 0 &&
           (!need->cpus || !worker->cpus ||
            worker->used_cpus + need->cpus <= worker->cpus) &&
           (!need->memory_mb || !worker->memory_mb ||
            worker->used_memory_mb + need->memory_mb <= worker->memory_mb) &&
           worker->used_gpus + need->gpus <= worker->gpus;
}

static bool
s_takes_work(const fleet_worker_t *worker)
{
    return worker->state == FLEET_CONNECTED && worker->routing &&
           !worker->draining;
}

/* Whether some worker that takes work, busy or not, could run it. */
static bool
s_any_could_fit(fleet_t *self, const fleet_need_t *need)
{
    for (fleet_worker_t *w = zhashx_first(self->by_name); w;
         w = zhashx_next(self->by_name)) {
        if (s_takes_work(w) && s_could_fit(w, need)) {
            return true;
        }
    }
    return false;
}

/* Says which requirement no connected worker meets. */
static void
s_never_fits(fleet_t *self, const fleet_need_t *need, char *why, size_t size)
{
    uint32_t cpus = 0, gpus = 0;
    uint64_t memory = 0;
    bool labels = false, any = false;
    for (fleet_worker_t *w = zhashx_first(self->by_name); w;
         w = zhashx_next(self->by_name)) {
        if (s_takes_work(w)) {
            any = true;
            cpus = w->cpus > cpus ? w->cpus : cpus;
            memory = w->memory_mb > memory ? w->memory_mb : memory;
            gpus = w->gpus > gpus ? w->gpus : gpus;
            labels |= s_has_labels(w, need);
        }
    }
    if (!any) {
        snprintf(why, size,
                 "no worker is connected; start one with 'sluice "
                 "worker --join ...'");
    } else if (need->gpus > gpus) {
        snprintf(why, size, "no connected worker has %u GPU%s (most: %u)",
                 need->gpus, need->gpus == 1 ? "" : "s", gpus);
    } else if (need->cpus > cpus) {
        snprintf(why, size, "no connected worker has %u cpus (most: %u)",
                 need->cpus, cpus);
    } else if (need->memory_mb > memory) {
        snprintf(why, size,
                 "no connected worker has %" PRIu64 " MB of memory "
                 "(most: %" PRIu64 " MB)",
                 need->memory_mb, memory);
    } else if (!labels) {
        snprintf(why, size,
                 "no connected worker has all the labels it asks "
                 "for; start one with --labels");
    } else {
        snprintf(why, size, "no single connected worker fits all it asks for");
    }
}

fleet_worker_t *
fleet_place(fleet_t *self, const fleet_need_t *need, char *why, size_t size)
{
    fleet_worker_t *best = NULL;
    int looked = 0;
    for (fleet_worker_t *w = zhashx_first(self->with_free);
         w && looked < FLEET_PLACE_LOOK; w = zhashx_next(self->with_free)) {
        if (!s_could_fit(w, need) || !s_fits_now(w, need)) {
            continue;
        }
        looked++;
        /* Spread: the fitting worker with the most free slots. */
        if (!best || fleet_free(w) > fleet_free(best)) {
            best = w;
        }
    }
    if (!best && s_any_could_fit(self, need)) {
        snprintf(why, size, "waiting for room on a worker that fits it");
    } else if (!best) {
        s_never_fits(self, need, why, size);
    }
    return best;
}

/* Tasks it may still be sent beyond its slots: only once our count fills
 * them (a worker that says it has no free slot while we count one is
 * stopping or draining, not busy). */
static uint32_t
s_prefetch_room(const fleet_worker_t *worker)
{
    size_t held = zhashx_size(worker->attempts);
    uint32_t cap = worker->slots + worker->prefetch;
    return held < worker->slots || held >= cap ? 0 : cap - (uint32_t) held;
}

fleet_worker_t *
fleet_place_prefetch(fleet_t *self, const fleet_need_t *need)
{
    fleet_worker_t *best = NULL;
    uint32_t best_room = 0;
    int looked = 0;
    for (fleet_worker_t *w = zhashx_first(self->with_prefetch);
         w && looked < FLEET_PLACE_LOOK; w = zhashx_next(self->with_prefetch)) {
        if (!s_could_fit(w, need)) {
            continue;
        }
        looked++;
        uint32_t room = s_prefetch_room(w);
        if (room > best_room) {
            best = w;
            best_room = room;
        }
    }
    return best;
}

void
fleet_set_prefetch(fleet_worker_t *worker, uint32_t prefetch)
{
    worker->prefetch = prefetch;
    s_refresh(worker);
}

bool
fleet_any_room(fleet_t *self)
{
    return zhashx_size(self->with_free) > 0 ||
           zhashx_size(self->with_prefetch) > 0;
}

static void
s_index(zhashx_t *index, fleet_worker_t *worker, bool in)
{
    if (in) {
        zhashx_update(index, IDMAP_KEY(worker), worker);
    } else {
        zhashx_delete(index, IDMAP_KEY(worker));
    }
}

/* Keeps worker in the placement indexes exactly while it takes work and
 * has room; every change to its state, routing, credit or attempts ends
 * here. */
static void
s_refresh(fleet_worker_t *worker)
{
    bool takes = s_takes_work(worker);
    s_index(worker->fleet->with_free, worker, takes && fleet_free(worker) > 0);
    s_index(worker->fleet->with_prefetch, worker,
            takes && s_prefetch_room(worker) > 0);
}

void
fleet_assign(fleet_worker_t *worker,
             uint64_t attempt_id,
             const fleet_need_t *need,
             int64_t now)
{
    (void) now;
    /* A fresh attempt gets a whole window before it counts as missing from
     * the worker's heartbeats. */
    s_hold(worker, attempt_id, need);
    worker->sent_since_report++;
    s_refresh(worker);
}

void
fleet_release(fleet_t *self, const char *name, uint64_t attempt_id)
{
    fleet_worker_t *worker = name ? zhashx_lookup(self->by_name, name) : NULL;
    fleet_slot_t *slot =
        worker ? zhashx_lookup(worker->attempts, ID_KEY(attempt_id)) : NULL;
    if (slot) {
        worker->used_cpus -= slot->cpus;
        worker->used_memory_mb -= slot->memory_mb;
        worker->used_gpus -= slot->gpus;
        zhashx_delete(worker->attempts, ID_KEY(attempt_id));
        s_refresh(worker);
    }
}

bool
fleet_has_attempt(fleet_worker_t *worker, uint64_t attempt_id)
{
    return zhashx_lookup(worker->attempts, ID_KEY(attempt_id)) != NULL;
}

/* How long a worker may stay silent. One expected back after a scheduler
 * restart first has to notice the silence and reconnect with backoff: it
 * gets longer. */
static int64_t
s_window(const fleet_worker_t *worker, int64_t window)
{
    return worker->state == FLEET_EXPECTED ? window * 2 + FLEET_RECONNECT_MS
                                           : window;
}

void
fleet_expire(fleet_t *self, int64_t now, int64_t window, zlistx_t *lost)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        bool live =
            worker->state == FLEET_CONNECTED || worker->state == FLEET_EXPECTED;
        if (live && now - worker->last_heard > s_window(worker, window)) {
            worker->state = FLEET_LOST;
            s_set_routing(worker, NULL);
            zlistx_add_end(lost, xstrdup(worker->name));
        }
    }
}

void
fleet_discount(fleet_t *self, int64_t ms)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        worker->last_heard += ms;
        for (fleet_slot_t *slot = zhashx_first(worker->attempts); slot;
             slot = zhashx_next(worker->attempts)) {
            if (slot->missing_since) {
                slot->missing_since += ms;
            }
        }
    }
}

int64_t
fleet_next_expiry(fleet_t *self, int64_t window)
{
    int64_t next = -1;
    for (fleet_worker_t *w = zhashx_first(self->by_name); w;
         w = zhashx_next(self->by_name)) {
        if (w->state != FLEET_CONNECTED && w->state != FLEET_EXPECTED) {
            continue;
        }
        int64_t at = w->last_heard + s_window(w, window);
        if (next < 0 || at < next) {
            next = at;
        }
    }
    return next;
}

void
fleet_attempts(fleet_t *self, const char *name, zlistx_t *ids)
{
    fleet_worker_t *worker = zhashx_lookup(self->by_name, name);
    if (worker) {
        fleet_worker_attempts(worker, ids);
    }
}

void
fleet_worker_attempts(fleet_worker_t *worker, zlistx_t *ids)
{
    for (void *v = zhashx_first(worker->attempts); v;
         v = zhashx_next(worker->attempts)) {
        zlistx_add_end(ids, (void *) zhashx_cursor(worker->attempts));
    }
}

void
fleet_overdue(fleet_t *self, int64_t now, int64_t window, zlistx_t *ids)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        if (worker->state != FLEET_CONNECTED) {
            continue;
        }
        for (fleet_slot_t *slot = zhashx_first(worker->attempts); slot;
             slot = zhashx_next(worker->attempts)) {
            if (slot->missing_since && now - slot->missing_since > window) {
                zlistx_add_end(ids, (void *) zhashx_cursor(worker->attempts));
            }
        }
    }
}

void
fleet_set_state(fleet_worker_t *worker, fleet_state_t state)
{
    worker->state = state;
    if (state != FLEET_CONNECTED) {
        s_set_routing(worker, NULL);
    }
    s_refresh(worker);
}

size_t
fleet_connected_count(fleet_t *self)
{
    size_t n = 0;
    for (fleet_worker_t *w = zhashx_first(self->by_name); w;
         w = zhashx_next(self->by_name)) {
        n += w->state == FLEET_CONNECTED;
    }
    return n;
}

fleet_worker_t *
fleet_first(fleet_t *self)
{
    return zhashx_first(self->by_name);
}

fleet_worker_t *
fleet_next(fleet_t *self)
{
    return zhashx_next(self->by_name);
}

const char *
fleet_name(const fleet_worker_t *worker)
{
    return worker->name;
}

const char *
fleet_hostname(const fleet_worker_t *worker)
{
    return worker->hostname;
}

const char *
fleet_labels(const fleet_worker_t *worker)
{
    return worker->labels;
}

const uint8_t *
fleet_public_key(const fleet_worker_t *worker)
{
    return worker->public_key;
}

zframe_t *
fleet_routing(const fleet_worker_t *worker)
{
    return worker->routing;
}

fleet_state_t
fleet_state(const fleet_worker_t *worker)
{
    return worker->state;
}

const char *
fleet_state_name(fleet_state_t state)
{
    static const char *const names[] = {"connected", "expected", "lost",
                                        "gone"};
    return state <= FLEET_GONE ? names[state] : "?";
}

uint32_t
fleet_slots(const fleet_worker_t *worker)
{
    return worker->slots;
}

void
fleet_report_free(fleet_worker_t *worker, uint32_t free_slots)
{
    worker->reported_free = free_slots;
    worker->sent_since_report = 0;
    s_refresh(worker);
}

/* Credit: what our own count allows, lowered by what the worker last said
 * (a draining or shutting-down worker says 0), minus what we sent since. */
uint32_t
fleet_free(const fleet_worker_t *worker)
{
    size_t used = zhashx_size(worker->attempts);
    uint32_t ours = used >= worker->slots ? 0 : worker->slots - (uint32_t) used;
    uint32_t theirs = worker->sent_since_report >= worker->reported_free
                          ? 0
                          : worker->reported_free - worker->sent_since_report;
    return ours < theirs ? ours : theirs;
}

uint32_t
fleet_cpus(const fleet_worker_t *worker)
{
    return worker->cpus;
}

uint64_t
fleet_memory_mb(const fleet_worker_t *worker)
{
    return worker->memory_mb;
}

uint32_t
fleet_gpus(const fleet_worker_t *worker)
{
    return worker->gpus;
}

int64_t
fleet_last_heard(const fleet_worker_t *worker)
{
    return worker->last_heard;
}

int64_t
fleet_first_seen(const fleet_worker_t *worker)
{
    return worker->first_seen;
}

void
fleet_clear_attempts(fleet_t *self)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        zhashx_purge(worker->attempts);
        worker->used_cpus = 0;
        worker->used_memory_mb = 0;
        worker->used_gpus = 0;
        s_refresh(worker);
    }
}

fleet_worker_t *
fleet_by_key(fleet_t *self, const uint8_t *public_key)
{
    char hex[S_HEX_SIZE];
    return zhashx_lookup(self->by_key,
                         s_hex(public_key, KEYS_PUBLIC_SIZE, hex));
}

void
fleet_set_routing(fleet_worker_t *worker, zframe_t *routing_id)
{
    if (!worker->routing || !zframe_eq(worker->routing, routing_id)) {
        s_set_routing(worker, routing_id);
    }
}

void
fleet_drain(fleet_worker_t *worker)
{
    worker->draining = true;
    s_refresh(worker);
}

bool
fleet_draining(const fleet_worker_t *worker)
{
    return worker->draining;
}

const char *
fleet_status(const fleet_worker_t *worker)
{
    if (worker->draining && worker->state == FLEET_CONNECTED) {
        return "draining";
    }
    if (worker->draining && worker->state == FLEET_EXPECTED) {
        return "draining (not back yet)";
    }
    return fleet_state_name(worker->state);
}

fleet_worker_t *
fleet_next_drained(fleet_t *self)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        if (worker->draining && !worker->told_to_leave &&
            worker->state == FLEET_CONNECTED && worker->routing &&
            zhashx_size(worker->attempts) == 0) {
            worker->told_to_leave = true;
            return worker;
        }
    }
    return NULL;
}

void
fleet_set_minor(fleet_worker_t *worker, int minor)
{
    worker->minor = minor;
}

int
fleet_minor(const fleet_worker_t *worker)
{
    return worker->minor;
}
