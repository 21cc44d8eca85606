/* clock — time in milliseconds.
 *
 * Monotonic time measures intervals (heartbeats, timeouts); wall time is only
 * for records and for what users read. */
#ifndef SLUICE_CLOCK_H
#define SLUICE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since an arbitrary point; never goes back. */
int64_t clock_mono_ms(void);

/* Milliseconds since the Unix epoch (UTC). */
int64_t clock_wall_ms(void);

/* Formats wall ms as "2026-11-26T05:47:12Z" into buf (at least 24 bytes);
 * 0 gives "-". Returns buf. */
char *clock_fmt_iso(int64_t wall_ms, char *buf, size_t size);

/* Formats wall ms as the logical date "2026-11-26" (UTC). Returns buf. */
char *clock_fmt_date(int64_t wall_ms, char *buf, size_t size);

/* Formats a duration in ms for people: "850ms", "12.3s", "4m05s", "2h10m".
 * Returns buf. */
char *clock_fmt_duration(int64_t ms, char *buf, size_t size);

/* Formats wall ms as local time "2026-11-26 05:47:12" for people reading a
 * table; 0 gives "-". Returns buf. */
char *clock_fmt_local(int64_t wall_ms, char *buf, size_t size);

/* Formats the time from start_ms to end_ms (wall ms) as clock_fmt_duration
 * does; "-" when start_ms is 0 (not started), until now when end_ms is 0
 * (not ended). Returns buf. */
char *clock_fmt_span(int64_t start_ms, int64_t end_ms, char *buf, size_t size);

#endif
