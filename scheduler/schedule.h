/* schedule — when a DAG's scheduled runs start, and which of its data
 * intervals are due.
 *
 * Each scheduled run covers a data interval [start, end) between two
 * consecutive fire times of the DAG's schedule, and starts once its end
 * has passed; its logical date is the interval's start. The first
 * interval starts at the first fire time at or after start_date; none
 * starts after end_date.
 *
 * The arithmetic (schedule_interval_at, schedule_due, schedule_upcoming)
 * is pure: it reads no clock and no store, so it is tested alone. The
 * table (schedule_new ...) keeps one entry per scheduled DAG, read from
 * the store, and says when the scheduler's loop must wake next. */
#ifndef SLUICE_SCHEDULE_H
#define SLUICE_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cron.h"
#include "common/dag.h"
#include "common/errbuf.h"
#include "common/tz.h"
#include "scheduler/store/store.h"

/* A data interval [start, end), wall ms. */
typedef struct {
    int64_t start;
    int64_t end;
} schedule_interval_t;

/* One DAG's schedule, resolved. Pointers are borrowed. */
typedef struct {
    const cron_t *cron;
    const tz_t *tz;
    int64_t start_ms; /* start_date; also where "@every" counts from */
    int64_t end_ms;   /* end_date; INT64_MAX when none */
    bool catchup;
} schedule_spec_t;

/* The interval that starts at the first fire time at or after `at`: false
 * when there is none (the schedule never fires again, or that start lies
 * after end_date). */
bool schedule_interval_at(const schedule_spec_t *spec,
                          int64_t at,
                          schedule_interval_t *out);

/* The intervals to create at `now`, oldest first, into out (room for
 * max); last_end is the end of the last interval already created (0 when
 * none). catchup: every interval after last_end whose end has passed;
 * otherwise only the most recent one whose end has passed. Returns how
 * many were written; call again when it fills out. */
size_t schedule_due(const schedule_spec_t *spec,
                    int64_t last_end,
                    int64_t now,
                    schedule_interval_t *out,
                    size_t max);

/* When the next run after the interval ending last_end starts (the end of
 * the next interval), -1 when no more will; assumes schedule_due was
 * applied at now. */
int64_t
schedule_next_fire(const schedule_spec_t *spec, int64_t last_end, int64_t now);

/* The intervals whose end comes after `from`, in order, into out (room
 * for max): what `sluice dag next` prints. Returns how many. */
size_t schedule_upcoming(const schedule_spec_t *spec,
                         int64_t from,
                         schedule_interval_t *out,
                         size_t max);

/* -------------------------------------------------------------- table */

typedef struct schedule_t schedule_t;

/* store is borrowed and outlives the table; default_zone is the zone of
 * DAGs that name none (copied). */
schedule_t *schedule_new(store_t *store, const char *default_zone);

void schedule_destroy(schedule_t **self_p);

/* Re-reads every DAG from the store at the next schedule_tick: after a
 * DAG was applied, paused or unpaused, and after a failed turn. */
void schedule_invalidate(schedule_t *self);

/* Notes whether this version of a DAG (parsed by the caller, borrowed) has
 * a schedule, so that reloads parse a DAG without one only when a new
 * version of it is applied: a big DAG costs one parse, not one per apply
 * of any DAG. */
void schedule_known(schedule_t *self, const dag_t *dag);

/* Creates one scheduled run of `dag` for interval iv, in zone tz:
 * 0, or -1 with err set (the turn fails). */
typedef int(schedule_create_fn)(void *arg,
                                const char *dag,
                                const tz_t *tz,
                                const schedule_interval_t *iv,
                                errbuf_t *err);

/* In the loop's transaction: creates (through create) the run of every
 * due interval of every scheduled, unpaused DAG; an interval that already
 * has a run (made before a crash, or by a backfill) is not made again. */
int schedule_tick(schedule_t *self,
                  int64_t now,
                  schedule_create_fn *create,
                  void *arg,
                  errbuf_t *err);

/* The wall ms of the earliest next fire, -1 when none is known. */
int64_t schedule_wake_at(schedule_t *self);

/* Resolves the schedule of DAG `dag` (parsed; applied first at
 * created_at, the default start_date) into spec, loading its cron and zone
 * into *cron and *tz (owned by the caller). -1 with err set when the DAG
 * has no schedule or it does not resolve. */
int schedule_resolve(const char *default_zone,
                     const dag_t *dag,
                     int64_t created_at,
                     schedule_spec_t *spec,
                     cron_t **cron,
                     tz_t **tz,
                     errbuf_t *err);

#endif
