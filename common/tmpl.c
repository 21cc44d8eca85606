#include "common/tmpl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* Longest name inside braces; params names are short identifiers. */
#define TMPL_NAME_MAX 256

static bool
s_name_char(char c)
{
    return isalnum((unsigned char) c) || c == '_' || c == '.' || c == '-';
}

static const char *
s_skip_space(const char *a, const char *b)
{
    while (a < b && isspace((unsigned char) *a)) {
        a++;
    }
    return a;
}

/* Reads "name" or "name | raw" between a and b (spaces trimmed) into
 * name[] and *raw; false when it is neither. */
static bool
s_parse_inside(const char *a,
               const char *b,
               char name[TMPL_NAME_MAX + 1],
               bool *raw)
{
    a = s_skip_space(a, b);
    while (b > a && isspace((unsigned char) b[-1])) {
        b--;
    }
    const char *end = a;
    while (end < b && s_name_char(*end)) {
        end++;
    }
    size_t len = (size_t) (end - a);
    if (len == 0 || len > TMPL_NAME_MAX) {
        return false;
    }
    memcpy(name, a, len);
    name[len] = '\0';
    *raw = false;
    const char *rest = s_skip_space(end, b);
    if (rest == b) {
        return true;
    }
    if (*rest != '|') {
        return false;
    }
    rest = s_skip_space(rest + 1, b);
    *raw = (size_t) (b - rest) == 3 && memcmp(rest, "raw", 3) == 0;
    return *raw;
}

/* Finds the next "{{ name }}" at or after pos. Returns 1 with ref and
 * start/end around the braces, 0 when there is none, -1 (err set) when it
 * is malformed. */
static int
s_next(const char *text,
       size_t pos,
       size_t *end,
       char name[TMPL_NAME_MAX + 1],
       tmpl_ref_t *ref,
       errbuf_t *err)
{
    const char *open = strstr(text + pos, "{{");
    if (!open) {
        return 0;
    }
    const char *close = strstr(open + 2, "}}");
    if (!close) {
        errbuf_set(err, "unterminated '{{' at byte %zu; close it with '}}'",
                   (size_t) (open - text));
        return -1;
    }
    bool raw = false;
    if (!s_parse_inside(open + 2, close, name, &raw)) {
        errbuf_set(err,
                   "bad template '%.*s' at byte %zu; write '{{ NAME }}' with "
                   "run_id, ds, task_id, attempt or params.NAME (optionally "
                   "'| raw')",
                   (int) (close + 2 - open > 80 ? 80 : close + 2 - open), open,
                   (size_t) (open - text));
        return -1;
    }
    *ref = (tmpl_ref_t){
        .name = name, .raw = raw, .offset = (size_t) (open - text)};
    *end = (size_t) (close + 2 - text);
    return 1;
}

int
tmpl_walk(const char *text, tmpl_piece_fn *fn, void *arg, errbuf_t *err)
{
    size_t pos = 0;
    char name[TMPL_NAME_MAX + 1];
    for (;;) {
        size_t end;
        tmpl_ref_t ref;
        int rc = s_next(text, pos, &end, name, &ref, err);
        if (rc < 0) {
            return -1;
        }
        if (rc == 0) {
            return fn(arg, text + pos, strlen(text + pos), NULL, err);
        }
        rc = fn(arg, text + pos, ref.offset - pos, &ref, err);
        if (rc != 0) {
            return rc;
        }
        pos = end;
    }
}

/* tmpl_render's walk: the text so far. */
typedef struct {
    tmpl_lookup_fn *lookup;
    void *arg;
    char *out;
    size_t len, cap;
} render_t;

static void
s_append(render_t *r, const char *bytes, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->out = xrealloc(r->out, r->cap);
    }
    memcpy(r->out + r->len, bytes, n);
    r->len += n;
    r->out[r->len] = '\0';
}

static int
s_render_piece(void *arg,
               const char *text,
               size_t len,
               const tmpl_ref_t *ref,
               errbuf_t *err)
{
    render_t *r = arg;
    s_append(r, text, len);
    if (!ref) {
        return 0;
    }
    const char *value = r->lookup(r->arg, ref->name);
    if (!value) {
        errbuf_set(err,
                   "unknown template name '%s'; use run_id, ds, task_id, "
                   "attempt or params.NAME",
                   ref->name);
        return -1;
    }
    s_append(r, value, strlen(value));
    return 0;
}

char *
tmpl_render(const char *text, tmpl_lookup_fn *lookup, void *arg, errbuf_t *err)
{
    render_t r = {.lookup = lookup, .arg = arg};
    r.cap = strlen(text) + 64;
    r.out = xmalloc(r.cap);
    r.out[0] = '\0';
    if (tmpl_walk(text, s_render_piece, &r, err) != 0) {
        free(r.out);
        return NULL;
    }
    return r.out;
}

/* tmpl_scan's walk: the caller's callback. */
typedef struct {
    tmpl_ref_fn *fn;
    void *arg;
} scan_t;

static int
s_scan_piece(void *arg,
             const char *text,
             size_t len,
             const tmpl_ref_t *ref,
             errbuf_t *err)
{
    (void) text;
    (void) len;
    (void) err;
    scan_t *s = arg;
    if (ref) {
        s->fn(s->arg, ref);
    }
    return 0;
}

int
tmpl_scan(const char *text, tmpl_ref_fn *fn, void *arg, errbuf_t *err)
{
    scan_t s = {fn, arg};
    return tmpl_walk(text, s_scan_piece, &s, err);
}
