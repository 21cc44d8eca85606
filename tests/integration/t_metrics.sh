# Experiment metrics: a task writes a JSON object of
# numbers to $SLUICE_METRICS; it is stored per attempt, shown under `sluice
# run show` and compared across runs by `sluice metrics DAG TASK`.

t_metrics_stored_shown_and_compared() {
    it_cluster 1
    cat >"$IT_DIR/train.sh" <<'SH'
printf '{"accuracy": 0.9%s, "loss": 1.5e-1, "note": "text", "nested": {"x": 1}}' \
    "$SLUICE_ATTEMPT_ID" >"$SLUICE_METRICS"
SH
    chmod 755 "$IT_DIR/train.sh"
    it_apply met <<YAML
dag: met
params:
  lr: "0.1"
tasks:
  - id: train
    kind: train
    run: sh $IT_DIR/train.sh
YAML
    r1=$("$SLUICE" trigger --dir "$IT_STATE" met)
    it_check "run 1 ends" it_wait 30 it_run_final "$r1"
    r2=$("$SLUICE" trigger --dir "$IT_STATE" met --param lr=0.01)
    it_check "run 2 ends" it_wait 30 it_run_final "$r2"
    it_check "run 2 succeeded" [ "$(it_run_state "$r2")" = success ]
    n=$(it_sql "SELECT count(*) FROM attempt_metrics WHERE name IN ('accuracy','loss')")
    it_check "two numbers stored per attempt (4, got $n)" [ "$n" = 4 ]
    n=$(it_sql "SELECT count(*) FROM attempt_metrics WHERE name IN ('note','nested','x')")
    it_check "non-numbers are ignored" [ "$n" = 0 ]
    "$SLUICE" run show --dir "$IT_STATE" "$r1" >"$IT_DIR/show.txt"
    it_check "run show prints the metrics line" \
        grep -q "metrics 'train': accuracy=0.9[0-9]*, loss=0.15" "$IT_DIR/show.txt"
    "$SLUICE" metrics --dir "$IT_STATE" met train >"$IT_DIR/metrics.txt"
    it_log "$(cat "$IT_DIR/metrics.txt")"
    it_check "table has metric columns" \
        sh -c "head -1 '$IT_DIR/metrics.txt' | grep -q 'RUN .*DATE .*PARAMS .*INPUTS .*accuracy .*loss'"
    it_check "run 2 listed first with its params" \
        sh -c "sed -n 2p '$IT_DIR/metrics.txt' | grep -q '^$r2 .*lr=0.01 .*0.9'"
    it_check "run 1 listed with its params" \
        grep -q "^$r1 .*lr=0.1 " "$IT_DIR/metrics.txt"
    "$SLUICE" metrics --dir "$IT_STATE" met train --json >"$IT_DIR/metrics.json"
    it_check "--json has the values" grep -q '"loss"' "$IT_DIR/metrics.json"
    it_check "an unknown DAG is an error" \
        sh -c "! '$SLUICE' metrics --dir '$IT_STATE' nope train 2>/dev/null"
}
