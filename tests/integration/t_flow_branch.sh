# Branching (docs/flow.md, "Branching"): a branch task's command writes the
# ids of the children to follow to $SLUICE_BRANCH; the others are skipped,
# and so is what only they lead to, by the trigger rules.

t_flow_branch_skips_a_sub_graph_and_joins() {
    it_cluster 1
    it_apply pick <<YAML
dag: pick
tasks:
  - id: pick
    kind: branch
    run: echo fast > "\$SLUICE_BRANCH"
  - id: fast
    after: [pick]
    run: touch $IT_DIR/fast
  - id: slow
    after: [pick]
    run: touch $IT_DIR/slow
  - id: slow_tail
    after: [slow]
    run: touch $IT_DIR/slow_tail
  - id: join
    after: [fast, slow_tail]
    trigger_rule: none_failed_min_one_success
    run: touch $IT_DIR/join
  - id: publish
    after: [join]
    run: "true"
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" pick --wait >/dev/null || rc=$?
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "the run succeeds (rc $rc)" [ "$rc" = 0 ]
    it_check "states: $(it_task_states "$run")" [ "$(it_task_states "$run")" = \
        "fast:success join:success pick:success publish:success slow:skipped slow_tail:skipped" ]
    it_check "fast and join ran, the sub-graph not chosen did not" \
        [ -f "$IT_DIR/fast" ] && [ -f "$IT_DIR/join" ] && \
        [ ! -f "$IT_DIR/slow" ] && [ ! -f "$IT_DIR/slow_tail" ]
}

t_flow_branch_json_array_and_none() {
    it_cluster 1
    it_apply both <<YAML
dag: both
tasks:
  - id: pick
    kind: branch
    run: printf '["a", "b"]' > "\$SLUICE_BRANCH"
  - id: a
    after: [pick]
    run: "true"
  - id: b
    after: [pick]
    run: "true"
  - id: none
    kind: branch
    after: [a, b]
    run: ": > \"\$SLUICE_BRANCH\""
  - id: c
    after: [none]
    run: touch $IT_DIR/c
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" both --wait >/dev/null || rc=$?
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "the run succeeds (rc $rc)" [ "$rc" = 0 ]
    it_check "states: $(it_task_states "$run")" [ "$(it_task_states "$run")" = \
        "a:success b:success c:skipped none:success pick:success" ]
    it_check "c, which no branch chose, did not run" [ ! -f "$IT_DIR/c" ]
}

t_flow_branch_bad_choice_fails() {
    it_cluster 1
    it_apply bad <<YAML
dag: bad
tasks:
  - id: pick
    kind: branch
    run: echo x > "\$SLUICE_BRANCH"
  - id: a
    after: [pick]
    run: "true"
  - id: b
    after: [pick]
    run: "true"
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" bad --wait >/dev/null || rc=$?
    run=$(it_sql "SELECT max(id) FROM runs")
    err=$(it_sql "SELECT error FROM attempts WHERE run_id=$run AND task_id='pick'")
    it_check "the run fails (rc $rc)" [ "$rc" = 1 ]
    it_check "states: $(it_task_states "$run")" [ "$(it_task_states "$run")" = \
        "a:upstream_failed b:upstream_failed pick:failed" ]
    it_check "the error says what was chosen and what could be: $err" [ "$err" = \
        "branch 'pick' chose 'x', which is not one of its children: a, b" ]
}

t_flow_branch_without_children_refused() {
    it_cluster 1
    cat >"$IT_DIR/lonely.yaml" <<YAML
dag: lonely
tasks:
  - id: pick
    kind: branch
    run: echo a > "\$SLUICE_BRANCH"
YAML
    rc=0
    out=$("$SLUICE" dag apply --dir "$IT_STATE" "$IT_DIR/lonely.yaml" 2>&1) || rc=$?
    it_check "refused (rc $rc)" [ "$rc" != 0 ]
    it_check "saying what to add: $out" sh -c \
        "printf '%s' \"\$1\" | grep -q \"task 'pick' is a branch task but no task runs after it\"" _ "$out"
}
