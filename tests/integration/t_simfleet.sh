# The simulated fleet (tests/tools/simfleet, what make bench-scale drives)
# speaks the real protocol: its workers register with a join token, get
# tasks and answer them, and the scheduler records every result once.

t_simfleet_runs_a_dag() {
    it_cluster 0
    "$BUILD/tests/tools/simfleet" --join "$IT_JOIN" --workers 30 --slots 2 \
        --ramp-ms 300 --progress-ms 500 >"$IT_DIR/simfleet.out" \
        2>"$IT_DIR/simfleet.log" &
    fleet=$!
    IT_PIDS="$IT_PIDS $fleet"
    it_check "30 simulated workers connected" it_wait 20 it_connected 30
    {
        printf 'dag: many\ndefaults:\n  retries: 0\ntasks:\n'
        for i in $(seq 300); do printf '  - id: t%d\n    run: "true"\n' "$i"; done
    } | it_apply many
    run=$("$SLUICE" trigger many --dir "$IT_STATE")
    it_check "the run ended" it_wait 30 it_run_final "$run"
    it_check "the run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "one attempt per task" \
        [ "$(it_sql "SELECT count(*) FROM attempts WHERE run_id=$run")" = 300 ]
    it_check "every attempt ran on a simulated worker" [ "$(it_sql \
        "SELECT count(*) FROM attempts WHERE run_id=$run AND worker LIKE 'sim-%'")" = 300 ]
    kill -TERM "$fleet"
    rc=0
    wait "$fleet" || rc=$?
    it_check "simfleet exits 0 on SIGTERM (rc $rc)" [ "$rc" = 0 ]
    cat "$IT_DIR/simfleet.out"
    it_check "its summary counts 300 results" \
        grep -q 'tasks=300 results=300 .* lost=0 ' "$IT_DIR/simfleet.out"
    it_check "the scheduler heard its goodbyes" \
        it_wait 5 grep -q "worker 'sim-00030' left" "$IT_DIR/scheduler.log"
}

t_simfleet_bad_token_stops() {
    it_cluster 0
    line=${IT_JOIN%%\?token=*}
    rc=0
    timeout 20 "$BUILD/tests/tools/simfleet" --join "$line" --token bogus \
        --workers 3 --ramp-ms 0 >"$IT_DIR/simfleet.out" \
        2>"$IT_DIR/simfleet.log" || rc=$?
    cat "$IT_DIR/simfleet.log"
    it_check "simfleet gives up with exit 1 (rc $rc)" [ "$rc" = 1 ]
    it_check "it says why" grep -q "refused (code 2)" "$IT_DIR/simfleet.log"
}
