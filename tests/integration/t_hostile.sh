# Hostile input. tests/tools/junk sends a bad signature,
# an unknown key, a truncated frame, an oversized message, random bytes, a
# message of the wrong type for the socket and a flood of junk; the daemon
# under attack must stay up, keep serving real peers, log each kind of drop
# at most once per interval, and count every drop (the count is in the
# summary line it logs when it stops).
#   HOSTILE_FLOOD=N changes the flood size (default 100000).

: "${HOSTILE_FLOOD:=100000}"

# junk's CURVE arguments when the transport has CURVE,
# else nothing (plain TCP). hostile_curve_args [SECRET_FILE]: connect with
# that admitted peer's CURVE key (a worker's), else the client key's.
hostile_curve_args() {
    pub="$IT_STATE/scheduler.curve.pub"
    [ -s "$pub" ] || return 0
    printf -- '--curve-server-key %s' "$pub"
    if [ -n "${1:-}" ] && [ -s "$1" ]; then
        printf -- ' --curve-cert %s' "$1"
    fi
}

# hostile_count LOG KIND: the count of KIND in the "dropped messages since
# start" summary line of LOG, 0 when absent.
hostile_count() {
    n=$(grep 'dropped messages since start' "$1" | tail -n 1 |
        grep -o "$2 [0-9]*" | grep -o '[0-9]*$')
    echo "${n:-0}"
}

# hostile_expect OUT KIND: what junk says the daemon should have counted.
hostile_expect() {
    grep '^expect ' "$1" | tail -n 1 | grep -o "$2=[0-9]*" | cut -d= -f2
}

hostile_verify_counts() {
    out=$1 log=$2
    for pair in malformed:malformed untrusted:'untrusted signer' \
        bad_signature:'bad signature' version:'version mismatch'; do
        want=$(hostile_expect "$out" "${pair%%:*}")
        got=$(hostile_count "$log" "${pair#*:}")
        it_check "the daemon counted ${pair#*:} $got times, junk sent $want" \
            [ "$got" = "$want" ]
    done
}

# The scheduler under attack on both sockets keeps running a DAG and
# answering verbs; its drop log stays short and its counts are exact.
t_hostile_scheduler() {
    started=$(date +%s)
    it_cluster 1
    it_apply h <<'EOF'
dag: h
tasks:
  - id: a
    run: "true"
  - id: b
    after: [a]
    run: "true"
EOF
    wendpoint="tcp://$(echo "$IT_JOIN" | sed 's#sluice://##; s#/.*##')"
    cendpoint="tcp://127.0.0.1:$cp"
    # On the worker socket junk rides on w1's admitted CURVE key (if any):
    # what a compromised worker could send.
    curve=$(hostile_curve_args "$IT_DIR/w1/worker.curve")
    # shellcheck disable=SC2086  # curve is zero, two or four words
    "$BUILD/tests/tools/junk" attack --connect "$wendpoint" --socket worker \
        --count "$HOSTILE_FLOOD" $curve >"$IT_DIR/junk-w.out" 2>&1 &
    junk=$!
    IT_PIDS="$IT_PIDS $junk"
    # During the flood: a run goes through, and a verb answers.
    "$SLUICE" trigger --dir "$IT_STATE" h >/dev/null
    it_check "a client verb answers during the flood" \
        "$SLUICE" workers --dir "$IT_STATE"
    it_check "a DAG runs to success during the flood" it_wait 60 it_run_final 1
    it_check "the run succeeded" [ "$(it_run_state 1)" = success ]
    rc=0
    wait "$junk" || rc=$?
    cat "$IT_DIR/junk-w.out"
    if [ -n "$curve" ] && [ "$rc" = 3 ]; then
        it_log "CURVE refused the stranger at the transport: nothing to count"
        stranger_refused=1
    else
        it_check "junk on the worker socket finished (rc $rc)" [ "$rc" = 0 ]
    fi
    # The client socket, as the local client (wrong type = a signed Task).
    rc=0
    curve=$(hostile_curve_args)
    # shellcheck disable=SC2086
    "$BUILD/tests/tools/junk" attack --connect "$cendpoint" --socket client \
        --client-key "$IT_STATE/client.key" --count "$HOSTILE_FLOOD" $curve \
        >"$IT_DIR/junk-c.out" 2>&1 || rc=$?
    cat "$IT_DIR/junk-c.out"
    if [ -z "${stranger_refused:-}" ]; then
        it_check "junk on the client socket finished (rc $rc)" [ "$rc" = 0 ]
    fi
    if [ -n "$curve" ]; then
        # A stranger's CURVE key is refused at the client socket's transport.
        rc=0
        "$BUILD/tests/tools/junk" attack --connect "$cendpoint" --socket client \
            --count 100 --sync-ms 2000 \
            --curve-server-key "$IT_STATE/scheduler.curve.pub" >"$IT_DIR/junk-s.out" 2>&1 || rc=$?
        it_check "a CURVE stranger on the client socket gets no answer (rc $rc)" [ "$rc" = 3 ]
    fi
    it_check "an oversized DAG source is refused by the scheduler" \
        "$BUILD/tests/tools/junk" big-dag --dir "$IT_STATE" --size 9000000
    it_check "the scheduler is still up" kill -0 "$IT_SCHED_PID"
    "$SLUICE" trigger --dir "$IT_STATE" h >/dev/null
    it_check "a DAG runs to success after the flood" it_wait 30 it_run_final 2
    it_check "the second run succeeded" [ "$(it_run_state 2)" = success ]
    # Four kinds (malformed, untrusted, bad signature, version), each at
    # most once per 10 s since the scheduler started.
    lines=$(grep -c 'dropped a message' "$IT_DIR/scheduler.log" || true)
    limit=$(( 4 * ($(date +%s) - started) / 10 + 4 ))
    it_check "drops are logged at most once per kind and interval ($lines lines, limit $limit)" \
        [ "$lines" -le "$limit" ]
    it_stop "$IT_SCHED_PID"
    it_check "the scheduler logged its drop counts when it stopped" \
        grep -q 'dropped messages since start' "$IT_DIR/scheduler.log"
    [ -n "${stranger_refused:-}" ] && return 0
    # Both attacks' expectations, summed.
    awk '/^expect /{for(i=2;i<=NF;i++){split($i,kv,"=");s[kv[1]]+=kv[2]}}
         END{printf "expect"; for(k in s) printf " %s=%d", k, s[k]; print ""}' \
        "$IT_DIR/junk-w.out" "$IT_DIR/junk-c.out" >"$IT_DIR/junk.expect"
    hostile_verify_counts "$IT_DIR/junk.expect" "$IT_DIR/scheduler.log"
}

# A worker fed junk by a fake scheduler (holding the real key) drops it all,
# counts it, and still runs the valid task that follows.
t_hostile_worker() {
    started=$(date +%s)
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    # As root the worker runs tasks as nobody: let the task write its marker.
    if [ "$(id -u)" = 0 ]; then chmod 1777 "$IT_DIR"; fi
    IT_STATE="$IT_DIR/state"
    "$SLUICE" init --dir "$IT_STATE" >/dev/null
    key=$(sed 's/.* //' "$IT_STATE/scheduler.pub")
    # With CURVE the fake holds the scheduler's transport key too.
    jcurve="" wcurve=""
    if [ -s "$IT_STATE/scheduler.curve" ]; then
        jcurve="--curve-cert $IT_STATE/scheduler.curve"
        wcurve="--scheduler-curve-key $IT_STATE/scheduler.curve.pub"
    fi
    port=$(it_free_port)
    # shellcheck disable=SC2086  # jcurve and wcurve are zero or two words
    "$BUILD/tests/tools/junk" fake-scheduler --bind "tcp://127.0.0.1:$port" \
        --key "$IT_STATE/scheduler.key" --worker w1 --count "$HOSTILE_FLOOD" \
        --marker "$IT_DIR/marker.valid" $jcurve >"$IT_DIR/junk.out" 2>&1 &
    junk=$!
    IT_PIDS="$IT_PIDS $junk"
    # shellcheck disable=SC2086
    "$SLUICE" worker --scheduler "tcp://127.0.0.1:$port" --scheduler-key "$key" \
        $wcurve --dir "$IT_DIR/w1" --name w1 >"$IT_DIR/w1.log" 2>&1 &
    wpid=$!
    IT_PIDS="$IT_PIDS $wpid"
    rc=0
    wait "$junk" || rc=$?
    cat "$IT_DIR/junk.out"
    it_check "the valid task after the junk ran (rc $rc)" [ "$rc" = 0 ]
    it_check "its marker exists" test -e "$IT_DIR/marker.valid"
    it_check "the worker is still up" kill -0 "$wpid"
    lines=$(grep -c 'dropped a message' "$IT_DIR/w1.log" || true)
    limit=$(( 3 * ($(date +%s) - started) / 10 + 3 ))
    it_check "drops are logged at most once per kind and interval ($lines lines, limit $limit)" \
        [ "$lines" -le "$limit" ]
    it_stop "$wpid"
    it_check "the worker logged its drop counts when it stopped" \
        grep -q 'dropped messages since start' "$IT_DIR/w1.log"
    hostile_verify_counts "$IT_DIR/junk.out" "$IT_DIR/w1.log"
}

# hostile_refused VERB FILE: `sluice dag VERB FILE` fails with a message
# that says what is wrong, within 2 s and 200 MB.
hostile_refused() {
    verb=$1 file=$2 want=$3
    start=$(date +%s%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o "$IT_DIR/rss" "$SLUICE" dag "$verb" \
            --dir "$IT_STATE" "$file" >"$IT_DIR/out" 2>&1 && rc=0 || rc=$?
    else
        "$SLUICE" dag "$verb" --dir "$IT_STATE" "$file" >"$IT_DIR/out" 2>&1 &&
            rc=0 || rc=$?
        echo 0 >"$IT_DIR/rss"
    fi
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    rss=$(tail -n 1 "$IT_DIR/rss")
    it_log "dag $verb $(basename "$file"): rc $rc, ${ms} ms, ${rss} KB: $(head -c 160 "$IT_DIR/out")"
    it_check "dag $verb refuses $(basename "$file")" [ "$rc" != 0 ]
    it_check "dag $verb says why for $(basename "$file")" grep -q "$want" "$IT_DIR/out"
    it_check "dag $verb $(basename "$file") took ${ms} ms (< 2000)" [ "$ms" -lt 2000 ]
    it_check "dag $verb $(basename "$file") peaked at ${rss} KB (< 200 MB)" \
        [ "$rss" -lt 204800 ]
}

# DAG files built to hurt the parser are refused, fast and small, by both
# validate (offline) and apply (before anything is sent).
t_hostile_dag_files() {
    it_cluster 0
    d=$IT_DIR
    # Alias bomb: nine levels of ten aliases each (a billion leaves).
    {
        echo 'dag: bomb'
        echo 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]'
        for i in 1 2 3 4 5 6 7 8 9; do
            p="*a$((i - 1))"
            echo "a$i: &a$i [$p,$p,$p,$p,$p,$p,$p,$p,$p,$p]"
        done
        echo 'tasks: [{id: t, run: "true"}]'
    } >"$d/bomb.yaml"
    # 10 MB of valid-looking YAML.
    {
        echo 'dag: big'
        echo 'tasks:'
        awk 'BEGIN{for(i=0;i<400000;i++) printf "  - {id: t%d, run: \"true\"}\n", i}'
    } >"$d/big.yaml"
    # 10,000 levels of nesting: sequences and mappings in flow style; in
    # block style 1,000 levels (10,000 would pass the size bound first).
    awk 'BEGIN{printf "dag: deep\nx: "; for(i=0;i<10000;i++) printf "["; for(i=0;i<10000;i++) printf "]"; print ""}' \
        >"$d/deep.yaml"
    awk 'BEGIN{printf "dag: deep\nx: "; for(i=0;i<10000;i++) printf "{a: "; for(i=0;i<10000;i++) printf "}"; print ""}' \
        >"$d/deep-map.yaml"
    awk 'BEGIN{print "dag: deep"; for(i=0;i<1000;i++){for(j=0;j<i;j++) printf " "; printf "k:\n"}}' \
        >"$d/deep-block.yaml"
    printf 'dag: bad\ntasks:\n  - id: t\n    run: "echo \xff\xfe"\n' >"$d/utf8.yaml"
    it_check "the 10 MB file is 10 MB" [ "$(stat -c %s "$d/big.yaml")" -ge 10000000 ]
    for verb in validate apply; do
        hostile_refused "$verb" "$d/bomb.yaml" "alias"
        hostile_refused "$verb" "$d/big.yaml" "limit"
        hostile_refused "$verb" "$d/deep.yaml" "nesting"
        hostile_refused "$verb" "$d/deep-map.yaml" "nesting"
        hostile_refused "$verb" "$d/deep-block.yaml" "nesting"
        hostile_refused "$verb" "$d/utf8.yaml" "UTF-8"
    done
    it_check "nothing was applied" [ "$(it_sql 'SELECT count(*) FROM dags')" = 0 ]
}
