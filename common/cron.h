/* cron — when a schedule fires: a 5-field cron expression (minute hour
 * day-of-month month day-of-week, with lists, ranges, steps, month and day
 * names, and the usual rule that when both day fields are restricted a day
 * matching either one fires), the macros @hourly @daily @weekly @monthly
 * @yearly, or "@every DURATION" (common/duration.h), evaluated in a time
 * zone (common/tz.h).
 *
 * Daylight saving time, exactly: a wall-clock time that does not exist on
 * the spring-forward day fires once, at the first valid instant after the
 * gap ("0 2 * * *" in Europe/Berlin on 2027-03-28 fires at 03:00+02:00); a
 * time that occurs twice on the fall-back day fires once, at its first
 * occurrence. "@every" counts real time from its anchor, whatever the
 * zone. */
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
 * years (e.g. "0 0 30 2 *"). */
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
