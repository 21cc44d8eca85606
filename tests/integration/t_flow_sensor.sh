# Sensors (docs/flow.md, "Sensors"): file sensors poke on workers without
# holding a slot between pokes, a file that appears lets its sensor succeed
# and its child run, and a soft_fail sensor that times out is skipped.

t_flow_sensor_pokes_hold_no_slot() {
    it_cluster 0
    # No prefetch: c1 must not wait in the window of the worker long holds.
    it_start_worker w1 --slots 1 --prefetch 0
    it_start_worker w2 --slots 1 --prefetch 0
    it_wait 15 it_connected 2 || { it_log "workers did not connect"; return 1; }
    mkdir -p "$IT_DIR/in"
    chmod 1777 "$IT_DIR/in"
    it_apply sensing <<YAML
dag: sensing
tasks:
  - id: long
    run: touch $IT_DIR/long_started; while [ ! -f $IT_DIR/release ]; do sleep 0.1; done
  - id: s1
    kind: sensor
    file: $IT_DIR/in/one.csv
    poke_interval: 300ms
    timeout: 60s
  - id: s2
    kind: sensor
    file: $IT_DIR/in/two.csv
    poke_interval: 300ms
    timeout: 60s
  - id: s3
    kind: sensor
    file: $IT_DIR/in/part-*.csv
    min_size: 10
    poke_interval: 300ms
    timeout: 60s
  - id: s4
    kind: sensor
    command: test -f $IT_DIR/in/four.flag
    poke_interval: 300ms
    timeout: 60s
  - id: soft
    kind: sensor
    file: $IT_DIR/in/never.csv
    poke_interval: 300ms
    timeout: 2s
    soft_fail: true
  - id: c1
    after: [s1]
    run: touch $IT_DIR/c1
  - id: c_soft
    after: [soft]
    run: touch $IT_DIR/c_soft
YAML
    "$SLUICE" trigger --dir "$IT_STATE" sensing >/dev/null
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "long started" it_wait 15 test -f "$IT_DIR/long_started"
    # Five sensors share the one slot long leaves: each pokes again and
    # again only if none holds it between pokes.
    it_check "every sensor poked twice while long runs" it_wait 20 sh -c \
        "[ \"\$(sqlite3 -readonly -batch -noheader '$IT_STATE/store.db' \
        \"SELECT count(*) FROM (SELECT task_id FROM attempts WHERE run_id=$run \
          AND task_id IN ('s1','s2','s3','s4','soft') GROUP BY task_id \
          HAVING count(*) >= 2)\")\" = 5 ]"
    it_check "long still runs" [ "$(it_task_state "$run" long)" = running ]
    it_check "a waiting sensor uses no retry" [ "$(it_sql "SELECT count(*) FROM
        task_instances WHERE run_id=$run AND task_id='s1' AND state='failed'")" = 0 ]
    it_check "run show says what a sensor waits for" it_wait 5 sh -c \
        "'$SLUICE' run show --dir '$IT_STATE' $run | grep -q \"'s2' is waiting for $IT_DIR/in/two.csv since .*, next check \""
    touch "$IT_DIR/in/one.csv"
    it_check "the file appeared: s1 succeeded and c1 ran" it_wait 15 \
        test -f "$IT_DIR/c1"
    it_check "soft timed out: skipped" it_wait 15 sh -c \
        "[ \"\$(sqlite3 -readonly -batch -noheader '$IT_STATE/store.db' \
        \"SELECT state FROM task_instances WHERE run_id=$run AND task_id='c_soft'\")\" = skipped ]"
    it_check "soft is skipped" [ "$(it_task_state "$run" soft)" = skipped ]
    it_check "c_soft did not run" [ ! -f "$IT_DIR/c_soft" ]
    printf 'tiny' >"$IT_DIR/in/part-1.csv"
    sleep 1 # several pokes see a file under min_size
    it_check "s3 waits for min_size" [ "$(it_task_state "$run" s3)" != success ]
    printf 'a,b,c\n1,2,3\n' >"$IT_DIR/in/part-1.csv"
    touch "$IT_DIR/in/two.csv" "$IT_DIR/in/four.flag" "$IT_DIR/release"
    it_check "the run ends" it_wait 20 it_run_final "$run"
    it_check "the run succeeds" [ "$(it_run_state "$run")" = success ]
    it_check "states" [ "$(it_sql "SELECT group_concat(task_id || ':' || state, ' ')
        FROM (SELECT task_id, state FROM task_instances WHERE run_id=$run
        ORDER BY task_id)")" = \
        "c1:success c_soft:skipped long:success s1:success s2:success s3:success s4:success soft:skipped" ]
}

t_flow_sensor_times_out_and_fails() {
    it_cluster 1
    it_apply late <<YAML
dag: late
tasks:
  - id: wait
    kind: sensor
    file: $IT_DIR/never.csv
    poke_interval: 300ms
    timeout: 1s
  - id: after_it
    after: [wait]
    run: touch $IT_DIR/after_it
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" late --wait >/dev/null || rc=$?
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "the run fails (rc $rc)" [ "$rc" = 1 ]
    it_check "wait failed, after_it upstream_failed" [ "$(it_task_state "$run" wait):$(it_task_state "$run" after_it)" = failed:upstream_failed ]
}

t_flow_sensor_keys_checked() {
    it_cluster 0
    cat >"$IT_DIR/bad.yaml" <<YAML
dag: bad
tasks:
  - id: both
    kind: sensor
    file: /tmp/x
    command: "true"
  - id: plain
    run: "true"
    poke_interval: 1s
YAML
    out=$("$SLUICE" dag validate "$IT_DIR/bad.yaml" 2>&1) && rc=0 || rc=$?
    it_check "refused (rc $rc)" [ "$rc" != 0 ]
    it_check "says one of file and command: $out" sh -c "echo \"\$1\" | grep -q \"exactly one of 'file: PATH' and 'command: CMD'\"" _ "$out"
    it_check "says add kind sensor: $out" sh -c "echo \"\$1\" | grep -q \"add 'kind: sensor'\"" _ "$out"
}
