/* plan_sensor — what a sensor's "not yet" does to its task instance: back
 * to waiting, due at the next poke, holding no slot and using no retry,
 * until its time-out (common/sensor.h). See plan_internal.h. */
#include "scheduler/plan_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/sensor.h"

/* HH:MM (UTC) of a wall time in ms. */
static void
s_clock_text(int64_t wall_ms, char *buf, size_t size)
{
    time_t t = (time_t) (wall_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%H:%M", &tm);
}

/* "waiting for /data/x.csv since 10:02, next check 10:03". */
static void
s_waiting_text(
    const dag_task_t *def, int64_t since, int64_t next, char *buf, size_t size)
{
    char from[16], at[16];
    s_clock_text(since, from, sizeof from);
    s_clock_text(next, at, sizeof at);
    if (def->sensor_file) {
        snprintf(buf, size, "waiting for %s since %s, next check %s",
                 def->sensor_file, from, at);
    } else {
        snprintf(buf, size,
                 "waiting for '%s' to exit 0 since %s, next check %s",
                 def->run ? def->run : "", from, at);
    }
}

bool
plan_sensor_not_ready(const dag_task_t *def, const plan_result_t *result)
{
    return !strcmp(def->kind, "sensor") && result->state == ATTEMPT_FAILED &&
           result->cause && !strcmp(result->cause, "exit") &&
           result->exit_code != 0 &&
           !(def->skip_exit_code && result->exit_code == def->skip_exit_code);
}

int
plan_sensor_wait(plan_t *self,
                 plan_run_t *run,
                 size_t task,
                 const plan_result_t *result,
                 int64_t now,
                 errbuf_t *err)
{
    plan_ti_t *ti = &run->tis[task];
    const dag_task_t *def = dag_task(run->dag, task);
    if (ti->first_poke == 0) {
        ti->first_poke = result->started_at > 0 ? result->started_at : now;
    }
    int64_t next = 0;
    sensor_verdict_t v =
        sensor_after_not_ready(ti->first_poke, now, def->poke_interval_ms,
                               def->sensor_timeout_ms, def->soft_fail, &next);
    if (v != SENSOR_WAIT) {
        task_state_t final = v == SENSOR_SKIP ? TASK_SKIPPED : TASK_FAILED;
        if (plan_set_task(self, run, task, final, now, err) < 0) {
            return -1;
        }
        return plan_release(self, run, task, now, err);
    }
    /* The retry timer queues it again; the failure count stays as it is,
     * so a sensor that waits long keeps its retries for real errors. */
    plan_retry_later(self, run, task, clock_mono_ms() + (next - now));
    if (plan_set_task(self, run, task, TASK_UP_FOR_RETRY, now, err) < 0) {
        return -1;
    }
    char why[512];
    s_waiting_text(def, ti->first_poke, next, why, sizeof why);
    return plan_set_waiting(self, run, task, why, err);
}
