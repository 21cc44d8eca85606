#include "common/errbuf.h"

#include <stdio.h>
#include <string.h>

void
errbuf_clear(errbuf_t *err)
{
    if (err) {
        err->msg[0] = '\0';
    }
}

void
errbuf_vset(errbuf_t *err, const char *fmt, va_list ap)
{
    if (err) {
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
}

void
errbuf_set(errbuf_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errbuf_vset(err, fmt, ap);
    va_end(ap);
}

void
errbuf_prefix(errbuf_t *err, const char *fmt, ...)
{
    if (!err) {
        return;
    }
    char prefix[ERRBUF_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strnlen(prefix, sizeof prefix - 3);
    size_t olen = strnlen(err->msg, sizeof err->msg - plen - 3);
    memmove(err->msg + plen + 2, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    memcpy(err->msg + plen, ": ", 2);
    err->msg[plen + 2 + olen] = '\0';
}

const char *
errbuf_msg(const errbuf_t *err)
{
    return err ? err->msg : "";
}
