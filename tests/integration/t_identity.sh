# A worker acts only for itself: an admitted worker's key (played by
# tests/tools/impostor with a real worker's keys) cannot refuse, finish or
# log another worker's attempt, take another worker's name while it is
# away, or register a second name; sluice verify checks the key a result
# was signed with; a drain survives a scheduler restart.

IMPOSTOR="$BUILD/tests/tools/impostor"

# it_id_long: a DAG whose one task runs until $IT_DIR/go exists and notes
# each time it started in $IT_DIR/ran.
it_id_long() {
    it_apply long <<YAML
dag: long
tasks:
  - id: wait
    run: >-
      echo started >>$IT_DIR/ran;
      while [ ! -e $IT_DIR/go ]; do sleep 0.05; done; echo done
YAML
}

# it_id_running RUN WORKER: the run's one task runs on WORKER.
it_id_running() {
    [ "$(it_task_state "$1" wait)" = running ] &&
        [ "$(it_sql "SELECT worker FROM attempts WHERE run_id=$1 AND state='running'")" = "$2" ]
}

# it_id_unchanged RUN ATTEMPT: still one attempt, running on w1, the task
# and the run running.
it_id_unchanged() {
    it_check "one attempt only" [ "$(it_sql "SELECT count(*) FROM attempts WHERE run_id=$1")" = 1 ]
    it_check "attempt $2 still runs on w1" [ "$(it_sql "SELECT state || ' ' || worker FROM attempts WHERE id=$2")" = "running w1" ]
    it_check "task still running" [ "$(it_task_state "$1" wait)" = running ]
    it_check "run still running" [ "$(it_run_state "$1")" = running ]
}

# it_id_finish RUN: lets the task end; it succeeded, having run once.
it_id_finish() {
    touch "$IT_DIR/go"
    it_check "run $1 succeeds" it_wait 20 sh -c "[ \"\$(sqlite3 -readonly '$IT_STATE/store.db' 'SELECT state FROM runs WHERE id=$1')\" = success ]"
    it_check "the task ran once" [ "$(wc -l <"$IT_DIR/ran")" = 1 ]
    it_check "one attempt in all" [ "$(it_sql "SELECT count(*) FROM attempts WHERE run_id=$1")" = 1 ]
}

# it_id_counter NAME: the value of scheduler counter NAME (sluice metrics).
it_id_counter() {
    "$SLUICE" metrics --dir "$IT_STATE" | awk -v n="$1" '$1 == n {print $2}'
}

t_identity_another_workers_attempt_is_not_yours() {
    it_cluster 2
    it_stop "$IT_PID_w2" # its keys stay admitted; the impostor uses them
    it_id_long
    "$SLUICE" trigger --dir "$IT_STATE" long >/dev/null
    it_check "the task runs on w1" it_wait 15 it_id_running 1 w1
    attempt=$(it_sql "SELECT id FROM attempts WHERE run_id=1")
    for action in refuse result log heartbeat; do
        rc=0
        "$IMPOSTOR" --join "$IT_JOIN" --dir "$IT_DIR/w2" --name w2 "$action" \
            --attempt "$attempt" >"$IT_DIR/impostor-$action.log" 2>&1 || rc=$?
        cat "$IT_DIR/impostor-$action.log"
        it_check "impostor sent $action as w2 and was sent no task (rc $rc)" [ "$rc" = 0 ]
    done
    it_id_unchanged 1 "$attempt"
    it_check "no stale result recorded for it" [ "$(it_sql "SELECT count(*) FROM stale_results WHERE attempt_id=$attempt")" = 0 ]
    it_check "no forged log line stored" [ "$(it_sql "SELECT count(*) FROM log_chunks WHERE CAST(data AS TEXT) LIKE '%IMPOSTOR%'")" = 0 ]
    it_check "counted: 4 messages not its own" [ "$(it_id_counter worker_messages_not_own)" = 4 ]
    # One key, four messages in a row: one audit event (rate-limited).
    it_check "audited once" [ "$(it_sql "SELECT count(*) FROM events WHERE kind='worker_not_own'")" = 1 ]
    it_check "the event names the owner" [ "$(it_sql "SELECT count(*) FROM events WHERE kind='worker_not_own' AND detail LIKE '%runs on worker ''w1''%'")" = 1 ]
    it_id_finish 1
    it_check "w1's own result verifies" "$SLUICE" verify --dir "$IT_STATE" 1
}

t_identity_name_is_not_taken_while_its_worker_is_away() {
    it_cluster 2
    it_stop "$IT_PID_w2"
    it_id_long
    "$SLUICE" trigger --dir "$IT_STATE" long >/dev/null
    it_check "the task runs on w1" it_wait 15 it_id_running 1 w1
    attempt=$(it_sql "SELECT id FROM attempts WHERE run_id=1")
    kill -STOP "$IT_PID_w1"
    it_stop "$IT_SCHED_PID"
    # A slower pace: w1 has a few seconds to come back for its attempt.
    it_start_scheduler --heartbeat-ms 1000
    rc=0
    out=$("$IMPOSTOR" --join "$IT_JOIN" --dir "$IT_DIR/w2" --name w1 register 2>&1) || rc=$?
    kill -CONT "$IT_PID_w1"
    echo "$out"
    it_check "w2's key refused as w1 (rc $rc)" [ "$rc" = 3 ]
    it_check "the refusal says the name is another key's and what to do" sh -c "echo \"\$1\" | grep -q \"name 'w1' belongs to another worker's key.*sluice keys revoke\"" _ "$out"
    it_check "audited" [ "$(it_sql "SELECT count(*) FROM events WHERE kind='worker_name_refused'")" = 1 ]
    it_check "counted" [ "$(it_id_counter worker_registers_refused_name)" = 1 ]
    it_check "w1 comes back" it_wait 20 sh -c "\"$SLUICE\" workers --dir \"$IT_STATE\" | grep -q '^w1 .*connected'"
    it_id_unchanged 1 "$attempt"
    it_id_finish 1
}

t_identity_one_key_has_one_name() {
    it_cluster 1
    rc=0
    out=$("$IMPOSTOR" --join "$IT_JOIN" --dir "$IT_DIR/w1" --name w9 register 2>&1) || rc=$?
    echo "$out"
    it_check "w1's key refused as w9 (rc $rc)" [ "$rc" = 3 ]
    it_check "the refusal names the bound name and the rename" sh -c "echo \"\$1\" | grep -q \"bound to the name 'w1'.*sluice keys rename w1 w9\"" _ "$out"
    it_check "no second worker" [ "$(it_sql "SELECT count(*) FROM workers")" = 1 ]
    # A name that could forge a log line never gets as far as a binding.
    rc=0
    out=$("$IMPOSTOR" --join "$IT_JOIN" --dir "$IT_DIR/w1" --name "$(printf 'w1\nforged')" register 2>&1) || rc=$?
    it_check "a name with a newline refused (rc $rc)" [ "$rc" = 3 ]
    rc=0
    out=$("$SLUICE" keys rename --dir "$IT_STATE" w1 w1b 2>&1) || rc=$?
    it_check "no rename while w1 is connected: $out" sh -c "[ $rc != 0 ] && echo \"\$1\" | grep -q 'is connected'" _ "$out"
    it_stop "$IT_PID_w1"
    "$SLUICE" keys rename --dir "$IT_STATE" w1 w1b
    it_check "w1's key registers as w1b" "$IMPOSTOR" --join "$IT_JOIN" --dir "$IT_DIR/w1" --name w1b register
    it_check "and no longer as w1" sh -c "! \"$IMPOSTOR\" --join '$IT_JOIN' --dir '$IT_DIR/w1' --name w1 register"
    it_check "the rename is audited" [ "$(it_sql "SELECT count(*) FROM events WHERE kind='worker_renamed'")" = 1 ]
}

t_identity_worker_name_option_checked() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    rc=0
    out=$("$SLUICE" worker --join "sluice://127.0.0.1:1/x/y" --dir "$IT_DIR/w" --name 'a b' 2>&1) || rc=$?
    it_check "refused (rc $rc): $out" [ "$rc" != 0 ]
    it_check "says what a name may hold: $out" sh -c "echo \"\$1\" | grep -q -- \"--name wants 1 to 64 letters\"" _ "$out"
}

t_identity_drain_survives_a_restart() {
    it_cluster 1
    it_id_long
    "$SLUICE" trigger --dir "$IT_STATE" long >/dev/null
    it_check "the task runs on w1" it_wait 15 it_id_running 1 w1
    "$SLUICE" drain --dir "$IT_STATE" w1 >/dev/null
    it_stop "$IT_SCHED_PID"
    it_check "the drain is stored" [ "$(it_sql "SELECT admin FROM workers WHERE name='w1'")" = draining ]
    it_start_scheduler --heartbeat-ms 300
    it_check "sluice workers shows w1 draining after the restart" sh -c "\"$SLUICE\" workers --dir \"$IT_STATE\" | grep '^w1 ' | grep -q draining"
    it_check "w1 comes back, still draining" it_wait 20 sh -c "\"$SLUICE\" workers --dir \"$IT_STATE\" | grep -q '^w1 .*draining'"
    "$SLUICE" trigger --dir "$IT_STATE" long >/dev/null
    touch "$IT_DIR/go"
    it_check "run 1 succeeds" it_wait 20 sh -c "[ \"\$(sqlite3 -readonly '$IT_STATE/store.db' 'SELECT state FROM runs WHERE id=1')\" = success ]"
    it_check "the drained worker leaves" it_wait 15 sh -c "! kill -0 $IT_PID_w1 2>/dev/null"
    it_check "the run after the drain got no attempt" [ "$(it_sql "SELECT count(*) FROM attempts WHERE run_id=2")" = 0 ]
    it_check "the drain is over once w1 has left" [ "$(it_sql "SELECT admin FROM workers WHERE name='w1'")" = "" ]
}

t_identity_verify_wants_the_key_of_the_attempts_worker() {
    it_cluster 2
    "$SLUICE" dag apply --dir "$IT_STATE" examples/hello/hello.yaml >/dev/null
    "$SLUICE" trigger --dir "$IT_STATE" hello --wait >/dev/null
    "$SLUICE" verify --dir "$IT_STATE" 1 >/dev/null
    it_stop "$IT_SCHED_PID"
    attempt=$(it_sql "SELECT id FROM attempts WHERE run_id=1 AND task_id='start'")
    owner=$(it_sql "SELECT worker FROM attempts WHERE id=$attempt")
    other=w1
    [ "$owner" = w1 ] && other=w2
    # A result for that attempt, signed by the other admitted worker's key,
    # put where the scheduler keeps the proof.
    "$IMPOSTOR" --dir "$IT_DIR/$other" --sign-result "$attempt" >"$IT_DIR/forged"
    signed=$(sed -n 1p "$IT_DIR/forged"); sig=$(sed -n 2p "$IT_DIR/forged"); signer=$(sed -n 3p "$IT_DIR/forged")
    sqlite3 "$IT_STATE/store.db" "UPDATE attempts SET result_signed=X'$signed', result_sig=X'$sig', result_signer=lower('$signer') WHERE id=$attempt"
    it_start_scheduler --heartbeat-ms 300
    rc=0
    out=$("$SLUICE" verify --dir "$IT_STATE" 1 2>&1) || rc=$?
    echo "$out"
    it_check "verify fails (rc $rc)" [ "$rc" = 1 ]
    it_check "it names the worker whose key should have signed" sh -c "echo \"\$1\" | grep -q \"not by the key of worker '$owner'\"" _ "$out"
}

t_identity_results_for_made_up_attempts_are_bounded() {
    it_cluster 2
    it_stop "$IT_PID_w2" # its keys stay admitted; the impostor uses them
    for i in 1 2 3; do
        "$IMPOSTOR" --join "$IT_JOIN" --dir "$IT_DIR/w2" --name w2 result \
            --attempt "99999$i" >>"$IT_DIR/impostor.log" 2>&1
    done
    it_check "no stale_results row for attempts that do not exist" \
        [ "$(it_sql "SELECT count(*) FROM stale_results")" = 0 ]
    it_check "one log line for three of them" \
        [ "$(grep -c "stale result for attempt" "$IT_DIR/scheduler.log")" = 1 ]
}
