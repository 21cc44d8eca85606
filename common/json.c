#include "common/json.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/xalloc.h"

/* One open container. */
typedef struct {
    bool object;  /* true for {}, false for [] */
    size_t count; /* members (or elements) written so far */
} s_level_t;

struct json_t {
    FILE *out;                       /* borrowed */
    bool pretty;                     /* indent by two spaces */
    size_t depth;                    /* open containers */
    s_level_t stack[JSON_MAX_DEPTH]; /* the open containers */
    bool after_key;                  /* a key was written, value is due */
    bool wrote;                      /* any value was written */
};

json_t *
json_new(FILE *out, bool pretty)
{
    assert(out);
    json_t *self = xcalloc(1, sizeof *self);
    self->out = out;
    self->pretty = pretty;
    return self;
}

void
json_destroy(json_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    json_t *self = *self_p;
    if (self->wrote) {
        fputc('\n', self->out);
    }
    fflush(self->out);
    free(self);
    *self_p = NULL;
}

static void
s_newline(json_t *self)
{
    if (!self->pretty) {
        return;
    }
    fputc('\n', self->out);
    for (size_t i = 0; i < self->depth; i++) {
        fputs("  ", self->out);
    }
}

/* Writes what must come before a value or a key: comma and indentation.
 * A value right after its key needs nothing. */
static void
s_before(json_t *self, bool is_key)
{
    if (self->after_key) {
        assert(!is_key);
        self->after_key = false;
        return;
    }
    if (self->depth == 0) {
        assert(!is_key && !self->wrote); /* one document per writer */
        self->wrote = true;
        return;
    }
    s_level_t *level = &self->stack[self->depth - 1];
    assert(level->object == is_key); /* objects take keys, arrays values */
    if (level->count++ > 0) {
        fputc(',', self->out);
    }
    s_newline(self);
}

static void
s_open(json_t *self, bool object)
{
    s_before(self, false);
    assert(self->depth < JSON_MAX_DEPTH);
    fputc(object ? '{' : '[', self->out);
    self->stack[self->depth++] = (s_level_t){.object = object, .count = 0};
}

static void
s_close(json_t *self, bool object)
{
    assert(self->depth > 0 && !self->after_key);
    s_level_t *level = &self->stack[self->depth - 1];
    assert(level->object == object);
    size_t count = level->count;
    self->depth--;
    if (count > 0) {
        s_newline(self);
    }
    fputc(object ? '}' : ']', self->out);
}

void
json_object_begin(json_t *self)
{
    s_open(self, true);
}

void
json_object_end(json_t *self)
{
    s_close(self, true);
}

void
json_array_begin(json_t *self)
{
    s_open(self, false);
}

void
json_array_end(json_t *self)
{
    s_close(self, false);
}

static void
s_escape_byte(FILE *out, unsigned char c)
{
    switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\b':
            fputs("\\b", out);
            break;
        case '\f':
            fputs("\\f", out);
            break;
        default:
            fprintf(out, "\\u%04x", c);
    }
}

static void
s_write_string(FILE *out, const char *data, size_t size)
{
    const unsigned char *p = (const unsigned char *) data;
    fputc('"', out);
    for (size_t i = 0; i < size;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\' || c < 0x20) {
            s_escape_byte(out, c);
            i++;
        } else if (c < 0x80) {
            fputc(c, out);
            i++;
        } else {
            size_t len = escape_utf8_len(p + i, size - i);
            if (len == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(p + i, 1, len, out);
                i += len;
            }
        }
    }
    fputc('"', out);
}

void
json_key(json_t *self, const char *key)
{
    assert(key);
    s_before(self, true);
    s_write_string(self->out, key, strlen(key));
    fputs(self->pretty ? ": " : ":", self->out);
    self->after_key = true;
}

void
json_string(json_t *self, const char *text)
{
    if (!text) {
        json_null(self);
        return;
    }
    json_string_len(self, text, strlen(text));
}

void
json_string_len(json_t *self, const char *data, size_t size)
{
    s_before(self, false);
    s_write_string(self->out, data ? data : "", data ? size : 0);
}

void
json_int(json_t *self, int64_t value)
{
    s_before(self, false);
    fprintf(self->out, "%" PRId64, value);
}

void
json_uint(json_t *self, uint64_t value)
{
    s_before(self, false);
    fprintf(self->out, "%" PRIu64, value);
}

void
json_double(json_t *self, double value)
{
    if (!isfinite(value)) {
        json_null(self);
        return;
    }
    s_before(self, false);
    fprintf(self->out, "%.17g", value);
}

void
json_bool(json_t *self, bool value)
{
    s_before(self, false);
    fputs(value ? "true" : "false", self->out);
}

void
json_null(json_t *self)
{
    s_before(self, false);
    fputs("null", self->out);
}

void
json_kv_string(json_t *self, const char *key, const char *text)
{
    json_key(self, key);
    json_string(self, text);
}

void
json_kv_uint(json_t *self, const char *key, uint64_t value)
{
    json_key(self, key);
    json_uint(self, value);
}

void
json_kv_int(json_t *self, const char *key, int64_t value)
{
    json_key(self, key);
    json_int(self, value);
}

void
json_kv_bool(json_t *self, const char *key, bool value)
{
    json_key(self, key);
    json_bool(self, value);
}
