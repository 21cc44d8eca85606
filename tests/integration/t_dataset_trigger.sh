# Dataset triggers: a DAG with `trigger: {datasets: [URI]}`
# runs when a successful task of another DAG writes a new version of URI;
# `sluice runs` shows "dataset" and the version; a DAG that writes a dataset
# it is triggered by does not trigger itself.

t_dataset_trigger_runs_downstream_dag() {
    it_cluster 1
    mkdir -p "$IT_DIR/data"
    chmod 1777 "$IT_DIR/data"
    D="$IT_DIR/data"
    it_apply producer <<YAML
dag: producer
tasks:
  - id: write
    run: sh -c 'date +%s%N > $D/x.csv'
    outputs: [$D/x.csv]
YAML
    it_apply consumer <<YAML
dag: consumer
trigger:
  datasets: ["file://$D/x.csv"]
tasks:
  - id: read
    run: sh -c 'cat $D/x.csv > /dev/null; echo again > $D/y.csv'
    inputs: [$D/x.csv]
    outputs: [$D/x.csv]
YAML
    r1=$("$SLUICE" trigger --dir "$IT_STATE" producer)
    it_check "producer run ends" it_wait 30 it_run_final "$r1"
    it_check "a consumer run was triggered" \
        it_wait 30 sh -c "[ \"\$($SLUICE runs --dir $IT_STATE consumer --json | grep -c '\"run_id\"')\" -ge 1 ]"
    c=$(it_sql "SELECT max(id) FROM runs WHERE dag='consumer'")
    it_check "its trigger is dataset" \
        [ "$(it_sql "SELECT trigger FROM runs WHERE id=$c")" = dataset ]
    it_check "consumer run ends" it_wait 30 it_run_final "$c"
    hash=$(b2sum -l 256 "$D/x.csv" | cut -c1-8)
    out=$("$SLUICE" runs --dir "$IT_STATE")
    it_log "$out"
    it_check "sluice runs shows the version" \
        sh -c "echo '$out' | grep -q \"^$c .*dataset file://$D/x.csv@\""
    # The consumer rewrote x.csv (its own trigger): no loop.
    sleep 1
    n=$(it_sql "SELECT count(*) FROM runs WHERE dag='consumer'")
    it_check "the consumer did not trigger itself (runs: $n)" [ "$n" = 1 ]
    : "$hash"
}
