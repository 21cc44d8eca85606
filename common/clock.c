#include "common/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

int64_t
clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats wall ms in UTC as a date, or a date and time; "-" for "no
 * time" (0 or less). Both formats are literals, for -Wformat-nonliteral. */
static char *
s_fmt_utc(int64_t wall_ms, bool with_time, char *buf, size_t size)
{
    if (wall_ms <= 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    time_t secs = (time_t) (wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    if (with_time) {
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        strftime(buf, size, "%Y-%m-%d", &tm);
    }
    return buf;
}

char *
clock_fmt_iso(int64_t wall_ms, char *buf, size_t size)
{
    return s_fmt_utc(wall_ms, true, buf, size);
}

char *
clock_fmt_date(int64_t wall_ms, char *buf, size_t size)
{
    return s_fmt_utc(wall_ms, false, buf, size);
}

char *
clock_fmt_duration(int64_t ms, char *buf, size_t size)
{
    if (ms < 0) {
        snprintf(buf, size, "-");
    } else if (ms < 1000) {
        snprintf(buf, size, "%lldms", (long long) ms);
    } else if (ms < 60000) {
        snprintf(buf, size, "%.1fs", (double) ms / 1000.0);
    } else if (ms < 3600000) {
        snprintf(buf, size, "%lldm%02llds", (long long) (ms / 60000),
                 (long long) (ms / 1000 % 60));
    } else {
        snprintf(buf, size, "%lldh%02lldm", (long long) (ms / 3600000),
                 (long long) (ms / 60000 % 60));
    }
    return buf;
}

char *
clock_fmt_local(int64_t wall_ms, char *buf, size_t size)
{
    if (wall_ms == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    time_t secs = (time_t) (wall_ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

char *
clock_fmt_span(int64_t start_ms, int64_t end_ms, char *buf, size_t size)
{
    if (start_ms == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    int64_t ms = (end_ms ? end_ms : clock_wall_ms()) - start_ms;
    return clock_fmt_duration(ms < 0 ? 0 : ms, buf, size);
}
