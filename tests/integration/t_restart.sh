# The store is the truth: a restarted scheduler still shows every run and
# its logs, and a client with no scheduler fails fast with a clear line.

t_restart_keeps_runs_and_logs() {
    it_cluster 1
    "$SLUICE" dag apply --dir "$IT_STATE" examples/hello/hello.yaml
    "$SLUICE" trigger --dir "$IT_STATE" hello --wait
    "$SLUICE" trigger --dir "$IT_STATE" hello --wait
    before=$("$SLUICE" runs --dir "$IT_STATE" hello)
    kill -KILL "$IT_SCHED_PID"
    wait "$IT_SCHED_PID" 2>/dev/null || true
    it_start_scheduler --heartbeat-ms 300
    after=$("$SLUICE" runs --dir "$IT_STATE" hello)
    it_check "runs listed after restart" [ "$(echo "$after" | grep -c success)" -ge 2 ]
    for run in $(it_sql "SELECT id FROM runs"); do
        out=$("$SLUICE" logs --dir "$IT_STATE" "$run" start)
        it_check "run $run's log survives the restart: '$out'" [ "$out" = "hi from $run" ]
    done
    # Work goes on after the restart once the worker is back.
    it_check "worker reconnects" it_wait 20 it_connected 1
    "$SLUICE" trigger --dir "$IT_STATE" hello --wait
    : "$before"
}

t_no_scheduler_fails_fast() {
    it_cluster 0
    it_stop "$IT_SCHED_PID"
    start=$(date +%s%N)
    rc=0
    out=$("$SLUICE" runs --dir "$IT_STATE" 2>&1) || rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    it_check "exit 3 when unreachable (got $rc)" [ "$rc" = 3 ]
    it_check "answered within 2.5 s (took $ms ms)" [ "$ms" -lt 2500 ]
    it_check "one line: '$out'" [ "$(echo "$out" | wc -l)" = 1 ]
    it_check "says how to start it: '$out'" sh -c "echo \"\$1\" | grep -q 'sluice scheduler'" _ "$out"
}

t_validate_reports_errors_offline() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    cat >"$IT_DIR/bad.yaml" <<'YAML'
dag: bad
tasks:
  - id: a
    run: echo a
    afterr: [b]
  - id: b
    after: [c]
    run: echo b
YAML
    rc=0
    out=$("$SLUICE" dag validate "$IT_DIR/bad.yaml" 2>&1) || rc=$?
    it_check "exit 1 (got $rc)" [ "$rc" = 1 ]
    it_check "unknown key with did-you-mean: $out" sh -c "echo \"\$1\" | grep -q 'bad.yaml:5:5:.*afterr.*after'" _ "$out"
    it_check "missing upstream named: $out" sh -c "echo \"\$1\" | grep -q \"bad.yaml:7:.*'c'\"" _ "$out"
    "$SLUICE" dag validate examples/hello/hello.yaml
}
