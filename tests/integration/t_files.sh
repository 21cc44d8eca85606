# The worker never trusts a task's files: declared outputs are hashed
# without following a symbolic link anywhere in their path, and a FIFO,
# /proc path or link loop fails the task with the path named instead of
# being read (as root, in the worker).

# s_files_run DAGNAME: triggers it and waits for the run to end.
s_files_run() {
    run=$("$SLUICE" trigger --dir "$IT_STATE" "$1")
    it_wait 30 it_run_final "$run"
}

t_files_outputs_are_not_followed() {
    it_cluster 1
    it_apply files <<'YAML'
dag: files
tasks:
  - id: shadow
    run: ln -s /etc x
    outputs: [x/shadow]
  - id: fifo
    run: mkfifo out.fifo
    outputs: [out.fifo]
  - id: proc
    run: 'true'
    outputs: [/proc/version]
  - id: loop
    run: ln -s a b && ln -s b a
    outputs: [a]
  - id: fine
    run: echo ok > out.txt
    outputs: [out.txt]
YAML
    it_check "run ends (a FIFO does not block the worker)" s_files_run files
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    for t in shadow fifo proc loop; do
        it_check "task $t failed" [ "$(it_task_state "$run" "$t")" = failed ]
    done
    it_check "the good one succeeded" [ "$(it_task_state "$run" fine)" = success ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.out" 2>&1
    it_check "a link on the way is named" grep -q "x/shadow': a directory on its way is a symbolic link" "$IT_DIR/show.out"
    it_check "the FIFO is named" grep -q "out.fifo' is a FIFO" "$IT_DIR/show.out"
    it_check "/proc is refused" grep -q "/proc/version' is on /proc or /sys" "$IT_DIR/show.out"
    it_check "the loop is a link" grep -q "/a': it is a symbolic link" "$IT_DIR/show.out"
    "$SLUICE" datasets --dir "$IT_STATE" >"$IT_DIR/datasets.out" 2>&1
    it_check "no hash of /etc/shadow was recorded" sh -c "! grep -q shadow '$IT_DIR/datasets.out'"
    it_check "the good output was" grep -q "out.txt" "$IT_DIR/datasets.out"
}

# Inputs are hashed before the task starts, by the same rules: a link on
# an absolute input's path fails the attempt before its command runs
# (cause refused); a missing input is only left out of the lineage.
t_files_input_link_refuses_the_task() {
    it_cluster 1
    mkdir -p "$IT_DIR/real"
    echo a,b >"$IT_DIR/real/in.csv"
    ln -s "$IT_DIR/real" "$IT_DIR/link"
    it_apply inputs <<YAML
dag: inputs
tasks:
  - id: linked
    run: touch $IT_DIR/linked-ran
    inputs: [$IT_DIR/link/in.csv]
  - id: missing
    run: touch $IT_DIR/missing-ran
    inputs: [$IT_DIR/not-yet.csv]
  - id: fine
    run: touch $IT_DIR/fine-ran
    inputs: [$IT_DIR/real/in.csv]
YAML
    it_check "run ends" s_files_run inputs
    it_check "the linked input's task failed" [ "$(it_task_state "$run" linked)" = failed ]
    it_check "its command never ran" [ ! -e "$IT_DIR/linked-ran" ]
    it_check "a missing input is no failure" [ "$(it_task_state "$run" missing)" = success ]
    it_check "the good one succeeded" [ "$(it_task_state "$run" fine)" = success ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.out" 2>&1
    it_check "the link is named" grep -q "link/in.csv': a directory on its way is a symbolic link" "$IT_DIR/show.out"
    it_check "as a refusal" grep -q "refused" "$IT_DIR/show.out"
    it_check "the missing one is a warning" grep -q "not-yet.csv.*left out of the lineage" "$IT_DIR/w1.log"
}

# s_files_attempt_dirs WORKER: the attempt dirs in its work root.
s_files_attempt_dirs() {
    ls "$IT_DIR/$1/work" | grep -E '^[0-9]+$' || true
}

# s_files_no_dirs WORKER...: none is left, nor anything in the trash.
s_files_no_dirs() {
    for w in "$@"; do
        [ -z "$(s_files_attempt_dirs "$w")" ] || return 1
        [ -z "$(ls -A "$IT_DIR/$w/work/.trash")" ] || return 1
    done
}

# Work dirs go with their attempts: 1,000 tasks leave none behind.
t_files_work_dirs_are_removed() {
    it_cluster 0
    it_start_worker w1 --slots 4
    it_start_worker w2 --slots 4
    it_wait 15 it_connected 2
    {
        echo "dag: many"
        echo "tasks:"
        i=0
        while [ "$i" -lt 1000 ]; do
            echo "  - {id: t$i, run: 'true'}"
            i=$((i + 1))
        done
        # Outputs that live only as long as their attempt, hashed first.
        echo "  - {id: out, run: 'mkdir d && echo x > d/f && ln -s /etc d/l', outputs: [d]}"
    } | it_apply many
    run=$("$SLUICE" trigger --dir "$IT_STATE" many)
    it_check "1,001 tasks end" it_wait 240 it_run_final "$run"
    it_check "all succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "no work dir is left" it_wait 30 s_files_no_dirs w1 w2
    it_check "the link's target was not touched" [ -e /etc/passwd ]
}

# A failed attempt's dir stays for --keep-failed, then goes; removing it
# does not follow the links the task left there.
t_files_failed_dir_is_kept_then_removed() {
    it_cluster 0
    it_start_worker w1 --slots 2 --keep-failed 4s
    it_wait 15 it_connected 1
    mkdir "$IT_DIR/victim"
    echo precious >"$IT_DIR/victim/file"
    it_apply fails <<YAML
dag: fails
tasks:
  - id: bad
    run: 'echo why > note; ln -s $IT_DIR/victim v; exit 3'
YAML
    it_check "run ends" s_files_run fails
    it_check "the task failed" [ "$(it_task_state "$run" bad)" = failed ]
    dir="$IT_DIR/w1/work/$(s_files_attempt_dirs w1)"
    it_check "its dir is kept" [ -f "$dir/note" ]
    it_check "then removed" it_wait 30 s_files_no_dirs w1
    it_check "what its link pointed to is still there" grep -q precious "$IT_DIR/victim/file"
}

# Hashing has a time limit: past it the hasher is killed and the attempt
# fails with the reason, while the worker goes on with other tasks.
t_files_hash_timeout_fails_only_that_attempt() {
    it_cluster 0
    it_start_worker w1 --slots 2 --hash-timeout 1s
    it_wait 15 it_connected 1
    it_apply slow <<'YAML'
dag: slow
tasks:
  - id: huge
    run: truncate -s 500G big
    outputs: [big]
  - id: other
    run: 'sleep 1; echo ok > small'
    outputs: [small]
YAML
    it_check "run ends" s_files_run slow
    it_check "the huge output failed" [ "$(it_task_state "$run" huge)" = failed ]
    it_check "the other succeeded" [ "$(it_task_state "$run" other)" = success ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.out" 2>&1
    it_check "the reason is the time limit" grep -q "hashing outputs took longer than 1.0s" "$IT_DIR/show.out"
    it_check "the worker still serves" s_files_run slow
    it_check "its other task again" [ "$(it_task_state "$run" other)" = success ]
}
