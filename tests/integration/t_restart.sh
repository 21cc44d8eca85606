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

# The worker loses the scheduler (stopped, so the connection stays up but
# nobody answers) in the middle of a task that keeps printing: what it
# printed before, while disconnected and after it came back is all in the
# stored log, once, in order.
t_logs_survive_a_lost_connection() {
    it_cluster 1
    it_apply chatty <<YAML
dag: chatty
tasks:
  - id: talk
    run: >-
      echo before;
      while [ ! -e $IT_DIR/go ]; do sleep 0.05; done; echo during;
      while [ ! -e $IT_DIR/go2 ]; do sleep 0.05; done; echo after
YAML
    "$SLUICE" trigger --dir "$IT_STATE" chatty >/dev/null
    it_check "first line stored" it_wait 15 sh -c \
        "\"$SLUICE\" logs --dir \"$IT_STATE\" 1 talk | grep -q before"
    kill -STOP "$IT_SCHED_PID"
    it_check "worker notices the silence" it_wait 15 \
        grep -q "lost the scheduler" "$IT_DIR/w1.log"
    touch "$IT_DIR/go"
    sleep 0.5 # the task prints 'during' while the worker is disconnected
    kill -CONT "$IT_SCHED_PID"
    it_check "worker registers again" it_wait 15 sh -c \
        "[ \$(grep -c 'registered with' \"$IT_DIR/w1.log\") -ge 2 ]"
    touch "$IT_DIR/go2"
    it_check "run ends" it_wait 20 it_run_final 1
    it_check "run succeeded" [ "$(it_run_state 1)" = success ]
    # The scheduler's own pause is not the worker's silence: no re-run.
    it_check "one attempt" [ "$(it_sql "SELECT count(*) FROM attempts")" = 1 ]
    out=$("$SLUICE" logs --dir "$IT_STATE" 1 talk | tr '\n' ' ')
    it_check "whole log, once, in order: '$out'" [ "$out" = "before during after " ]
}

# A scheduler that stops answering for a while (paused here; busy or on a
# slow disk in real life) after the CLI connected is waited for: 'trigger
# --wait' does not give up as if there were no scheduler.
t_cli_waits_for_a_paused_scheduler() {
    it_cluster 1
    it_apply pause <<YAML
dag: pause
tasks:
  - id: wait
    run: while [ ! -e $IT_DIR/go ]; do sleep 0.05; done
YAML
    "$SLUICE" trigger --dir "$IT_STATE" pause --wait >"$IT_DIR/wait.out" 2>&1 &
    waiter=$!
    IT_PIDS="$IT_PIDS $waiter"
    it_check "task runs" it_wait 15 sh -c \
        "[ \"\$(sqlite3 -readonly '$IT_STATE/store.db' \"SELECT state FROM task_instances\")\" = running ]"
    kill -STOP "$IT_SCHED_PID"
    sleep 3
    kill -CONT "$IT_SCHED_PID"
    touch "$IT_DIR/go"
    rc=0
    wait "$waiter" || rc=$?
    it_check "trigger --wait saw the run succeed (rc $rc): $(cat "$IT_DIR/wait.out")" \
        [ "$rc" = 0 ]
    grep -q "success" "$IT_DIR/wait.out"
}

# 'sluice outbox' shows a result the worker holds while the scheduler does
# not answer, and nothing once the scheduler has acknowledged it.
t_outbox_lists_unacknowledged_results() {
    it_cluster 1
    it_apply held <<YAML
dag: held
tasks:
  - id: t
    run: while [ ! -e $IT_DIR/go ]; do sleep 0.05; done; exit 3
YAML
    "$SLUICE" trigger --dir "$IT_STATE" held >/dev/null
    it_check "task runs" it_wait 15 sh -c \
        "[ \"\$(sqlite3 -readonly '$IT_STATE/store.db' \"SELECT state FROM task_instances\")\" = running ]"
    out=$("$SLUICE" outbox --dir "$IT_DIR/w1")
    it_check "empty at first: '$out'" [ "$out" = "no results waiting in $IT_DIR/w1/outbox" ]
    kill -STOP "$IT_SCHED_PID"
    touch "$IT_DIR/go"
    it_check "the result waits in the outbox" it_wait 10 sh -c \
        "\"$SLUICE\" outbox --dir \"$IT_DIR/w1\" | grep -q 'exited 3'"
    "$SLUICE" outbox --dir "$IT_DIR/w1" --json | grep -q '"exit_code": 3'
    kill -CONT "$IT_SCHED_PID"
    it_check "acknowledged, the outbox empties" it_wait 15 sh -c \
        "\"$SLUICE\" outbox --dir \"$IT_DIR/w1\" | grep -q '^no results waiting'"
}
