/* sensor: the file check and the time-out decision of sensor tasks. */
#include "common/sensor.h"

#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* One match: 1 when it passes, 0 (and why) when not. */
static int
s_match_ready(const char *path,
              uint64_t min_size,
              uint64_t stable_ms,
              int64_t now_ms,
              char *why,
              size_t size)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, size, "'%s' is not a regular file", path);
        return 0;
    }
    if ((uint64_t) st.st_size < min_size) {
        snprintf(why, size, "'%s' has %jd bytes, fewer than %" PRIu64, path,
                 (intmax_t) st.st_size, min_size);
        return 0;
    }
    int64_t mtime_ms =
        (int64_t) st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    if (stable_ms && now_ms - mtime_ms < (int64_t) stable_ms) {
        snprintf(why, size, "'%s' changed less than %" PRIu64 " ms ago", path,
                 stable_ms);
        return 0;
    }
    return 1;
}

int
sensor_file_ready(const char *pattern,
                  uint64_t min_size,
                  uint64_t stable_ms,
                  int64_t now_ms,
                  char *why,
                  size_t size)
{
    char scratch[1];
    if (!why) {
        why = scratch, size = sizeof scratch;
    }
    glob_t g;
    memset(&g, 0, sizeof g);
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        globfree(&g);
        snprintf(why, size, "nothing matches '%s'", pattern);
        return 0;
    }
    int ready = 1;
    for (size_t i = 0; i < g.gl_pathc && ready; i++) {
        ready = s_match_ready(g.gl_pathv[i], min_size, stable_ms, now_ms, why,
                              size);
    }
    globfree(&g);
    return ready;
}

sensor_verdict_t
sensor_after_not_ready(int64_t since_ms,
                       int64_t now_ms,
                       uint64_t poke_ms,
                       uint64_t timeout_ms,
                       bool soft_fail,
                       int64_t *next_ms)
{
    /* The next poke must still fall within the time-out: a poke after it
     * could only say "too late". */
    int64_t next = now_ms + (int64_t) poke_ms;
    if (next <= since_ms + (int64_t) timeout_ms) {
        *next_ms = next;
        return SENSOR_WAIT;
    }
    return soft_fail ? SENSOR_SKIP : SENSOR_FAIL;
}

static uint64_t
s_env_u64(const char *name)
{
    const char *v = getenv(name);
    return v ? strtoull(v, NULL, 10) : 0;
}

int
sensor_main(int argc, char **argv)
{
    (void) argc, (void) argv;
    const char *pattern = getenv(SENSOR_ENV_FILE);
    if (!pattern || !*pattern) {
        fprintf(stderr, "sluice __sensor: run by the worker for file "
                        "sensors; " SENSOR_ENV_FILE " is not set\n");
        return 2;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char why[512];
    if (sensor_file_ready(pattern, s_env_u64(SENSOR_ENV_MIN_SIZE),
                          s_env_u64(SENSOR_ENV_STABLE_MS), now, why,
                          sizeof why)) {
        printf("ready: '%s'\n", pattern);
        return 0;
    }
    printf("not yet: %s\n", why);
    return SENSOR_EXIT_NOT_READY;
}
