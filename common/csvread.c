/* csvread — streams records from a CSV or JSON-lines file. */
#include "common/csvread.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define BUF_SIZE (256 * 1024)

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

struct csvread_t {
    FILE *in;      /* owned */
    bool jsonl;    /* JSON lines, else CSV */
    char *chunk;   /* read buffer, BUF_SIZE bytes, owned */
    size_t pos;    /* next byte in chunk */
    size_t fill;   /* bytes in chunk */
    size_t offset; /* bytes consumed from the file */
    size_t line;   /* line of the next byte, 1-based */
    size_t start;  /* line on which the current record started */
    buf_t raw;     /* the current record's bytes */
    buf_t text;    /* field values, each NUL-terminated */
    buf_t keys;    /* JSON keys, each NUL-terminated */
    size_t nfields, capfields;
    size_t *fields; /* offsets into text */
    size_t *keyoff; /* offsets into keys */
    char **ptrs;    /* resolved pointers, rebuilt per record */
    char **kptrs;
};

static void
s_put(buf_t *b, char c)
{
    if (b->len == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->data = xrealloc(b->data, b->cap);
    }
    b->data[b->len++] = c;
}

csvread_t *
csvread_open(const char *path, bool jsonl, errbuf_t *err)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        errbuf_set(err, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    csvread_t *self = xcalloc(1, sizeof *self);
    self->in = in;
    self->jsonl = jsonl;
    self->chunk = xmalloc(BUF_SIZE);
    self->line = 1;
    return self;
}

void
csvread_destroy(csvread_t **self_p)
{
    csvread_t *self = *self_p;
    if (!self) {
        return;
    }
    fclose(self->in);
    free(self->chunk);
    free(self->raw.data);
    free(self->text.data);
    free(self->keys.data);
    free(self->fields);
    free(self->keyoff);
    free(self->ptrs);
    free(self->kptrs);
    free(self);
    *self_p = NULL;
}

/* The next byte, or -1 at the end; -2 on a read error. */
static int
s_getc(csvread_t *self)
{
    if (self->pos == self->fill) {
        self->fill = fread(self->chunk, 1, BUF_SIZE, self->in);
        self->pos = 0;
        if (self->fill == 0) {
            return ferror(self->in) ? -2 : -1;
        }
    }
    unsigned char c = (unsigned char) self->chunk[self->pos++];
    self->offset++;
    if (c == '\n') {
        self->line++;
    }
    s_put(&self->raw, (char) c);
    return c;
}

static int
s_peek(csvread_t *self)
{
    if (self->pos == self->fill) {
        self->fill = fread(self->chunk, 1, BUF_SIZE, self->in);
        self->pos = 0;
        if (self->fill == 0) {
            return -1;
        }
    }
    return (unsigned char) self->chunk[self->pos];
}

static void
s_field_begin(csvread_t *self)
{
    if (self->nfields == self->capfields) {
        self->capfields = self->capfields ? self->capfields * 2 : 16;
        self->fields =
            xrealloc(self->fields, self->capfields * sizeof *self->fields);
        self->keyoff =
            xrealloc(self->keyoff, self->capfields * sizeof *self->keyoff);
    }
    self->fields[self->nfields] = self->text.len;
    self->keyoff[self->nfields] = self->keys.len;
    self->nfields++;
}

static void
s_reset(csvread_t *self)
{
    self->raw.len = self->text.len = self->keys.len = 0;
    self->nfields = 0;
    self->start = self->line;
}

static void
s_resolve(csvread_t *self)
{
    self->ptrs = xrealloc(self->ptrs, (self->nfields + 1) * sizeof(char *));
    self->kptrs = xrealloc(self->kptrs, (self->nfields + 1) * sizeof(char *));
    for (size_t i = 0; i < self->nfields; i++) {
        self->ptrs[i] = self->text.data + self->fields[i];
        self->kptrs[i] = self->jsonl ? self->keys.data + self->keyoff[i] : NULL;
    }
}

static int
s_too_long(csvread_t *self, errbuf_t *err)
{
    errbuf_set(err,
               "record on line %zu is longer than %d bytes; is the file "
               "really %s?",
               self->start, CSVREAD_MAX_RECORD,
               self->jsonl ? "JSON lines" : "CSV");
    return -1;
}

/* One CSV record (RFC 4180). */
static int
s_next_csv(csvread_t *self, errbuf_t *err)
{
    int c = s_getc(self);
    if (c == -1) {
        return CSVREAD_END;
    }
    s_field_begin(self);
    bool quoted = false, was_quoted = false;
    for (;; c = s_getc(self)) {
        if (c == -2) {
            errbuf_set(err, "cannot read: %s", strerror(errno));
            return -1;
        }
        if (self->raw.len > CSVREAD_MAX_RECORD) {
            return s_too_long(self, err);
        }
        if (quoted) {
            if (c == -1) {
                s_put(&self->text, '\0');
                errbuf_set(err,
                           "quoted field that starts on line %zu never "
                           "ends",
                           self->start);
                return CSVREAD_MALFORMED;
            }
            if (c == '"' && s_peek(self) == '"') {
                s_getc(self);
                s_put(&self->text, '"');
            } else if (c == '"') {
                quoted = false;
            } else {
                s_put(&self->text, (char) c);
            }
            continue;
        }
        if (c == -1 || c == '\n') {
            if (self->text.len > self->fields[self->nfields - 1] &&
                self->text.data[self->text.len - 1] == '\r' && !was_quoted) {
                self->text.len--; /* CRLF */
            }
            s_put(&self->text, '\0');
            return CSVREAD_RECORD;
        }
        if (c == ',') {
            s_put(&self->text, '\0');
            s_field_begin(self);
            was_quoted = false;
        } else if (c == '"' &&
                   self->text.len == self->fields[self->nfields - 1] &&
                   !was_quoted) {
            quoted = was_quoted = true;
        } else if (c == '\r' && was_quoted && s_peek(self) == '\n') {
            continue; /* CRLF after a closing quote */
        } else {
            s_put(&self->text, (char) c);
        }
    }
}

/* ---- JSON lines ---- */

typedef struct {
    const char *p, *end;
} cur_t;

static void
s_ws(cur_t *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')) {
        c->p++;
    }
}

static void
s_utf8(buf_t *b, unsigned cp)
{
    if (cp < 0x80) {
        s_put(b, (char) cp);
    } else if (cp < 0x800) {
        s_put(b, (char) (0xC0 | (cp >> 6)));
        s_put(b, (char) (0x80 | (cp & 0x3F)));
    } else {
        s_put(b, (char) (0xE0 | (cp >> 12)));
        s_put(b, (char) (0x80 | ((cp >> 6) & 0x3F)));
        s_put(b, (char) (0x80 | (cp & 0x3F)));
    }
}

/* A JSON string at c->p (the opening quote) into b, NUL-terminated. */
static bool
s_jstring(cur_t *c, buf_t *b)
{
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if (ch != '\\') {
            s_put(b, ch);
            continue;
        }
        if (c->p >= c->end) {
            return false;
        }
        char e = *c->p++;
        if (e == '\0') {
            return false;
        }
        const char *map = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", e);
        if (e == 'u' && c->end - c->p >= 4) {
            char hex[5] = {c->p[0], c->p[1], c->p[2], c->p[3], 0};
            char *stop = NULL;
            unsigned cp = (unsigned) strtoul(hex, &stop, 16);
            if (*stop) {
                return false;
            }
            s_utf8(b, cp);
            c->p += 4;
        } else if (map && ((map - "\"\"\\\\//b\bf\fn\nr\rt\t") % 2) == 0) {
            s_put(b, map[1]);
        } else {
            return false;
        }
    }
    if (c->p >= c->end) {
        return false;
    }
    c->p++;
    s_put(b, '\0');
    return true;
}

static bool
s_jvalue(cur_t *c, buf_t *b)
{
    if (c->p < c->end && *c->p == '"') {
        return s_jstring(c, b);
    }
    const char *start = c->p;
    while (c->p < c->end && !strchr(",} \t\r\n", *c->p)) {
        if (*c->p == '{' || *c->p == '[' || *c->p == '"') {
            return false; /* nested: not a flat object */
        }
        c->p++;
    }
    size_t len = (size_t) (c->p - start);
    if (len == 0) {
        return false;
    }
    if (!(len == 4 && !memcmp(start, "null", 4))) {
        for (size_t i = 0; i < len; i++) {
            s_put(b, start[i]);
        }
    }
    s_put(b, '\0');
    return true;
}

static bool
s_jobject(csvread_t *self, cur_t *c)
{
    s_ws(c);
    if (c->p >= c->end || *c->p++ != '{') {
        return false;
    }
    s_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return true;
    }
    for (;;) {
        s_ws(c);
        s_field_begin(self);
        if (c->p >= c->end || *c->p != '"' || !s_jstring(c, &self->keys)) {
            return false;
        }
        s_ws(c);
        if (c->p >= c->end || *c->p++ != ':') {
            return false;
        }
        s_ws(c);
        if (!s_jvalue(c, &self->text)) {
            return false;
        }
        s_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
        } else if (c->p < c->end && *c->p == '}') {
            c->p++;
            return true;
        } else {
            return false;
        }
    }
}

static int
s_next_jsonl(csvread_t *self, errbuf_t *err)
{
    int c;
    while ((c = s_getc(self)) >= 0 && c != '\n') {
        if (self->raw.len > CSVREAD_MAX_RECORD) {
            return s_too_long(self, err);
        }
    }
    if (c == -2) {
        errbuf_set(err, "cannot read: %s", strerror(errno));
        return -1;
    }
    if (self->raw.len == 0) {
        return CSVREAD_END;
    }
    cur_t cur = {self->raw.data, self->raw.data + self->raw.len};
    if (!s_jobject(self, &cur) || (s_ws(&cur), cur.p != cur.end)) {
        errbuf_set(err, "line %zu is not a flat JSON object", self->start);
        self->nfields = 0;
        return CSVREAD_MALFORMED;
    }
    return CSVREAD_RECORD;
}

int
csvread_next(csvread_t *self, errbuf_t *err)
{
    int rc;
    do {
        s_reset(self);
        rc = self->jsonl ? s_next_jsonl(self, err) : s_next_csv(self, err);
        /* a blank line is no record */
    } while (rc == CSVREAD_RECORD && !self->jsonl && self->nfields == 1 &&
             self->text.data[0] == '\0' && self->raw.len <= 2);
    if (rc == CSVREAD_RECORD) {
        s_resolve(self);
    }
    if (rc == CSVREAD_MALFORMED) {
        self->nfields = 0;
    }
    return rc;
}

size_t
csvread_count(const csvread_t *self)
{
    return self->nfields;
}

const char *
csvread_field(const csvread_t *self, size_t index)
{
    return index < self->nfields ? self->ptrs[index] : NULL;
}

const char *
csvread_key(const csvread_t *self, size_t index)
{
    return index < self->nfields ? self->kptrs[index] : NULL;
}

size_t
csvread_line(const csvread_t *self)
{
    return self->start;
}

const char *
csvread_raw(const csvread_t *self, size_t *size)
{
    *size = self->raw.len;
    return self->raw.data;
}

size_t
csvread_offset(const csvread_t *self)
{
    return self->offset;
}
