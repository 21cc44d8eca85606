#include "common/clock.h"

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

static char *
s_fmt(int64_t wall_ms, const char *format, char *buf, size_t size)
    __attribute__((format(strftime, 2, 0)));

static char *
s_fmt(int64_t wall_ms, const char *format, char *buf, size_t size)
{
    if (wall_ms <= 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    time_t secs = (time_t) (wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, size, format, &tm);
    return buf;
}

char *
clock_fmt_iso(int64_t wall_ms, char *buf, size_t size)
{
    return s_fmt(wall_ms, "%Y-%m-%dT%H:%M:%SZ", buf, size);
}

char *
clock_fmt_date(int64_t wall_ms, char *buf, size_t size)
{
    return s_fmt(wall_ms, "%Y-%m-%d", buf, size);
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
