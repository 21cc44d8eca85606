# Hashed outputs and lineage: declared outputs are hashed
# by the worker (BLAKE2b-256, as `b2sum -l 256`), recorded with the attempt
# that wrote them and the attempts that read them; `sluice datasets`,
# `sluice lineage` and `--openlineage` show them; a declared output that is
# not written fails its task.

it_lineage_dag() {
    mkdir -p "$IT_DIR/data"
    chmod 1777 "$IT_DIR/data"
    D="$IT_DIR/data"
    it_apply lin <<YAML
dag: lin
tasks:
  - id: a
    kind: ingest
    run: sh -c 'seq 1 100 > $D/raw.csv'
    outputs: [$D/raw.csv]
  - id: b
    kind: transform
    after: [a]
    run: sh -c 'sed s/1/x/ $D/raw.csv > $D/clean.csv'
    inputs: ["file://$D/raw.csv"]
    outputs: [$D/clean.csv]
  - id: c
    kind: train
    after: [b]
    run: sh -c 'mkdir -p $D/model && wc -l $D/clean.csv > $D/model/w.txt && echo 1 > $D/model/v.txt'
    inputs: [$D/clean.csv]
    outputs: ["file://$D/model"]
YAML
}

it_hash() { b2sum -l 256 "$1" | cut -c1-12; }

t_lineage_datasets_and_tree() {
    it_cluster 1
    it_lineage_dag
    run=$("$SLUICE" trigger --dir "$IT_STATE" lin)
    it_check "run ends" it_wait 30 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    "$SLUICE" datasets --dir "$IT_STATE" >"$IT_DIR/ds.out"
    cat "$IT_DIR/ds.out" >&2
    it_check "three datasets" [ "$(grep -c "^file://$D/" "$IT_DIR/ds.out")" = 3 ]
    it_check "raw hash is b2sum's" grep -q "^file://$D/raw.csv  *$(it_hash "$D/raw.csv") " "$IT_DIR/ds.out"
    it_check "clean hash is b2sum's" grep -q "^file://$D/clean.csv  *$(it_hash "$D/clean.csv") " "$IT_DIR/ds.out"
    it_check "raw made by a" grep -q "raw.csv .*run $run task a" "$IT_DIR/ds.out"
    it_check "model dir listed" grep -q "^file://$D/model .*run $run task c" "$IT_DIR/ds.out"
    full=$(b2sum -l 256 "$D/clean.csv" | cut -d' ' -f1)
    it_check "stored hash in full" [ "$(it_sql "SELECT hash FROM dataset_versions WHERE uri='file://$D/clean.csv'")" = "$full" ]

    "$SLUICE" lineage --dir "$IT_STATE" "$D/model" --upstream >"$IT_DIR/up.out"
    cat "$IT_DIR/up.out" >&2
    it_check "root first" grep -q "^file://$D/model " "$IT_DIR/up.out"
    it_check "c made it" grep -q "└── produced by lin.c  run $run" "$IT_DIR/up.out"
    it_check "b's output upstream" grep -q "── file://$D/clean.csv " "$IT_DIR/up.out"
    it_check "b upstream" grep -q "produced by lin.b  run $run" "$IT_DIR/up.out"
    it_check "a's output upstream" grep -q "── file://$D/raw.csv " "$IT_DIR/up.out"
    it_check "a upstream" grep -q "produced by lin.a  run $run" "$IT_DIR/up.out"
    it_check "worker named" grep -q "success on w1" "$IT_DIR/up.out"

    "$SLUICE" lineage --dir "$IT_STATE" "$(it_hash "$D/raw.csv")" --downstream >"$IT_DIR/down.out"
    cat "$IT_DIR/down.out" >&2
    it_check "hash prefix finds raw" grep -q "^file://$D/raw.csv " "$IT_DIR/down.out"
    it_check "read by b" grep -q "read by lin.b" "$IT_DIR/down.out"
    it_check "clean downstream" grep -q "── file://$D/clean.csv " "$IT_DIR/down.out"
    it_check "read by c" grep -q "read by lin.c" "$IT_DIR/down.out"
    it_check "model downstream" grep -q "── file://$D/model " "$IT_DIR/down.out"

    "$SLUICE" lineage --dir "$IT_STATE" "$D/raw.csv" --downstream --depth 1 >"$IT_DIR/d1.out"
    it_check "depth 1 stops after b" sh -c "! grep -q 'read by lin.c' '$IT_DIR/d1.out'"
    "$SLUICE" lineage --dir "$IT_STATE" "$D/model" --json >"$IT_DIR/up.json"
    it_check "json has the versions" grep -q '"versions"' "$IT_DIR/up.json"
    it_check "unknown dataset refused" sh -c "! '$SLUICE' lineage --dir '$IT_STATE' /nope/x 2>'$IT_DIR/nope.err'"
    it_check "says how to find them" grep -q "sluice datasets" "$IT_DIR/nope.err"
}

t_lineage_openlineage() {
    it_cluster 1
    it_lineage_dag
    run=$("$SLUICE" trigger --dir "$IT_STATE" lin)
    it_check "run ends" it_wait 30 it_run_final "$run"
    "$SLUICE" lineage --dir "$IT_STATE" --openlineage "$run" >"$IT_DIR/ol.jsonl"
    cat "$IT_DIR/ol.jsonl" >&2
    it_check "six events" [ "$(wc -l <"$IT_DIR/ol.jsonl")" = 6 ]
    it_check "three starts" [ "$(grep -c '"eventType":"START"' "$IT_DIR/ol.jsonl")" = 3 ]
    it_check "three completes" [ "$(grep -c '"eventType":"COMPLETE"' "$IT_DIR/ol.jsonl")" = 3 ]
    it_check "every line an object" sh -c "! grep -qv '^{.*}\$' '$IT_DIR/ol.jsonl'"
    it_check "job names" grep -q '"job":{"namespace":"sluice","name":"lin.b"}' "$IT_DIR/ol.jsonl"
    it_check "schema" grep -q '"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent"' "$IT_DIR/ol.jsonl"
    it_check "uuid run ids" grep -Eq '"runId":"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"' "$IT_DIR/ol.jsonl"
    it_check "outputs named" grep -q "\"outputs\":\\[{\"namespace\":\"file\",\"name\":\"$D/raw.csv\"" "$IT_DIR/ol.jsonl"
    if command -v python3 >/dev/null 2>&1; then
        while IFS= read -r line; do
            printf '%s' "$line" | python3 -m json.tool >/dev/null || { echo "not JSON: $line" >&2; return 1; }
        done <"$IT_DIR/ol.jsonl"
    fi
}

t_lineage_missing_output_fails() {
    it_cluster 1
    mkdir -p "$IT_DIR/data"
    chmod 1777 "$IT_DIR/data"
    D="$IT_DIR/data"
    it_apply miss <<YAML
dag: miss
tasks:
  - id: a
    run: 'true'
    outputs: [$D/never.csv]
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" miss)
    it_check "run ends" it_wait 30 it_run_final "$run"
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    it_check "cause exit" [ "$(it_sql "SELECT cause FROM attempts WHERE run_id=$run")" = exit ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.out" 2>&1 || true
    cat "$IT_DIR/show.out" >&2
    it_check "message names it" grep -q "declared output '$D/never.csv' was not written" "$IT_DIR/show.out"
    it_check "no version recorded" [ "$(it_sql "SELECT count(*) FROM dataset_versions")" = 0 ]
}
