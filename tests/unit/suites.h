/* Every module's Check suite. Add a line here (and in suites.c) per suite. */
#ifndef SLUICE_TEST_SUITES_H
#define SLUICE_TEST_SUITES_H

#include <check.h>

typedef Suite *(suite_fn) (void);

/* NULL-terminated list, in suites.c. */
extern suite_fn *const unit_suites[];

Suite *state_suite(void);
Suite *plan_suite(void);
Suite *rules_suite(void);
Suite *limits_suite(void);
Suite *ready_suite(void);
Suite *render_suite(void);
Suite *shell_suite(void);
Suite *fleet_suite(void);
Suite *keys_suite(void);
Suite *envelope_suite(void);
Suite *json_suite(void);
Suite *escape_suite(void);
Suite *exec_suite(void);
Suite *outbox_suite(void);
Suite *logkeep_suite(void);
Suite *xzmq_suite(void);
Suite *store_suite(void);
Suite *api_suite(void);
Suite *dag_suite(void);
Suite *dag_params_suite(void);
Suite *duration_suite(void);
Suite *tmpl_suite(void);
Suite *config_suite(void);
Suite *alert_suite(void);
Suite *worker_res_suite(void);
Suite *audit_suite(void);
Suite *secrets_suite(void);
Suite *admit_suite(void);
Suite *validate_suite(void);
Suite *lineage_suite(void);
Suite *cache_suite(void);
Suite *autoscale_suite(void);
Suite *autoscale_exec_suite(void);
Suite *msg_suite(void);
Suite *conn_suite(void);
Suite *jobs_suite(void);
Suite *args_suite(void);
Suite *table_suite(void);
Suite *pbjson_suite(void);
Suite *jsonval_suite(void);
Suite *taskresult_suite(void);
Suite *store_web_suite(void);
Suite *sched_suite(void);
Suite *tz_suite(void);
Suite *cron_suite(void);
Suite *schedule_suite(void);
Suite *paths_suite(void);
Suite *uids_suite(void);
Suite *workdirs_suite(void);
Suite *prom_suite(void);
Suite *http_loop_suite(void);
Suite *http_auth_suite(void);
Suite *graph_suite(void);
Suite *sensor_suite(void);

#endif
