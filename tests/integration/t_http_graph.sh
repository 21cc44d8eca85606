# The .svg routes: the AI pipeline's DAG drawn by Graphviz with a node per
# task (<g id="task-ID" class="node task">), the same after a run with each
# task's state as a class, the lineage of a dataset the run wrote, and the
# errors (no token, unknown DAG or run, bad query).

# graph_get PATH [CURL ARGS...]: the body to $IT_DIR/body, "STATUS TYPE"
# on stdout.
graph_get() {
    path=$1; shift
    curl -sS -o "$IT_DIR/body" -w '%{http_code} %{content_type}' \
        --max-time 60 "$@" "http://$IT_HTTP$path" || echo "000 none"
}

# graph_ok PATH: a 200 image/svg+xml with the viewer token.
graph_ok() {
    got=$(graph_get "$1" -H "Authorization: Bearer $GRAPH_TOKEN")
    case $got in
        "200 image/svg+xml"*) return 0 ;;
    esac
    echo "GET $1 answered $got: $(head -c 300 "$IT_DIR/body")" >&2
    return 1
}

# graph_status PATH STATUS [CURL ARGS...]
graph_status() {
    want=$2
    got=$(graph_get "$1" -H "Authorization: Bearer $GRAPH_TOKEN" "${@:3}")
    [ "${got%% *}" = "$want" ] && return 0
    echo "GET $1 answered $got, not $want: $(head -c 300 "$IT_DIR/body")" >&2
    return 1
}

# The body is well-formed XML (when xmllint or python3 can tell).
graph_xml_ok() {
    python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" \
        "$IT_DIR/body"
}

graph_tasks() {
    sed -n 's/^  - id: *\([A-Za-z0-9_.-]*\).*/\1/p' examples/ai-pipeline/pipeline.yaml
}

t_http_graph_pipeline_states_and_lineage() {
    it_cluster 2
    it_shared_dir "$IT_DIR/data"
    GRAPH_TOKEN=$("$SLUICE" token create --api --role viewer --name g --dir "$IT_STATE" 2>/dev/null)
    it_check "a viewer token" [ -n "$GRAPH_TOKEN" ]
    "$SLUICE" dag apply --dir "$IT_STATE" examples/ai-pipeline/daily.yaml >/dev/null
    "$SLUICE" dag apply --dir "$IT_STATE" examples/ai-pipeline/pipeline.yaml >/dev/null
    tasks=$(graph_tasks)
    it_check "the pipeline has its 6 tasks" [ "$(echo "$tasks" | wc -w)" -ge 6 ]
    it_check "the DAG's graph" graph_ok /api/v1/dags/ai-pipeline/graph.svg
    it_check "is well-formed XML" graph_xml_ok
    for t in $tasks; do
        it_check "task $t is a node" grep -q "<g id=\"task-$t\" class=\"node task\">" "$IT_DIR/body"
    done
    it_check "with edges" [ "$(grep -c 'class="edge"' "$IT_DIR/body")" -ge 5 ]
    it_check "and no states" sh -c "! grep -q 'state-' '$IT_DIR/body'"
    # A run: every task's state as a class.
    bin=$PWD/$BUILD/examples/ai-pipeline
    "$SLUICE" trigger --dir "$IT_STATE" ai-daily --param "data=$IT_DIR/data" \
        --param "bin=$bin" --date 2024-01-01 --wait >/dev/null
    it_check "ai-pipeline succeeds" "$SLUICE" trigger --dir "$IT_STATE" ai-pipeline \
        --param "data=$IT_DIR/data" --param "bin=$bin" --date 2024-01-01 --wait
    run=$(it_sql "SELECT max(id) FROM runs WHERE dag='ai-pipeline'")
    it_check "the run's graph" graph_ok "/api/v1/dags/ai-pipeline/graph.svg?run=$run"
    it_check "is well-formed XML" graph_xml_ok
    for t in $tasks; do
        it_check "task $t is coloured as succeeded" grep -q \
            "<g id=\"task-$t\" class=\"node task state-success\">" "$IT_DIR/body"
    done
    # Lineage of the snapshot the run took: upstream the feed, downstream
    # every task that read it.
    raw=$IT_DIR/data/2024-01-01/$run/raw.csv
    it_check "the lineage of $raw" graph_ok "/api/v1/lineage.svg?uri=$raw"
    it_check "is well-formed XML" graph_xml_ok
    it_check "its root is a dataset node" grep -q 'class="node dataset root"' "$IT_DIR/body"
    it_check "with the task that wrote it" grep -q '>snapshot<' "$IT_DIR/body"
    it_check "and the one that read it" grep -q '>validate<' "$IT_DIR/body"
    it_check "attempts as task nodes" grep -q '<g id="task-[0-9]*" class="node task state-success">' \
        "$IT_DIR/body"
    it_check "the lineage of a run" graph_ok "/api/v1/lineage.svg?run=$run"
    it_check "has the model" grep -q '>model' "$IT_DIR/body"
    # Errors say what to do.
    code=$(graph_get /api/v1/dags/ai-pipeline/graph.svg)
    it_check "no token is a 401 ($code)" [ "${code%% *}" = 401 ]
    it_check "an unknown DAG" graph_status /api/v1/dags/nope/graph.svg 404
    it_check "that points at the list" grep -q "GET /api/v1/dags" "$IT_DIR/body"
    it_check "a run of another DAG" graph_status "/api/v1/dags/ai-daily/graph.svg?run=$run" 404
    it_check "a run id that is no number" graph_status "/api/v1/dags/ai-pipeline/graph.svg?run=x" 400
    it_check "lineage without uri" graph_status /api/v1/lineage.svg 400
    it_check "lineage of a relative path" graph_status "/api/v1/lineage.svg?uri=raw.csv" 400
    it_check "lineage of an unknown dataset" graph_status "/api/v1/lineage.svg?uri=/nope/x.csv" 404
}

# A 10,000-task DAG: drawn by rank (dot would take minutes), then served
# from the cache without parsing the file again. Under make asan (-O0)
# 10,000 take 20-30 s: 2,000 there, still past dot's limit.
t_http_graph_big_dag() {
    big_n=10000
    [ -n "${SANITIZER_LOG_DIR:-}" ] && big_n=2000
    it_cluster 0
    GRAPH_TOKEN=$("$SLUICE" token create --api --role viewer --name g --dir "$IT_STATE" 2>/dev/null)
    awk -v n="$big_n" 'BEGIN { print "dag: big"; print "tasks:";
        for (i = 0; i < n; i++) {
            if (i < 100) printf "  - {id: t%d, run: x}\n", i;
            else printf "  - {id: t%d, run: x, after: [t%d, t%d]}\n", i, i - 100, i - 100 + (i * 7) % 100 - (i % 100);
        } }' | it_apply big
    t0=$(date +%s.%N)
    it_check "the big DAG's graph" graph_ok /api/v1/dags/big/graph.svg
    t1=$(date +%s.%N)
    it_check "has all $big_n nodes" [ "$(grep -c 'class="node task"' "$IT_DIR/body")" = "$big_n" ]
    cp "$IT_DIR/body" "$IT_DIR/first.svg"
    it_check "again" graph_ok /api/v1/dags/big/graph.svg
    t2=$(date +%s.%N)
    it_check "the same picture comes from the cache" cmp -s "$IT_DIR/first.svg" "$IT_DIR/body"
    # Times are printed for the reader; speed is make bench's, not a test's.
    first=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    again=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
    echo "$big_n tasks: first GET ${first} s, cached ${again} s"
}
