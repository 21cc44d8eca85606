# A worker machine dies (kill -9): the scheduler notices within the liveness
# window and runs the task again elsewhere; the lost attempt stays recorded
# as lost. A worker told to stop (SIGTERM) takes no more work, finishes what
# it can within its grace, kills and reports the rest, and says goodbye.

t_kill9_worker_requeues() {
    cl_cluster 3
    cl_apply long <<YAML
dag: long
tasks:
  - id: a
    run: touch $CL_DIR/a.started.\$SLUICE_ATTEMPT; sleep 5; echo done
  - id: b
    after: [a]
    run: echo after
YAML
    run=$(cl_sl trigger long)
    cl_check "a starts" cl_wait 10 test -e "$CL_DIR/a.started.1"
    w=$(cl_running_on "$run" a)
    cl_check "a runs on a worker ('$w')" [ -n "$w" ]
    first=$(cl_sql "SELECT id FROM attempts WHERE run_id=$run AND task_id='a'")
    t0=$(cl_now_ms)
    cl_kill9 "$(cl_pid "$w")"
    cl_check "$w marked lost" cl_wait 10 cl_sql_is lost "SELECT state FROM workers WHERE name='$w'"
    cl_check "attempt $first marked lost" cl_wait 10 cl_sql_is lost "SELECT state FROM attempts WHERE id=$first"
    cl_check "a re-queued" cl_wait 10 cl_sql_is 2 "SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='a'"
    lost_ms=$(( $(cl_sql "SELECT state_at FROM workers WHERE name='$w'") - t0 ))
    attempt_ms=$(( $(cl_sql "SELECT ended_at FROM attempts WHERE id=$first") - t0 ))
    requeue_ms=$(( $(cl_sql "SELECT created_at FROM attempts WHERE run_id=$run AND task_id='a' AND id>$first") - t0 ))
    cl_measure "kill -9 -> worker lost (heartbeat ${CL_HB} ms x 3)" "$lost_ms"
    cl_measure "kill -9 -> attempt lost" "$attempt_ms"
    cl_measure "kill -9 -> new attempt created" "$requeue_ms"
    # Liveness is 3 silent intervals after the last message heard (at or
    # before the kill), and the scheduler wakes when that window ends: the
    # worker is lost within 3 intervals of the kill (30 ms for the loop).
    cl_check "lost within 3 heartbeat intervals: $lost_ms ms" \
        [ "$lost_ms" -le $(( 3 * CL_HB + 30 )) ]
    cl_wait_run "$run" 20
    cl_check_run "$run" success
    att=$(cl_attempts "$run" a)
    w2=$(cl_sql "SELECT worker FROM attempts WHERE run_id=$run AND task_id='a' AND state='success'")
    cl_check "a: lost on $w, then success elsewhere: '$att'" [ "$att" = "lost@$w success@$w2" ]
    cl_check "second attempt on another worker" [ "$w2" != "$w" ]
    cl_check "lost attempt has no exit code" cl_sql_is "-1" "SELECT exit_code FROM attempts WHERE id=$first"
    cl_check "b ran once" [ "$(cl_attempts "$run" b | wc -w)" = 1 ]
    cl_check "the scheduler logged why" grep -q "worker '$w' lost" "$CL_DIR/scheduler.log"
}

t_kill9_worker_with_prefetched_task_requeues_both() {
    cl_net 2
    cl_init
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3
    # w1 alone first, one slot and one task held beyond it.
    cl_start_worker w1 --slots 1 --prefetch 1
    cl_check "w1 connects" cl_wait 10 cl_connected 1
    cl_apply held <<YAML
dag: held
defaults:
  retries: 0
tasks:
  - id: a
    run: touch $CL_DIR/a.started.\$SLUICE_ATTEMPT; sleep 5; echo done
    priority: 10
  - id: b
    run: echo b ran
YAML
    run=$(cl_sl trigger held)
    cl_check "a starts on w1" cl_wait 10 test -e "$CL_DIR/a.started.1"
    cl_check "b is held by w1, dispatched" cl_wait 10 cl_sql_is "dispatched@w1" "
        SELECT state || '@' || worker FROM attempts WHERE run_id=$run AND task_id='b'"
    cl_start_worker w2 --slots 1
    cl_check "w2 connects" cl_wait 10 cl_connected 2
    cl_kill9 "$(cl_pid w1)"
    cl_check "w1 marked lost" cl_wait 10 cl_sql_is lost "SELECT state FROM workers WHERE name='w1'"
    cl_wait_run "$run" 30
    cl_check_run "$run" success
    cl_check "b: lost with w1, then success on w2 (no retry used)" \
        [ "$(cl_attempts "$run" b)" = "lost@w1 success@w2" ]
    cl_check "a: lost with w1, then success on w2" \
        [ "$(cl_attempts "$run" a)" = "lost@w1 success@w2" ]
}

t_sigterm_worker_finishes_then_leaves() {
    cl_net 3
    cl_init
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3
    # Only w1 at first, so both tasks land on it.
    cl_start_worker w1 --slots 2 --grace 3s
    cl_check "w1 connects" cl_wait 10 cl_connected 1
    cl_apply stop <<YAML
dag: stop
tasks:
  - id: short
    run: touch $CL_DIR/short.started; sleep 1; echo done
  - id: long
    run: touch $CL_DIR/long.started.\$SLUICE_ATTEMPT; sleep 8; echo done
  - id: after
    after: [short, long]
    run: echo after
YAML
    run=$(cl_sl trigger stop)
    cl_check "short starts" cl_wait 10 test -e "$CL_DIR/short.started"
    cl_check "long starts" cl_wait 10 test -e "$CL_DIR/long.started.1"
    cl_start_worker w2 --slots 2
    cl_start_worker w3 --slots 2
    cl_check "w2, w3 connect" cl_wait 10 cl_connected 3
    t0=$(cl_now_ms)
    pid=$(cl_pid w1)
    kill -TERM "$pid"
    rc=0
    # Grace 3 s, then the kill grace of the attempt (5 s), then goodbye.
    cl_check "w1 exits within 15 s" cl_wait 15 sh -c "! kill -0 $pid 2>/dev/null"
    wait "$pid" || rc=$?
    exit_ms=$(( $(cl_now_ms) - t0 ))
    cl_measure "SIGTERM -> w1 exited (grace 3 s)" "$exit_ms"
    cl_check "w1 exits 0 (got $rc)" [ "$rc" = 0 ]
    cl_check "w1 said goodbye: state gone" cl_sql_is gone "SELECT state FROM workers WHERE name='w1'"
    gone_ms=$(( $(cl_sql "SELECT state_at FROM workers WHERE name='w1'") - t0 ))
    cl_measure "SIGTERM -> w1 gone" "$gone_ms"
    cl_wait_run "$run" 30
    cl_check_run "$run" success
    cl_check "short finished on w1 within its grace" [ "$(cl_attempts "$run" short)" = "success@w1" ]
    att=$(cl_attempts "$run" long)
    cl_check "long was killed after the grace on w1, then ran elsewhere: '$att'" \
        sh -c "echo '$att' | grep -Eq '^cancelled@w1 success@w[23]$'"
    cl_check "w1 took no new attempt after SIGTERM" cl_sql_is 0 "
        SELECT count(*) FROM attempts WHERE worker='w1' AND created_at > $t0"
    att=$(cl_attempts "$run" after)
    cl_check "after ran once, elsewhere: '$att'" sh -c "echo '$att' | grep -Eq '^success@w[23]$'"
    cl_check "no worker was lost" cl_sql_is 0 "SELECT count(*) FROM workers WHERE state='lost'"
}
