#include "common/dtime.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int64_t
dtime_days_from_civil(int year, int month, int mday)
{
    /* Howard Hinnant's days_from_civil: eras of 400 years. */
    int64_t y = (int64_t) year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + mday - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p into *out and advances. */
static bool
s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char) (*p)[i])) {
            return false;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool
s_date(const char **p, tz_civil_t *c)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s_digits(p, 4, &c->year) || *(*p)++ != '-' ||
        !s_digits(p, 2, &c->month) || *(*p)++ != '-' ||
        !s_digits(p, 2, &c->mday)) {
        return false;
    }
    if (c->month < 1 || c->month > 12 || c->mday < 1 ||
        c->mday > days[c->month - 1]) {
        return false;
    }
    bool leap = (c->year % 4 == 0 && c->year % 100 != 0) || c->year % 400 == 0;
    return !(c->month == 2 && c->mday == 29 && !leap);
}

/* "HH:MM[:SS[.fff]]" */
static bool
s_clock(const char **p, tz_civil_t *c)
{
    if (!s_digits(p, 2, &c->hour) || *(*p)++ != ':' ||
        !s_digits(p, 2, &c->min)) {
        return false;
    }
    if (**p == ':') {
        (*p)++;
        if (!s_digits(p, 2, &c->sec)) {
            return false;
        }
        if (**p == '.') {
            for ((*p)++; isdigit((unsigned char) **p); (*p)++) {
            }
        }
    }
    return c->hour < 24 && c->min < 60 && c->sec < 60;
}

/* "Z", "+HH:MM" or "-HH:MM" into seconds east of UTC; 1 when there was
 * one, 0 when none, -1 when malformed. */
static int
s_offset(const char **p, int32_t *off)
{
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *off = 0;
        return 1;
    }
    if (**p != '+' && **p != '-') {
        return 0;
    }
    int sign = *(*p)++ == '-' ? -1 : 1;
    int h, m;
    if (!s_digits(p, 2, &h) || *(*p)++ != ':' || !s_digits(p, 2, &m) ||
        h > 23 || m > 59) {
        return -1;
    }
    *off = sign * (h * 3600 + m * 60);
    return 1;
}

static int64_t
s_as_utc(const tz_civil_t *c)
{
    return (dtime_days_from_civil(c->year, c->month, c->mday) * 86400 +
            c->hour * 3600 + c->min * 60 + c->sec) *
           1000;
}

bool
dtime_is_date(const char *text)
{
    tz_civil_t c = {0};
    const char *p = text;
    return text && s_date(&p, &c) && *p == '\0';
}

int
dtime_parse(const char *text, const tz_t *tz, int64_t *ms, errbuf_t *err)
{
    tz_civil_t c = {0};
    const char *p = text ? text : "";
    int32_t off = 0;
    int has_off = 0;
    if (!s_date(&p, &c)) {
        goto bad;
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!s_clock(&p, &c) || (has_off = s_offset(&p, &off)) < 0) {
            goto bad;
        }
    }
    if (*p != '\0') {
        goto bad;
    }
    *ms = has_off ? s_as_utc(&c) - (int64_t) off * 1000
                  : tz_first_instant(tz, &c);
    return 0;
bad:
    errbuf_set(err, "'%s' is not a date or time; %s", text ? text : "",
               DTIME_HINT);
    return -1;
}
