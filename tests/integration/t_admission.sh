# Transport and admission: CURVE on both sockets, worker
# keys accepted like SaltStack's, revocation that cuts a worker off, join
# tokens, and clients whose key is not listed.

# The join line without the helper's token: a worker that joins with it
# is a stranger until someone decides.
admission_plain_join() { echo "${IT_JOIN%%\?token=*}"; }

# admission_fp NAME: the transport key fingerprint of worker NAME.
admission_fp() {
    "$SLUICE" keys list --dir "$IT_STATE" | awk -v n="$1" '$4 == n { print $1 }'
}

admission_has_fp() { [ -n "$(admission_fp "$1")" ]; }

admission_key_state() {
    "$SLUICE" keys list --dir "$IT_STATE" | awk -v n="$1" '$4 == n { print $3 }'
}

t_admission_new_worker_waits_for_accept() {
    it_cluster 0
    it_apply one <<'EOF2'
dag: one
tasks:
  - id: a
    run: "true"
EOF2
    IT_JOIN=$(admission_plain_join)
    it_start_worker w1 --slots 1
    it_check "the new key is listed pending" it_wait 10 admission_has_fp w1
    it_check "its state is pending" [ "$(admission_key_state w1)" = pending ]
    "$SLUICE" trigger --dir "$IT_STATE" one >/dev/null
    sleep 1.5 # long enough for a dispatch that must not happen
    it_check "a pending worker runs nothing" \
        [ "$(it_sql "SELECT count(*) FROM attempts")" = 0 ]
    it_check "it is not connected" [ "$(it_sql "SELECT count(*) FROM workers")" = 0 ]
    it_check "the worker says how to get in" grep -q "sluice keys accept" "$IT_DIR/w1.log"
    fp=$(admission_fp w1)
    it_check "it says it waits for admission, with its key and both ways in" \
        grep -q "waiting for admission: on the scheduler host run 'sluice keys accept $fp', or restart this worker with --token" "$IT_DIR/w1.log"
    it_check "it says so once per wait" \
        [ "$(grep -c "waiting for admission" "$IT_DIR/w1.log")" = 1 ]
    it_check "waiting is not losing the scheduler" \
        sh -c "! grep -q 'lost the scheduler' '$IT_DIR/w1.log'"
    "$SLUICE" keys accept --dir "$IT_STATE" "$(admission_fp w1 | cut -c1-9)"
    it_check "after accept the run succeeds" it_wait 20 it_run_final 1
    it_check "run 1 succeeded" [ "$(it_run_state 1)" = success ]
    it_check "the decision is in the event table" \
        [ "$(it_sql "SELECT count(*) FROM events WHERE kind='key_accepted' AND actor='operator'")" = 1 ]
    it_check "keys list --json names the key" \
        sh -c "'$SLUICE' keys list --dir '$IT_STATE' --json | grep -q '\"state\": \"accepted\"'"
}

t_admission_rejected_worker_is_refused() {
    it_cluster 0
    IT_JOIN=$(admission_plain_join)
    it_start_worker w1 --slots 1
    it_check "the new key is listed" it_wait 10 admission_has_fp w1
    "$SLUICE" keys reject --dir "$IT_STATE" "$(admission_fp w1)"
    it_check "its state is rejected" [ "$(admission_key_state w1)" = rejected ]
    it_check "the scheduler refuses its handshake" \
        it_wait 40 grep -q "transport key .*: the key was rejected" "$IT_DIR/scheduler.log"
    it_check "it never registered" [ "$(it_sql "SELECT count(*) FROM workers")" = 0 ]
    it_check "the decision is in the event table" \
        [ "$(it_sql "SELECT count(*) FROM events WHERE kind='key_rejected'")" = 1 ]
}

t_admission_revoke_cuts_off_a_running_worker() {
    it_cluster 2
    it_apply slow <<'EOF2'
dag: slow
tasks:
  - id: a
    run: "sleep 2"
EOF2
    "$SLUICE" trigger --dir "$IT_STATE" slow >/dev/null
    it_check "the task starts" it_wait 10 sh -c \
        "[ -n \"\$(sqlite3 -readonly '$IT_STATE/store.db' \"SELECT worker FROM attempts WHERE state='running'\")\" ]"
    victim=$(it_sql "SELECT worker FROM attempts WHERE state='running'")
    out=$("$SLUICE" keys revoke --dir "$IT_STATE" "$(admission_fp "$victim")")
    echo "$out"
    it_check "revoke says it cut the worker off: $out" \
        sh -c "echo \"\$1\" | grep -q '1 running attempt re-queued'" _ "$out"
    it_check "the run still succeeds" it_wait 30 it_run_final 1
    it_check "run 1 succeeded" [ "$(it_run_state 1)" = success ]
    it_check "the first attempt was lost" \
        [ "$(it_sql "SELECT cause FROM attempts WHERE number=1 AND task_id='a'")" = lost ]
    it_check "the task finished on the other worker" \
        [ "$(it_sql "SELECT worker FROM attempts WHERE state='success'")" != "$victim" ]
    it_check "the revoked worker is gone" \
        [ "$(it_sql "SELECT state FROM workers WHERE name='$victim'")" = gone ]
    it_check "its reconnects are refused at the handshake" \
        it_wait 20 grep -q "the key was revoked" "$IT_DIR/scheduler.log"
    it_check "the decision is in the event table" \
        [ "$(it_sql "SELECT count(*) FROM events WHERE kind='key_revoked'")" = 1 ]
}

t_admission_token_admits_until_expired() {
    it_cluster 0
    IT_JOIN=$(admission_plain_join)
    token=$("$SLUICE" token create --dir "$IT_STATE" --uses 1 --ttl 1h)
    it_check "the token is not stored in clear" \
        [ "$(it_sql "SELECT count(*) FROM join_tokens WHERE hash LIKE '%${token#sjt_}%'")" = 0 ]
    it_start_worker w1 --slots 1 --token "$token"
    it_check "a worker with a token connects" it_wait 10 it_connected 1
    it_check "its key was accepted by the token" \
        [ "$(it_sql "SELECT decided_by FROM transport_keys WHERE name='w1'")" = token ]
    it_start_worker w2 --slots 1 --token "$token"
    it_check "a used-up token is refused, saying why" \
        it_wait 10 grep -q "used up" "$IT_DIR/w2.log"
    short=$("$SLUICE" token create --dir "$IT_STATE" --ttl 1s)
    sleep 1.2
    it_start_worker w3 --slots 1 --token "$short"
    it_check "an expired token is refused, saying why" \
        it_wait 10 grep -q "join token expired" "$IT_DIR/w3.log"
    it_check "only w1 joined" [ "$(it_sql "SELECT count(*) FROM workers")" = 1 ]
}

t_admission_unlisted_client_cannot_talk() {
    it_cluster 0
    other="$IT_DIR/other"
    "$SLUICE" init --dir "$other" >/dev/null
    for f in config.yaml scheduler.pub scheduler.curve.pub; do
        cp "$IT_STATE/$f" "$other/$f"
    done
    rc=0
    "$SLUICE" workers --dir "$other" >"$IT_DIR/other.out" 2>&1 || rc=$?
    cat "$IT_DIR/other.out"
    it_check "a client with an unlisted key is refused (rc $rc)" [ "$rc" = 4 ]
    it_check "and told how to get in: $(cat "$IT_DIR/other.out")" \
        grep -q "refused this client's key; ask an operator to run 'sluice keys add-client" "$IT_DIR/other.out"
    it_check "the scheduler logs the refusal" \
        it_wait 5 grep -q "refused client key" "$IT_DIR/scheduler.log"
    it_check "the local CLI still works" "$SLUICE" workers --dir "$IT_STATE"
    # Trusting the client's signing key admits its transport key,
    # which is converted from it.
    "$SLUICE" keys add-client --dir "$IT_STATE" \
        "$("$SLUICE" keys client-key --dir "$other" 2>/dev/null)" --role viewer >/dev/null
    it_check "once added, the client is answered" "$SLUICE" workers --dir "$other"
    it_check "the local CLI is an operator key" \
        [ "$(it_sql "SELECT role FROM transport_keys WHERE kind='client' AND state='accepted'")" = operator ]
}

t_admission_join_token_stays_off_command_lines() {
    it_cluster 0
    plain=$(admission_plain_join)
    t1=$("$SLUICE" token create --dir "$IT_STATE" --uses 1 2>/dev/null)
    t2=$("$SLUICE" token create --dir "$IT_STATE" --uses 1 2>/dev/null)
    t3=$("$SLUICE" token create --dir "$IT_STATE" --uses 1 2>/dev/null)
    # --token still works, but is wiped from the arguments with a warning.
    it_start_worker flagged --join "$plain" --token "$t1"
    it_wait 15 it_connected 1
    it_check "--token admits" it_connected 1
    it_check "the token is not in its command line" \
        sh -c "! tr '\0' ' ' </proc/$IT_PID_flagged/cmdline | grep -q '$t1'"
    it_check "it warned" grep -q "put a join token on the command line" "$IT_DIR/flagged.log"
    # --token-file: private files only.
    (umask 022; printf '%s\n' "$t2" >"$IT_DIR/open.token")
    rc=0; timeout 10 "$SLUICE" worker --join "$plain" --token-file "$IT_DIR/open.token" \
        --dir "$IT_DIR/open" --name open >"$IT_DIR/open.out" 2>&1 || rc=$?
    it_check "a world-readable token file is refused (rc $rc)" [ "$rc" != 0 ] && [ "$rc" != 124 ]
    it_check "with the chmod" grep -q "chmod 600 $IT_DIR/open.token" "$IT_DIR/open.out"
    chmod 600 "$IT_DIR/open.token"
    "$SLUICE" worker --join "$plain" --token-file "$IT_DIR/open.token" \
        --dir "$IT_DIR/filed" --name filed >>"$IT_DIR/filed.log" 2>&1 &
    IT_PIDS="$IT_PIDS $!"
    it_check "--token-file admits" it_wait 15 it_connected 2
    # The whole join line and the token from the environment, then out of it.
    SLUICE_JOIN="$plain" SLUICE_JOIN_TOKEN="$t3" "$SLUICE" worker \
        --dir "$IT_DIR/envd" --name envd >>"$IT_DIR/envd.log" 2>&1 &
    pid=$!
    IT_PIDS="$IT_PIDS $pid"
    it_check "SLUICE_JOIN and SLUICE_JOIN_TOKEN admit" it_wait 15 it_connected 3
    it_check "the token is not left in its environment" \
        sh -c "! tr '\0' '\n' </proc/$pid/environ | grep -q '$t3'"
    it_check "no warning for the environment" sh -c "! grep -q 'command line' '$IT_DIR/envd.log'"
}
