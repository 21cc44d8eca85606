/* cron — when a schedule fires: a 5-field cron expression (minute hour
 * day-of-month month day-of-week, with lists, ranges, steps, month and day
 * names, and the usual rule that when both day fields are restricted a day
 * matching either one fires), the macros @hourly @daily @weekly @monthly
 * @yearly, or "@every DURATION" (common/duration.h), evaluated in a time
 * zone (common/tz.h).
 *
 * Fields: minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or
 * JAN-DEC, day-of-week 0-7 or SUN-SAT (0 and 7 are Sunday); names in any
 * case. Each is a comma list of '*', V or A-B, each optionally followed
 * by "/S" for every S-th value ('*' then "/15" in the minute field: every
 * 15 minutes; "V/S" runs from V to the field's end). A day field counts
 * as restricted unless it starts with '*' (as in Vixie cron, so a stepped
 * '*' does not count either): when both are restricted a day matching
 * either fires ("0 0 13 * FRI": the 13th and every Friday), otherwise a
 * day must match both. @midnight = @daily, @annually = @yearly.
 *
 * Daylight saving time, exactly: a wall-clock time that does not exist on
 * the spring-forward day fires once, at the first valid instant after the
 * gap ("0 2 * * *" in Europe/Berlin on 2027-03-28 fires at 03:00+02:00); a
 * time that occurs twice on the fall-back day fires once, at its first
 * occurrence. Every minute inside a gap maps to that same instant, and a
 * schedule fires at most once per instant: "30 2 * * *" also fires at
 * 03:00+02:00 that day, "0-59/15 * * * *" fires at 01:45+01:00 and then
 * 03:00+02:00, and "0 * * * *" fires once for each wall-clock hour (23 times
 * on the spring day, 24 on the fall day, the repeated hour at its first
 * occurrence, so two real hours pass between 02:00+02:00 and 03:00+01:00).
 * "@every" counts real time from its anchor, whatever the zone: the anchor
 * is the first fire, then every DURATION after it. */
#ifndef SLUICE_CRON_H
#define SLUICE_CRON_H

#include <stdint.h>

#include "common/errbuf.h"
#include "common/tz.h"

typedef struct cron_t cron_t;

/* Parses expr. NULL with err set to one sentence that says what is wrong
 * and how to write it (e.g. "minute '61' is out of range 0-59"). Caller
 * owns the result. */
cron_t *cron_parse(const char *expr, errbuf_t *err);

void cron_destroy(cron_t **self_p);

/* The first fire instant (UTC ms) strictly after after_ms, evaluated in
 * zone tz; anchor_ms is where "@every" counts from (a DAG's start_date)
 * and is ignored by the other forms. -1 when there is none within 5
 * years (e.g. "0 0 30 2 *"). Steps a field at a time through wall-clock
 * time (month, day, hour, minute), so it costs microseconds, not a scan
 * of every minute. */
int64_t cron_next(const cron_t *self,
                  const tz_t *tz,
                  int64_t anchor_ms,
                  int64_t after_ms);

/* The last fire instant strictly before before_ms (the same rules as
 * cron_next, backwards); -1 when there is none within 5 years or before
 * the anchor of "@every". */
int64_t cron_prev(const cron_t *self,
                  const tz_t *tz,
                  int64_t anchor_ms,
                  int64_t before_ms);

/* The expression as written (trimmed). Borrowed. */
const char *cron_text(const cron_t *self);

/* The period of "@every DURATION" in ms; 0 for the other forms. */
uint64_t cron_every_ms(const cron_t *self);

#endif
