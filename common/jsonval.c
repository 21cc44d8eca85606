/* jsonval — reading JSON request bodies with Jansson (a well-kept C
 * library, Debian's libjansson), behind a small interface of our own: its
 * json_t would clash with common/json.h's writer, and callers only need to
 * walk a parsed value. A jsonval_t is a Jansson value; the root owns the
 * tree and every other pointer handed out is borrowed from it. */
#include "common/jsonval.h"

#include <jansson.h>
#include <stdlib.h>

static const json_t *
s_in(const jsonval_t *self)
{
    return (const json_t *) self;
}

static const jsonval_t *
s_out(const json_t *value)
{
    return (const jsonval_t *) value;
}

/* Deeper than max_depth levels of arrays and objects. */
static bool
s_too_deep(const json_t *value, int max_depth)
{
    if (!json_is_array(value) && !json_is_object(value)) {
        return false;
    }
    if (max_depth == 0) {
        return true;
    }
    const char *key;
    json_t *item;
    size_t i;
    if (json_is_array(value)) {
        json_array_foreach(value, i, item)
        {
            if (s_too_deep(item, max_depth - 1)) {
                return true;
            }
        }
        return false;
    }
    json_object_foreach((json_t *) value, key, item)
    {
        if (s_too_deep(item, max_depth - 1)) {
            return true;
        }
    }
    return false;
}

jsonval_t *
jsonval_parse(const char *text, size_t size, errbuf_t *err)
{
    json_error_t error;
    json_t *root =
        json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (!root) {
        errbuf_set(err,
                   "the JSON body is malformed at byte %d: %s; send one JSON "
                   "value such as {\"key\": \"value\"}",
                   error.position, error.text);
        return NULL;
    }
    if (s_too_deep(root, JSONVAL_MAX_DEPTH)) {
        errbuf_set(err,
                   "the JSON body is malformed: nested deeper than %d "
                   "levels; send one JSON value such as {\"key\": \"value\"}",
                   JSONVAL_MAX_DEPTH);
        json_decref(root);
        return NULL;
    }
    return (jsonval_t *) root;
}

void
jsonval_destroy(jsonval_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    json_decref((json_t *) *self_p);
    *self_p = NULL;
}

jsonval_type_t
jsonval_type(const jsonval_t *self)
{
    switch (json_typeof(s_in(self))) {
        case JSON_OBJECT:
            return JSONVAL_OBJECT;
        case JSON_ARRAY:
            return JSONVAL_ARRAY;
        case JSON_STRING:
            return JSONVAL_STRING;
        case JSON_INTEGER:
        case JSON_REAL:
            return JSONVAL_NUMBER;
        case JSON_TRUE:
        case JSON_FALSE:
            return JSONVAL_BOOL;
        case JSON_NULL:
            break;
    }
    return JSONVAL_NULL;
}

const char *
jsonval_type_name(jsonval_type_t type)
{
    static const char *names[] = {"null",   "boolean", "number",
                                  "string", "array",   "object"};
    return names[type];
}

size_t
jsonval_count(const jsonval_t *self)
{
    const json_t *v = s_in(self);
    return json_is_array(v)    ? json_array_size(v)
           : json_is_object(v) ? json_object_size(v)
                               : 0;
}

/* The i-th member of an object, in the order of the text (Jansson keeps
 * it); *key gets its name. Objects in request bodies are a few members. */
static const json_t *
s_member(const json_t *object, size_t i, const char **key)
{
    void *it = json_object_iter((json_t *) object);
    for (size_t n = 0; it && n < i; n++) {
        it = json_object_iter_next((json_t *) object, it);
    }
    if (!it) {
        return NULL;
    }
    *key = json_object_iter_key(it);
    return json_object_iter_value(it);
}

const jsonval_t *
jsonval_at(const jsonval_t *self, size_t i)
{
    const json_t *v = s_in(self);
    const char *key;
    if (json_is_array(v)) {
        return s_out(json_array_get(v, i));
    }
    return json_is_object(v) ? s_out(s_member(v, i, &key)) : NULL;
}

const char *
jsonval_key(const jsonval_t *self, size_t i)
{
    const char *key = NULL;
    if (json_is_object(s_in(self)) && s_member(s_in(self), i, &key)) {
        return key;
    }
    return NULL;
}

const jsonval_t *
jsonval_get(const jsonval_t *self, const char *key)
{
    const json_t *v = s_in(self);
    return json_is_object(v) ? s_out(json_object_get(v, key)) : NULL;
}

const char *
jsonval_string(const jsonval_t *self, size_t *size)
{
    const json_t *v = s_in(self);
    if (!json_is_string(v)) {
        return NULL;
    }
    if (size) {
        *size = json_string_length(v);
    }
    return json_string_value(v);
}

bool
jsonval_bool(const jsonval_t *self)
{
    return json_is_true(s_in(self));
}

double
jsonval_number(const jsonval_t *self)
{
    return json_is_number(s_in(self)) ? json_number_value(s_in(self)) : 0;
}

char *
jsonval_dump(const jsonval_t *self)
{
    char *text = json_dumps(s_in(self), JSON_COMPACT | JSON_ENCODE_ANY |
                                            JSON_PRESERVE_ORDER);
    if (!text) { /* only for want of memory, which aborts as in xalloc */
        abort();
    }
    return text;
}
