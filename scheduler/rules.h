/* rules — the trigger rules as a pure function: what a pending task's
 * direct upstream states mean for it (Airflow's semantics; the table is in
 * docs/flow.md, "Trigger rules").
 *
 * The plan keeps, per pending task, how many of its parents ended in each
 * kind of state and asks rules_verdict after each parent ends: only the
 * finished task's children are looked at, so the cost per task does not
 * grow with the DAG. */
#ifndef SLUICE_RULES_H
#define SLUICE_RULES_H

#include <stdint.h>

#include "common/dag.h"
#include "scheduler/state.h"

/* How the direct upstream tasks of one task stand. */
typedef struct {
    uint32_t parents; /* all of them */
    uint32_t ok;      /* success, skipped_cached */
    uint32_t skipped; /* skipped */
    uint32_t failed;  /* failed, timed_out, cancelled, upstream_failed */
} rules_up_t;

typedef enum {
    RULES_WAIT = 0,        /* not decided yet: stays pending */
    RULES_RUN,             /* the rule is met: queue it */
    RULES_SKIP,            /* it can no longer be met: skipped */
    RULES_UPSTREAM_FAILED, /* it can no longer be met: upstream_failed */
} rules_verdict_t;

/* What `rule` says of a task whose parents stand as `up`. A task with no
 * parents always runs; `always` runs at once, whatever its parents do. */
rules_verdict_t rules_verdict(dag_rule_t rule, const rules_up_t *up);

/* Counts one parent that reached final state `state` into up (a state
 * that is not final counts nowhere). */
void rules_count(rules_up_t *up, task_state_t state);

/* "wait", "run", "skip", "upstream_failed": for tests and logs. */
const char *rules_verdict_name(rules_verdict_t verdict);

#endif
