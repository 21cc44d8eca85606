/* errbuf — one sentence, for the user, about what went wrong and what to do.
 *
 * Deep code fills a caller-owned errbuf_t and returns -1; callers may prefix
 * context; only main and the CLI verbs print it. Every function taking an
 * errbuf_t * accepts NULL (the message is then dropped). */
#ifndef SLUICE_ERRBUF_H
#define SLUICE_ERRBUF_H

#include <stdarg.h>

#define ERRBUF_SIZE 1024

typedef struct {
    char msg[ERRBUF_SIZE]; /* NUL-terminated; empty when no error */
} errbuf_t;

/* Clears the message. */
void errbuf_clear(errbuf_t *err);

/* Replaces the message. */
void errbuf_set(errbuf_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Same as errbuf_set with a va_list. */
void errbuf_vset(errbuf_t *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Puts context in front: "CONTEXT: previous message". */
void errbuf_prefix(errbuf_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message, "" when none; never NULL, even for a NULL err. */
const char *errbuf_msg(const errbuf_t *err);

#endif
