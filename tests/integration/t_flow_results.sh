# Small results between tasks: a task writes one JSON value to
# $SLUICE_RESULT; the scheduler stores it with the attempt, 'run show'
# and --json show it, and downstream templates read it as
# {{ tasks.ID.result }} or {{ tasks.ID.result.FIELD }}.

t_flow_results_pass_downstream() {
    it_cluster 1
    it_apply res <<'YAML'
dag: res
tasks:
  - id: a
    run: |
      printf '{"rows": 42, "path": "/x y"}' > "$SLUICE_RESULT"
  - id: mid
    after: [a]
    run: "true"
  - id: b
    after: [mid]
    env:
      WHOLE: "{{ tasks.a.result }}"
    run: printf '%s|%s|%s\n' {{ tasks.a.result.rows }} {{ tasks.a.result.path }} "$WHOLE"
YAML
    "$SLUICE" trigger --dir "$IT_STATE" res --wait >/dev/null
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run" b)
    it_check "the field, the path as one argument, the whole value: '$out'" \
        [ "$out" = '42|/x y|{"rows": 42, "path": "/x y"}' ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.txt"
    it_check "run show prints it: $(cat "$IT_DIR/show.txt")" grep -qF \
        "'a' result: {\"rows\": 42, \"path\": \"/x y\"}" "$IT_DIR/show.txt"
    "$SLUICE" run show --dir "$IT_STATE" "$run" --json >"$IT_DIR/show.json"
    it_check "run show --json has it" python3 - "$IT_DIR/show.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
tasks = {t["task_id"]: t for t in doc["tasks"]}
res = tasks["a"]["attempts"][-1]["result"]
assert json.loads(res) == {"rows": 42, "path": "/x y"}, res
assert not tasks["mid"]["attempts"][-1].get("result"), tasks["mid"]
PY
    it_check "stored with the attempt" [ "$(it_sql "SELECT count(*) FROM \
attempt_results r JOIN attempts a ON a.id = r.attempt_id \
WHERE a.run_id = $run AND a.task_id = 'a'")" = 1 ]
}

t_flow_results_oversize_fails() {
    it_cluster 1
    it_apply big <<'YAML'
dag: big
tasks:
  - id: a
    run: head -c 70000 /dev/zero | tr '\0' 7 > "$SLUICE_RESULT"
  - id: bad
    run: |
      printf '{"rows": ' > "$SLUICE_RESULT"
YAML
    "$SLUICE" trigger --dir "$IT_STATE" big --wait >/dev/null 2>&1 || true
    run=$(it_sql "SELECT max(id) FROM runs")
    it_wait 20 it_run_final "$run"
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    err=$(it_sql "SELECT error FROM attempts WHERE run_id=$run AND task_id='a'")
    it_check "says why: '$err'" [ "${err#result: \$SLUICE_RESULT holds 70000 bytes, over 65536}" != "$err" ]
    it_check "cause exit" [ "$(it_sql "SELECT cause FROM attempts WHERE \
run_id=$run AND task_id='a'")" = exit ]
    err=$(it_sql "SELECT error FROM attempts WHERE run_id=$run AND task_id='bad'")
    it_check "invalid JSON says so: '$err'" grep -qF \
        'result: $SLUICE_RESULT is not one valid JSON value' <<<"$err"
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.txt"
    it_check "run show shows the cause: $(cat "$IT_DIR/show.txt")" grep -qF \
        "holds 70000 bytes, over 65536" "$IT_DIR/show.txt"
}

t_flow_results_missing_upstream_result_fails() {
    it_cluster 1
    it_apply none <<'YAML'
dag: none
tasks:
  - id: a
    run: "true"
  - id: b
    after: [a]
    run: echo {{ tasks.a.result.rows }}
YAML
    "$SLUICE" trigger --dir "$IT_STATE" none --wait >/dev/null 2>&1 || true
    run=$(it_sql "SELECT max(id) FROM runs")
    it_wait 20 it_run_final "$run"
    err=$(it_sql "SELECT error FROM attempts WHERE run_id=$run AND task_id='b'")
    it_check "b fails, saying a left no result: '$err'" grep -qF \
        "task 'a' left no result" <<<"$err"
}

t_flow_results_not_upstream_refused() {
    it_cluster 0
    cat >"$IT_DIR/side.yaml" <<'YAML'
dag: side
tasks:
  - id: a
    run: "true"
  - id: b
    run: echo {{ tasks.a.result.rows }}
YAML
    rc=0
    "$SLUICE" dag validate "$IT_DIR/side.yaml" 2>"$IT_DIR/err" >&2 || rc=$?
    it_check "refused (rc $rc)" [ "$rc" != 0 ]
    it_check "at FILE:LINE:COL: $(cat "$IT_DIR/err")" grep -qF \
        "$IT_DIR/side.yaml:6:15: 'run' of task 'b' reads the result of task 'a', which is not upstream of it" \
        "$IT_DIR/err"
}
