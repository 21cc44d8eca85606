# The AI pipeline of examples/ai-pipeline end to end on loopback: day 1's
# feed lands and passes its checks (ai-daily), then the training DAG
# (ai-pipeline) snapshots and validates it, builds features, trains a model
# that beats the majority-class baseline, evaluates it on the hold-out set
# and scores the day's batch. Day 2's shifted feed fails the drift check.
# The DAG files' trigger names /tmp/sluice-demo/data, not this test's data
# folder, so every run here is started by hand.

# it_pipeline_trigger DAG ARGS...: runs DAG with this test's data and
# programs; the exit status is trigger --wait's.
it_pipeline_trigger() {
    dag=$1; shift
    "$SLUICE" trigger --dir "$IT_STATE" "$dag" --param "data=$IT_DIR/data" \
        --param "bin=$PWD/$BUILD/examples/ai-pipeline" "$@" --wait >/dev/null
}

t_pipeline_day_one_trains_a_model_that_learns() {
    it_cluster 2
    it_shared_dir "$IT_DIR/data"
    "$SLUICE" dag apply --dir "$IT_STATE" examples/ai-pipeline/daily.yaml >/dev/null
    "$SLUICE" dag apply --dir "$IT_STATE" examples/ai-pipeline/pipeline.yaml >/dev/null
    it_check "ai-daily succeeds on day 1" \
        it_pipeline_trigger ai-daily --date 2024-01-01
    daily=$(it_sql "SELECT max(id) FROM runs WHERE dag='ai-daily'")
    it_check "the feed landed" [ -s "$IT_DIR/data/feed/transactions.csv" ]
    it_check "ai-pipeline succeeds on day 1" \
        it_pipeline_trigger ai-pipeline --date 2024-01-01
    run=$(it_sql "SELECT max(id) FROM runs WHERE dag='ai-pipeline'")
    for t in snapshot validate features train evaluate infer; do
        it_check "task $t succeeded" [ "$(it_task_state "$run" "$t")" = success ]
    done
    dir=$IT_DIR/data/2024-01-01/$run
    # The model must really learn: its accuracy on the rows it held back
    # beats always answering the majority class.
    line=$("$SLUICE" logs --dir "$IT_STATE" "$run" train |
        grep 'majority-class baseline')
    acc=$(echo "$line" | sed 's/.*validation accuracy \([0-9.]*\),.*/\1/')
    base=$(echo "$line" | sed 's/.*baseline \([0-9.]*\) .*/\1/')
    it_check "train's accuracy $acc beats the baseline $base" \
        awk -v a="$acc" -v b="$base" 'BEGIN { exit !(a > b + 0.05) }'
    json=$(cat "$dir/evaluation.json")
    eacc=$(echo "$json" | sed 's/.*"accuracy": \([0-9.]*\),.*/\1/')
    ebase=$(echo "$json" | sed 's/.*"baseline_accuracy": \([0-9.]*\),.*/\1/')
    it_check "hold-out accuracy $eacc beats the baseline $ebase" \
        awk -v a="$eacc" -v b="$ebase" 'BEGIN { exit !(a > b + 0.05) }'
    it_check "the batch was scored" \
        [ "$(wc -l <"$dir/predictions.csv")" -eq 2001 ]
    it_check "daily run $daily is not the training run" [ "$daily" != "$run" ]
}

t_pipeline_shifted_day_fails_the_drift_check() {
    it_cluster 1
    it_shared_dir "$IT_DIR/data"
    "$SLUICE" dag apply --dir "$IT_STATE" examples/ai-pipeline/daily.yaml >/dev/null
    it_check "day 1 passes" it_pipeline_trigger ai-daily --date 2024-01-01
    rc=0
    it_pipeline_trigger ai-daily --date 2024-01-02 --param shift=1 || rc=$?
    it_check "day 2 fails (trigger --wait exited $rc)" [ "$rc" = 1 ]
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "ingest still landed day 2" [ "$(it_task_state "$run" ingest)" = success ]
    it_check "check failed" [ "$(it_task_state "$run" check)" = failed ]
    report=$("$SLUICE" report --dir "$IT_STATE" "$run" check)
    it_check "the report names the drifted amount: $report" \
        sh -c "echo \"\$1\" | grep -q \"drift *'amount'.*FAILED\"" _ "$report"
    it_check "age did not drift" \
        sh -c "! echo \"\$1\" | grep \"drift *'age'\" | grep -q FAILED" _ "$report"
}

# The README's first command runs examples/demo.sh: it must pass as it is,
# as root too (where each attempt runs as its own uid).
t_pipeline_readme_demo_runs() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    chmod 711 "$IT_DIR" # tasks pass through it, as through /tmp
    rc=0
    BUILD=$BUILD TMPDIR=$IT_DIR timeout 300 sh examples/demo.sh \
        >"$IT_DIR/demo.out" 2>&1 || rc=$?
    tail -n 20 "$IT_DIR/demo.out"
    it_check "the demo ends with status 0 (rc $rc)" [ "$rc" = 0 ]
    it_check "both days ran" grep -q "== demo: done" "$IT_DIR/demo.out"
}
