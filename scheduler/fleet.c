#include "scheduler/fleet.h"

#include <string.h>

#include "common/clock.h"
#include "common/xalloc.h"

struct fleet_worker_t {
    char *name;     /* owned */
    char *hostname; /* owned */
    char *labels;   /* owned */
    uint8_t public_key[KEYS_PUBLIC_SIZE];
    zframe_t *routing; /* owned; NULL when not connected */
    fleet_state_t state;
    uint32_t slots;
    uint32_t cpus;
    uint64_t memory_mb;
    uint32_t gpus;
    bool draining;              /* takes no new task; leaves when idle */
    bool told_to_leave;         /* the drained worker was asked to exit */
    uint32_t reported_free;     /* free slots the worker last said */
    uint32_t sent_since_report; /* tasks sent after that report */
    int64_t last_heard;         /* monotonic ms */
    int64_t first_seen;         /* wall ms */
    zhashx_t *attempts;         /* attempt id -> 1 when listed by the worker,
                                   else monotonic ms since it went missing */
};

struct fleet_t {
    zhashx_t *by_name; /* name -> fleet_worker_t, owned */
};

#define ID_KEY(id) ((void *) (uintptr_t) (id))

/* The longest a worker's reconnect backoff makes it wait. */
#define FLEET_RECONNECT_MS 5000

static size_t
s_id_hash(const void *key)
{
    uint64_t x = (uint64_t) (uintptr_t) key;
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return (size_t) (x ^ (x >> 29));
}

static int
s_id_compare(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) a, y = (uintptr_t) b;
    return x < y ? -1 : x > y;
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

static fleet_worker_t *
s_worker_new(const char *name)
{
    fleet_worker_t *worker = xcalloc(1, sizeof *worker);
    worker->name = xstrdup(name);
    worker->hostname = xstrdup("");
    worker->labels = xstrdup("");
    worker->first_seen = clock_wall_ms();
    worker->attempts = zhashx_new();
    zhashx_set_key_hasher(worker->attempts, s_id_hash);
    zhashx_set_key_comparator(worker->attempts, s_id_compare);
    zhashx_set_key_duplicator(worker->attempts, NULL);
    zhashx_set_key_destructor(worker->attempts, NULL);
    return worker;
}

fleet_t *
fleet_new(void)
{
    fleet_t *self = xcalloc(1, sizeof *self);
    self->by_name = zhashx_new();
    zhashx_set_destructor(self->by_name, s_worker_free);
    return self;
}

void
fleet_destroy(fleet_t **self_p)
{
    fleet_t *self = *self_p;
    if (self) {
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
        worker = s_worker_new(info->name);
        zhashx_insert(self->by_name, info->name, worker);
    }
    memcpy(worker->public_key, info->public_key, KEYS_PUBLIC_SIZE);
    s_replace(&worker->hostname, info->hostname);
    s_replace(&worker->labels, info->labels);
    worker->slots = info->slots;
    worker->cpus = info->cpus;
    worker->memory_mb = info->memory_mb;
    worker->gpus = info->gpus;
    zframe_destroy(&worker->routing);
    worker->routing = zframe_dup(routing_id);
    worker->state = FLEET_CONNECTED;
    worker->last_heard = now;
    fleet_report_free(worker, info->free_slots);
    return worker;
}

void
fleet_expect(fleet_t *self, const char *name, uint64_t attempt_id, int64_t now)
{
    if (!name || !*name) {
        return;
    }
    fleet_worker_t *worker = zhashx_lookup(self->by_name, name);
    if (!worker) {
        worker = s_worker_new(name);
        worker->state = FLEET_EXPECTED;
        worker->last_heard = now;
        zhashx_insert(self->by_name, name, worker);
    }
    zhashx_update(worker->attempts, ID_KEY(attempt_id), (void *) 1);
}

fleet_worker_t *
fleet_by_routing(fleet_t *self, zframe_t *routing_id)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        if (worker->routing && zframe_eq(worker->routing, routing_id)) {
            return worker;
        }
    }
    return NULL;
}

fleet_worker_t *
fleet_by_name(fleet_t *self, const char *name)
{
    return zhashx_lookup(self->by_name, name);
}

bool
fleet_key_known(fleet_t *self, const uint8_t *public_key)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        if (memcmp(worker->public_key, public_key, KEYS_PUBLIC_SIZE) == 0) {
            return true;
        }
    }
    return false;
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
    /* Values: 1 = listed last time, else the monotonic ms since which the
     * attempt has been missing (zhashx values cannot be NULL). */
    zlistx_t *keys = zlistx_new();
    for (void *v = zhashx_first(worker->attempts); v;
         v = zhashx_next(worker->attempts)) {
        zlistx_add_end(keys, (void *) zhashx_cursor(worker->attempts));
    }
    for (void *key = zlistx_first(keys); key; key = zlistx_next(keys)) {
        bool listed = false;
        for (size_t i = 0; i < n && !listed; i++) {
            listed = ID_KEY(ids[i]) == key;
        }
        intptr_t since = (intptr_t) zhashx_lookup(worker->attempts, key);
        if (listed) {
            since = 1;
        } else if (since == 1) {
            since = (intptr_t) now;
        }
        zhashx_update(worker->attempts, key, (void *) since);
    }
    zlistx_destroy(&keys);
}

fleet_worker_t *
fleet_pick(fleet_t *self)
{
    fleet_worker_t *best = NULL;
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        if (worker->state == FLEET_CONNECTED && worker->routing &&
            !worker->draining && fleet_free(worker) > 0 &&
            (!best || fleet_free(worker) > fleet_free(best))) {
            best = worker;
        }
    }
    return best;
}

void
fleet_assign(fleet_worker_t *worker, uint64_t attempt_id, int64_t now)
{
    (void) now;
    /* 1 = "listed": a fresh attempt gets a whole window before it counts
     * as missing from the worker's heartbeats. */
    zhashx_update(worker->attempts, ID_KEY(attempt_id), (void *) 1);
    worker->sent_since_report++;
}

void
fleet_release(fleet_t *self, const char *name, uint64_t attempt_id)
{
    fleet_worker_t *worker = name ? zhashx_lookup(self->by_name, name) : NULL;
    if (worker) {
        zhashx_delete(worker->attempts, ID_KEY(attempt_id));
    }
}

bool
fleet_has_attempt(fleet_worker_t *worker, uint64_t attempt_id)
{
    return zhashx_lookup(worker->attempts, ID_KEY(attempt_id)) != NULL;
}

void
fleet_expire(fleet_t *self, int64_t now, int64_t window, zlistx_t *lost)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        bool live =
            worker->state == FLEET_CONNECTED || worker->state == FLEET_EXPECTED;
        /* A worker expected back after a scheduler restart first has to
         * notice the silence and reconnect with backoff: give it longer. */
        int64_t limit = worker->state == FLEET_EXPECTED
                            ? window * 2 + FLEET_RECONNECT_MS
                            : window;
        if (live && now - worker->last_heard > limit) {
            worker->state = FLEET_LOST;
            zframe_destroy(&worker->routing);
            zlistx_add_end(lost, xstrdup(worker->name));
        }
    }
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
        for (void *v = zhashx_first(worker->attempts); v;
             v = zhashx_next(worker->attempts)) {
            intptr_t since = (intptr_t) v;
            if (since > 1 && now - since > window) {
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
        zframe_destroy(&worker->routing);
    }
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
    }
}

fleet_worker_t *
fleet_by_key(fleet_t *self, const uint8_t *public_key)
{
    for (fleet_worker_t *worker = zhashx_first(self->by_name); worker;
         worker = zhashx_next(self->by_name)) {
        if (memcmp(worker->public_key, public_key, KEYS_PUBLIC_SIZE) == 0) {
            return worker;
        }
    }
    return NULL;
}

void
fleet_set_routing(fleet_worker_t *worker, zframe_t *routing_id)
{
    if (!worker->routing || !zframe_eq(worker->routing, routing_id)) {
        zframe_destroy(&worker->routing);
        worker->routing = zframe_dup(routing_id);
    }
}

void
fleet_drain(fleet_worker_t *worker)
{
    worker->draining = true;
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
