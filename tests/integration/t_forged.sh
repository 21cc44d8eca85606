# A worker runs only what the scheduler it pinned sent it, addressed to it,
# fresh and never seen before. forge plays a scheduler that holds the real
# key (so the worker registers) and sends forged, misaddressed, expired and
# replayed tasks beside one valid task; only the valid one may run.

t_forged_task_is_refused() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    if [ "$(id -u)" = 0 ]; then chmod 1777 "$IT_DIR"; fi # tasks run as nobody
    IT_STATE="$IT_DIR/state"
    "$SLUICE" init --dir "$IT_STATE" >/dev/null
    key=$(sed 's/.* //' "$IT_STATE/scheduler.pub")
    port=$(it_free_port)
    "$BUILD/tests/tools/forge" --bind "tcp://127.0.0.1:$port" \
        --key "$IT_STATE/scheduler.key" --attacker-key "$IT_DIR/attacker.key" \
        --worker w1 --marker "$IT_DIR/marker" >"$IT_DIR/forge.log" 2>&1 &
    forge=$!
    IT_PIDS="$IT_PIDS $forge"
    "$SLUICE" worker --scheduler "tcp://127.0.0.1:$port" --scheduler-key "$key" \
        --scheduler-curve-key "$IT_STATE/scheduler.curve.pub" \
        --dir "$IT_DIR/w1" --name w1 >"$IT_DIR/w1.log" 2>&1 &
    IT_PIDS="$IT_PIDS $!"
    rc=0
    wait "$forge" || rc=$?
    it_check "forge saw the valid task's result (rc $rc)" [ "$rc" = 0 ]
    it_check "the valid task ran" test -e "$IT_DIR/marker.valid"
    forged=$(ls "$IT_DIR" | grep -c 'marker.forged' || true)
    it_check "no forged task ran ($forged did)" [ "$forged" = 0 ]
    it_check "the worker logged the refusals" grep -q "replay" "$IT_DIR/w1.log"
}

# A peer of another major version is turned away, and both sides say why.
t_other_major_version_is_refused() {
    it_cluster 0
    key=$(sed 's/.* //' "$IT_STATE/scheduler.pub")
    curve=$(sed 's/.* //' "$IT_STATE/scheduler.curve.pub")
    endpoint="tcp://$(echo "$IT_JOIN" | sed 's#sluice://##; s#/.*##')"
    out=$("$BUILD/tests/tools/oldpeer" --connect "$endpoint" --scheduler-key "$key" \
        --scheduler-curve-key "$curve")
    echo "$out"
    it_check "the old peer hears why: $out" sh -c "echo \"\$1\" | grep -q 'protocol 2.0.*1.[0-9]'" _ "$out"
    it_check "the scheduler logs why" it_wait 5 grep -q "version mismatch.*protocol 2.0" "$IT_DIR/scheduler.log"
}
