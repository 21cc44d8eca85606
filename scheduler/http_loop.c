/* http_loop — HTTP threads' requests answered by the scheduler's loop.
 * See http_loop.h. */
#include "scheduler/http_loop.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "scheduler/api.h"

/* A call's life: the caller may give up only while it is PENDING; once
 * the loop TOOK it, the loop answers it in the same turn. */
enum {
    S_PENDING,
    S_TOOK,
    S_ANSWERED,
    S_ABANDONED
};

typedef struct {
    const Sluice__Request *req; /* borrowed from the caller */
    http_role_t role;
    char actor[128];
    Sluice__Reply *rep; /* owned until handed to the caller */
    atomic_int state;
} s_call_t;

typedef struct {
    zframe_t *to; /* owned: the caller's routing id */
    s_call_t *call;
} s_held_t;

struct http_loop_t {
    zsock_t *sock;  /* owned ROUTER on inproc */
    char *endpoint; /* owned */
    s_held_t *held; /* owned: answered this turn, not yet sent */
    size_t nheld;
    size_t cap;
};

static atomic_uint s_instances;

http_loop_t *
http_loop_new(errbuf_t *err)
{
    http_loop_t *self = xcalloc(1, sizeof *self);
    self->endpoint =
        xasprintf("inproc://sluice-http-%u", atomic_fetch_add(&s_instances, 1));
    self->sock = zsock_new(ZMQ_ROUTER);
    if (!self->sock || zsock_bind(self->sock, "%s", self->endpoint) < 0) {
        errbuf_set(err, "cannot bind the HTTP server's loop socket %s",
                   self->endpoint);
        http_loop_destroy(&self);
        return NULL;
    }
    return self;
}

zsock_t *
http_loop_socket(const http_loop_t *self)
{
    return self->sock;
}

const char *
http_loop_endpoint(const http_loop_t *self)
{
    return self->endpoint;
}

static void
s_hold(http_loop_t *self, zframe_t **to_p, s_call_t *call)
{
    if (self->nheld == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 8;
        self->held = xrealloc(self->held, self->cap * sizeof *self->held);
    }
    self->held[self->nheld++] = (s_held_t){*to_p, call};
    *to_p = NULL;
}

static void
s_call_free(s_call_t *call)
{
    if (call->rep) {
        protobuf_c_message_free_unpacked(&call->rep->base, NULL);
    }
    free(call);
}

size_t
http_loop_take(http_loop_t *self, http_loop_fn *fn, void *loop, size_t max)
{
    size_t taken = 0;
    while (taken < max && (zsock_events(self->sock) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv(self->sock);
        zframe_t *to = msg ? zmsg_pop(msg) : NULL;
        zframe_t *ptr = msg ? zmsg_pop(msg) : NULL;
        zmsg_destroy(&msg);
        if (!to || !ptr || zframe_size(ptr) != sizeof(s_call_t *)) {
            zframe_destroy(&to); /* only our own threads reach inproc */
            zframe_destroy(&ptr);
            continue;
        }
        s_call_t *call;
        memcpy(&call, zframe_data(ptr), sizeof call);
        zframe_destroy(&ptr);
        int pending = S_PENDING;
        if (!atomic_compare_exchange_strong(&call->state, &pending, S_TOOK)) {
            s_call_free(call); /* its caller gave up */
            zframe_destroy(&to);
            continue;
        }
        call->rep = fn(loop, call->req, call->role, call->actor);
        s_hold(self, &to, call);
        taken++;
    }
    return taken;
}

void
http_loop_release(http_loop_t *self, const char *failure)
{
    for (size_t i = 0; i < self->nheld; i++) {
        s_call_t *call = self->held[i].call;
        if (failure) {
            uint64_t id = call->req->request_id;
            protobuf_c_message_free_unpacked(&call->rep->base, NULL);
            call->rep = api_error(id, API_E_INTERNAL, "%s", failure);
        }
        atomic_store(&call->state, S_ANSWERED);
        zmsg_t *msg = zmsg_new();
        zmsg_append(msg, &self->held[i].to);
        zmsg_addmem(msg, &call, sizeof call);
        zmsg_send(&msg, self->sock);
    }
    self->nheld = 0;
}

void
http_loop_destroy(http_loop_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    http_loop_t *self = *self_p;
    http_loop_release(self, "the scheduler is stopping");
    free(self->held);
    zsock_destroy(&self->sock);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/* ------------------------------------------------------------ caller */

/* Each caller thread has one DEALER to the loop, closed when the thread
 * ends. */
static pthread_key_t s_sock_key;
static pthread_once_t s_sock_once = PTHREAD_ONCE_INIT;

static void
s_sock_free(void *sock)
{
    zsock_destroy((zsock_t **) &sock);
}

static void
s_sock_key_make(void)
{
    pthread_key_create(&s_sock_key, s_sock_free);
}

static zsock_t *
s_thread_sock(const char *endpoint)
{
    pthread_once(&s_sock_once, s_sock_key_make);
    zsock_t *sock = pthread_getspecific(s_sock_key);
    if (!sock) {
        sock = zsock_new_dealer(endpoint);
        pthread_setspecific(s_sock_key, sock);
    }
    return sock;
}

/* Waits for this call's pointer to come back; pointers of calls given up
 * earlier on this thread may come first and are skipped (never touched:
 * the loop freed them). true when it came. */
static bool
s_wait(zsock_t *sock,
       s_call_t *call,
       int timeout_ms,
       const volatile bool *stopping)
{
    int64_t end = clock_mono_ms() + timeout_ms;
    zsock_set_rcvtimeo(sock, 100);
    for (;;) {
        zframe_t *ptr = zframe_recv(sock);
        if (ptr) {
            bool mine = zframe_size(ptr) == sizeof call &&
                        memcmp(zframe_data(ptr), &call, sizeof call) == 0;
            zframe_destroy(&ptr);
            if (mine) {
                return true;
            }
            continue;
        }
        if (clock_mono_ms() < end && !(stopping && *stopping)) {
            continue;
        }
        int pending = S_PENDING;
        if (atomic_compare_exchange_strong(&call->state, &pending,
                                           S_ABANDONED)) {
            return false; /* the loop frees it when it reads it */
        }
        /* Taken: the loop answers within its turn. */
        end = clock_mono_ms() + 1000;
        stopping = NULL;
    }
}

Sluice__Reply *
http_loop_call(const char *endpoint,
               const Sluice__Request *req,
               http_role_t role,
               const char *actor,
               int timeout_ms,
               const volatile bool *stopping,
               errbuf_t *err)
{
    zsock_t *sock = s_thread_sock(endpoint);
    if (!sock) {
        errbuf_set(err, "cannot reach the scheduler's loop");
        return NULL;
    }
    s_call_t *call = xcalloc(1, sizeof *call);
    call->req = req;
    call->role = role;
    snprintf(call->actor, sizeof call->actor, "%s", actor ? actor : "http");
    atomic_init(&call->state, S_PENDING);
    zframe_t *ptr = zframe_new(&call, sizeof call);
    if (zframe_send(&ptr, sock, 0) < 0) {
        zframe_destroy(&ptr);
        free(call);
        errbuf_set(err, "cannot reach the scheduler's loop");
        return NULL;
    }
    if (!s_wait(sock, call, timeout_ms, stopping)) {
        errbuf_set(err,
                   "the scheduler did not answer within %d s; it may be "
                   "overloaded or stopping, try again",
                   timeout_ms / 1000);
        return NULL; /* the loop frees an abandoned call */
    }
    Sluice__Reply *rep = call->rep;
    call->rep = NULL;
    s_call_free(call);
    return rep;
}
