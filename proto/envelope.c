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
    {SLUICE__MSG_TYPE__MSG_BATCH, "batch", &sluice__batch__descriptor},
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

/* The five frames of one message whose body is already packed. */
static zmsg_t *
s_seal_packed(int type,
              const uint8_t *body,
              size_t body_size,
              const keys_t *signer)
{
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
    if (body_size > 0) {
        memcpy(signed_bytes + S_HEAD_SIZE, body, body_size);
    }
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

/* body packed into a new buffer (caller frees); *size set. */
static uint8_t *
s_pack(const ProtobufCMessage *body, size_t *size)
{
    *size = protobuf_c_message_get_packed_size(body);
    uint8_t *data = xmalloc(*size ? *size : 1);
    protobuf_c_message_pack(body, data);
    return data;
}

zmsg_t *
env_seal(int type, const ProtobufCMessage *body, const keys_t *signer)
{
    assert(body);
    assert(signer);
    assert(type >= 0 && type <= UINT8_MAX);
    assert(body->descriptor == env_descriptor(type));
    size_t size;
    uint8_t *data = s_pack(body, &size);
    zmsg_t *msg = s_seal_packed(type, data, size, signer);
    free(data);
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

/* One item of an opened batch: its type must be a known message other
 * than a batch, its signer trusted for that type, its body decodable. */
static int
s_open_item(const Sluice__BatchItem *src,
            env_trust_fn *trust,
            void *arg,
            const env_msg_t *batch,
            env_msg_t *item,
            errbuf_t *err)
{
    item->major = batch->major;
    item->minor = batch->minor;
    item->type = (int) src->type;
    memcpy(item->signer, batch->signer, KEYS_PUBLIC_SIZE);
    memcpy(item->sig, batch->sig, KEYS_SIG_SIZE);
    item->batch = batch;
    const ProtobufCMessageDescriptor *descriptor =
        src->type == SLUICE__MSG_TYPE__MSG_BATCH ? NULL
                                                 : env_descriptor(item->type);
    if (!descriptor) {
        errbuf_set(err, "batch holds an item of type %u, which is not allowed",
                   src->type);
        return ENV_EMALFORMED;
    }
    if (trust && !trust(arg, batch->signer, item->type)) {
        char fp[KEYS_FP_SIZE];
        keys_fingerprint(batch->signer, fp);
        errbuf_set(err, "batch holds a %s message, which key %s may not send",
                   env_type_name(item->type), fp);
        return ENV_EUNTRUSTED;
    }
    item->body = protobuf_c_message_unpack(descriptor, NULL, src->body.len,
                                           src->body.data);
    if (!item->body) {
        errbuf_set(err, "batch holds a %s message that does not decode",
                   env_type_name(item->type));
        return ENV_EDECODE;
    }
    return ENV_OK;
}

/* Decodes every item of a verified batch; one bad item refuses it whole. */
static int
s_open_items(env_trust_fn *trust, void *arg, env_msg_t *out, errbuf_t *err)
{
    const Sluice__Batch *batch = (const Sluice__Batch *) out->body;
    if (batch->n_items == 0 || batch->n_items > ENV_BATCH_MAX) {
        errbuf_set(err, "batch holds %zu items; a batch holds 1 to %d",
                   batch->n_items, ENV_BATCH_MAX);
        return ENV_EMALFORMED;
    }
    out->items = xcalloc(batch->n_items, sizeof *out->items);
    out->nitems = batch->n_items;
    for (size_t i = 0; i < batch->n_items; i++) {
        int rc =
            s_open_item(batch->items[i], trust, arg, out, &out->items[i], err);
        if (rc != ENV_OK) {
            return rc;
        }
    }
    return ENV_OK;
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
    return out->type == SLUICE__MSG_TYPE__MSG_BATCH
               ? s_open_items(trust, arg, out, err)
               : ENV_OK;
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
    int rc = out->type == SLUICE__MSG_TYPE__MSG_BATCH
                 ? s_open_items(NULL, NULL, out, err)
                 : ENV_OK;
    if (rc != ENV_OK) {
        env_msg_clear(out);
    }
    return rc;
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
    for (size_t i = 0; i < msg->nitems; i++) {
        env_msg_clear(&msg->items[i]);
    }
    free(msg->items);
    free(msg->signed_bytes);
    memset(msg, 0, sizeof *msg);
}

const uint8_t *
env_signed(const env_msg_t *msg, size_t *size)
{
    assert(msg);
    const env_msg_t *holder = msg->batch ? msg->batch : msg;
    *size = holder->signed_size;
    return holder->signed_bytes;
}

/* ----------------------------------------------------------------- batch */

typedef struct {
    int type;
    uint8_t *body; /* packed, owned */
    size_t size;
} s_item_t;

struct env_batch_t {
    zlistx_t *items; /* s_item_t, owned, in the order added */
};

static void
s_item_free(void **item_p)
{
    s_item_t *item = *item_p;
    if (item) {
        free(item->body);
        free(item);
        *item_p = NULL;
    }
}

env_batch_t *
env_batch_new(void)
{
    env_batch_t *self = xcalloc(1, sizeof *self);
    self->items = zlistx_new();
    zlistx_set_destructor(self->items, s_item_free);
    return self;
}

void
env_batch_destroy(env_batch_t **self_p)
{
    if (self_p && *self_p) {
        zlistx_destroy(&(*self_p)->items);
        free(*self_p);
        *self_p = NULL;
    }
}

void
env_batch_add(env_batch_t *self, int type, const ProtobufCMessage *body)
{
    assert(self);
    assert(type != SLUICE__MSG_TYPE__MSG_BATCH);
    assert(body->descriptor == env_descriptor(type));
    s_item_t *item = xcalloc(1, sizeof *item);
    item->type = type;
    item->body = s_pack(body, &item->size);
    zlistx_add_end(self->items, item);
}

size_t
env_batch_count(const env_batch_t *self)
{
    assert(self);
    return zlistx_size(self->items);
}

/* The waiting items as one Batch body (caller frees); *size set. */
static uint8_t *
s_pack_batch(env_batch_t *self, size_t *size)
{
    size_t n = zlistx_size(self->items);
    Sluice__BatchItem *items = xcalloc(n, sizeof *items);
    Sluice__BatchItem **ptrs = xcalloc(n, sizeof *ptrs);
    size_t i = 0;
    for (s_item_t *it = zlistx_first(self->items); it;
         it = zlistx_next(self->items), i++) {
        sluice__batch_item__init(&items[i]);
        items[i].type = (uint32_t) it->type;
        items[i].body.data = it->body;
        items[i].body.len = it->size;
        ptrs[i] = &items[i];
    }
    Sluice__Batch batch = SLUICE__BATCH__INIT;
    batch.n_items = n;
    batch.items = ptrs;
    uint8_t *data = s_pack(&batch.base, size);
    free(ptrs);
    free(items);
    return data;
}

size_t
env_batch_seal(env_batch_t *self,
               const keys_t *signer,
               int peer_minor,
               zlistx_t *out)
{
    assert(self);
    assert(signer);
    size_t n = zlistx_size(self->items);
    bool one_batch =
        n > 1 && n <= ENV_BATCH_MAX && peer_minor >= ENV_MINOR_BATCH;
    if (one_batch) {
        size_t size;
        uint8_t *body = s_pack_batch(self, &size);
        zlistx_add_end(out, s_seal_packed(SLUICE__MSG_TYPE__MSG_BATCH, body,
                                          size, signer));
        free(body);
    } else {
        for (s_item_t *it = zlistx_first(self->items); it;
             it = zlistx_next(self->items)) {
            zlistx_add_end(out,
                           s_seal_packed(it->type, it->body, it->size, signer));
        }
    }
    zlistx_purge(self->items);
    return one_batch ? 1 : n;
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
