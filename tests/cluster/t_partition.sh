# The network breaks. Cut off longer than the liveness window, a worker is
# lost and its task runs elsewhere; what the cut-off worker reports later is
# stale and changes nothing, and the worker rejoins and takes new work. Cut
# off for less than the window, nothing is re-queued and the result arrives
# once the link is back.

t_long_partition_requeues_and_late_result_is_stale() {
    cl_cluster 3
    cl_apply part <<YAML
dag: part
tasks:
  - id: a
    run: touch $CL_DIR/a.started.\$SLUICE_ATTEMPT; sleep 3; echo done
YAML
    run=$(cl_sl trigger part)
    cl_check "a starts" cl_wait 10 test -e "$CL_DIR/a.started.1"
    w=$(cl_running_on "$run" a)
    first=$(cl_sql "SELECT id FROM attempts WHERE run_id=$run AND task_id='a'")
    t0=$(cl_now_ms)
    cl_cut "$w"
    cl_check "$w marked lost while cut off" cl_wait 10 cl_sql_is lost "SELECT state FROM workers WHERE name='$w'"
    lost_ms=$(( $(cl_sql "SELECT state_at FROM workers WHERE name='$w'") - t0 ))
    cl_measure "cut -> worker lost" "$lost_ms"
    cl_check "a re-queued elsewhere" cl_wait 10 cl_sql_is 1 "
        SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='a' AND id>$first AND worker!='$w'"
    # The cut-off worker's attempt ends (sleep 3) while it is still cut off:
    # its result waits in its outbox.
    cl_check "the cut-off attempt finishes during the cut" \
        cl_wait 10 cl_outbox_holds "$w"
    cl_check "the cut lasted longer than the liveness window" [ $(( $(cl_now_ms) - t0 )) -gt $(( 3 * CL_HB )) ]
    t1=$(cl_now_ms)
    cl_restore "$w"
    cl_check "$w rejoins" cl_wait 40 cl_sql_is connected "SELECT state FROM workers WHERE name='$w'"
    rejoin_ms=$(( $(cl_sql "SELECT state_at FROM workers WHERE name='$w'") - t1 ))
    cl_measure "restore -> worker connected again (reconnect back-off)" "$rejoin_ms"
    cl_check "the late result is recorded stale" cl_wait 10 cl_sql_is 1 "
        SELECT count(*) FROM stale_results WHERE attempt_id=$first AND worker='$w'"
    cl_check "the outbox is emptied (the stale result was acknowledged)" \
        cl_wait 10 cl_outbox_empty "$w"
    cl_wait_run "$run" 20
    cl_check_run "$run" success
    att=$(cl_attempts "$run" a)
    cl_check "a: lost on $w, one success elsewhere: '$att'" \
        sh -c "echo '$att' | grep -Eq '^lost@$w success@w[123]$'"
    cl_check "the stale result changed nothing: attempt $first still lost" \
        cl_sql_is lost "SELECT state FROM attempts WHERE id=$first"
    # New work reaches the worker that came back: 6 tasks fill 3 x 2 slots.
    cl_apply wide <<YAML
dag: wide
tasks:
  - {id: t1, run: sleep 1}
  - {id: t2, run: sleep 1}
  - {id: t3, run: sleep 1}
  - {id: t4, run: sleep 1}
  - {id: t5, run: sleep 1}
  - {id: t6, run: sleep 1}
YAML
    run2=$(cl_sl trigger wide)
    cl_wait_run "$run2" 20
    cl_check_run "$run2" success
    n=$(cl_sql "SELECT count(*) FROM attempts WHERE run_id=$run2 AND worker='$w' AND state='success'")
    cl_check "$w ran tasks of the new run ($n)" [ "$n" -ge 1 ]
}

t_short_partition_no_requeue() {
    # Liveness window 20 x 300 ms = 6 s; the cut lasts about 2.5 s. TCP
    # retransmits what was sent during the cut (back-off 0.2, 0.6, 1.4,
    # 3.0 s ...), so the silence the scheduler sees is at most ~4 s.
    cl_cluster 3 --liveness 20
    cl_apply short <<YAML
dag: short
tasks:
  - id: a
    run: touch $CL_DIR/a.started; sleep 1.5; echo done
YAML
    run=$(cl_sl trigger short)
    cl_check "a starts" cl_wait 10 test -e "$CL_DIR/a.started"
    w=$(cl_running_on "$run" a)
    sleep 0.2
    t0=$(cl_now_ms)
    cl_cut "$w"
    cl_check "a ends on $w during the cut (its result waits in the outbox)" \
        cl_wait 5 cl_outbox_holds "$w"
    sleep 1
    cl_check "the result has not arrived yet" cl_sql_is running "
        SELECT state FROM attempts WHERE run_id=$run AND task_id='a'"
    t1=$(cl_now_ms)
    cl_restore "$w"
    cl_measure "cut length" $(( t1 - t0 ))
    cl_wait_run "$run" 15
    got_ms=$(( $(cl_sql "SELECT max(at) FROM transitions WHERE run_id=$run AND task_id='a' AND state='success'") - t1 ))
    cl_measure "restore -> result recorded" "$got_ms"
    cl_check_run "$run" success
    cl_check "exactly one attempt, success on $w" [ "$(cl_attempts "$run" a)" = "success@$w" ]
    cl_check "$w was never lost" cl_sql_is 0 "
        SELECT count(*) FROM events WHERE kind='worker_lost' AND subject='$w'"
    cl_check "$w connected" cl_sql_is connected "SELECT state FROM workers WHERE name='$w'"
    cl_check "nothing stale" cl_sql_is 0 "SELECT count(*) FROM stale_results"
    cl_check "the outbox is emptied" cl_wait 10 cl_outbox_empty "$w"
}
