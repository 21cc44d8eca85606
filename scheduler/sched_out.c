/* sched_out — what one turn of the scheduler produces, kept until the turn
 * commits: the messages to send (replies, tasks, acks, refusals), the
 * result acks batched per worker, the first store failure of a handler,
 * and the counts of dropped messages. The loop and every handler use it;
 * it calls nothing above it. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"

/* At most one drop line per kind in this interval. */
#define S_DROP_LOG_MS 10000

/* ------------------------------------------------------------- outgoing */

typedef struct {
    zsock_t *socket;     /* borrowed */
    zmsg_t *msg;         /* owned */
    uint64_t request_id; /* client replies: to answer with an error if the
                             turn fails to commit; 0 otherwise */
} s_out_t;

static void
s_out_free(void **item)
{
    s_out_t *out = *item;
    if (out) {
        zmsg_destroy(&out->msg);
        free(out);
        *item = NULL;
    }
}

static void
s_ids_free(void **item)
{
    zlistx_destroy((zlistx_t **) item);
}

void
sched_out_start(sched_t *self)
{
    self->outgoing = zlistx_new();
    zlistx_set_destructor(self->outgoing, s_out_free);
    self->acks = zhashx_new();
    zhashx_set_destructor(self->acks, s_ids_free);
}

void
sched_out_stop(sched_t *self)
{
    zlistx_destroy(&self->outgoing);
    zhashx_destroy(&self->acks);
}

void
sched_send(sched_t *self,
           zsock_t *socket,
           zframe_t *to,
           int type,
           const ProtobufCMessage *body,
           uint64_t request_id)
{
    s_out_t *out = xcalloc(1, sizeof *out);
    out->socket = socket;
    out->msg = env_seal(type, body, self->key);
    zmsg_pushmem(out->msg, zframe_data(to), zframe_size(to));
    out->request_id = request_id;
    zlistx_add_end(self->outgoing, out);
}

void
sched_refuse(sched_t *self,
             zsock_t *socket,
             zframe_t *to,
             uint32_t code,
             const char *reason)
{
    Sluice__Refuse refuse = SLUICE__REFUSE__INIT;
    refuse.code = code;
    refuse.reason = (char *) reason;
    refuse.major = ENV_MAJOR;
    refuse.minor = ENV_MINOR;
    sched_send(self, socket, to, SLUICE__MSG_TYPE__MSG_REFUSE, &refuse.base, 0);
}

Sluice__Reply *
sched_reply(uint64_t request_id, Sluice__Reply__OpCase op)
{
    Sluice__Reply *rep = xmalloc(sizeof *rep);
    sluice__reply__init(rep);
    rep->request_id = request_id;
    rep->op_case = op;
    return rep;
}

void
sched_out_flush(sched_t *self)
{
    for (s_out_t *out = zlistx_first(self->outgoing); out;
         out = zlistx_next(self->outgoing)) {
        xzmq_send(&out->msg, out->socket);
    }
    zlistx_purge(self->outgoing);
}

/* Clients get the reason instead of a reply; workers get no ack, so they
 * keep their results and send them again. */
void
sched_out_discard(sched_t *self, const errbuf_t *why)
{
    zlistx_t *failed = self->outgoing;
    self->outgoing = zlistx_new();
    zlistx_set_destructor(self->outgoing, s_out_free);
    for (s_out_t *out = zlistx_first(failed); out; out = zlistx_next(failed)) {
        if (out->request_id && out->socket == self->clients) {
            zframe_t *to = zmsg_pop(out->msg);
            Sluice__Reply *rep = api_error(out->request_id, API_E_STORE_FULL,
                                           "%s", errbuf_msg(why));
            sched_send(self, self->clients, to, SLUICE__MSG_TYPE__MSG_REPLY,
                       &rep->base, 0);
            protobuf_c_message_free_unpacked(&rep->base, NULL);
            zframe_destroy(&to);
        }
    }
    zlistx_destroy(&failed);
}

/* ---------------------------------------------------------- turn errors */

void
sched_fail_turn(sched_t *self, const errbuf_t *err)
{
    if (!self->turn_error) {
        self->turn_error = true;
        self->turn_err = *err;
    }
}

bool
sched_turn_failed(sched_t *self, errbuf_t *err)
{
    bool failed = self->turn_error;
    if (failed) {
        *err = self->turn_err;
    }
    self->turn_error = false;
    return failed;
}

/* ------------------------------------------------------------ drop log */

void
sched_drop(sched_t *self, const char *socket_name, int code, const char *detail)
{
    int slot = -code;
    if (slot < 0 || slot >= SCHED_DROP_KINDS) {
        slot = 0;
    }
    self->drops[slot]++;
    int64_t now = clock_mono_ms();
    if (now - self->drop_logged[slot] >= S_DROP_LOG_MS) {
        self->drop_logged[slot] = now;
        log_warn("dropped a message on the %s socket (%s, %" PRIu64
                 " so far): %s",
                 socket_name, env_strerror(code), self->drops[slot], detail);
    }
}

void
sched_drop_summary(const sched_t *self)
{
    char line[512] = "";
    size_t len = 0;
    for (int slot = 0; slot < SCHED_DROP_KINDS; slot++) {
        if (self->drops[slot] && len < sizeof line) {
            len += (size_t) snprintf(line + len, sizeof line - len,
                                     "%s%s %" PRIu64, len ? ", " : "",
                                     env_strerror(-slot), self->drops[slot]);
        }
    }
    if (len > 0) {
        log_info("dropped messages since start: %s", line);
    }
}

/* ------------------------------------------------------------------ acks */

void
sched_ack_later(sched_t *self, const char *worker, uint64_t attempt_id)
{
    zlistx_t *ids = zhashx_lookup(self->acks, worker);
    if (!ids) {
        ids = zlistx_new();
        zhashx_insert(self->acks, worker, ids);
    }
    zlistx_add_end(ids, (void *) (uintptr_t) attempt_id);
}

size_t
sched_take_acks(sched_t *self, const char *worker, uint64_t **ids_p)
{
    zlistx_t *ids = zhashx_lookup(self->acks, worker);
    size_t n = ids ? zlistx_size(ids) : 0;
    *ids_p = n ? xcalloc(n, sizeof **ids_p) : NULL;
    size_t i = 0;
    for (void *id = ids ? zlistx_first(ids) : NULL; id; id = zlistx_next(ids)) {
        (*ids_p)[i++] = (uint64_t) (uintptr_t) id;
    }
    zhashx_delete(self->acks, worker);
    return n;
}

void
sched_queue_acks(sched_t *self)
{
    zlistx_t *names = zhashx_keys(self->acks);
    for (const char *name = zlistx_first(names); name;
         name = zlistx_next(names)) {
        fleet_worker_t *worker = fleet_by_name(self->fleet, name);
        uint64_t *ids = NULL;
        size_t n = sched_take_acks(self, name, &ids);
        if (worker && fleet_routing(worker)) {
            Sluice__ResultAck ack = SLUICE__RESULT_ACK__INIT;
            ack.n_attempt_ids = n;
            ack.attempt_ids = ids;
            sched_send(self, self->workers, fleet_routing(worker),
                       SLUICE__MSG_TYPE__MSG_RESULT_ACK, &ack.base, 0);
        }
        /* else: it sends the results again when it is back */
        free(ids);
    }
    zlistx_destroy(&names);
}
