/* jsonval — reading the JSON bodies of the HTTP API's POST requests
 * ({"paused": true}, {"params": {"k": "v"}}), parsed by Jansson.
 *
 * The whole document is read into a tree at once; strings come back as
 * UTF-8 with their escapes undone. Input is untrusted: anything that is not
 * one JSON value (trailing text, nesting past JSONVAL_MAX_DEPTH, a bad
 * escape) is refused with a message naming the byte offset. */
#ifndef SLUICE_JSONVAL_H
#define SLUICE_JSONVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errbuf.h"

#define JSONVAL_MAX_DEPTH 32

typedef struct jsonval_t jsonval_t;

typedef enum {
    JSONVAL_NULL,
    JSONVAL_BOOL,
    JSONVAL_NUMBER,
    JSONVAL_STRING,
    JSONVAL_ARRAY,
    JSONVAL_OBJECT,
} jsonval_type_t;

/* The value in text (size bytes). Caller owns it; NULL with err set when
 * text is not exactly one JSON value. */
jsonval_t *jsonval_parse(const char *text, size_t size, errbuf_t *err);

/* Frees and nulls *self_p; accepts NULL. */
void jsonval_destroy(jsonval_t **self_p);

jsonval_type_t jsonval_type(const jsonval_t *self);

/* "object", "string", ...: for messages. */
const char *jsonval_type_name(jsonval_type_t type);

/* Members of an object or elements of an array; 0 for other values. */
size_t jsonval_count(const jsonval_t *self);

/* The i-th element or member value (borrowed); NULL past the end. */
const jsonval_t *jsonval_at(const jsonval_t *self, size_t i);

/* The i-th member's name of an object (borrowed); NULL otherwise. */
const char *jsonval_key(const jsonval_t *self, size_t i);

/* The value of member key of an object (the last one when repeated);
 * NULL when absent or self is no object. */
const jsonval_t *jsonval_get(const jsonval_t *self, const char *key);

/* A string's text (borrowed, NUL-terminated; may hold NUL, see size) or
 * NULL for other values. */
const char *jsonval_string(const jsonval_t *self, size_t *size);

/* A boolean's value; false for other values. */
bool jsonval_bool(const jsonval_t *self);

/* A number's value; 0 for other values. */
double jsonval_number(const jsonval_t *self);

/* The value as compact JSON text (members in their order). Caller owns
 * the result. */
char *jsonval_dump(const jsonval_t *self);

#endif
