/* json — a small streaming JSON writer for --json output.
 *
 * Values are written as they come: open an object, write keys and values,
 * close it. The writer places commas, indentation and escaping; strings are
 * UTF-8, control characters are escaped, and bytes that are not valid UTF-8
 * become U+FFFD so the document always parses. Misuse (a value where a key
 * is due, nesting deeper than JSON_MAX_DEPTH) is our bug and asserts. */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 64

typedef struct json_t json_t;

/* A writer on out (borrowed, stays open). pretty indents by two spaces;
 * otherwise the document is one line. Never NULL. */
json_t *json_new(FILE *out, bool pretty);

/* Ends the document with a newline when a value was written, frees and
 * nulls *self_p; accepts NULL. */
void json_destroy(json_t **self_p);

void json_object_begin(json_t *self);

void json_object_end(json_t *self);

void json_array_begin(json_t *self);

void json_array_end(json_t *self);

/* The next member's name; only inside an object, before its value. */
void json_key(json_t *self, const char *key);

/* A string value; NULL writes null. */
void json_string(json_t *self, const char *text);

/* A string value of size bytes (may hold NUL and invalid UTF-8). */
void json_string_len(json_t *self, const char *data, size_t size);

void json_int(json_t *self, int64_t value);

void json_uint(json_t *self, uint64_t value);

/* NaN and infinities, which JSON cannot hold, are written as null. */
void json_double(json_t *self, double value);

void json_bool(json_t *self, bool value);

void json_null(json_t *self);

/* Shorthands for "key": value inside an object. */
void json_kv_string(json_t *self, const char *key, const char *text);

void json_kv_uint(json_t *self, const char *key, uint64_t value);

void json_kv_int(json_t *self, const char *key, int64_t value);

void json_kv_bool(json_t *self, const char *key, bool value);

#endif
