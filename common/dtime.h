/* dtime — instants as people write them on the command line and in DAG
 * files: a date "2027-03-28" (midnight), a wall-clock time
 * "2027-03-28T03:00" or "2027-03-28 03:00:15" (both read in a zone), or
 * RFC 3339 with its own offset "2027-03-28T03:00:00+02:00" / "...Z".
 *
 * Times are UTC milliseconds since the epoch, as in common/tz.h. */
#ifndef SLUICE_DTIME_H
#define SLUICE_DTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "common/tz.h"

/* How to write an instant, for the end of a message about a bad one. */
#define DTIME_HINT                                                             \
    "write a date like '2027-03-28' or a time like '2027-03-28T03:00' or "     \
    "'2027-03-28T03:00:00+02:00'"

/* Parses text into *ms. A time without an offset is wall-clock time in tz:
 * one skipped by a spring-forward gap is the first instant after the gap,
 * one repeated when clocks fall back is its first occurrence (as
 * tz_first_instant). -1 with err
 * set when malformed (*ms unchanged). */
int dtime_parse(const char *text, const tz_t *tz, int64_t *ms, errbuf_t *err);

/* Whether text is a bare date (no time of day). */
bool dtime_is_date(const char *text);

/* Days since 1970-01-01 of a proleptic Gregorian date (may be negative). */
int64_t dtime_days_from_civil(int year, int month, int mday);

#endif
