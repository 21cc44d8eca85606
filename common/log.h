/* log — the one way daemons and tools write diagnostics.
 *
 * Lines go to stderr (or a file) as "TIME LEVEL [name] message". Formatting is
 * skipped below the configured level. log_flag(PROTO, ...) is debug output for
 * one subsystem, switched on with log_set_flags (e.g. from SLUICE_DEBUG). */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
} log_level_t;

/* Subsystem flags for log_flag. */
#define LOG_FLAG_PROTO    (1u << 0) /* every message sent and received */
#define LOG_FLAG_DISPATCH (1u << 1) /* placement decisions */
#define LOG_FLAG_STORE    (1u << 2) /* transactions */
#define LOG_FLAG_EXEC     (1u << 3) /* child processes */

/* Global log settings (allowed global, see STYLE.md 6). name is copied. */
void log_init(const char *name, log_level_t level);

void log_set_level(log_level_t level);

/* Parses "error|warn|info|debug"; returns -1 when unknown. */
int log_level_parse(const char *text, log_level_t *level);

/* Parses a comma list "proto,dispatch,store,exec" into flags; unknown
 * names are ignored. */
unsigned log_flags_parse(const char *text);

void log_set_flags(unsigned flags);

/* Where lines go; NULL means stderr. Borrowed: caller keeps it open. */
void log_set_stream(FILE *stream);

bool log_enabled(log_level_t level);

bool log_flag_enabled(unsigned flag);

void log_write(log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)                                                          \
    do {                                                                       \
        if (log_enabled(LOG_LEVEL_WARN))                                       \
            log_write(LOG_LEVEL_WARN, __VA_ARGS__);                            \
    } while (0)
#define log_info(...)                                                          \
    do {                                                                       \
        if (log_enabled(LOG_LEVEL_INFO))                                       \
            log_write(LOG_LEVEL_INFO, __VA_ARGS__);                            \
    } while (0)
#define log_debug(...)                                                         \
    do {                                                                       \
        if (log_enabled(LOG_LEVEL_DEBUG))                                      \
            log_write(LOG_LEVEL_DEBUG, __VA_ARGS__);                           \
    } while (0)
#define log_flag(FLAG, ...)                                                    \
    do {                                                                       \
        if (log_flag_enabled(LOG_FLAG_##FLAG))                                 \
            log_write(LOG_LEVEL_DEBUG, __VA_ARGS__);                           \
    } while (0)

#endif
