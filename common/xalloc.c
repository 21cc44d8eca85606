#include "common/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_oom(size_t n, const char *file, int line)
{
    fprintf(stderr, "sluice: out of memory allocating %zu bytes at %s:%d\n", n,
            file, line);
    abort();
}

void *
xalloc_malloc(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        s_oom(n, file, line);
    }
    return p;
}

void *
xalloc_calloc(size_t n, size_t size, const char *file, int line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        s_oom(n * size, file, line);
    }
    return p;
}

void *
xalloc_realloc(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        s_oom(n, file, line);
    }
    return q;
}

char *
xalloc_strdup(const char *s, const char *file, int line)
{
    if (!s) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *p = xalloc_malloc(n, file, line);
    memcpy(p, s, n);
    return p;
}

char *
xalloc_strndup(const char *s, size_t n, const char *file, int line)
{
    char *p = xalloc_malloc(n + 1, file, line);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
xalloc_asprintf(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = NULL;
    int n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0) {
        s_oom(0, file, line);
    }
    return p;
}
