/* escape — peer-chosen text made safe to show (see escape.h). */
#include "common/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/xalloc.h"

size_t
escape_utf8_len(const unsigned char *p, size_t left)
{
    size_t len;
    uint32_t min, cp;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2, min = 0x80, cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4, min = 0x10000, cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (left < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

/* The code point of a valid sequence of len bytes. */
static uint32_t
s_code_point(const unsigned char *p, size_t len)
{
    static const unsigned char first[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    uint32_t cp = p[0] & first[len];
    for (size_t i = 1; i < len; i++) {
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    return cp;
}

/* C1 controls, and the bidirectional embeddings, overrides and isolates
 * that make a terminal show text in another order than it is. */
static bool
s_unsafe_point(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* How many bytes at p are kept as they are (0: escape the byte at p). */
static size_t
s_safe_len(const unsigned char *p, size_t left)
{
    if (p[0] < 0x80) {
        return p[0] >= 0x20 && p[0] != 0x7f;
    }
    size_t len = escape_utf8_len(p, left);
    return len && !s_unsafe_point(s_code_point(p, len)) ? len : 0;
}

size_t
escape_text(char *out, size_t size, const char *text)
{
    const unsigned char *p = (const unsigned char *) (text ? text : "");
    size_t left = strlen((const char *) p);
    size_t need = 0, used = 0;
    bool cut = false; /* once a piece did not fit, nothing more is written */
    while (left > 0) {
        size_t keep = s_safe_len(p, left);
        char esc[5];
        const char *piece = (const char *) p;
        size_t n = keep;
        if (keep == 0) {
            snprintf(esc, sizeof esc, "\\x%02x", p[0]);
            piece = esc;
            n = 4;
            keep = 1;
        }
        cut = cut || used + n >= size;
        if (!cut) {
            memcpy(out + used, piece, n);
            used += n;
        }
        need += n;
        p += keep;
        left -= keep;
    }
    if (size > 0) {
        out[used] = '\0';
    }
    return need;
}

char *
escape_dup(const char *text)
{
    size_t need = escape_text(NULL, 0, text);
    char *out = xmalloc(need + 1);
    escape_text(out, need + 1, text);
    return out;
}

bool
escape_is_clean(const char *text)
{
    return escape_text(NULL, 0, text) == strlen(text ? text : "");
}
