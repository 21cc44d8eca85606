# Placement: a task goes only where it fits; one that fits nowhere waits,
# says why, and runs once a worker that fits joins. retry_on limits retries
# to the causes it names.

t_task_waits_for_a_worker_that_fits() {
    it_cluster 1
    it_apply picky <<'YAML'
dag: picky
tasks:
  - id: needs_gpu
    run: echo "[$CUDA_VISIBLE_DEVICES]"
    resources: {gpus: 1}
    labels: [cuda]
  - id: anywhere
    run: echo anywhere
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" picky)
    it_check "the task that fits runs" it_wait 10 sh -c "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT state FROM task_instances WHERE run_id=$run AND task_id='anywhere'\")\" = success ]"
    it_check "the GPU task stays queued" [ "$(it_task_state "$run" needs_gpu)" = queued ]
    show=$("$SLUICE" run show --dir "$IT_STATE" "$run")
    it_check "run show says why: $show" sh -c "echo \"\$1\" | grep -q \"'needs_gpu' waits: no connected worker has 1 GPU (most: 0)\"" _ "$show"
    it_start_worker gpu1 --slots 1 --gpus 1
    it_check "it runs once a worker without the label joins? no" sh -c "sleep 1; [ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT state FROM task_instances WHERE run_id=$run AND task_id='needs_gpu'\")\" = queued ]"
    show=$("$SLUICE" run show --dir "$IT_STATE" "$run")
    it_check "now it waits for the label: $show" sh -c "echo \"\$1\" | grep -q \"'needs_gpu' waits: no connected worker has all the labels\"" _ "$show"
    it_start_worker gpu2 --slots 1 --gpus 1 --labels cuda,ssd
    it_check "run ends" it_wait 15 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "the GPU task ran on gpu2" [ "$(it_sql "SELECT worker FROM attempts WHERE run_id=$run AND task_id='needs_gpu'")" = gpu2 ]
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run" needs_gpu)
    it_check "with its own device: $out" [ "$out" = "[0]" ]
}

t_retry_on_retries_only_named_causes() {
    it_cluster 1
    it_apply causes <<'YAML'
dag: causes
defaults:
  retries: 2
  retry_delay: 100ms
tasks:
  - id: killed
    run: kill -9 $$
    retry_on: [oom]
  - id: hog
    run: head -c 200000000 /dev/zero | tail -n 1 | sleep 30
    resources: {memory: 50M}
    retry_on: [oom]
  - id: plain
    run: exit 4
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" causes --wait >/dev/null || rc=$?
    it_check "run fails (rc $rc)" [ "$rc" = 1 ]
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "a signal is not retried under retry_on: [oom]" [ "$(it_sql "
        SELECT count(*) || ' ' || group_concat(cause) FROM attempts WHERE run_id=$run AND task_id='killed'")" = "1 signal" ]
    it_check "oom is retried: 3 attempts, all oom" [ "$(it_sql "
        SELECT count(*) || ' ' || group_concat(DISTINCT cause) FROM attempts WHERE run_id=$run AND task_id='hog'")" = "3 oom" ]
    it_check "no retry_on: every cause is retried" [ "$(it_sql "
        SELECT count(*) || ' ' || group_concat(DISTINCT cause) FROM attempts WHERE run_id=$run AND task_id='plain'")" = "3 exit" ]
    show=$("$SLUICE" run show --dir "$IT_STATE" "$run")
    it_check "run show prints causes: $show" sh -c "echo \"\$1\" | grep -q 'signal SIGKILL' && echo \"\$1\" | grep -q 'oom, peak' && echo \"\$1\" | grep -q 'exit 4'" _ "$show"
}
