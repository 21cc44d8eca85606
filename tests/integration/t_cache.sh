# Caching: a `cache: true` task whose command, definition
# and inputs did not change since a successful run, and whose outputs are
# still there, is skipped (skipped_cached) and its downstream still runs;
# a changed input runs it again; `trigger --no-cache` runs everything.

it_cache_dag() {
    it_shared_dir "$IT_DIR/data"
    D="$IT_DIR/data"
    echo "a,b" >"$D/in.csv"
    chmod 666 "$D/in.csv"
    it_apply cached <<YAML
dag: cached
tasks:
  - id: prep
    cache: true
    run: sh -c 'cat $D/in.csv > $D/prep.csv; echo ran >> $D/prep.log'
    inputs: [$D/in.csv]
    outputs: [$D/prep.csv]
  - id: use
    after: [prep]
    run: sh -c 'wc -l $D/prep.csv >> $D/use.log'
    inputs: [$D/prep.csv]
YAML
}

it_cache_run() {
    run=$("$SLUICE" trigger --dir "$IT_STATE" cached "$@")
    it_wait 30 it_run_final "$run" || return 1
    echo "$run"
}

t_cache_skips_unchanged_and_reruns_changed() {
    it_cluster 1
    it_cache_dag
    r1=$(it_cache_run)
    it_check "run 1 succeeded" [ "$(it_run_state "$r1")" = success ]
    it_check "prep ran in run 1" [ "$(it_task_state "$r1" prep)" = success ]
    r2=$(it_cache_run)
    it_check "run 2 succeeded" [ "$(it_run_state "$r2")" = success ]
    it_check "prep is skipped_cached in run 2" \
        [ "$(it_task_state "$r2" prep)" = skipped_cached ]
    it_check "use still ran in run 2" [ "$(it_task_state "$r2" use)" = success ]
    it_check "prep's command ran once" [ "$(wc -l <"$D/prep.log")" -eq 1 ]
    it_check "use ran twice" [ "$(wc -l <"$D/use.log")" -eq 2 ]
    it_check "run show says skipped_cached" \
        sh -c "'$SLUICE' run show --dir '$IT_STATE' $r2 | grep -q 'prep .*skipped_cached'"
    # The key is the inputs' content: touching a file changes nothing.
    touch "$D/in.csv"
    r2b=$(it_cache_run)
    it_check "an input touched but unchanged still hits the cache" \
        [ "$(it_task_state "$r2b" prep)" = skipped_cached ]
    echo "c,d" >>"$D/in.csv"
    r3=$(it_cache_run)
    it_check "a changed input runs prep again" \
        [ "$(it_task_state "$r3" prep)" = success ]
    r4=$(it_cache_run --no-cache)
    it_check "--no-cache runs prep" [ "$(it_task_state "$r4" prep)" = success ]
    it_check "prep's command ran three times" [ "$(wc -l <"$D/prep.log")" -eq 3 ]
    rm -f "$D/prep.csv"
    r5=$(it_cache_run)
    it_check "a deleted output runs prep again" \
        [ "$(it_task_state "$r5" prep)" = success ]
}
