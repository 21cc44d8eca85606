#include "common/pathname.h"

#include <stdbool.h>
#include <string.h>

#include "common/xalloc.h"

/* Drops the last segment of out[0..*len) unless it is "..". */
static bool
s_pop(char *out, size_t *len, size_t floor)
{
    if (*len <= floor) {
        return false;
    }
    size_t start = *len;
    while (start > floor && out[start - 1] != '/') {
        start--;
    }
    if (*len - start == 2 && !memcmp(out + start, "..", 2)) {
        return false;
    }
    *len = start > floor ? start - 1 : floor;
    return true;
}

char *
pathname_normalize(const char *path)
{
    const char *scheme = strstr(path, "://");
    size_t keep = scheme ? (size_t) (scheme - path) + 3 : 0;
    size_t size = strlen(path);
    char *out = xmalloc(size + 2);
    memcpy(out, path, keep);
    size_t len = keep;
    bool absolute = path[keep] == '/';
    if (absolute) {
        out[len++] = '/';
    }
    size_t floor = len; /* what a ".." never removes */
    for (const char *p = path + keep; *p;) {
        size_t seg = strcspn(p, "/");
        bool dot = seg == 1 && p[0] == '.';
        bool dotdot = seg == 2 && p[0] == '.' && p[1] == '.';
        if (seg == 0 || dot ||
            (dotdot && (s_pop(out, &len, floor) || absolute))) {
            /* nothing to write */
        } else {
            if (len > floor) {
                out[len++] = '/';
            }
            memcpy(out + len, p, seg);
            len += seg;
        }
        p += seg + (p[seg] == '/');
    }
    if (len == keep) {
        out[len++] = '.';
    }
    out[len] = '\0';
    return out;
}
