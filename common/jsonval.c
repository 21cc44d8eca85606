/* jsonval — a small strict JSON reader (RFC 8259), by recursive descent. */
#include "common/jsonval.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

struct jsonval_t {
    jsonval_type_t type;
    bool boolean;
    double number;
    char *text;        /* string: owned, NUL-terminated */
    size_t size;       /* string: bytes in text */
    size_t count;      /* array/object: items */
    jsonval_t **items; /* array/object: owned values */
    char **keys;       /* object: owned member names */
};

typedef struct {
    const char *p;   /* next byte */
    const char *end; /* past the last byte */
    const char *start;
    errbuf_t *err;
} reader_t;

static jsonval_t *s_value(reader_t *r, int depth);

static void
s_fail(reader_t *r, const char *what)
{
    errbuf_set(r->err,
               "the JSON body is malformed at byte %zu: %s; send one JSON "
               "value such as {\"key\": \"value\"}",
               (size_t) (r->p - r->start), what);
}

static void
s_space(reader_t *r)
{
    while (r->p < r->end &&
           (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) {
        r->p++;
    }
}

static bool
s_word(reader_t *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t) (r->end - r->p) < n || memcmp(r->p, word, n) != 0) {
        return false;
    }
    r->p += n;
    return true;
}

static int
s_hex4(reader_t *r, uint32_t *out)
{
    if (r->end - r->p < 4) {
        return -1;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (uint32_t) (c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (uint32_t) (c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (uint32_t) (c - 'A' + 10);
        } else {
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* Appends code point cp as UTF-8 to out (room for 4 bytes). */
static size_t
s_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char) (0xC0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char) (0xE0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char) (0xF0 | (cp >> 18));
    out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX, with a surrogate pair's second half; r->p is past the 'u'. */
static int
s_unicode(reader_t *r, char *out, size_t *n)
{
    uint32_t cp;
    if (s_hex4(r, &cp) != 0) {
        return -1;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (!s_word(r, "\\u") || s_hex4(r, &lo) != 0 || lo < 0xDC00 ||
            lo > 0xDFFF) {
            return -1;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return -1;
    }
    *n += s_utf8(cp, out + *n);
    return 0;
}

static int
s_escape(reader_t *r, char *out, size_t *n)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    if (r->p >= r->end) {
        return -1;
    }
    char c = *r->p++;
    if (c == 'u') {
        return s_unicode(r, out, n);
    }
    const char *hit = c ? strchr(from, c) : NULL;
    if (!hit) {
        return -1;
    }
    out[(*n)++] = to[hit - from];
    return 0;
}

/* A string; r->p is past the opening quote. Caller owns *text. */
static int
s_string(reader_t *r, char **text, size_t *size)
{
    /* Escapes never grow: the body's length bounds the text. */
    char *out = xmalloc((size_t) (r->end - r->p) + 4);
    size_t n = 0;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char) *r->p++;
        if (c < 0x20) {
            free(out);
            s_fail(r, "a control character inside a string");
            return -1;
        }
        if (c != '\\') {
            out[n++] = (char) c;
        } else if (s_escape(r, out, &n) != 0) {
            free(out);
            s_fail(r, "a bad escape inside a string");
            return -1;
        }
    }
    if (r->p >= r->end) {
        free(out);
        s_fail(r, "a string that does not end");
        return -1;
    }
    r->p++;
    out[n] = '\0';
    *text = out;
    *size = n;
    return 0;
}

static jsonval_t *
s_new(jsonval_type_t type)
{
    jsonval_t *v = xcalloc(1, sizeof *v);
    v->type = type;
    return v;
}

static jsonval_t *
s_number(reader_t *r)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-') {
        r->p++;
    }
    size_t digits = 0;
    while (r->p < r->end && strchr("0123456789.eE+-", *r->p)) {
        r->p++;
        digits++;
    }
    char buf[64];
    size_t len = (size_t) (r->p - s);
    char *stop = NULL;
    if (digits > 0 && len < sizeof buf) {
        memcpy(buf, s, len);
        buf[len] = '\0';
        double d = strtod(buf, &stop);
        if (stop == buf + len && isfinite(d) && (buf[0] != '.')) {
            jsonval_t *v = s_new(JSONVAL_NUMBER);
            v->number = d;
            return v;
        }
    }
    s_fail(r, "a malformed number");
    return NULL;
}

/* Adds item (taken) and key (taken, NULL in arrays) to v. */
static void
s_push(jsonval_t *v, jsonval_t *item, char *key)
{
    v->items = xrealloc(v->items, (v->count + 1) * sizeof *v->items);
    v->items[v->count] = item;
    if (v->type == JSONVAL_OBJECT) {
        v->keys = xrealloc(v->keys, (v->count + 1) * sizeof *v->keys);
        v->keys[v->count] = key;
    }
    v->count++;
}

/* One member "key": value of an object into v; r->p is on the key. */
static int
s_member(reader_t *r, jsonval_t *v, int depth)
{
    char *key;
    size_t size;
    if (r->p >= r->end || *r->p != '"') {
        s_fail(r, "a member name (a string) is due");
        return -1;
    }
    r->p++;
    if (s_string(r, &key, &size) != 0) {
        return -1;
    }
    s_space(r);
    if (r->p >= r->end || *r->p != ':') {
        free(key);
        s_fail(r, "':' is due after a member name");
        return -1;
    }
    r->p++;
    jsonval_t *item = s_value(r, depth + 1);
    if (!item) {
        free(key);
        return -1;
    }
    s_push(v, item, key);
    return 0;
}

/* An array or object; r->p is past its opening bracket. */
static jsonval_t *
s_container(reader_t *r, jsonval_type_t type, int depth)
{
    char close = type == JSONVAL_OBJECT ? '}' : ']';
    jsonval_t *v = s_new(type);
    s_space(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return v;
    }
    for (;;) {
        s_space(r);
        int rc = 0;
        if (type == JSONVAL_OBJECT) {
            rc = s_member(r, v, depth);
        } else {
            jsonval_t *item = s_value(r, depth + 1);
            rc = item ? 0 : -1;
            if (item) {
                s_push(v, item, NULL);
            }
        }
        s_space(r);
        if (rc != 0 || r->p >= r->end || (*r->p != ',' && *r->p != close)) {
            if (rc == 0) {
                s_fail(r, type == JSONVAL_OBJECT ? "',' or '}' is due"
                                                 : "',' or ']' is due");
            }
            jsonval_destroy(&v);
            return NULL;
        }
        if (*r->p++ == close) {
            return v;
        }
    }
}

static jsonval_t *
s_value(reader_t *r, int depth)
{
    if (depth > JSONVAL_MAX_DEPTH) {
        s_fail(r, "values nested too deep");
        return NULL;
    }
    s_space(r);
    if (r->p >= r->end) {
        s_fail(r, "a value is due");
        return NULL;
    }
    char c = *r->p;
    if (c == '{' || c == '[') {
        r->p++;
        return s_container(r, c == '{' ? JSONVAL_OBJECT : JSONVAL_ARRAY, depth);
    }
    if (c == '"') {
        r->p++;
        jsonval_t *v = s_new(JSONVAL_STRING);
        if (s_string(r, &v->text, &v->size) != 0) {
            jsonval_destroy(&v);
        }
        return v;
    }
    if (s_word(r, "true") || s_word(r, "false")) {
        jsonval_t *v = s_new(JSONVAL_BOOL);
        v->boolean = r->p[-1] == 'e' && r->p[-2] == 'u';
        return v;
    }
    if (s_word(r, "null")) {
        return s_new(JSONVAL_NULL);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        return s_number(r);
    }
    s_fail(r, "a value is due");
    return NULL;
}

jsonval_t *
jsonval_parse(const char *text, size_t size, errbuf_t *err)
{
    assert(text || size == 0);
    reader_t r = {text, text + size, text, err};
    jsonval_t *v = s_value(&r, 0);
    s_space(&r);
    if (v && r.p != r.end) {
        s_fail(&r, "text after the value");
        jsonval_destroy(&v);
    }
    return v;
}

void
jsonval_destroy(jsonval_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    jsonval_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        jsonval_destroy(&self->items[i]);
        if (self->keys) {
            free(self->keys[i]);
        }
    }
    free(self->items);
    free(self->keys);
    free(self->text);
    free(self);
    *self_p = NULL;
}

jsonval_type_t
jsonval_type(const jsonval_t *self)
{
    assert(self);
    return self->type;
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
    return self ? self->count : 0;
}

const jsonval_t *
jsonval_at(const jsonval_t *self, size_t i)
{
    return self && i < self->count ? self->items[i] : NULL;
}

const char *
jsonval_key(const jsonval_t *self, size_t i)
{
    return self && self->keys && i < self->count ? self->keys[i] : NULL;
}

const jsonval_t *
jsonval_get(const jsonval_t *self, const char *key)
{
    if (!self || self->type != JSONVAL_OBJECT) {
        return NULL;
    }
    for (size_t i = self->count; i-- > 0;) {
        if (strcmp(self->keys[i], key) == 0) {
            return self->items[i];
        }
    }
    return NULL;
}

const char *
jsonval_string(const jsonval_t *self, size_t *size)
{
    if (!self || self->type != JSONVAL_STRING) {
        return NULL;
    }
    if (size) {
        *size = self->size;
    }
    return self->text;
}

bool
jsonval_bool(const jsonval_t *self)
{
    return self && self->type == JSONVAL_BOOL && self->boolean;
}

double
jsonval_number(const jsonval_t *self)
{
    return self && self->type == JSONVAL_NUMBER ? self->number : 0;
}
