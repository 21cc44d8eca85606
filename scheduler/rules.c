#include "scheduler/rules.h"

/* Each rule as Airflow's trigger_rule_dep decides it, with failed meaning
 * failed or upstream_failed (our timed_out and cancelled are failures too)
 * and success meaning success or skipped_cached. The order of the tests
 * matters: a failure outranks a skip, and a verdict that ends the task is
 * given as soon as it is certain, before every parent is done. */
rules_verdict_t
rules_verdict(dag_rule_t rule, const rules_up_t *up)
{
    uint32_t done = up->ok + up->skipped + up->failed;
    bool all_done = done >= up->parents;
    if (up->parents == 0) {
        return RULES_RUN;
    }
    switch (rule) {
        case DAG_RULE_ALL_SUCCESS:
            return up->failed    ? RULES_UPSTREAM_FAILED
                   : up->skipped ? RULES_SKIP
                   : all_done    ? RULES_RUN
                                 : RULES_WAIT;
        case DAG_RULE_ALL_FAILED:
            return up->ok || up->skipped ? RULES_SKIP
                   : all_done            ? RULES_RUN
                                         : RULES_WAIT;
        case DAG_RULE_ALL_DONE:
            return all_done ? RULES_RUN : RULES_WAIT;
        case DAG_RULE_ONE_SUCCESS:
            return up->ok                       ? RULES_RUN
                   : !all_done                  ? RULES_WAIT
                   : up->skipped == up->parents ? RULES_SKIP
                                                : RULES_UPSTREAM_FAILED;
        case DAG_RULE_ONE_FAILED:
            return up->failed ? RULES_RUN : all_done ? RULES_SKIP : RULES_WAIT;
        case DAG_RULE_NONE_FAILED:
            return up->failed ? RULES_UPSTREAM_FAILED
                   : all_done ? RULES_RUN
                              : RULES_WAIT;
        case DAG_RULE_NONE_FAILED_MIN_ONE_SUCCESS:
            return up->failed                   ? RULES_UPSTREAM_FAILED
                   : up->skipped == up->parents ? RULES_SKIP
                   : all_done                   ? RULES_RUN
                                                : RULES_WAIT;
        case DAG_RULE_ALWAYS:
        default:
            return RULES_RUN;
    }
}

void
rules_count(rules_up_t *up, task_state_t state)
{
    if (state_task_is_success(state)) {
        up->ok++;
    } else if (state == TASK_SKIPPED) {
        up->skipped++;
    } else if (state_task_is_failure(state)) {
        up->failed++;
    }
}

const char *
rules_verdict_name(rules_verdict_t verdict)
{
    static const char *const names[] = {"wait", "run", "skip",
                                        "upstream_failed"};
    return verdict <= RULES_UPSTREAM_FAILED ? names[verdict] : "?";
}
