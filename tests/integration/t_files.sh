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
