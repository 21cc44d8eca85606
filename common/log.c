#include "common/log.h"

#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/escape.h"

/* Log settings are process-wide by design (STYLE.md 6). */
static char s_name[32] = "sluice";
static log_level_t s_level = LOG_LEVEL_INFO;
static unsigned s_flags;
static FILE *s_stream;

static const char *const s_level_names[] = {"error", "warn", "info", "debug"};

void
log_init(const char *name, log_level_t level)
{
    snprintf(s_name, sizeof s_name, "%s", name ? name : "sluice");
    s_level = level;
}

void
log_set_level(log_level_t level)
{
    s_level = level;
}

int
log_level_parse(const char *text, log_level_t *level)
{
    for (int i = 0; i < 4; i++) {
        if (text && strcmp(text, s_level_names[i]) == 0) {
            *level = (log_level_t) i;
            return 0;
        }
    }
    return -1;
}

unsigned
log_flags_parse(const char *text)
{
    static const struct {
        const char *name;
        unsigned flag;
    } names[] = {{"proto", LOG_FLAG_PROTO},
                 {"dispatch", LOG_FLAG_DISPATCH},
                 {"store", LOG_FLAG_STORE},
                 {"exec", LOG_FLAG_EXEC}};

    unsigned flags = 0;
    for (size_t i = 0; text && i < sizeof names / sizeof names[0]; i++) {
        if (strstr(text, names[i].name)) {
            flags |= names[i].flag;
        }
    }
    return flags;
}

void
log_set_flags(unsigned flags)
{
    s_flags = flags;
}

void
log_set_stream(FILE *stream)
{
    s_stream = stream;
}

bool
log_enabled(log_level_t level)
{
    return level <= s_level;
}

bool
log_flag_enabled(unsigned flag)
{
    return (s_flags & flag) != 0;
}

void
log_write(log_level_t level, const char *fmt, ...)
{
    FILE *out = s_stream ? s_stream : stderr;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Messages quote what peers chose (names, reasons): escaped, so that a
     * newline cannot forge a line nor an ESC reach the reader's terminal. */
    char safe[sizeof line * 2];
    escape_text(safe, sizeof safe, line);
    fprintf(out, "%s.%03ldZ %-5s [%s] %s\n", when, (long) tv.tv_usec / 1000,
            s_level_names[level], s_name, safe);
    fflush(out);
}
