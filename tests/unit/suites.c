#include "tests/unit/suites.h"

#include <stddef.h>

/* One line per suite, in the order they run. */
// clang-format off
suite_fn *const unit_suites[] = {
    state_suite,
    plan_suite,
    limits_suite,
    ready_suite,
    render_suite,
    fleet_suite,
    keys_suite,
    envelope_suite,
    json_suite,
    exec_suite,
    outbox_suite,
    logkeep_suite,
    xzmq_suite,
    store_suite,
    api_suite,
    dag_suite,
    duration_suite,
    tmpl_suite,
    config_suite,
    alert_suite,
    worker_res_suite,
    audit_suite,
    secrets_suite,
    admit_suite,
    validate_suite,
    lineage_suite,
    cache_suite,
    autoscale_suite,
    autoscale_exec_suite,
    msg_suite,
    conn_suite,
    jobs_suite,
    args_suite,
    table_suite,
    pbjson_suite,
    sched_suite,
    tz_suite,
    cron_suite,
    schedule_suite,
    NULL,
};
// clang-format on
