# Batching and rolling upgrades: a new scheduler and a new worker batch
# what one turn has for the other; a protocol-1.0 peer on either side gets
# single messages (oldpeer plays it); a batch with one tampered item is
# refused whole.

batch_wide() {
    it_apply wide <<YAML
dag: wide
tasks:
$(for i in $(seq 1 "$1"); do printf '  - id: t%s\n    run: echo wide-%s\n' "$i" "$i"; done)
YAML
}

# The type byte of a stored signed Result: 06 alone, 0C a batch.
batch_kinds() {
    it_sql "SELECT hex(substr(result_signed, 3, 1)) FROM attempts
        WHERE result_signed IS NOT NULL" | sort | uniq -c | tr '\n' ' '
}

# New with new: results come in batches, are kept with the batch's bytes,
# and 'sluice verify' finds each one's Result inside them.
t_batch_new_peers_batch_and_verify() {
    it_cluster 1
    "$SLUICE" workers --dir "$IT_STATE" >/dev/null
    batch_wide 8
    "$SLUICE" trigger --dir "$IT_STATE" wide --wait
    kinds=$(batch_kinds)
    it_log "stored results by envelope type: $kinds"
    it_check "some results came in a batch ($kinds)" sh -c "echo '$kinds' | grep -q '0C'"
    out=$("$SLUICE" verify --dir "$IT_STATE" 1)
    echo "$out"
    it_check "verify: all 8 good" sh -c "echo \"\$1\" | grep -q '8 signed results, all verify'" _ "$out"
}

# A 1.0 worker (no batches) gets its tasks of one turn as single envelopes,
# answers with single 1.0 Results, and sees them acked.
t_batch_old_worker_gets_single_messages() {
    it_cluster 0
    batch_wide 3
    "$BUILD/tests/tools/oldpeer" --worker-1.0 --join "$IT_JOIN" --name old1 \
        --tasks 3 >"$IT_DIR/oldpeer.log" 2>&1 &
    old=$!
    IT_PIDS="$IT_PIDS $old"
    it_check "the 1.0 worker registered" it_wait 10 it_connected 1
    "$SLUICE" trigger --dir "$IT_STATE" wide --wait
    rc=0
    wait "$old" || rc=$?
    cat "$IT_DIR/oldpeer.log"
    it_check "oldpeer: 3 single tasks, results acked, no batch (rc $rc)" [ "$rc" = 0 ]
    it_check "the run succeeded" [ "$(it_run_state 1)" = success ]
    it_check "its results are stored as single 1.0 envelopes" [ "$(it_sql "SELECT count(*)
        FROM attempts WHERE hex(substr(result_signed, 1, 3)) = '010006'")" = 3 ]
    it_check "and verify" sh -c "'$SLUICE' verify --dir '$IT_STATE' 1 | grep -q '3 signed results, all verify'"
}

# A new worker under a 1.0 scheduler never sends a batch.
t_batch_new_worker_under_old_scheduler() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    if [ "$(id -u)" = 0 ]; then chmod 1777 "$IT_DIR"; fi # tasks run as nobody
    port=$(it_free_port)
    "$BUILD/tests/tools/oldpeer" --scheduler-1.0 --bind "tcp://127.0.0.1:$port" \
        --join-file "$IT_DIR/join" --tasks 4 >"$IT_DIR/oldpeer.log" 2>&1 &
    old=$!
    IT_PIDS="$IT_PIDS $old"
    it_check "oldpeer wrote its join line" it_wait 10 test -s "$IT_DIR/join"
    "$SLUICE" worker --join "$(cat "$IT_DIR/join")" --dir "$IT_DIR/w1" --name w1 \
        --slots 4 >"$IT_DIR/w1.log" 2>&1 &
    IT_PIDS="$IT_PIDS $!"
    rc=0
    wait "$old" || rc=$?
    cat "$IT_DIR/oldpeer.log"
    it_check "4 results and no batch from the new worker (rc $rc)" [ "$rc" = 0 ]
    it_check "the worker said 1.1 in its Register" grep -q "speaking 1.1" "$IT_DIR/oldpeer.log"
}

# One flipped byte inside one item of a signed batch: the scheduler refuses
# the whole batch (its log chunk is not stored, its Result not applied nor
# acked); the same items in a good batch then go through.
t_batch_tampered_item_refuses_the_batch() {
    it_cluster 0
    it_apply one <<'YAML'
dag: one
tasks:
  - id: a
    run: echo never-run
YAML
    "$BUILD/tests/tools/oldpeer" --tampered-batch --join "$IT_JOIN" --name tb \
        >"$IT_DIR/oldpeer.log" 2>&1 &
    old=$!
    IT_PIDS="$IT_PIDS $old"
    it_check "the peer registered" it_wait 10 it_connected 1
    "$SLUICE" trigger --dir "$IT_STATE" one >/dev/null
    rc=0
    wait "$old" || rc=$?
    cat "$IT_DIR/oldpeer.log"
    it_check "tampered batch not acked, good one acked (rc $rc)" [ "$rc" = 0 ]
    it_check "the scheduler counted a bad signature" \
        grep -q "dropped a message on the worker socket (bad signature" "$IT_DIR/scheduler.log"
    it_check "the run succeeded from the good batch" it_wait 10 sh -c \
        "[ \"\$(sqlite3 -readonly '$IT_STATE/store.db' 'SELECT state FROM runs WHERE id=1')\" = success ]"
    logs=$("$SLUICE" logs --dir "$IT_STATE" 1 a 2>&1 || true)
    echo "$logs"
    it_check "the good batch's chunk is stored" sh -c "echo \"\$1\" | grep -q VALID" _ "$logs"
    it_check "the tampered batch's chunk is not" sh -c "! echo \"\$1\" | grep -q TAMPERED" _ "$logs"
}
