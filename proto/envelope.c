/* envelope — seal and open the five signed frames of every sluice message.
 *
 * env_open never hands untrusted bytes to the protobuf decoder: it checks
 * the layout, the version, the signature and the signer first. */
#include "proto/envelope.h"

#include <assert.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"

/* Largest body we accept (and seal without a warning): bounds the memory a
 * peer can make us copy and decode. */
#define ENV_MAX_BODY (16u * 1024 * 1024)
#define S_HEAD_SIZE  3 /* major, minor, type: the signed prefix */

/* One row per MsgType: its log name and the body's descriptor. */
typedef struct {
    int type;
    const char *name;
    const ProtobufCMessageDescriptor *descriptor;
} s_type_t;

static const s_type_t s_types[] = {
    {SLUICE__MSG_TYPE__MSG_REGISTER, "register", &sluice__register__descriptor},
    {SLUICE__MSG_TYPE__MSG_WELCOME, "welcome", &sluice__welcome__descriptor},
    {SLUICE__MSG_TYPE__MSG_HEARTBEAT, "heartbeat",
     &sluice__heartbeat__descriptor},
    {SLUICE__MSG_TYPE__MSG_TASK, "task", &sluice__task__descriptor},
    {SLUICE__MSG_TYPE__MSG_LOG, "log", &sluice__log_chunk__descriptor},
    {SLUICE__MSG_TYPE__MSG_RESULT, "result", &sluice__result__descriptor},
    {SLUICE__MSG_TYPE__MSG_RESULT_ACK, "result_ack",
     &sluice__result_ack__descriptor},
    {SLUICE__MSG_TYPE__MSG_CANCEL, "cancel", &sluice__cancel__descriptor},
    {SLUICE__MSG_TYPE__MSG_GOODBYE, "goodbye", &sluice__goodbye__descriptor},
    {SLUICE__MSG_TYPE__MSG_REFUSE, "refuse", &sluice__refuse__descriptor},
    {SLUICE__MSG_TYPE__MSG_TASK_REFUSED, "task_refused",
     &sluice__task_refused__descriptor},
    {SLUICE__MSG_TYPE__MSG_REQUEST, "request", &sluice__request__descriptor},
    {SLUICE__MSG_TYPE__MSG_REPLY, "reply", &sluice__reply__descriptor},
};

#define S_TYPE_COUNT (sizeof s_types / sizeof s_types[0])

static const s_type_t *
s_type_find(int type)
{
    for (size_t i = 0; i < S_TYPE_COUNT; i++) {
        if (s_types[i].type == type) {
            return &s_types[i];
        }
    }
    return NULL;
}

zmsg_t *
env_seal(int type, const ProtobufCMessage *body, const keys_t *signer)
{
    assert(body);
    assert(signer);
    assert(type >= 0 && type <= UINT8_MAX);
    assert(body->descriptor == env_descriptor(type));
    size_t body_size = protobuf_c_message_get_packed_size(body);
    if (body_size > ENV_MAX_BODY) {
        log_warn("sealing a %s message of %zu bytes; receivers refuse bodies "
                 "over %u bytes",
                 env_type_name(type), body_size, ENV_MAX_BODY);
    }
    /* One buffer holds exactly the signed bytes: version, type, body. */
    uint8_t *signed_bytes = xmalloc(S_HEAD_SIZE + body_size);
    signed_bytes[0] = ENV_MAJOR;
    signed_bytes[1] = ENV_MINOR;
    signed_bytes[2] = (uint8_t) type;
    protobuf_c_message_pack(body, signed_bytes + S_HEAD_SIZE);
    uint8_t sig[KEYS_SIG_SIZE];
    keys_sign(signer, signed_bytes, S_HEAD_SIZE + body_size, sig);

    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, signed_bytes, 2);
    zmsg_addmem(msg, signed_bytes + 2, 1);
    zmsg_addmem(msg, signed_bytes + S_HEAD_SIZE, body_size);
    zmsg_addmem(msg, keys_public(signer), KEYS_PUBLIC_SIZE);
    zmsg_addmem(msg, sig, KEYS_SIG_SIZE);
    free(signed_bytes);
    return msg;
}

/* The version frame comes first and is two bytes in every version, so a
 * peer with another major is told so even if its layout changed. */
static int
s_check_version(zmsg_t *msg, env_msg_t *out, errbuf_t *err)
{
    zframe_t *version = zmsg_first(msg);
    if (!version || zframe_size(version) != 2) {
        return 0; /* the layout check reports it */
    }
    out->major = zframe_data(version)[0];
    out->minor = zframe_data(version)[1];
    if (out->major != ENV_MAJOR) {
        errbuf_set(err,
                   "peer speaks protocol %u.%u, this sluice speaks %d.%d; "
                   "upgrade the older side",
                   out->major, out->minor, ENV_MAJOR, ENV_MINOR);
        return ENV_EVERSION;
    }
    return 0;
}

/* Frame count and sizes; on success frames[] holds the five frames. */
static int
s_check_layout(zmsg_t *msg, zframe_t **frames, errbuf_t *err)
{
    static const size_t sizes[ENV_FRAMES] = {2, 1, 0, KEYS_PUBLIC_SIZE,
                                             KEYS_SIG_SIZE};
    static const char *const names[ENV_FRAMES] = {"version", "type", "body",
                                                  "signer", "signature"};
    size_t count = zmsg_size(msg);
    if (count != ENV_FRAMES) {
        errbuf_set(err, "message has %zu frames, a sluice envelope has %d",
                   count, ENV_FRAMES);
        return ENV_EMALFORMED;
    }
    frames[0] = zmsg_first(msg);
    for (int i = 1; i < ENV_FRAMES; i++) {
        frames[i] = zmsg_next(msg);
    }
    for (int i = 0; i < ENV_FRAMES; i++) {
        size_t size = zframe_size(frames[i]);
        bool bad = i == 2 ? size > ENV_MAX_BODY : size != sizes[i];
        if (bad) {
            errbuf_set(err, "%s frame has %zu bytes, which is not allowed",
                       names[i], size);
            return ENV_EMALFORMED;
        }
    }
    return 0;
}

/* Verifies the signature over version||type||body with the signer frame;
 * keeps the signed bytes and the signature in out (a Result is stored with
 * them, so it can be verified again later). */
static int
s_check_signature(zframe_t **frames, env_msg_t *out, errbuf_t *err)
{
    size_t body_size = zframe_size(frames[2]);
    uint8_t *signed_bytes = xmalloc(S_HEAD_SIZE + body_size);
    memcpy(signed_bytes, zframe_data(frames[0]), 2);
    memcpy(signed_bytes + 2, zframe_data(frames[1]), 1);
    if (body_size > 0) {
        memcpy(signed_bytes + S_HEAD_SIZE, zframe_data(frames[2]), body_size);
    }
    bool ok = keys_verify(zframe_data(frames[3]), signed_bytes,
                          S_HEAD_SIZE + body_size, zframe_data(frames[4]));
    out->signed_bytes = signed_bytes;
    out->signed_size = S_HEAD_SIZE + body_size;
    memcpy(out->sig, zframe_data(frames[4]), KEYS_SIG_SIZE);
    if (!ok) {
        char fp[KEYS_FP_SIZE];
        keys_fingerprint(zframe_data(frames[3]), fp);
        errbuf_set(err, "signature does not verify for signer %s", fp);
        return ENV_EBADSIG;
    }
    return 0;
}

/* Trust and type are checked only after the signature holds; then decode. */
static int
s_decode(zframe_t *body,
         env_trust_fn *trust,
         void *arg,
         env_msg_t *out,
         errbuf_t *err)
{
    if (trust && !trust(arg, out->signer, out->type)) {
        char fp[KEYS_FP_SIZE];
        keys_fingerprint(out->signer, fp);
        errbuf_set(err, "%s message signed by untrusted key %s",
                   env_type_name(out->type), fp);
        return ENV_EUNTRUSTED;
    }
    const ProtobufCMessageDescriptor *descriptor = env_descriptor(out->type);
    if (!descriptor) {
        errbuf_set(err, "unknown message type %d", out->type);
        return ENV_EMALFORMED;
    }
    out->body = protobuf_c_message_unpack(descriptor, NULL, zframe_size(body),
                                          zframe_data(body));
    if (!out->body) {
        errbuf_set(err, "%s message is signed but its body does not decode",
                   env_type_name(out->type));
        return ENV_EDECODE;
    }
    return ENV_OK;
}

int
env_open(
    zmsg_t *msg, env_trust_fn *trust, void *arg, env_msg_t *out, errbuf_t *err)
{
    assert(msg);
    assert(out);
    memset(out, 0, sizeof *out);
    zframe_t *frames[ENV_FRAMES];
    int rc = s_check_version(msg, out, err);
    if (rc == 0) {
        rc = s_check_layout(msg, frames, err);
    }
    if (rc == 0) {
        rc = s_check_signature(frames, out, err);
    }
    if (rc == 0) {
        out->type = zframe_data(frames[1])[0];
        memcpy(out->signer, zframe_data(frames[3]), KEYS_PUBLIC_SIZE);
        rc = s_decode(frames[2], trust, arg, out, err);
    }
    if (rc != ENV_OK) {
        /* Keep the version: the caller answers a mismatch with Refuse. */
        uint8_t major = out->major, minor = out->minor;
        env_msg_clear(out);
        out->major = major;
        out->minor = minor;
    }
    return rc;
}

int
env_reopen(const uint8_t *signed_bytes,
           size_t size,
           const uint8_t *signer,
           const uint8_t *sig,
           env_msg_t *out,
           errbuf_t *err)
{
    assert(out);
    memset(out, 0, sizeof *out);
    if (!signed_bytes || !signer || !sig || size < S_HEAD_SIZE ||
        size - S_HEAD_SIZE > ENV_MAX_BODY) {
        errbuf_set(err, "stored message has %zu bytes, which is not allowed",
                   size);
        return ENV_EMALFORMED;
    }
    if (!keys_verify(signer, signed_bytes, size, sig)) {
        char fp[KEYS_FP_SIZE];
        keys_fingerprint(signer, fp);
        errbuf_set(err, "signature does not verify for signer %s", fp);
        return ENV_EBADSIG;
    }
    if (signed_bytes[0] != ENV_MAJOR) {
        errbuf_set(err, "stored message speaks protocol %u.%u, not %d.x",
                   signed_bytes[0], signed_bytes[1], ENV_MAJOR);
        return ENV_EVERSION;
    }
    out->major = signed_bytes[0];
    out->minor = signed_bytes[1];
    out->type = signed_bytes[2];
    memcpy(out->signer, signer, KEYS_PUBLIC_SIZE);
    memcpy(out->sig, sig, KEYS_SIG_SIZE);
    const ProtobufCMessageDescriptor *descriptor = env_descriptor(out->type);
    out->body =
        descriptor
            ? protobuf_c_message_unpack(descriptor, NULL, size - S_HEAD_SIZE,
                                        signed_bytes + S_HEAD_SIZE)
            : NULL;
    if (!out->body) {
        errbuf_set(err, "stored %s message is signed but does not decode",
                   env_type_name(out->type));
        env_msg_clear(out);
        return descriptor ? ENV_EDECODE : ENV_EMALFORMED;
    }
    return ENV_OK;
}

void
env_msg_clear(env_msg_t *msg)
{
    if (!msg) {
        return;
    }
    if (msg->body) {
        protobuf_c_message_free_unpacked(msg->body, NULL);
    }
    free(msg->signed_bytes);
    memset(msg, 0, sizeof *msg);
}

const ProtobufCMessageDescriptor *
env_descriptor(int type)
{
    const s_type_t *row = s_type_find(type);
    return row ? row->descriptor : NULL;
}

const char *
env_type_name(int type)
{
    const s_type_t *row = s_type_find(type);
    return row ? row->name : "unknown";
}

const char *
env_strerror(int code)
{
    switch (code) {
        case ENV_OK:
            return "ok";
        case ENV_EMALFORMED:
            return "malformed";
        case ENV_EVERSION:
            return "version mismatch";
        case ENV_EUNTRUSTED:
            return "untrusted signer";
        case ENV_EBADSIG:
            return "bad signature";
        case ENV_EDECODE:
            return "undecodable body";
        case ENV_EREPLAYED:
            return "replayed";
        default:
            return "unknown error";
    }
}
