/* xalloc — allocation that never returns NULL.
 *
 * Out of memory aborts with the file and line of the caller, so a NULL from
 * a module's _new always means a real failure the caller can report. */
#ifndef SLUICE_XALLOC_H
#define SLUICE_XALLOC_H

#include <stddef.h>

#define xmalloc(n)     xalloc_malloc((n), __FILE__, __LINE__)
#define xcalloc(n, s)  xalloc_calloc((n), (s), __FILE__, __LINE__)
#define xrealloc(p, n) xalloc_realloc((p), (n), __FILE__, __LINE__)
#define xstrdup(s)     xalloc_strdup((s), __FILE__, __LINE__)
#define xstrndup(s, n) xalloc_strndup((s), (n), __FILE__, __LINE__)
#define xasprintf(...) xalloc_asprintf(__FILE__, __LINE__, __VA_ARGS__)

void *xalloc_malloc(size_t n, const char *file, int line);
void *xalloc_calloc(size_t n, size_t size, const char *file, int line);
void *xalloc_realloc(void *p, size_t n, const char *file, int line);
/* xstrdup(NULL) returns NULL. */
char *xalloc_strdup(const char *s, const char *file, int line);
char *xalloc_strndup(const char *s, size_t n, const char *file, int line);
/* Caller owns the result. */
char *xalloc_asprintf(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Frees *p and sets it to NULL; accepts NULL and *p == NULL. */
#define xfree(pp)                                                              \
    do {                                                                       \
        free(*(pp));                                                           \
        *(pp) = NULL;                                                          \
    } while (0)

#endif
