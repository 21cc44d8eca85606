/* pbjson — any protobuf message as JSON, for the verbs' --json output.
 *
 * It walks the message's descriptor, so a field added to sluice.proto shows
 * up without code here: fields by their proto names, unset oneof members
 * left out, enums by name (a number the schema does not know as a number),
 * bytes as text, a missing sub-message as null. */
#ifndef SLUICE_PBJSON_H
#define SLUICE_PBJSON_H

#include <protobuf-c/protobuf-c.h>

#include "common/json.h"

/* Writes every field of msg (borrowed) as one JSON object into json, where
 * a value is due. */
void pbjson_write(json_t *json, const ProtobufCMessage *msg);

/* Prints msg to stdout as one indented JSON document. */
void pbjson_print(const ProtobufCMessage *msg);

#endif
