/* xzmq — whole ZeroMQ messages, whatever signals arrive; see xzmq.h. */
#include "common/xzmq.h"

#include <errno.h>

int
xzmq_send(zmsg_t **msg_p, void *dest)
{
    void *handle = zsock_resolve(dest);
    int rc = 0;
    zframe_t *frame;
    while (rc == 0 && (frame = zmsg_pop(*msg_p))) {
        int flags = ZFRAME_REUSE | (zmsg_size(*msg_p) ? ZFRAME_MORE : 0);
        do {
            rc = zframe_send(&frame, handle, flags);
        } while (rc < 0 && zmq_errno() == EINTR);
        zframe_destroy(&frame);
    }
    zmsg_destroy(msg_p);
    return rc < 0 ? -1 : 0;
}

zmsg_t *
xzmq_recv(void *source)
{
    void *handle = zsock_resolve(source);
    zmsg_t *msg = zmsg_new();
    for (;;) {
        zframe_t *frame = zframe_recv(handle);
        if (!frame) {
            /* Past the first frame the rest is already here: finish it. */
            if (zmq_errno() == EINTR && zmsg_size(msg) > 0) {
                continue;
            }
            zmsg_destroy(&msg);
            return NULL;
        }
        bool more = zframe_more(frame);
        zmsg_append(msg, &frame);
        if (!more) {
            return msg;
        }
    }
}
