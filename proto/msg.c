/* msg — see msg.h. */
#include "proto/msg.h"

#include <assert.h>
#include <stdlib.h>

#include "common/xalloc.h"

uint8_t *
msg_pack(const ProtobufCMessage *m, size_t *len)
{
    assert(m);
    assert(len);
    size_t size = protobuf_c_message_get_packed_size(m);
    uint8_t *bytes = xmalloc(size ? size : 1);
    *len = protobuf_c_message_pack(m, bytes);
    assert(*len == size);
    return bytes;
}

Sluice__Result *
msg_result_unpack(const uint8_t *data, size_t len)
{
    return sluice__result__unpack(NULL, len, data);
}

Sluice__Task *
msg_task_copy(const Sluice__Task *task)
{
    assert(task);
    size_t len;
    uint8_t *bytes = msg_pack(&task->base, &len);
    Sluice__Task *copy = sluice__task__unpack(NULL, len, bytes);
    free(bytes);
    assert(copy); /* what we packed ourselves decodes */
    return copy;
}

bool
msg_name_ok(const char *name)
{
    size_t n = 0;
    for (const char *p = name; p && *p; p++, n++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
                  *p == '-';
        if (!ok || n >= MSG_NAME_MAX) {
            return false;
        }
    }
    return n > 0;
}
