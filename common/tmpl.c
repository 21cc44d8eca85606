#include "common/tmpl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* Longest name inside braces; params names are short identifiers. */
#define TMPL_NAME_MAX 256

/* Finds the next "{{ name }}" at or after *pos. Returns 1 with the name
 * copied into name[] and start/end around the braces, 0 when there is
 * none, -1 (err set) when it is malformed. */
static int
s_next(const char *text,
       size_t pos,
       size_t *start,
       size_t *end,
       char name[TMPL_NAME_MAX + 1],
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
    const char *a = open + 2;
    const char *b = close;
    while (a < b && isspace((unsigned char) *a)) {
        a++;
    }
    while (b > a && isspace((unsigned char) b[-1])) {
        b--;
    }
    size_t len = (size_t) (b - a);
    int ok = len > 0 && len <= TMPL_NAME_MAX;
    for (size_t i = 0; ok && i < len; i++) {
        ok = isalnum((unsigned char) a[i]) || a[i] == '_' || a[i] == '.' ||
             a[i] == '-';
    }
    if (!ok) {
        errbuf_set(err,
                   "bad template '%.*s' at byte %zu; write '{{ NAME }}' with "
                   "run_id, ds, task_id, attempt or params.NAME",
                   (int) (close + 2 - open > 80 ? 80 : close + 2 - open), open,
                   (size_t) (open - text));
        return -1;
    }
    memcpy(name, a, len);
    name[len] = '\0';
    *start = (size_t) (open - text);
    *end = (size_t) (close + 2 - text);
    return 1;
}

char *
tmpl_render(const char *text, tmpl_lookup_fn *lookup, void *arg, errbuf_t *err)
{
    size_t cap = strlen(text) + 64;
    size_t len = 0;
    char *out = xmalloc(cap);
    size_t pos = 0;
    char name[TMPL_NAME_MAX + 1];
    for (;;) {
        size_t start, end;
        int rc = s_next(text, pos, &start, &end, name, err);
        if (rc < 0) {
            free(out);
            return NULL;
        }
        const char *value = NULL;
        size_t copy = rc ? start - pos : strlen(text + pos);
        if (rc) {
            value = lookup(arg, name);
            if (!value) {
                errbuf_set(err,
                           "unknown template name '%s'; use run_id, ds, "
                           "task_id, attempt or params.NAME",
                           name);
                free(out);
                return NULL;
            }
        }
        size_t vlen = value ? strlen(value) : 0;
        if (len + copy + vlen + 1 > cap) {
            cap = (len + copy + vlen + 1) * 2;
            out = xrealloc(out, cap);
        }
        memcpy(out + len, text + pos, copy);
        len += copy;
        if (!rc) {
            break;
        }
        memcpy(out + len, value, vlen);
        len += vlen;
        pos = end;
    }
    out[len] = '\0';
    return out;
}

int
tmpl_scan(const char *text, tmpl_name_fn *fn, void *arg, errbuf_t *err)
{
    size_t pos = 0;
    char name[TMPL_NAME_MAX + 1];
    for (;;) {
        size_t start, end;
        int rc = s_next(text, pos, &start, &end, name, err);
        if (rc <= 0) {
            return rc;
        }
        fn(arg, name, start);
        pos = end;
    }
}
