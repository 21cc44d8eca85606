# A worker told to stop (SIGTERM) takes no more work, lets running tasks
# finish within its grace period, kills and reports the rest, and leaves;
# nothing is lost.

t_worker_sigterm_finishes_within_grace() {
    it_cluster 0
    it_start_worker w1 --slots 1 --grace 20s
    it_wait 10 it_connected 1
    it_apply short <<'YAML'
dag: short
tasks:
  - id: a
    run: sleep 1; echo done
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" short)
    it_check "a starts" it_wait 10 sh -c "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT count(*) FROM attempts WHERE run_id=$run\")\" = 1 ]"
    kill -TERM "$IT_PID_w1"
    rc=0
    wait "$IT_PID_w1" || rc=$?
    it_check "worker exits 0 (got $rc)" [ "$rc" = 0 ]
    it_check "run succeeded" it_wait 10 it_run_final "$run"
    it_check "a succeeded on w1" [ "$(it_sql "SELECT state || ' ' || worker FROM attempts WHERE run_id=$run")" = "success w1" ]
    it_check "w1 said goodbye" [ "$(it_sql "SELECT state FROM workers WHERE name='w1'")" = gone ]
}

t_worker_sigterm_kills_after_grace_and_work_moves() {
    it_cluster 0
    it_start_worker w1 --slots 1 --grace 1s
    it_wait 10 it_connected 1
    it_apply slow <<'YAML'
dag: slow
tasks:
  - id: a
    run: sleep 3; echo done
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" slow)
    it_check "a starts on w1" it_wait 10 sh -c "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT count(*) FROM attempts WHERE run_id=$run\")\" = 1 ]"
    sleep 0.3
    kill -TERM "$IT_PID_w1"
    wait "$IT_PID_w1" || true
    it_start_worker w2 --slots 1
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "first try cancelled on w1, second succeeded on w2" [ "$(it_sql "
        SELECT group_concat(state || '@' || worker, ' ') FROM
        (SELECT state, worker FROM attempts WHERE run_id=$run ORDER BY id)")" = "cancelled@w1 success@w2" ]
}

t_worker_big_fleet_is_told_to_beat_less_often() {
    # Two workers at most one heartbeat a second in all: each is told to
    # beat every 2 s instead of every 300 ms, and keeps its connection.
    it_cluster 2 --max-heartbeats-per-second 1
    it_check "w1 is told to beat every 2000 ms" it_wait 10 \
        grep -q "heartbeat every 2000 ms" "$IT_DIR/w1.log"
    sleep 3
    it_check "both stay connected" it_connected 2
    it_check "none was lost" [ "$(it_sql "SELECT count(*) FROM workers WHERE state='lost'")" = 0 ]
}
