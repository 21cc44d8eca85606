# `sluice drain WORKER`: the worker gets no new task, `sluice workers` shows
# it draining, its running tasks finish there, and it leaves when idle.

t_drain_worker_leaves_when_idle() {
    cl_net 3
    cl_init
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3
    # Only w1 at first, so the first run's two tasks land on it.
    cl_start_worker w1 --slots 2
    cl_check "w1 connects" cl_wait 10 cl_connected 1
    cl_apply busy <<YAML
dag: busy
tasks:
  - {id: a, run: touch $CL_DIR/a.started; sleep 3}
  - {id: b, run: touch $CL_DIR/b.started; sleep 3}
YAML
    run=$(cl_sl trigger busy)
    cl_check "a starts" cl_wait 10 test -e "$CL_DIR/a.started"
    cl_check "b starts" cl_wait 10 test -e "$CL_DIR/b.started"
    cl_start_worker w2 --slots 2
    cl_start_worker w3 --slots 2
    cl_check "w2, w3 connect" cl_wait 10 cl_connected 3
    t0=$(cl_now_ms)
    cl_sl drain w1 >&2
    out=$(cl_sl workers)
    echo "$out" >&2
    cl_check "sluice workers shows w1 draining" \
        sh -c "echo \"\$1\" | grep -Eq '^w1 .* draining '" _ "$out"
    # New work while w1 drains goes elsewhere.
    cl_apply more <<'YAML'
dag: more
tasks:
  - {id: m1, run: sleep 0.5}
  - {id: m2, run: sleep 0.5}
  - {id: m3, run: sleep 0.5}
  - {id: m4, run: sleep 0.5}
YAML
    run2=$(cl_sl trigger more)
    cl_wait_run "$run2" 20
    cl_check_run "$run2" success
    cl_check "no task of the new run went to w1" cl_sql_is 0 "
        SELECT count(*) FROM attempts WHERE run_id=$run2 AND worker='w1'"
    pid=$(cl_pid w1)
    cl_check "w1 leaves when idle" cl_wait 20 sh -c "! kill -0 $pid 2>/dev/null"
    rc=0
    wait "$pid" || rc=$?
    cl_check "w1 exits 0 (got $rc)" [ "$rc" = 0 ]
    cl_check "w1 is gone" cl_wait 5 cl_sql_is gone "SELECT state FROM workers WHERE name='w1'"
    cl_measure "drain -> w1 gone (its tasks had ~2.5 s left)" \
        $(( $(cl_sql "SELECT state_at FROM workers WHERE name='w1'") - t0 ))
    cl_wait_run "$run" 10
    cl_check_run "$run" success
    cl_check "a finished on w1" [ "$(cl_attempts "$run" a)" = "success@w1" ]
    cl_check "b finished on w1" [ "$(cl_attempts "$run" b)" = "success@w1" ]
    cl_check "w1 left after its tasks ended" cl_sql_is 1 "
        SELECT (SELECT state_at FROM workers WHERE name='w1') >=
               (SELECT max(ended_at) FROM attempts WHERE run_id=$run)"
    cl_check "nothing lost" cl_sql_is 0 "SELECT count(*) FROM attempts WHERE state='lost'"
}
