#include "common/duration.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* Reads digits, and a fraction after '.', as whole + frac / scale. The
 * bounds keep the multiplication by a unit from overflowing. */
static const char *
s_number(const char *c, uint64_t *whole, uint64_t *frac, uint64_t *scale)
{
    *whole = 0, *frac = 0, *scale = 1;
    for (; isdigit((unsigned char) *c); c++) {
        if (*whole > 1000000000000000ULL) {
            return NULL;
        }
        *whole = *whole * 10 + (uint64_t) (*c - '0');
    }
    if (*c != '.') {
        return c;
    }
    c++;
    if (!isdigit((unsigned char) *c)) {
        return NULL;
    }
    for (; isdigit((unsigned char) *c); c++) {
        if (*scale >= 1000000000ULL) {
            return NULL;
        }
        *frac = *frac * 10 + (uint64_t) (*c - '0');
        *scale *= 10;
    }
    return c;
}

int
duration_parse(const char *text, uint64_t *ms)
{
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {{"ms", 1},      {"s", 1000},        {"m", 60000},
                 {"h", 3600000}, {"d", 86400000ULL}, {"", 1}};

    if (!text || !isdigit((unsigned char) *text)) {
        return -1;
    }
    uint64_t whole, frac, scale;
    const char *c = s_number(text, &whole, &frac, &scale);
    if (!c) {
        return -1;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(c, units[i].suffix)) {
            continue;
        }
        if (whole > UINT64_MAX / units[i].ms / 2) {
            return -1;
        }
        *ms = whole * units[i].ms + frac * units[i].ms / scale;
        return 0;
    }
    return -1;
}
