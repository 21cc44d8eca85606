# Worker resources end to end: GPUs offered with --gpus go one per task into
# CUDA_VISIBLE_DEVICES, never twice at once (a and b wait for each other, so
# they surely overlap); a task over its memory limit ends as an OOM failure
# with its peak.

t_worker_gpus_are_assigned_disjointly() {
    it_cluster 0
    it_start_worker w1 --slots 3 --gpus 2
    it_wait 10 it_connected 1
    out="$IT_DIR/gpus"
    mkdir -p -m 1777 "$out" # tasks may run as nobody (root worker)
    it_apply gpus <<YAML
dag: gpus
tasks:
  - id: a
    run: echo "[\$CUDA_VISIBLE_DEVICES][\$SLUICE_GPUS]" > $out/a; for i in \$(seq 100); do [ -f $out/b ] && break; sleep 0.1; done
    resources: {gpus: 1}
  - id: b
    run: echo "[\$CUDA_VISIBLE_DEVICES][\$SLUICE_GPUS]" > $out/b; for i in \$(seq 100); do [ -f $out/a ] && break; sleep 0.1; done
    resources: {gpus: 1}
  - id: c
    run: echo "[\${CUDA_VISIBLE_DEVICES-unset}]" > $out/c; sleep 1
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" gpus)
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "worker offered 2 GPUs" grep -q '2 GPUs' "$IT_DIR/w1.log"
    pair="$(cat "$out/a") $(cat "$out/b")"
    it_check "a and b hold GPU 0 and 1 (got '$pair')" \
        sh -c "[ '$pair' = '[0][0] [1][1]' ] || [ '$pair' = '[1][1] [0][0]' ]"
    it_check "c sees no GPU (got '$(cat "$out/c")')" [ "$(cat "$out/c")" = "[]" ]
}

t_worker_memory_limit_is_oom() {
    it_cluster 1
    it_apply hog <<'YAML'
dag: hog
tasks:
  - id: hog
    run: head -c 200000000 /dev/zero | tail -n 1 | sleep 30
    resources: {memory: 50M}
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" hog)
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    it_check "attempt failed for memory" [ "$(it_sql "SELECT cause FROM attempts WHERE run_id=$run")" = oom ]
    it_check "peak over 50 MB" [ "$(it_sql "SELECT peak_rss_kb >= 51200 FROM attempts WHERE run_id=$run")" = 1 ]
    it_check "error names the limit" sh -c "[ -n \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT 1 FROM attempts WHERE run_id=$run AND error LIKE 'used % MB, over its memory limit of 50 MB'\")\" ]"
}
