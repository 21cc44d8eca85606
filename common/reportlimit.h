/* reportlimit — say the same complaint once per window: a peer that does
 * the same wrong thing in a loop is reported (a log line, a stored event)
 * once per kind, peer and window, with a count of what was left unsaid, so
 * a flood grows the log, the store and memory by a bounded amount. */
#ifndef SLUICE_REPORTLIMIT_H
#define SLUICE_REPORTLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct reportlimit_t reportlimit_t;

/* Tracks at most max_keys (kind, who) pairs; past that, new peers of one
 * kind share one slot. */
reportlimit_t *reportlimit_new(size_t max_keys);

/* Frees and nulls *self_p; accepts NULL. */
void reportlimit_destroy(reportlimit_t **self_p);

/* Whether to report `kind` for peer `who` now (monotonic ms): true the
 * first time and once window_ms has passed since the last report, with
 * *suppressed set to the reports left out in between; else false and the
 * report is counted. */
bool reportlimit_due(reportlimit_t *self,
                     const char *kind,
                     const char *who,
                     int64_t window_ms,
                     int64_t now,
                     uint64_t *suppressed);

#endif
