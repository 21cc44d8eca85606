# Integrity: client roles, signed results kept and
# re-verified, replayed messages refused and counted, the hash-chained
# event table.

integrity_dag() {
    it_apply one <<'YAML'
dag: one
tasks:
  - id: a
    run: echo signed
  - id: b
    after: [a]
    run: echo twice
YAML
}

# integrity_client NAME: a client state directory with its own key, made
# the way a user on another host does: 'sluice keys client-key', then the
# scheduler's config and public keys copied in. Prints the key.
integrity_client() {
    dir="$IT_DIR/$1"
    key=$("$SLUICE" keys client-key --dir "$dir" 2>/dev/null)
    for f in config.yaml scheduler.pub scheduler.curve.pub; do
        [ -e "$IT_STATE/$f" ] && cp "$IT_STATE/$f" "$dir/"
    done
    echo "$key"
}

# A viewer reads but is refused an operator verb, and the refusal is an
# event; an operator may trigger; a key nobody added gets no answer.
t_integrity_roles() {
    it_cluster 1
    integrity_dag
    viewer=$(integrity_client viewer)
    operator=$(integrity_client operator)
    integrity_client stranger >/dev/null
    it_check "viewer key printed: '$viewer'" [ ${#viewer} = 64 ]
    "$SLUICE" keys add-client --dir "$IT_STATE" "$viewer" --role viewer --name ann
    "$SLUICE" keys add-client --dir "$IT_STATE" "$operator" --role operator
    it_check "the viewer lists runs" "$SLUICE" runs --dir "$IT_DIR/viewer"
    it_check "the viewer lists DAGs" "$SLUICE" dag list --dir "$IT_DIR/viewer"
    rc=0
    out=$("$SLUICE" trigger --dir "$IT_DIR/viewer" one 2>&1) || rc=$?
    echo "$out"
    it_check "viewer trigger refused with exit 4 (got $rc)" [ "$rc" = 4 ]
    it_check "the refusal says what to do" sh -c \
        "echo \"\$1\" | grep -q \"needs the operator role.*sluice keys add-client $viewer --role operator\"" _ "$out"
    it_check "the refusal is an event" [ "$(it_sql "SELECT count(*) FROM events
        WHERE kind='refused' AND subject='trigger' AND actor LIKE 'client %'")" = 1 ]
    it_check "no run was made" [ "$(it_sql "SELECT count(*) FROM runs")" = 0 ]
    "$SLUICE" trigger --dir "$IT_DIR/operator" one --wait
    it_check "the operator's run succeeded" [ "$(it_run_state 1)" = success ]
    rc=0
    "$SLUICE" runs --dir "$IT_DIR/stranger" >/dev/null 2>&1 || rc=$?
    it_check "a key nobody added is not served (exit $rc)" [ "$rc" != 0 ]
    it_check "the local CLI is an operator" [ "$(it_sql "SELECT role FROM client_keys
        WHERE public_hex='$(sed 's/.* //' "$IT_STATE/client.pub")'")" = operator ]
}

# Every result is stored with its signature; 'sluice verify' re-checks
# them and names an attempt whose stored signature was tampered with.
t_integrity_verify_run() {
    it_cluster 1
    integrity_dag
    "$SLUICE" trigger --dir "$IT_STATE" one --wait
    it_check "both results stored signed" [ "$(it_sql "SELECT count(*) FROM attempts
        WHERE run_id=1 AND length(result_sig)=64 AND length(result_signer)=64")" = 2 ]
    out=$("$SLUICE" verify --dir "$IT_STATE" 1)
    echo "$out"
    it_check "verify: all good" sh -c "echo \"\$1\" | grep -q '2 signed results, all verify'" _ "$out"
    bad=$(it_sql "SELECT id FROM attempts WHERE run_id=1 AND task_id='b'")
    sqlite3 -cmd ".timeout 5000" "$IT_STATE/store.db" \
        "UPDATE attempts SET result_sig = zeroblob(64) WHERE id=$bad"
    rc=0
    out=$("$SLUICE" verify --dir "$IT_STATE" 1) || rc=$?
    echo "$out"
    it_check "verify exits 1 after tampering (got $rc)" [ "$rc" = 1 ]
    it_check "verify names attempt $bad" sh -c \
        "echo \"\$1\" | grep -q \"^attempt $bad (task 'b'.*does not verify\"" _ "$out"
    rc=0
    "$SLUICE" verify --dir "$IT_STATE" 99 >/dev/null 2>&1 || rc=$?
    it_check "verify of a missing run fails (got $rc)" [ "$rc" = 4 ]
}

# A worker's Result captured and sent again is refused and counted, and
# not recorded again (as a stale result).
t_integrity_replayed_result_refused() {
    it_cluster 1
    integrity_dag
    "$SLUICE" trigger --dir "$IT_STATE" one --wait
    row=$(it_sql "SELECT hex(result_signed) || ' ' || hex(result_sig) || ' ' ||
        result_signer FROM attempts WHERE run_id=1 AND task_id='a'")
    set -- $row
    endpoint="tcp://$(echo "$IT_JOIN" | sed 's#sluice://##; s#/.*##')"
    curve=""
    if [ -e "$IT_STATE/scheduler.curve.pub" ]; then
        curve="--curve-server $IT_STATE/scheduler.curve.pub --curve-key $IT_DIR/w1/worker.curve"
    fi
    # shellcheck disable=SC2086  # curve is zero or four words
    "$BUILD/tests/tools/replay" --connect "$endpoint" --signed "$1" --sig "$2" \
        --signer "$3" --count 3 $curve
    it_check "the scheduler counted the replay" \
        it_wait 10 grep -q "replayed.*is the one already stored" "$IT_DIR/scheduler.log"
    it_check "nothing recorded as stale" [ "$(it_sql "SELECT count(*) FROM stale_results")" = 0 ]
    it_check "the run is unchanged" [ "$(it_run_state 1)" = success ]
    # The scheduler still serves its real worker.
    "$SLUICE" trigger --dir "$IT_STATE" one --wait
    it_stop "$IT_SCHED_PID"
    it_check "all three replays counted" grep -q "dropped messages since start:.*replayed 3" \
        "$IT_DIR/scheduler.log"
}

# A captured Task sent again is refused by the worker (nonce) and counted,
# and the original attempt is left alone (no TaskRefused for it).
t_integrity_replayed_task_refused() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    if [ "$(id -u)" = 0 ]; then chmod 1777 "$IT_DIR"; fi # tasks run as nobody
    IT_STATE="$IT_DIR/state"
    "$SLUICE" init --dir "$IT_STATE" >/dev/null
    key=$(sed 's/.* //' "$IT_STATE/scheduler.pub")
    curve=""
    if [ -e "$IT_STATE/scheduler.curve.pub" ]; then
        curve="--scheduler-curve-key $IT_STATE/scheduler.curve.pub"
    fi
    port=$(it_free_port)
    "$BUILD/tests/tools/forge" --bind "tcp://127.0.0.1:$port" \
        --key "$IT_STATE/scheduler.key" --attacker-key "$IT_DIR/attacker.key" \
        --worker w1 --marker "$IT_DIR/marker" >"$IT_DIR/forge.log" 2>&1 &
    forge=$!
    IT_PIDS="$IT_PIDS $forge"
    # shellcheck disable=SC2086  # curve is zero or two words
    "$SLUICE" worker --scheduler "tcp://127.0.0.1:$port" --scheduler-key "$key" \
        $curve --dir "$IT_DIR/w1" --name w1 >"$IT_DIR/w1.log" 2>&1 &
    IT_PIDS="$IT_PIDS $!"
    rc=0
    wait "$forge" || rc=$?
    cat "$IT_DIR/forge.log"
    it_check "the valid task's result came (rc $rc)" [ "$rc" = 0 ]
    it_check "the valid task started once" [ "$(grep -c "attempt .* started" "$IT_DIR/w1.log")" = 1 ]
    it_check "the replayed task got no TaskRefused" grep -q "^case e.*no reply" "$IT_DIR/forge.log"
    it_check "the worker counted the replay" \
        grep -q "(replayed).*nonce was already used" "$IT_DIR/w1.log"
}

# 'sluice verify --events' walks the chain; an edited row is named.
t_integrity_event_chain() {
    it_cluster 1
    integrity_dag
    "$SLUICE" trigger --dir "$IT_STATE" one --wait
    out=$("$SLUICE" verify --dir "$IT_STATE" --events)
    echo "$out"
    it_check "chain intact: $out" sh -c "echo \"\$1\" | grep -q '^[0-9]* events, chain intact'" _ "$out"
    target=$(it_sql "SELECT min(id) FROM events WHERE kind='trigger'")
    sqlite3 -cmd ".timeout 5000" "$IT_STATE/store.db" \
        "DROP TRIGGER events_no_update;
         UPDATE events SET detail='someone else' WHERE id=$target;"
    rc=0
    out=$("$SLUICE" verify --dir "$IT_STATE" --events) || rc=$?
    echo "$out"
    it_check "verify --events exits 1 (got $rc)" [ "$rc" = 1 ]
    it_check "it names event $target" sh -c \
        "echo \"\$1\" | grep -q \"broken at event $target: event $target was changed\"" _ "$out"
}
