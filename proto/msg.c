/* msg — see msg.h. */
#include "proto/msg.h"

#include <assert.h>

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
