# Trigger rules and skipping (docs/flow.md, "Trigger rules"): each rule on a
# small DAG run by a real scheduler and worker, skip_exit_code, and the
# run's state read from its leaves.

t_flow_rules_cleanup_and_alert_after_a_failure() {
    it_cluster 1
    it_apply broken <<YAML
dag: broken
tasks:
  - id: load
    run: echo loading; exit 1
  - id: transform
    after: [load]
    run: touch $IT_DIR/transform
  - id: cleanup
    after: [transform]
    trigger_rule: all_done
    run: touch $IT_DIR/cleanup
  - id: alert
    after: [load]
    trigger_rule: one_failed
    run: touch $IT_DIR/alert
  - id: rescue
    after: [load]
    trigger_rule: all_failed
    run: touch $IT_DIR/rescue
  - id: report
    after: [load]
    trigger_rule: one_success
    run: touch $IT_DIR/report
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" broken --wait >/dev/null || rc=$?
    run=$(it_sql "SELECT max(id) FROM runs")
    # report (one_success, its only parent failed) is a failed leaf.
    it_check "the run fails from its upstream_failed leaf (rc $rc)" [ "$rc" = 1 ]
    it_check "run state failed" [ "$(it_run_state "$run")" = failed ]
    it_check "states: $(it_task_states "$run")" [ "$(it_task_states "$run")" = \
        "alert:success cleanup:success load:failed report:upstream_failed rescue:success transform:upstream_failed" ]
    it_check "cleanup, alert and rescue ran" \
        [ -f "$IT_DIR/cleanup" ] && [ -f "$IT_DIR/alert" ] && [ -f "$IT_DIR/rescue" ]
    it_check "transform and report did not run" \
        [ ! -f "$IT_DIR/transform" ] && [ ! -f "$IT_DIR/report" ]
}

t_flow_rules_handled_failure_leaves_decide_the_run() {
    it_cluster 1
    it_apply handled <<YAML
dag: handled
tasks:
  - id: load
    run: exit 2
  - id: cleanup
    after: [load]
    trigger_rule: all_done
    run: "true"
  - id: always
    after: [load]
    trigger_rule: always
    run: "true"
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" handled --wait >/dev/null || rc=$?
    run=$(it_sql "SELECT max(id) FROM runs")
    # Every leaf succeeded: the failure of load was handled (as Airflow).
    it_check "the run succeeds from its leaves (rc $rc)" [ "$rc" = 0 ]
    it_check "states: $(it_task_states "$run")" [ "$(it_task_states "$run")" = \
        "always:success cleanup:success load:failed" ]
}

t_flow_rules_skip_exit_code_and_joins() {
    it_cluster 1
    it_apply branchy <<YAML
dag: branchy
tasks:
  - id: start
    run: "true"
  - id: maybe
    after: [start]
    skip_exit_code: 99
    retries: 3
    run: echo nothing new; exit 99
  - id: other
    after: [start]
    run: "true"
  - id: only_maybe
    after: [maybe]
    run: touch $IT_DIR/only_maybe
  - id: join
    after: [maybe, other]
    trigger_rule: none_failed_min_one_success
    run: touch $IT_DIR/join
  - id: strict
    after: [maybe, other]
    run: touch $IT_DIR/strict
  - id: lenient
    after: [maybe, other]
    trigger_rule: none_failed
    run: "true"
  - id: any
    after: [maybe, other]
    trigger_rule: one_success
    run: "true"
  - id: skipped_twice
    after: [maybe, only_maybe]
    trigger_rule: none_failed_min_one_success
    run: touch $IT_DIR/skipped_twice
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" branchy --wait >/dev/null || rc=$?
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "the run succeeds: its leaves succeeded or were skipped (rc $rc)" [ "$rc" = 0 ]
    it_check "states: $(it_task_states "$run")" [ "$(it_task_states "$run")" = \
        "any:success join:success lenient:success maybe:skipped only_maybe:skipped other:success skipped_twice:skipped start:success strict:skipped" ]
    it_check "a skip is not retried: maybe ran once" \
        [ "$(it_sql "SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='maybe'")" = 1 ]
    it_check "join ran, strict and what only follows the skip did not" \
        [ -f "$IT_DIR/join" ] && [ ! -f "$IT_DIR/strict" ] && \
        [ ! -f "$IT_DIR/only_maybe" ] && [ ! -f "$IT_DIR/skipped_twice" ]
}

t_flow_rules_unknown_rule_refused() {
    it_cluster 1
    cat >"$IT_DIR/typo.yaml" <<YAML
dag: typo
tasks:
  - id: a
    run: "true"
  - id: b
    after: [a]
    trigger_rule: all_sucess
    run: "true"
YAML
    rc=0
    out=$("$SLUICE" dag apply --dir "$IT_STATE" "$IT_DIR/typo.yaml" 2>&1) || rc=$?
    it_check "refused (rc $rc)" [ "$rc" != 0 ]
    it_check "with where and a hint: $out" sh -c \
        "printf '%s' \"\$1\" | grep -q \"typo.yaml:7:19: 'all_sucess' is not a trigger rule; did you mean 'all_success'?\"" _ "$out"
}
