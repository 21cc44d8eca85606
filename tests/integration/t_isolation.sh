# Isolation between tasks on a worker: a root worker runs each attempt as
# its own uid, so concurrent tasks cannot read each other's environment or
# work dir; secrets reach a task only in its environment; --data-root keeps
# declared inputs and outputs under the roots.

ISO_VALUE_A='iso-secret-AAAA-1111'
ISO_VALUE_B='iso-secret-BBBB-2222'

# iso_worker NAME ARGS...: one worker started by hand, waited for.
iso_worker() {
    n=$(it_sql "SELECT count(*) FROM workers WHERE state='connected'")
    it_start_worker "$@"
    it_wait 15 it_connected $((n + 1)) || { it_log "worker did not connect"; return 1; }
}

t_isolation_concurrent_tasks_cannot_read_each_other() {
    if [ "$(id -u)" != 0 ]; then
        it_log "skipped: needs root"
        return 0
    fi
    it_cluster 1
    out="$IT_DIR/out"
    mkdir -m 1777 "$out"
    printf '%s\n' "$ISO_VALUE_A" | "$SLUICE" secret set --dir "$IT_STATE" SA >/dev/null
    printf '%s\n' "$ISO_VALUE_B" | "$SLUICE" secret set --dir "$IT_STATE" SB >/dev/null
    # Each task says where it is, waits for the other, tries to read the
    # other's environment and work dir, and stays until the other is done.
    cat >"$IT_DIR/peek.sh" <<'SH'
d=$OUT
echo "note of $NAME" >"$SLUICE_OUTPUT_DIR/note"
echo $$ >"$d/$NAME.pid.tmp" && mv "$d/$NAME.pid.tmp" "$d/$NAME.pid"
echo "$SLUICE_OUTPUT_DIR" >"$d/$NAME.dir.tmp" && mv "$d/$NAME.dir.tmp" "$d/$NAME.dir"
i=0
while [ ! -s "$d/$OTHER.dir" ] || [ ! -s "$d/$OTHER.pid" ]; do
    i=$((i + 1)); [ $i -lt 600 ] || exit 3; sleep 0.05
done
p=$(cat "$d/$OTHER.pid"); w=$(cat "$d/$OTHER.dir")
{
    echo "me $(id -u) $(id -g)"
    echo "other $(awk '/^Uid:/ {print $2}' "/proc/$p/status")"
    cat "/proc/$p/environ" 2>&1 | tr '\0' '\n'
    cat "/proc/$p/mem" 2>&1 | head -c 64
    ls "$w" 2>&1
    cat "$w/note" 2>&1
} >"$d/$NAME.evidence" 2>&1
touch "$d/$NAME.done"
i=0
while [ ! -e "$d/$OTHER.done" ]; do
    i=$((i + 1)); [ $i -lt 600 ] || exit 4; sleep 0.05
done
SH
    chmod 644 "$IT_DIR/peek.sh"
    it_apply peek <<YAML
dag: peek
tasks:
  - id: a
    run: sh $IT_DIR/peek.sh
    env: {OUT: "$out", NAME: a, OTHER: b, MINE: "{{ secret.SA }}"}
  - id: b
    run: sh $IT_DIR/peek.sh
    env: {OUT: "$out", NAME: b, OTHER: a, MINE: "{{ secret.SB }}"}
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" peek)
    it_check "run ends" it_wait 60 it_run_final "$run"
    it_check "both ran at once and finished" [ "$(it_run_state "$run")" = success ]
    for t in a b; do
        ev="$out/$t.evidence"
        it_check "$t: evidence written" [ -s "$ev" ]
        me=$(awk '/^me / {print $2}' "$ev")
        other=$(awk '/^other / {print $2}' "$ev")
        it_check "$t: its own uid in the range ($me)" sh -c "[ '$me' -ge 61001 ] && [ '$me' -le 61999 ]"
        it_check "$t: gid is the uid" grep -qx "me $me $me" "$ev"
        it_check "$t: the other runs as another uid ($other)" sh -c "[ -n '$other' ] && [ '$other' != '$me' ]"
        it_check "$t: environ refused" grep -q "environ: Permission denied" "$ev"
        it_check "$t: memory refused" grep -q "mem: Permission denied" "$ev"
        it_check "$t: work dir not listable" grep -q "cannot open directory.*Permission denied" "$ev"
        it_check "$t: work dir file not readable" grep -q "note: Permission denied" "$ev"
        it_check "$t: no note of the other" sh -c "! grep -q 'note of' '$ev'"
    done
    it_check "a never saw b's secret" sh -c "! grep -qF '$ISO_VALUE_B' '$out/a.evidence'"
    it_check "b never saw a's secret" sh -c "! grep -qF '$ISO_VALUE_A' '$out/b.evidence'"
    # A succeeded attempt's work dir is removed once it ends (t_files).
    it_check "work dirs are gone after a success" it_wait 10 [ ! -e "$(cat "$out/a.dir")" ]
}

t_isolation_secret_only_in_env() {
    it_cluster 1
    out="$IT_DIR/out"
    mkdir -m 1777 "$out"
    printf '%s' "$ISO_VALUE_A" >"$IT_DIR/value"
    printf '%s\n' "$ISO_VALUE_A" | "$SLUICE" secret set --dir "$IT_STATE" TOKEN >/dev/null
    it_apply hold <<YAML
dag: hold
tasks:
  - id: a
    run: 'touch $out/started; i=0; while [ ! -e $out/release ] && [ \$i -lt 600 ]; do i=\$((i+1)); sleep 0.05; done; [ -n "\$TOKEN" ] && echo "token-seen-\${#TOKEN}"'
    env:
      TOKEN: "{{ secret.TOKEN }}"
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" hold)
    it_check "task started" it_wait 20 [ -e "$out/started" ]
    ps -ef >"$IT_DIR/ps.out"
    cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' >"$IT_DIR/cmdlines.out"
    it_check "ps shows the task" grep -q "started" "$IT_DIR/ps.out"
    it_check "not in ps -ef" sh -c "! grep -qF -f '$IT_DIR/value' '$IT_DIR/ps.out'"
    it_check "not in any cmdline" sh -c "! grep -qF -f '$IT_DIR/value' '$IT_DIR/cmdlines.out'"
    it_check "not in any file of the worker's dir" sh -c "! grep -rqF -f '$IT_DIR/value' '$IT_DIR/w1'"
    touch "$out/release"
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    "$SLUICE" logs --dir "$IT_STATE" "$run" a >"$IT_DIR/logs.out" 2>&1
    it_check "the task had it in its env" grep -q "token-seen-${#ISO_VALUE_A}" "$IT_DIR/logs.out"
    it_check "still not in the work root" sh -c "! grep -rqF -f '$IT_DIR/value' '$IT_DIR/w1/work'"
}

t_isolation_fixed_run_as_account() {
    if [ "$(id -u)" != 0 ]; then
        it_log "skipped: needs root"
        return 0
    fi
    it_cluster 0
    iso_worker w1 --slots 2 --run-as nobody
    it_apply who <<'YAML'
dag: who
tasks:
  - id: a
    run: 'id -u; stat -c "%u %a" "$SLUICE_OUTPUT_DIR"; echo "groups=$(id -G)"'
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" who)
    it_check "run ends" it_wait 20 it_run_final "$run"
    "$SLUICE" logs --dir "$IT_STATE" "$run" a >"$IT_DIR/who.out" 2>&1
    it_check "task ran as nobody" grep -qx 65534 "$IT_DIR/who.out"
    it_check "in nobody's group only, no group of the uid range" \
        grep -qx "groups=$(id -g nobody)" "$IT_DIR/who.out"
    it_check "its work dir is its own, 0700" grep -qx "65534 700" "$IT_DIR/who.out"
    it_check "worker said so" grep -q "tasks run as user 'nobody'" "$IT_DIR/w1.log"
    rc=0
    "$SLUICE" worker --join "$IT_JOIN" --dir "$IT_DIR/w2" --run-as nobody \
        --run-as-range 61000-61009 >"$IT_DIR/both.out" 2>&1 || rc=$?
    it_check "--run-as with --run-as-range refused (rc $rc)" [ "$rc" != 0 ]
    it_check "and says why" grep -q "exclude each other" "$IT_DIR/both.out"
    rc=0
    "$SLUICE" worker --join "$IT_JOIN" --dir "$IT_DIR/w3" --slots 8 \
        --run-as-range 61000-61003 >"$IT_DIR/small.out" 2>&1 || rc=$?
    it_check "a range smaller than the slots refused (rc $rc)" [ "$rc" != 0 ]
    it_check "and says what to do" grep -q "widen it or lower --slots" "$IT_DIR/small.out"
}

t_isolation_data_root() {
    it_cluster 0
    mkdir -m 1777 "$IT_DIR/data" "$IT_DIR/outside"
    ln -s "$IT_DIR/outside" "$IT_DIR/data/link"
    iso_worker w1 --slots 2 --data-root "$IT_DIR/data"
    it_apply roots <<YAML
dag: roots
tasks:
  - id: inside
    run: 'echo x >$IT_DIR/data/ok.txt'
    outputs: [$IT_DIR/data/ok.txt]
  - id: outside
    run: 'echo ran >$IT_DIR/outside/out.txt'
    outputs: [$IT_DIR/outside/out.txt]
  - id: escape
    run: 'echo ran >$IT_DIR/data/link/esc.txt'
    outputs: [$IT_DIR/data/link/esc.txt]
  - id: local
    run: 'echo x >here.txt'
    outputs: [here.txt]
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" roots)
    it_check "run ends" it_wait 30 it_run_final "$run"
    it_check "a path under the root runs" [ "$(it_task_state "$run" inside)" = success ]
    it_check "a path in the work dir runs" [ "$(it_task_state "$run" local)" = success ]
    it_check "outside fails" [ "$(it_task_state "$run" outside)" = failed ]
    it_check "a symlink out of the root fails" [ "$(it_task_state "$run" escape)" = failed ]
    it_check "cause refused" [ "$(it_sql "SELECT group_concat(DISTINCT cause) FROM attempts WHERE run_id=$run AND task_id IN ('outside','escape')")" = refused ]
    it_check "the refused tasks never ran" sh -c "[ ! -e '$IT_DIR/outside/out.txt' ] && [ ! -e '$IT_DIR/outside/esc.txt' ]"
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.out" 2>&1
    it_check "run show says refused, the path and the root" grep -q "refused: declared path '$IT_DIR/outside/out.txt'.*outside this worker's data roots ('$IT_DIR/data')" "$IT_DIR/show.out"
    it_check "the worker said so" grep -q "refused attempt .*task 'escape'.*leads to '$IT_DIR/outside/esc.txt'" "$IT_DIR/w1.log"
    rc=0
    "$SLUICE" worker --join "$IT_JOIN" --dir "$IT_DIR/w2" \
        --data-root "$IT_DIR/missing" >"$IT_DIR/missing.out" 2>&1 || rc=$?
    it_check "a missing root is refused at start (rc $rc)" [ "$rc" != 0 ]
    it_check "naming it" grep -q "data-root '$IT_DIR/missing'" "$IT_DIR/missing.out"
}

t_isolation_data_root_from_worker_config() {
    it_cluster 0
    mkdir -m 1777 "$IT_DIR/data" "$IT_DIR/outside"
    mkdir -m 0700 "$IT_DIR/w1"
    printf 'data_roots: [%s]\n' "$IT_DIR/data" >"$IT_DIR/w1/config.yaml"
    iso_worker w1 --slots 2
    it_apply roots <<YAML
dag: roots
tasks:
  - id: inside
    run: 'echo x >$IT_DIR/data/ok.txt'
    outputs: [$IT_DIR/data/ok.txt]
  - id: outside
    run: 'echo ran >$IT_DIR/outside/out.txt'
    outputs: [$IT_DIR/outside/out.txt]
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" roots)
    it_check "run ends" it_wait 30 it_run_final "$run"
    it_check "a path under the configured root runs" [ "$(it_task_state "$run" inside)" = success ]
    it_check "outside it is refused" [ "$(it_sql "SELECT group_concat(DISTINCT cause) FROM attempts WHERE run_id=$run AND task_id='outside'")" = refused ]
    mkdir -m 0700 "$IT_DIR/w2"
    printf 'data_root: [/data]\n' >"$IT_DIR/w2/config.yaml"
    rc=0
    "$SLUICE" worker --join "$IT_JOIN" --dir "$IT_DIR/w2" >"$IT_DIR/typo.out" 2>&1 || rc=$?
    it_check "a misspelt setting stops the worker (rc $rc)" [ "$rc" != 0 ]
    it_check "with its line and a suggestion" grep -q "w2/config.yaml:1:1: unknown setting 'data_root'; did you mean 'data_roots'" "$IT_DIR/typo.out"
}
