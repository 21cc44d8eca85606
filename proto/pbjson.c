#include "proto/pbjson.h"

#include <stdint.h>
#include <stdio.h>

static void s_json_value(json_t *json,
                         const ProtobufCFieldDescriptor *field,
                         const void *member);

static size_t
s_json_elem_size(const ProtobufCFieldDescriptor *field)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            return sizeof(uint64_t);
        case PROTOBUF_C_TYPE_DOUBLE:
            return sizeof(double);
        case PROTOBUF_C_TYPE_BOOL:
            return sizeof(protobuf_c_boolean);
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_MESSAGE:
            return sizeof(void *);
        case PROTOBUF_C_TYPE_BYTES:
            return sizeof(ProtobufCBinaryData);
        default: /* 32-bit ints, enums, float */
            return sizeof(uint32_t);
    }
}

static void
s_json_enum(json_t *json, const ProtobufCFieldDescriptor *field, int value)
{
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value(field->descriptor, value);
    if (ev) {
        json_string(json, ev->name);
    } else {
        json_int(json, value);
    }
}

/* One scalar, string, bytes or message value stored at member. */
static void
s_json_value(json_t *json,
             const ProtobufCFieldDescriptor *field,
             const void *member)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            json_int(json, *(const int32_t *) member);
            break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            json_uint(json, *(const uint32_t *) member);
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            json_int(json, *(const int64_t *) member);
            break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            json_uint(json, *(const uint64_t *) member);
            break;
        case PROTOBUF_C_TYPE_FLOAT:
            json_double(json, *(const float *) member);
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            json_double(json, *(const double *) member);
            break;
        case PROTOBUF_C_TYPE_BOOL:
            json_bool(json, *(const protobuf_c_boolean *) member);
            break;
        case PROTOBUF_C_TYPE_ENUM:
            s_json_enum(json, field, *(const int *) member);
            break;
        case PROTOBUF_C_TYPE_STRING:
            json_string(json, *(char *const *) member);
            break;
        case PROTOBUF_C_TYPE_BYTES: {
            const ProtobufCBinaryData *bin = member;
            json_string_len(json, (const char *) bin->data, bin->len);
            break;
        }
        case PROTOBUF_C_TYPE_MESSAGE: {
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *) member;
            if (sub) {
                pbjson_write(json, sub);
            } else {
                json_null(json);
            }
            break;
        }
    }
}

void
pbjson_write(json_t *json, const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const char *base = (const char *) msg;
    json_object_begin(json);
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        const void *member = base + field->offset;
        if ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *) (base + field->quantifier_offset) !=
                field->id) {
            continue;
        }
        json_key(json, field->name);
        if (field->label != PROTOBUF_C_LABEL_REPEATED) {
            s_json_value(json, field, member);
            continue;
        }
        size_t count = *(const size_t *) (base + field->quantifier_offset);
        const char *items = *(char *const *) member;
        json_array_begin(json);
        for (size_t k = 0; k < count; k++) {
            s_json_value(json, field, items + k * s_json_elem_size(field));
        }
        json_array_end(json);
    }
    json_object_end(json);
}

void
pbjson_print(const ProtobufCMessage *msg)
{
    json_t *json = json_new(stdout, true);
    pbjson_write(json, msg);
    json_destroy(&json);
}
