#include "common/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"

#define NEST_MAX 64 /* arrays/objects inside a skipped value */

typedef struct {
    const char *p;
    const char *end;
} cursor_t;

static void
s_ws(cursor_t *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

static bool
s_eat(cursor_t *c, char ch)
{
    s_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A string (the opening quote already seen) into buf when it fits; sets
 * *fits. Escapes are decoded, \uXXXX as '?' (names are ASCII in practice). */
static bool
s_string(cursor_t *c, char *buf, size_t size, bool *fits)
{
    size_t n = 0;
    *fits = true;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if ((unsigned char) ch < 0x20) {
            return false;
        }
        if (ch == '\\') {
            if (c->p >= c->end) {
                return false;
            }
            char e = *c->p++;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *at = strchr(from, e);
            if (e == 'u') {
                if (c->end - c->p < 4) {
                    return false;
                }
                c->p += 4;
                ch = '?';
            } else if (e && at) {
                ch = to[at - from];
            } else {
                return false;
            }
        }
        if (n + 1 < size) {
            buf[n++] = ch;
        } else {
            *fits = false;
        }
    }
    if (c->p >= c->end) {
        return false;
    }
    c->p++; /* closing quote */
    if (buf && size) {
        buf[n] = '\0';
    }
    return true;
}

/* A JSON number (strict grammar) into *value. */
static bool
s_number(cursor_t *c, double *value)
{
    const char *s = c->p;
    const char *q = s;
    if (q < c->end && *q == '-') {
        q++;
    }
    if (q >= c->end || *q < '0' || *q > '9') {
        return false;
    }
    while (q < c->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' ||
                          *q == 'E' || *q == '+' || *q == '-')) {
        q++;
    }
    char tmp[64];
    size_t len = (size_t) (q - s);
    if (len >= sizeof tmp) {
        return false;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *stop;
    errno = 0;
    *value = strtod(tmp, &stop);
    if (*stop != '\0') {
        return false;
    }
    c->p = q;
    return true;
}

/* Skips any other value: string, literal, or a nested array/object. */
static bool
s_skip(cursor_t *c)
{
    s_ws(c);
    if (c->p >= c->end) {
        return false;
    }
    bool fits;
    if (*c->p == '"') {
        c->p++;
        return s_string(c, NULL, 0, &fits);
    }
    static const char *const literals[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(literals[i]);
        if ((size_t) (c->end - c->p) >= len &&
            !memcmp(c->p, literals[i], len)) {
            c->p += len;
            return true;
        }
    }
    if (*c->p != '[' && *c->p != '{') {
        double ignored;
        return s_number(c, &ignored);
    }
    int depth = 0;
    while (c->p < c->end) {
        char ch = *c->p++;
        if (ch == '"') {
            if (!s_string(c, NULL, 0, &fits)) {
                return false;
            }
        } else if (ch == '[' || ch == '{') {
            if (++depth > NEST_MAX) {
                return false;
            }
        } else if (ch == ']' || ch == '}') {
            if (--depth == 0) {
                return true;
            }
        }
    }
    return false;
}

static void
s_keep(metric_t *out, size_t *count, size_t max, const char *name, double v)
{
    for (size_t i = 0; i < *count; i++) {
        if (!strcmp(out[i].name, name)) {
            out[i].value = v;
            return;
        }
    }
    if (*count < max) {
        snprintf(out[*count].name, sizeof out[*count].name, "%s", name);
        out[(*count)++].value = v;
    }
}

int
metrics_parse(
    const char *text, size_t size, metric_t *out, size_t max, errbuf_t *err)
{
    cursor_t c = {text, text + size};
    size_t count = 0;
    if (!s_eat(&c, '{')) {
        errbuf_set(err, "the metrics file is not a JSON object; write e.g. "
                        "{\"accuracy\": 0.93}");
        return -1;
    }
    bool first = true;
    while (!s_eat(&c, '}')) {
        char name[METRICS_NAME_MAX + 1];
        bool fits;
        if ((!first && !s_eat(&c, ',')) || !s_eat(&c, '"') ||
            !s_string(&c, name, sizeof name, &fits) || !s_eat(&c, ':')) {
            errbuf_set(err, "the metrics file is not valid JSON near byte %zu",
                       (size_t) (c.p - text));
            return -1;
        }
        first = false;
        s_ws(&c);
        double v;
        cursor_t save = c;
        if (s_number(&c, &v)) {
            if (fits && *name && isfinite(v)) {
                s_keep(out, &count, max, name, v);
            }
        } else {
            c = save;
            if (!s_skip(&c)) {
                errbuf_set(err,
                           "the metrics file is not valid JSON near byte %zu",
                           (size_t) (c.p - text));
                return -1;
            }
        }
    }
    return (int) count;
}

int
metrics_read_file(const char *path, metric_t *out, size_t max, errbuf_t *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        errbuf_set(err, "cannot open the metrics file '%s': %s", path,
                   strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size > METRICS_MAX_BYTES) {
        close(fd);
        errbuf_set(err,
                   "the metrics file '%s' is not a regular file of at most "
                   "%d bytes; ignored",
                   path, METRICS_MAX_BYTES);
        return -1;
    }
    char *text = xmalloc((size_t) st.st_size + 1);
    size_t got = 0;
    while (got < (size_t) st.st_size) {
        ssize_t n = read(fd, text + got, (size_t) st.st_size - got);
        if (n <= 0) {
            break;
        }
        got += (size_t) n;
    }
    close(fd);
    int rc = metrics_parse(text, got, out, max, err);
    free(text);
    return rc;
}
