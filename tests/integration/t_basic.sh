# The walking skeleton end to end: hello succeeds; failures retry with
# backoff, then fail the run and mark downstream upstream_failed; timeouts
# kill the whole process group; cancel stops running tasks.

t_hello_dag_succeeds() {
    it_cluster 2
    "$SLUICE" dag apply --dir "$IT_STATE" examples/hello/hello.yaml
    "$SLUICE" trigger --dir "$IT_STATE" hello --wait
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    for t in start left right join; do
        it_check "task $t succeeded" [ "$(it_task_state "$run" "$t")" = success ]
    done
    # join ran after both left and right ended.
    it_check "join started after left and right" [ "$(it_sql "
        SELECT (SELECT created_at FROM attempts WHERE run_id=$run AND task_id='join') >=
               (SELECT max(ended_at) FROM attempts WHERE run_id=$run AND task_id IN ('left','right'))")" = 1 ]
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run" start)
    it_check "start's log is templated: '$out'" [ "$out" = "hi from $run" ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" | grep -q join
    "$SLUICE" trigger --dir "$IT_STATE" hello --param greeting=hello --wait
    run2=$(it_sql "SELECT max(id) FROM runs")
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run2" start)
    it_check "--param overrides: '$out'" [ "$out" = "hello from $run2" ]
}

t_failure_retries_then_fails_downstream() {
    it_cluster 2
    it_apply flaky <<'YAML'
dag: flaky
defaults:
  retries: 2
  retry_delay: 300ms
tasks:
  - id: bad
    run: echo trying; exit 3
  - id: child
    after: [bad]
    run: echo never
  - id: grandchild
    after: [child]
    run: echo never
  - id: fine
    run: echo fine
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" flaky --wait || rc=$?
    it_check "trigger --wait exits 1 for a failed run (got $rc)" [ "$rc" = 1 ]
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    it_check "bad failed" [ "$(it_task_state "$run" bad)" = failed ]
    it_check "child upstream_failed" [ "$(it_task_state "$run" child)" = upstream_failed ]
    it_check "grandchild upstream_failed" [ "$(it_task_state "$run" grandchild)" = upstream_failed ]
    it_check "fine succeeded" [ "$(it_task_state "$run" fine)" = success ]
    it_check "bad ran 3 times, each exit 3" [ "$(it_sql "
        SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='bad'
        AND state='failed' AND exit_code=3")" = 3 ]
    it_check "child never ran" [ "$(it_sql "
        SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='child'")" = 0 ]
    # Backoff: 300 ms before the 2nd try, 600 ms before the 3rd.
    gaps=$(it_sql "SELECT b.created_at - a.ended_at FROM attempts a JOIN attempts b
        ON b.run_id=a.run_id AND b.task_id=a.task_id AND b.number=a.number+1
        WHERE a.run_id=$run AND a.task_id='bad' ORDER BY a.number")
    set -- $gaps
    it_check "retry delays grow: $gaps" [ "$1" -ge 280 ] && [ "$2" -ge 580 ]
    it_check "every try has its own log" [ "$(it_sql "
        SELECT count(DISTINCT l.attempt_id) FROM log_chunks l JOIN attempts a ON a.id=l.attempt_id
        WHERE a.run_id=$run AND a.task_id='bad'")" = 3 ]
}

t_timeout_kills_process_group() {
    it_cluster 1
    it_apply slow <<YAML
dag: slow
tasks:
  - id: sleeper
    timeout: 1s
    run: sh -c 'sleep 60 & echo \$! > $IT_DIR/grandchild.pid; wait'
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" slow --wait || rc=$?
    it_check "trigger --wait exits 1 (got $rc)" [ "$rc" = 1 ]
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "task timed out" [ "$(it_task_state "$run" sleeper)" = timed_out ]
    it_check "attempt recorded timed_out" [ "$(it_sql "
        SELECT state FROM attempts WHERE run_id=$run AND task_id='sleeper'")" = timed_out ]
    gc=$(cat "$IT_DIR/grandchild.pid")
    it_check "grandchild sleep $gc is gone" it_wait 5 sh -c "! kill -0 $gc 2>/dev/null"
}

t_cancel_stops_running_tasks() {
    it_cluster 1
    it_apply long <<YAML
dag: long
tasks:
  - id: a
    run: sh -c 'sleep 60 & echo \$! > $IT_DIR/a.pid; wait'
  - id: b
    after: [a]
    run: echo never
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" long)
    it_check "task a starts" it_wait 10 test -s "$IT_DIR/a.pid"
    "$SLUICE" cancel --dir "$IT_STATE" "$run"
    it_check "run cancelled" [ "$(it_run_state "$run")" = cancelled ]
    it_check "b cancelled" [ "$(it_task_state "$run" b)" = cancelled ]
    pid=$(cat "$IT_DIR/a.pid")
    it_check "a's grandchild $pid is gone" it_wait 10 sh -c "! kill -0 $pid 2>/dev/null"
    it_check "a's attempt recorded cancelled" it_wait 10 sh -c \
        "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT state FROM attempts WHERE run_id=$run AND task_id='a'\")\" = cancelled ]"
}
