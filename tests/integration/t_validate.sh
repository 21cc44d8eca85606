# Built-in validation: a validate task checks the CSV an
# ingest task wrote, quarantines the few bad rows and passes the clean ones
# on; too many bad rows fail it and its consumer is upstream_failed.
# `sluice report` prints the stored report; `run show` summarizes it.

s_validate_dag() { # BAD_EVERY
    cat <<YAML
dag: val
tasks:
  - id: ingest
    kind: ingest
    run: |
      awk 'BEGIN { print "id,age,amount,country"
        for (i = 1; i <= 100; i++) {
          age = (i % $1 == 0) ? 300 : 20 + i % 50
          printf "%d,%d,%.2f,%s\\n", i, age, i * 1.5, (i % 2 ? "FR" : "DE") } }' > $IT_DIR/raw.csv
    outputs: [$IT_DIR/raw.csv]
  - id: check
    kind: validate
    after: [ingest]
    inputs: [$IT_DIR/raw.csv]
    outputs: [$IT_DIR/clean.csv]
    validate:
      format: csv
      schema: {id: int, age: int, amount: float, country: string}
      required: [id]
      ranges: {age: [0, 120]}
      allowed: {country: [FR, DE]}
      unique: [id]
      drift: {columns: [amount], psi_max: 0.2, mean_shift_max: 3.0}
      max_bad_ratio: 0.05
  - id: consume
    after: [check]
    run: wc -l < $IT_DIR/clean.csv
YAML
}

t_validate_quarantine_then_fail() {
    it_cluster 1
    s_validate_dag 25 | it_apply val
    run=$("$SLUICE" trigger --dir "$IT_STATE" val)
    it_check "run ends" it_wait 30 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "4 bad rows quarantined" [ "$(wc -l <"$IT_DIR/clean.csv.quarantine.csv")" = 5 ]
    it_check "96 clean rows passed on" [ "$(wc -l <"$IT_DIR/clean.csv")" = 97 ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.out" 2>&1
    it_check "run show summarizes" grep -q "validate: check: 100 rows, 4 bad (4.0%): range 4" "$IT_DIR/show.out"
    "$SLUICE" report --dir "$IT_STATE" "$run" check >"$IT_DIR/report.out" 2>&1
    it_check "report has the counts" grep -q "range      passed 96, failed 4" "$IT_DIR/report.out"
    it_check "report names a bad line" grep -q "line 26 column 'age': '300'" "$IT_DIR/report.out"
    "$SLUICE" report --dir "$IT_STATE" --json "$run" check >"$IT_DIR/report.json" 2>&1
    it_check "report --json" grep -q '"bad":4' "$IT_DIR/report.json"
    it_check "a drift profile is kept" [ "$(it_sql "SELECT count(*) FROM dataset_profiles")" = 1 ]
    "$SLUICE" logs --dir "$IT_STATE" "$run" check >"$IT_DIR/logs.out" 2>&1
    it_check "log warns" grep -q "warning: bad rows were quarantined" "$IT_DIR/logs.out"

    s_validate_dag 10 | it_apply val
    run2=$("$SLUICE" trigger --dir "$IT_STATE" val)
    it_check "second run ends" it_wait 30 it_run_final "$run2"
    it_check "second run failed" [ "$(it_run_state "$run2")" = failed ]
    it_check "validate failed" [ "$(it_task_state "$run2" check)" = failed ]
    it_check "consumer upstream_failed" [ "$(it_task_state "$run2" consume)" = upstream_failed ]
    it_check "error names the ratio" [ -n "$(it_sql "SELECT error FROM attempts WHERE run_id=$run2 AND task_id='check' AND error LIKE '%max_bad_ratio 0.05%'")" ]
    "$SLUICE" report --dir "$IT_STATE" "$run2" check >"$IT_DIR/report2.out" 2>&1
    it_check "report of the failure" grep -q "100 rows, 10 bad (10.0%): range 10; FAILED" "$IT_DIR/report2.out"
    rc=0; "$SLUICE" report --dir "$IT_STATE" "$run2" consume 2>"$IT_DIR/none.err" || rc=$?
    it_check "no report for a command task" [ "$rc" != 0 ]
}
