# `sluice cancel RUN_ID` reaches every worker: each running task's whole
# process group dies, grandchildren included, and the run, its tasks and
# their attempts are recorded cancelled.
# `sluice retry` then runs what did not succeed again.

# cl_all_gone PID...: none of them runs any more. A zombie counts as gone:
# orphaned grandchildren are reaped by whatever is PID 1 here, in its own time.
cl_all_gone() {
    local p st
    for p in "$@"; do
        st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
        case "$st" in ''|Z|X) ;; *) return 1 ;; esac
    done
}

t_cancel_kills_process_groups_on_every_worker() {
    cl_cluster 3
    {
        echo "dag: many"
        echo "tasks:"
        for i in 1 2 3 4 5 6; do
            echo "  - id: t$i"
            echo "    run: sh -c 'sleep 60 & echo \$! > $CL_DIR/gc.t$i.pid; wait'"
        done
        echo "  - id: after"
        echo "    after: [t1, t2, t3, t4, t5, t6]"
        echo "    run: echo never"
    } | cl_apply many
    run=$(cl_sl trigger many)
    for i in 1 2 3 4 5 6; do
        cl_check "t$i starts" cl_wait 10 test -s "$CL_DIR/gc.t$i.pid"
    done
    nw=$(cl_sql "SELECT count(DISTINCT worker) FROM attempts WHERE run_id=$run AND state='running'")
    cl_check "tasks run on all 3 workers ($nw)" [ "$nw" = 3 ]
    pids=$(cat "$CL_DIR"/gc.t*.pid)
    for p in $pids; do cl_check "grandchild $p alive before cancel" kill -0 "$p"; done
    t0=$(cl_now_ms)
    cl_sl cancel "$run" >&2
    t1=$(cl_now_ms)
    # shellcheck disable=SC2086  # one pid per word
    cl_check "every grandchild is gone" cl_wait 10 cl_all_gone $pids
    gone_ms=$(( $(cl_now_ms) - t0 ))
    cl_measure "sluice cancel round trip" $(( t1 - t0 ))
    cl_measure "cancel -> every grandchild gone (3 workers)" "$gone_ms"
    cl_check "run cancelled" [ "$(cl_run_state "$run")" = cancelled ]
    cl_check "every attempt recorded cancelled" cl_wait 10 cl_sql_is 6 "
        SELECT count(*) FROM attempts WHERE run_id=$run AND state='cancelled'"
    rec_ms=$(( $(cl_sql "SELECT max(ended_at) FROM attempts WHERE run_id=$run") - t0 ))
    cl_measure "cancel -> last attempt recorded cancelled" "$rec_ms"
    cl_check_run "$run" cancelled
    for i in 1 2 3 4 5 6; do
        cl_check "t$i cancelled" [ "$(cl_task_state "$run" "t$i")" = cancelled ]
    done
    cl_check "after cancelled without an attempt" [ "$(cl_task_state "$run" after)/$(cl_attempts "$run" after)" = "cancelled/" ]
    cl_check "nothing stale" cl_sql_is 0 "SELECT count(*) FROM stale_results"
}

# `sluice retry RUN_ID`: the failed, cancelled and upstream_failed tasks of
# a finished run run again with their downstream, on any worker; what
# succeeded is not run again. `sluice retry RUN_ID TASK_ID`: only that task
# and its downstream.
t_retry_reruns_failed_and_downstream() {
    cl_cluster 3
    # a1 and a2 fail until their marker exists.
    cl_apply flaky <<YAML
dag: flaky
tasks:
  - {id: a1, run: test -e $CL_DIR/m1}
  - {id: a2, run: test -e $CL_DIR/m2}
  - {id: d1, after: [a1], run: echo d1}
  - {id: d2, after: [d1], run: echo d2}
  - {id: e, run: echo fine}
YAML
    rc=0
    cl_sl trigger flaky --wait >&2 || rc=$?
    cl_check "trigger --wait exits 1 (got $rc)" [ "$rc" = 1 ]
    run=$(cl_sql "SELECT max(id) FROM runs")
    cl_check_run "$run" failed
    cl_check "states after the first try" [ "$(cl_sql "SELECT group_concat(task_id || '=' || state, ' ') FROM
        (SELECT task_id, state FROM task_instances WHERE run_id=$run ORDER BY task_id)")" = \
        "a1=failed a2=failed d1=upstream_failed d2=upstream_failed e=success" ]
    touch "$CL_DIR/m1" "$CL_DIR/m2"
    # Only a1 and what depends on it.
    cl_sl retry "$run" a1 >&2
    cl_wait_run "$run" 20
    cl_check_run "$run" failed
    cl_check "a1, d1, d2 re-ran; a2 untouched" [ "$(cl_sql "SELECT group_concat(task_id || '=' || state, ' ') FROM
        (SELECT task_id, state FROM task_instances WHERE run_id=$run ORDER BY task_id)")" = \
        "a1=success a2=failed d1=success d2=success e=success" ]
    cl_check "a2 not re-run" [ "$(cl_attempts "$run" a2 | wc -w)" = 1 ]
    # Now everything that did not succeed.
    cl_sl retry "$run" >&2
    cl_wait_run "$run" 20
    cl_check_run "$run" success
    for t in a1 a2; do
        att=$(cl_attempts "$run" "$t")
        cl_check "$t: failed then success: '$att'" sh -c "echo '$att' | grep -Eq '^failed@w[123] success@w[123]$'"
    done
    for t in d1 d2 e; do
        cl_check "$t ran once" [ "$(cl_attempts "$run" "$t" | wc -w)" = 1 ]
    done
    cl_check "attempt numbers go on: a2's second try is number 2" cl_sql_is 2 "
        SELECT number FROM attempts WHERE run_id=$run AND task_id='a2' AND state='success'"
}

# A cancelled run can be retried: its cancelled tasks run again.
t_retry_after_cancel() {
    cl_cluster 3
    # Blocks until cancelled the first time; returns at once once m exists.
    cl_apply again <<YAML
dag: again
tasks:
  - id: t1
    run: test -e $CL_DIR/m && exit 0; sh -c 'sleep 60 & echo \$! > $CL_DIR/gc.t1.pid; wait'
  - id: t2
    run: test -e $CL_DIR/m && exit 0; sh -c 'sleep 60 & echo \$! > $CL_DIR/gc.t2.pid; wait'
  - id: after
    after: [t1, t2]
    run: echo after
YAML
    run=$(cl_sl trigger again)
    cl_check "t1 starts" cl_wait 10 test -s "$CL_DIR/gc.t1.pid"
    cl_check "t2 starts" cl_wait 10 test -s "$CL_DIR/gc.t2.pid"
    cl_sl cancel "$run" >&2
    # shellcheck disable=SC2046  # one pid per word
    cl_check "grandchildren gone" cl_wait 10 cl_all_gone $(cat "$CL_DIR"/gc.t*.pid)
    # The workers report the cancelled attempts once every process of their
    # uids is gone, which may be just after the grandchildren.
    cl_check "cancelled attempts reported" cl_wait 10 cl_sql_is 0 "
        SELECT count(*) FROM attempts WHERE run_id=$run AND state='running'"
    cl_check_run "$run" cancelled
    touch "$CL_DIR/m"
    cl_sl retry "$run" >&2
    cl_wait_run "$run" 20
    cl_check_run "$run" success
    for t in t1 t2; do
        att=$(cl_attempts "$run" "$t")
        cl_check "$t: cancelled then success: '$att'" sh -c "echo '$att' | grep -Eq '^cancelled@w[123] success@w[123]$'"
    done
    cl_check "after ran once" [ "$(cl_attempts "$run" after | wc -w)" = 1 ]
}
