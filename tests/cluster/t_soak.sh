# Soak: 1,000 short tasks on 3 workers while workers keep dying (kill -9)
# and coming back (same state directory, same name). Every task ends in
# success exactly once; every other attempt is lost or cancelled.

t_soak_1000_tasks_while_workers_die() {
    CL_SLOTS=4 cl_cluster 3
    # Ten chains of 100: t0100 waits for t0000, t0200 for t0100, and so on,
    # so the DAG has depth and the run lasts through several kills.
    {
        echo "dag: soak"
        echo "tasks:"
        i=0
        while [ "$i" -lt 1000 ]; do
            id=$(printf 't%04d' "$i")
            echo "  - id: $id"
            if [ "$i" -ge 100 ]; then echo "    after: [$(printf 't%04d' $((i - 100)))]"; fi
            echo "    run: sleep 0.$((i % 5 + 1))"
            i=$((i + 1))
        done
    } | cl_apply soak
    t0=$(cl_now_ms)
    run=$(cl_sl trigger soak)
    # The chaos loop: at most 12 kills within 90 s, one every 2-4 s, each
    # worker restarted at once with the same --dir and --name.
    kills=0
    deadline=$(( t0 + 90000 ))
    while [ "$kills" -lt 12 ] && [ "$(cl_now_ms)" -lt "$deadline" ] && ! cl_run_final "$run"; do
        sleep "$(( 2 + RANDOM % 3 ))"
        cl_run_final "$run" && break
        w="w$(( 1 + RANDOM % 3 ))"
        cl_kill9 "$(cl_pid "$w")"
        kills=$((kills + 1))
        cl_log "kill -9 $w ($kills), $(cl_sql "SELECT count(*) FROM task_instances WHERE run_id=$run AND state='success'") tasks done"
        cl_start_worker "$w" --slots 4
    done
    printf "kills during the run: %s\n" "$kills" >>"${CL_MEASURES:-/dev/null}"
    cl_wait_run "$run" 180
    cl_measure "run wall time (1,000 tasks)" $(( $(cl_sql "SELECT ended_at - created_at FROM runs WHERE id=$run") ))
    cl_check "at least 3 workers were killed during the run ($kills)" [ "$kills" -ge 3 ]
    cl_check_run "$run" success
    cl_check "1,000 task instances, all success" cl_sql_is 1000 "
        SELECT count(*) FROM task_instances WHERE run_id=$run AND state='success'"
    cl_check "exactly 1,000 success attempts" cl_sql_is 1000 "
        SELECT count(*) FROM attempts WHERE run_id=$run AND state='success'"
    cl_check "every other attempt lost or cancelled" cl_sql_is 0 "
        SELECT count(*) FROM attempts WHERE run_id=$run AND state NOT IN ('success','lost','cancelled')"
    lost=$(cl_sql "SELECT count(*) FROM attempts WHERE run_id=$run AND state='lost'")
    stale=$(cl_sql "SELECT count(*) FROM stale_results")
    total=$(cl_sql "SELECT count(*) FROM attempts WHERE run_id=$run")
    cl_log "attempts: $total ($lost lost), stale results: $stale"
    printf 'attempts %s, lost %s, stale results %s\n' "$total" "$lost" "$stale" >>"${CL_MEASURES:-/dev/null}"
    # A stale result is one of the run's lost or cancelled attempts, never a
    # success.
    cl_check "stale results name only lost/cancelled attempts" cl_sql_is 0 "
        SELECT count(*) FROM stale_results s JOIN attempts a ON a.id=s.attempt_id
        WHERE a.state NOT IN ('lost','cancelled')"
    cl_check "every worker is connected at the end" cl_wait 20 cl_connected 3
}
