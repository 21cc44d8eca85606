# Prefetch: a busy worker holds its next task as a dispatched attempt; a
# cancel, a drain or a stop treats it like a running one.

# Starts one worker w1 with one slot (it prefetches one task) and a run of
# two tasks: 'long' runs there, 'next' waits there, dispatched.
prefetch_setup() {
    it_cluster 0
    it_start_worker w1 --slots 1 --prefetch 1
    it_wait 15 it_connected 1
    it_apply pair <<YAML
dag: pair
defaults:
  retries: 0
tasks:
  - id: long
    run: sleep 4
    priority: 10
  - id: next
    run: "true"
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" pair)
    it_check "'next' waits on w1, dispatched" it_wait 10 sh -c \
        "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT state FROM task_instances WHERE run_id=$run AND task_id='next'\")\" = dispatched ]"
    it_check "'long' runs" [ "$(it_task_state "$run" long)" = running ]
}

t_prefetched_task_shows_dispatched_then_runs() {
    prefetch_setup
    out=$("$SLUICE" run show --dir "$IT_STATE" "$run")
    it_check "run show tells dispatched from running: $out" sh -c \
        "echo \"\$1\" | grep -q 'next.*dispatched' && echo \"\$1\" | grep -q 'long.*running'" _ "$out"
    it_check "the run ends" it_wait 15 it_run_final "$run"
    it_check "it succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "'next' went dispatched -> running -> success" [ "$(it_sql "
        SELECT group_concat(state, ' ') FROM (SELECT state FROM transitions
        WHERE run_id=$run AND task_id='next' ORDER BY id)")" = "pending queued dispatched running success" ]
}

t_prefetched_task_cancelled_before_it_starts() {
    prefetch_setup
    "$SLUICE" cancel --dir "$IT_STATE" "$run" >/dev/null
    it_check "the run is cancelled" it_wait 10 it_run_final "$run"
    it_check "state cancelled" [ "$(it_run_state "$run")" = cancelled ]
    it_check "'next' never started" it_wait 10 sh -c "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"
        SELECT state || ':' || started_at FROM attempts WHERE run_id=$run AND task_id='next'\")\" = cancelled:0 ]"
    it_check "the worker says so" grep -q "cancelled before it started" "$IT_DIR/w1.log"
}

t_draining_worker_returns_prefetched_tasks() {
    prefetch_setup
    it_start_worker w2 --slots 1
    it_wait 15 it_connected 2
    "$SLUICE" drain --dir "$IT_STATE" w1 >/dev/null
    it_check "'next' ran on w2 while 'long' still ran on w1" it_wait 10 sh -c "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"
        SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='next' AND worker='w2' AND state='success'\")\" = 1 ]"
    it_check "'long' is still running" [ "$(it_task_state "$run" long)" = running ]
    it_check "the run ends" it_wait 15 it_run_final "$run"
    it_check "it succeeded with retries: 0 (giving back is no retry)" [ "$(it_run_state "$run")" = success ]
}

t_stopping_worker_returns_prefetched_tasks() {
    prefetch_setup
    eval "pid=\$IT_PID_w1"
    kill -TERM "$pid"
    it_check "'next' is queued again" it_wait 10 sh -c "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT state FROM task_instances WHERE run_id=$run AND task_id='next'\")\" = queued ]"
    it_start_worker w2 --slots 1
    it_check "the run ends" it_wait 20 it_run_final "$run"
    it_check "it succeeded with retries: 0" [ "$(it_run_state "$run")" = success ]
    it_check "'next' ran on w2" [ "$(it_sql "SELECT worker FROM attempts WHERE run_id=$run AND task_id='next' AND state='success'")" = w2 ]
}
