# Operator verbs: retry a run's failed tasks, drain a worker.

t_retry_reruns_failed_tasks_and_downstream() {
    it_cluster 1
    it_apply gate <<YAML
dag: gate
tasks:
  - id: a
    run: test -f $IT_DIR/open
  - id: b
    after: [a]
    run: echo b ran
  - id: c
    run: echo c ran
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" gate --wait || rc=$?
    it_check "first run fails (rc $rc)" [ "$rc" = 1 ]
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "b upstream_failed" [ "$(it_task_state "$run" b)" = upstream_failed ]
    touch "$IT_DIR/open"
    "$SLUICE" retry --dir "$IT_STATE" "$run"
    it_check "run ends" it_wait 10 it_run_final "$run"
    it_check "run succeeded after retry" [ "$(it_run_state "$run")" = success ]
    it_check "a ran twice, b once, c once" [ "$(it_sql "
        SELECT group_concat(task_id || ':' || n, ' ') FROM (SELECT task_id, count(*) n
        FROM attempts WHERE run_id=$run GROUP BY task_id ORDER BY task_id)")" = "a:2 b:1 c:1" ]
    rc=0
    out=$("$SLUICE" retry --dir "$IT_STATE" "$run" 2>&1) || rc=$?
    it_check "nothing to retry is refused (rc $rc): $out" [ "$rc" = 4 ]
    # One task and its downstream, even after success.
    "$SLUICE" retry --dir "$IT_STATE" "$run" a
    it_check "run ends again" it_wait 10 it_run_final "$run"
    it_check "a and b ran again, c did not" [ "$(it_sql "
        SELECT group_concat(task_id || ':' || n, ' ') FROM (SELECT task_id, count(*) n
        FROM attempts WHERE run_id=$run GROUP BY task_id ORDER BY task_id)")" = "a:3 b:2 c:1" ]
    it_check "the retry is in the event log" [ "$(it_sql "SELECT count(*) FROM events WHERE kind='retry'")" = 2 ]
}

t_drain_sends_no_work_and_worker_leaves() {
    it_cluster 2
    it_apply longone <<YAML
dag: longone
tasks:
  - id: long
    run: sleep 2
YAML
    it_apply many <<'YAML'
dag: many
tasks:
  - id: t1
    run: "true"
  - id: t2
    run: "true"
  - id: t3
    run: "true"
  - id: t4
    run: "true"
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" longone)
    it_check "long starts" it_wait 10 sh -c "[ -n \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT worker FROM attempts WHERE run_id=$run\")\" ]"
    busy=$(it_sql "SELECT worker FROM attempts WHERE run_id=$run")
    "$SLUICE" drain --dir "$IT_STATE" "$busy"
    "$SLUICE" workers --dir "$IT_STATE" | grep "$busy" | grep -q draining
    run2=$("$SLUICE" trigger --dir "$IT_STATE" many)
    it_check "many ends" it_wait 10 it_run_final "$run2"
    it_check "no task went to the draining worker" [ "$(it_sql "
        SELECT count(*) FROM attempts WHERE run_id=$run2 AND worker='$busy'")" = 0 ]
    it_check "long finished on it" it_wait 10 it_run_final "$run"
    it_check "long succeeded" [ "$(it_run_state "$run")" = success ]
    eval "pid=\$IT_PID_$busy"
    it_check "the drained worker exits" it_wait 10 sh -c "! kill -0 $pid 2>/dev/null"
    it_check "it is recorded gone" [ "$(it_sql "SELECT state FROM workers WHERE name='$busy'")" = gone ]
}
