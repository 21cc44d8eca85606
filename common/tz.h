/* tz — IANA time zones read from the system's tzdata (TZif files under
 * /usr/share/zoneinfo, or $TZDIR), without touching the process-wide TZ:
 * the scheduler evaluates many DAGs, each in its own zone, and its other
 * threads keep formatting in UTC.
 *
 * Times are UTC milliseconds since the epoch (as clock_wall_ms); offsets
 * are seconds east of UTC. A loaded tz_t never changes, so threads may
 * share one. */
#ifndef SLUICE_TZ_H
#define SLUICE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

typedef struct tz_t tz_t;

/* A broken-down wall-clock time in some zone (no normalisation: month
 * 1-12, mday 1-31, hour 0-23, min 0-59, sec 0-59; wday 0 = Sunday). */
typedef struct {
    int year, month, mday, hour, min, sec, wday;
} tz_civil_t;

/* Loads zone `name` ("UTC", "Europe/Berlin", ...) from $TZDIR, else
 * /usr/share/zoneinfo; "UTC", "Etc/UTC", "GMT" and "Etc/GMT" are built in
 * and need no tzdata. NULL with err set (naming the zone and where it was
 * looked for) for a name that is not an IANA name (absolute, "..", odd
 * characters), no such zone, a file that is not TZif, or a damaged one.
 * Caller owns the result. */
tz_t *tz_load(const char *name, errbuf_t *err);

void tz_destroy(tz_t **self_p);

/* The name it was loaded with. Borrowed. */
const char *tz_name(const tz_t *self);

/* The zone's UTC offset, in seconds, at instant utc_ms. */
int32_t tz_offset(const tz_t *self, int64_t utc_ms);

/* The wall-clock time at instant utc_ms in this zone. */
tz_civil_t tz_civil(const tz_t *self, int64_t utc_ms);

/* The instant(s) at which the wall clock of this zone shows `local`
 * (its wday is ignored): returns how many there are, 0 (a time skipped by
 * a spring-forward gap), 1, or 2 (a time repeated when clocks fall back;
 * first[0] is the earlier). first has room for 2. */
int tz_instants(const tz_t *self, const tz_civil_t *local, int64_t first[2]);

/* The instant a schedule means by wall-clock time `local`: the only one,
 * the earlier of two (clocks fell back), or, for a time skipped by a
 * spring-forward gap, the first instant after the gap (the moment the
 * clocks jumped). */
int64_t tz_first_instant(const tz_t *self, const tz_civil_t *local);

/* The first instant after utc_ms at which the zone's UTC offset changes;
 * -1 when it never changes again. */
int64_t tz_next_change(const tz_t *self, int64_t utc_ms);

/* Days in `month` (1-12) of `year` (proleptic Gregorian). */
int tz_days_in_month(int year, int month);

/* Day of the week of a date, 0 = Sunday. */
int tz_weekday(int year, int month, int mday);

/* RFC 3339 with this zone's offset, e.g. "2027-03-28T03:00:00+02:00"
 * ("+00:00" in UTC; ".123" before the offset only when the instant has
 * milliseconds); buf needs 32 bytes. Returns buf. */
char *tz_format(const tz_t *self, int64_t utc_ms, char *buf, size_t size);

/* Reads a date or time as people write them in DAG files and on the
 * command line: "2027-03-28" (local midnight), "2027-03-28T02:30[:SS]"
 * or with a space for 'T' (wall-clock time in this zone, resolved as
 * tz_first_instant does), or either with "Z" or "+02:00" (an absolute
 * instant). 0 with *utc_ms set, or -1 with err set to a sentence that
 * quotes text and shows the forms; callers prefix the key or flag. */
int
tz_parse(const tz_t *self, const char *text, int64_t *utc_ms, errbuf_t *err);

/* The date at instant utc_ms in this zone, "YYYY-MM-DD" ({{ ds }}); buf
 * needs 11 bytes. Returns buf. */
char *tz_format_date(const tz_t *self, int64_t utc_ms, char *buf, size_t size);

#endif
