# The scheduler's machine has trouble. Killed (kill -9) while tasks run and
# started again, it goes on where it was: what finished meanwhile comes from
# the workers' outboxes and nothing that succeeded runs twice. Its disk
# fills: new triggers are refused with a clear error, the store stays sound,
# and it works again once space is freed.

t_scheduler_kill9_restart_recovers_from_outboxes() {
    cl_cluster 3
    cl_apply crash <<YAML
dag: crash
tasks:
  - {id: q1, run: touch $CL_DIR/q1.started; sleep 1}
  - {id: q2, run: touch $CL_DIR/q2.started; sleep 1}
  - {id: q3, run: touch $CL_DIR/q3.started; sleep 1}
  - {id: s1, run: touch $CL_DIR/s1.started; sleep 5}
  - {id: s2, run: touch $CL_DIR/s2.started; sleep 5}
  - {id: s3, run: touch $CL_DIR/s3.started; sleep 5}
  - id: last
    after: [q1, q2, q3, s1, s2, s3]
    run: echo all done
YAML
    run=$(cl_sl trigger crash)
    for t in q1 q2 q3 s1 s2 s3; do
        cl_check "$t starts" cl_wait 10 test -e "$CL_DIR/$t.started"
    done
    t0=$(cl_now_ms)
    cl_kill9 "$CL_SCHED_PID"
    # q1..q3 end while no scheduler listens: their results wait in outboxes.
    # (A worker logs a task's end after its result is in the outbox.)
    cl_check "3 results wait in the workers' outboxes" cl_wait 10 sh -c \
        "[ \$(cat $CL_DIR/w[123].log | grep -c \"task 'q[123]' try 1) exited 0\") -ge 3 ]"
    t1=$(cl_now_ms)
    cl_measure "scheduler down for" $(( t1 - t0 ))
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3
    cl_check "workers reconnect" cl_wait 20 cl_connected 3
    back_ms=$(( $(cl_sql "SELECT max(state_at) FROM workers") - t1 ))
    cl_measure "restart -> all 3 workers connected" "$back_ms"
    cl_check "q1..q3 recorded from the outboxes" cl_wait 20 cl_sql_is 3 "
        SELECT count(*) FROM task_instances WHERE run_id=$run AND task_id LIKE 'q%' AND state='success'"
    q_ms=$(( $(cl_sql "SELECT max(at) FROM transitions WHERE run_id=$run AND task_id LIKE 'q%' AND state='success'") - t1 ))
    cl_measure "restart -> results of the outage recorded" "$q_ms"
    cl_wait_run "$run" 30
    cl_check_run "$run" success
    for t in q1 q2 q3 s1 s2 s3 last; do
        att=$(cl_attempts "$run" "$t")
        cl_check "$t ran exactly once: '$att'" sh -c "echo '$att' | grep -Eq '^success@w[123]$'"
    done
    cl_check "nothing stale" cl_sql_is 0 "SELECT count(*) FROM stale_results"
    cl_check "no worker lost" cl_sql_is 0 "SELECT count(*) FROM events WHERE kind='worker_lost'"
}

t_full_disk_refuses_trigger_then_recovers() {
    cl_net 1
    disk="$CL_DIR/disk"
    mkdir "$disk"
    mount -t tmpfs -o size=6m,mode=0700 sluice-cl-disk "$disk"
    CL_MOUNTS="$CL_MOUNTS $disk"
    CL_STATE="$disk/state"
    cl_init
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3
    cl_start_worker w1 --slots 2
    cl_check "w1 connects" cl_wait 10 cl_connected 1
    cl_apply tiny <<'YAML'
dag: tiny
tasks:
  - id: a
    run: echo hello
YAML
    cl_sl trigger tiny --wait >/dev/null
    # Fill the disk to the last byte.
    dd if=/dev/zero of="$disk/filler" bs=64k 2>/dev/null || true
    cl_check "the disk is full" [ "$(df --output=avail "$disk" | tail -n 1 | tr -d ' ')" -lt 64 ]
    rc=0
    out=$(cl_sl trigger tiny 2>&1) || rc=$?
    echo "trigger on a full disk: rc $rc: $out" >&2
    cl_check "trigger refused with exit 4 (got $rc): $out" [ "$rc" = 4 ]
    cl_check "the error says the disk is full and to free space: $out" \
        sh -c "echo \"\$1\" | grep -qi 'full' && echo \"\$1\" | grep -qi 'free'" _ "$out"
    cl_check "the scheduler is still running" kill -0 "$CL_SCHED_PID"
    ic=$(sqlite3 -readonly -cmd '.timeout 3000' "$CL_STATE/store.db" 'PRAGMA integrity_check')
    cl_check "integrity_check says ok: $ic" [ "$ic" = ok ]
    cl_check "the refused trigger made no run" cl_sql_is 1 "SELECT count(*) FROM runs"
    rm -f "$disk/filler"
    cl_sl trigger tiny --wait >/dev/null
    run=$(cl_sql "SELECT max(id) FROM runs")
    cl_check_run "$run" success
    cl_check "two runs, both succeeded" cl_sql_is "2" "SELECT count(*) FROM runs WHERE state='success'"
    ic=$(sqlite3 -readonly -cmd '.timeout 3000' "$CL_STATE/store.db" 'PRAGMA integrity_check')
    cl_check "integrity_check still ok: $ic" [ "$ic" = ok ]
}
