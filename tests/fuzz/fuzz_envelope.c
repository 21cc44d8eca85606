/* fuzz_envelope — libFuzzer target for env_open, the envelope decoder.
 *
 * Input layout (so that mutations move frame boundaries, not just bytes):
 *   byte 0         mode: bit 7 set = "signed", else "raw"
 *   raw:    the rest is split into frames, each [len: 1 byte][len bytes]
 *           (a short last frame takes what is left)
 *   signed: byte 1 is the message type, the rest is a body; the target
 *           signs version||type||body with its own key, so env_open gets
 *           past the signature and hands the body to protobuf-c.
 * Both paths must return a code, never crash, leak or read out of bounds;
 * a message that opens must be one of the known types. */
#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "common/keys.h"
#include "proto/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static keys_t *s_key;

static bool
s_trust(void *arg, const uint8_t *signer, int type)
{
    (void) arg;
    (void) type;
    return signer[0] != 0; /* some signers trusted, some not */
}

static zmsg_t *
s_raw(const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new();
    size_t at = 0;
    while (at < size && zmsg_size(msg) < 16) {
        size_t len = data[at++];
        if (len > size - at) {
            len = size - at;
        }
        zmsg_addmem(msg, data + at, len);
        at += len;
    }
    return msg;
}

static zmsg_t *
s_signed(const uint8_t *data, size_t size)
{
    if (!s_key) {
        assert(sodium_init() >= 0);
        s_key = keys_generate();
    }
    uint8_t type = size > 0 ? data[0] : 0;
    const uint8_t *body = size > 1 ? data + 1 : NULL;
    size_t body_size = size > 1 ? size - 1 : 0;
    uint8_t *signed_bytes = malloc(3 + body_size);
    assert(signed_bytes);
    signed_bytes[0] = ENV_MAJOR;
    signed_bytes[1] = ENV_MINOR;
    signed_bytes[2] = type;
    if (body_size) {
        memcpy(signed_bytes + 3, body, body_size);
    }
    uint8_t sig[KEYS_SIG_SIZE];
    keys_sign(s_key, signed_bytes, 3 + body_size, sig);
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, signed_bytes, 2);
    zmsg_addmem(msg, signed_bytes + 2, 1);
    zmsg_addmem(msg, body, body_size);
    zmsg_addmem(msg, keys_public(s_key), KEYS_PUBLIC_SIZE);
    zmsg_addmem(msg, sig, sizeof sig);
    free(signed_bytes);
    return msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    zmsg_t *msg = data[0] & 0x80 ? s_signed(data + 1, size - 1)
                                 : s_raw(data + 1, size - 1);
    env_msg_t out;
    errbuf_t err;
    errbuf_clear(&err);
    int rc = env_open(msg, data[0] & 1 ? s_trust : NULL, NULL, &out, &err);
    if (rc == ENV_OK) {
        assert(out.body);
        assert(env_descriptor(out.type) == out.body->descriptor);
        /* What opened must pack again: the decoder gave us a sane tree. */
        size_t packed = protobuf_c_message_get_packed_size(out.body);
        uint8_t *buf = malloc(packed + 1);
        assert(buf);
        assert(protobuf_c_message_pack(out.body, buf) == packed);
        free(buf);
    } else {
        assert(!out.body);
        assert(errbuf_msg(&err)[0] != '\0');
    }
    env_msg_clear(&out);
    zmsg_destroy(&msg);
    return 0;
}
