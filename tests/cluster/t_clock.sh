# Workers whose wall clocks are 10 minutes off (one ahead, one behind; the
# clock is faked with libfaketime) still run their tasks: task freshness is
# judged with the offset each worker measures at registration, and the
# scheduler reports the skew.

cl_faketime_lib() {
    for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
        [ -e "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

t_worker_clock_10_minutes_off() {
    lib=$(cl_faketime_lib) || cl_skip "faketime is not installed (apt-get install faketime failed or was not possible)"
    cl_net 2
    cl_init
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3
    # Only the wall clock is moved; monotonic time stays true, as on a real
    # host whose clock is merely set wrong.
    CL_WRAP="env LD_PRELOAD=$lib FAKETIME=+600 FAKETIME_DONT_FAKE_MONOTONIC=1" \
        cl_start_worker w1 --slots 2
    CL_WRAP="env LD_PRELOAD=$lib FAKETIME=-600 FAKETIME_DONT_FAKE_MONOTONIC=1" \
        cl_start_worker w2 --slots 2
    cl_check "both workers connect" cl_wait 15 cl_connected 2
    {
        echo "dag: skew"
        echo "tasks:"
        for i in 1 2 3 4; do
            echo "  - id: t$i"
            echo "    run: sleep 1"
        done
        echo "  - id: last"
        echo "    after: [t1, t2, t3, t4]"
        echo "    run: echo done"
    } | cl_apply skew
    run=$(cl_sl trigger skew)
    cl_wait_run "$run" 20
    cl_check_run "$run" success
    for w in w1 w2; do
        n=$(cl_sql "SELECT count(*) FROM attempts WHERE run_id=$run AND worker='$w' AND state='success'")
        cl_check "$w ran tasks ($n)" [ "$n" -ge 1 ]
    done
    cl_check "one attempt per task (nothing refused as expired)" cl_sql_is 5 "
        SELECT count(*) FROM attempts WHERE run_id=$run"
    # The workers really ran on false clocks: each measured the offset to
    # the scheduler's clock at registration.
    cl_check "w1 measured its offset as -10 min" \
        grep -Eq "registered with .*clock offset -(599|600)[0-9]{3} ms" "$CL_DIR/w1.log"
    cl_check "w2 measured its offset as +10 min" \
        grep -Eq "registered with .*clock offset \+(599|600)[0-9]{3} ms" "$CL_DIR/w2.log"
    cl_check "the scheduler reports w1's skew of +10 min" \
        grep -Eq "worker 'w1' registered.*clock skew \+(599|600)[0-9]{3} ms" "$CL_DIR/scheduler.log"
    cl_check "the scheduler reports w2's skew of -10 min" \
        grep -Eq "worker 'w2' registered.*clock skew -(599|600)[0-9]{3} ms" "$CL_DIR/scheduler.log"
    grep -E "clock skew" "$CL_DIR/scheduler.log" | sed 's/^.*worker /worker /' >>"${CL_MEASURES:-/dev/null}"
}
