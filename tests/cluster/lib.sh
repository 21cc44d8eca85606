# Test hosts for cluster tests: one network namespace per host (a scheduler
# host "s" and worker hosts "w1".."wN"), each joined by a veth pair to a
# bridge that lives in its own "switch" namespace, so the root namespace's
# network is never touched. Every sluice process runs inside its host with
# `ip netns exec`. Tear-down always runs (run.sh traps EXIT) and removes every
# process, namespace, link and mount a test made. Every wait is bounded.
# Sourced by run.sh; every function prefixed cl_. Needs root and iproute2;
# nftables (cl_cut) and faketime (clock skew) when present.

: "${BUILD:=build/release}"
SLUICE="${SLUICE:-$PWD/sluice}"
# Names of this runner's namespaces start with CL_RUN_TAG; each test adds its
# own number, so parallel runs and leftovers of killed runs never clash.
: "${CL_RUN_TAG:=sl$$}"
CL_PIDS=""
CL_NETNS=""
CL_MOUNTS=""
CL_HB=300 # heartbeat interval the tests give the scheduler, ms

cl_log() { printf '  %s\n' "$*" >&2; }

cl_now_ms() { date +%s%3N; }

# cl_skip WHY: this test cannot run here; run.sh prints "skip - NAME: WHY".
cl_skip() {
    echo "skip: $*" >&2
    exit 77
}

# cl_measure WHAT MS: a measured time; run.sh prints it under the result.
cl_measure() {
    cl_log "measured: $1 = $2 ms"
    [ -n "${CL_MEASURES:-}" ] && printf '%s = %s ms\n' "$1" "$2" >>"$CL_MEASURES"
    return 0
}

# cl_wait SECONDS CMD...: runs CMD every 0.1 s until it succeeds; 1 when
# SECONDS of wall time pass first (a deadline, not a count, so slow checks
# cannot stretch it).
cl_wait() {
    local deadline
    deadline=$(( $(cl_now_ms) + $1 * 1000 )); shift
    while :; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        [ "$(cl_now_ms)" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# cl_sql QUERY: one read-only query against the scheduler's store (WAL lets
# us read while the scheduler writes; the timeout rides out checkpoints).
cl_sql() {
    sqlite3 -readonly -batch -noheader -cmd '.timeout 3000' \
        "$CL_STATE/store.db" "$1"
}

# cl_sql_is VALUE QUERY: true when the query prints exactly VALUE.
cl_sql_is() { [ "$(cl_sql "$2" 2>/dev/null)" = "$1" ]; }

# ------------------------------------------------------------ the network

# cl_net N: a switch namespace with a bridge, the scheduler host and N worker
# hosts on a private /24 picked from the runner's pid and the test's number.
cl_net() {
    local n=$1 i
    CL_TAG="$CL_RUN_TAG-${CL_TEST_NO:-0}"
    CL_NET="10.213.$(( (${CL_RUN_PID:-$$} + ${CL_TEST_NO:-0}) % 250 + 1 ))"
    CL_DIR=$(mktemp -d /tmp/sluice-cl.XXXXXX)
    # Root workers run tasks as nobody (--run-as): let tasks write markers.
    if [ "$(id -u)" = 0 ]; then chmod 1777 "$CL_DIR"; fi
    CL_STATE="$CL_DIR/state"
    CL_SW="${CL_TAG}sw"
    cl_netns_add "$CL_SW" || return 1
    ip -n "$CL_SW" link set lo up
    ip -n "$CL_SW" link add br0 type bridge
    ip -n "$CL_SW" link set br0 up
    cl_host s 1 || return 1
    i=1
    while [ "$i" -le "$n" ]; do
        cl_host "w$i" $(( 10 + i )) || return 1
        i=$(( i + 1 ))
    done
}

cl_netns_add() {
    ip netns add "$1" || { cl_log "cannot create network namespace $1"; return 1; }
    CL_NETNS="$CL_NETNS $1"
}

# cl_host NAME OCTET: namespace $CL_TAG$NAME with eth0 = $CL_NET.OCTET/24,
# its veth peer "pNAME" enslaved to the bridge in the switch namespace. The
# pair is created inside the switch namespace, so no link ever appears in
# the root namespace.
cl_host() {
    local ns="$CL_TAG$1"
    cl_netns_add "$ns" || return 1
    ip -n "$CL_SW" link add "p$1" type veth peer name eth0 netns "$ns"
    ip -n "$CL_SW" link set "p$1" master br0 up
    ip -n "$ns" addr add "$CL_NET.$2/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    eval "CL_IP_$1=$CL_NET.$2"
}

cl_ns() { echo "$CL_TAG$1"; }
cl_ip() { eval "echo \$CL_IP_$1"; }

# cl_in HOST CMD...: runs CMD inside HOST's namespace.
cl_in() {
    local h=$1; shift
    ip netns exec "$CL_TAG$h" "$@"
}

# cl_cut HOST: the host hears and says nothing on the network (loopback
# still works). nftables rules inside its namespace when nft exists, else its
# link goes down. cl_restore HOST undoes it.
cl_cut() {
    if command -v nft >/dev/null 2>&1 && [ "${CL_CUT_MODE:-nft}" = nft ]; then
        cl_in "$1" nft -f - <<'NFT'
table inet slcut {
    chain in  { type filter hook input priority 0; policy drop; iif "lo" accept; }
    chain out { type filter hook output priority 0; policy drop; oif "lo" accept; }
}
NFT
    else
        ip -n "$CL_TAG$1" link set eth0 down
    fi
}

cl_restore() {
    if command -v nft >/dev/null 2>&1 && [ "${CL_CUT_MODE:-nft}" = nft ]; then
        cl_in "$1" nft delete table inet slcut
    else
        ip -n "$CL_TAG$1" link set eth0 up
    fi
}

# --------------------------------------------------------- sluice processes

# cl_sl ARGS...: a CLI verb, run inside the scheduler host (the client socket
# is on its loopback).
# cl_outbox_holds / cl_outbox_empty WORKER: whether the worker's outbox
# holds results the scheduler has not acknowledged ('sluice outbox').
cl_outbox_holds() {
    "$SLUICE" outbox --dir "$CL_DIR/$1" --json | grep -q '"attempt_id"'
}

cl_outbox_empty() { ! cl_outbox_holds "$1"; }

cl_sl() {
    ip netns exec "${CL_TAG}s" env SLUICE_DIR="$CL_STATE" "$SLUICE" "$@"
}

cl_init() {
    local sip
    sip=$(cl_ip s)
    "$SLUICE" init --dir "$CL_STATE" --listen "tcp://$sip:7700" \
        --client-listen "tcp://127.0.0.1:7701" --advertise "$sip:7700" \
        >"$CL_DIR/init.log" 2>&1 || { cat "$CL_DIR/init.log" >&2; return 1; }
    CL_JOIN=$("$SLUICE" join-line --dir "$CL_STATE" | sed 's/.*--join //')
}

# cl_start_scheduler [ARGS...]: starts it on host s; waits until it answers.
cl_start_scheduler() {
    ip netns exec "${CL_TAG}s" "$SLUICE" scheduler --dir "$CL_STATE" "$@" \
        >>"$CL_DIR/scheduler.log" 2>&1 &
    CL_SCHED_PID=$!
    CL_PIDS="$CL_PIDS $CL_SCHED_PID"
    cl_wait 10 cl_sl workers || { cl_log "scheduler did not answer"; return 1; }
    # Workers join with a token in the line, so their keys are admitted.
    case "$CL_JOIN" in
        *'?token='*) ;;
        *) CL_JOIN="$CL_JOIN?token=$(cl_sl token create --uses 1000 --ttl 1h)" ;;
    esac
}

# cl_start_worker NAME [ARGS...]: starts worker NAME on host NAME with its
# state in $CL_DIR/NAME. $CL_WRAP (e.g. "env LD_PRELOAD=...") goes in front.
cl_start_worker() {
    local name=$1; shift
    # shellcheck disable=SC2086  # CL_WRAP is words
    ip netns exec "$CL_TAG$name" ${CL_WRAP:-} "$SLUICE" worker --join "$CL_JOIN" \
        --dir "$CL_DIR/$name" --name "$name" "$@" >>"$CL_DIR/$name.log" 2>&1 &
    eval "CL_PID_$name=$!"
    CL_PIDS="$CL_PIDS $!"
}

cl_pid() { eval "echo \$CL_PID_$1"; }

cl_connected() {
    [ "$(cl_sql "SELECT count(*) FROM workers WHERE state='connected'")" -ge "$1" ]
}

cl_worker_state() { cl_sql "SELECT state FROM workers WHERE name='$1'"; }

# cl_cluster N [SCHEDULER ARGS...]: network, init, scheduler (heartbeat
# $CL_HB ms, liveness 3 unless ARGS say otherwise), workers w1..wN with
# $CL_SLOTS (2) slots each; waits until all are connected.
cl_cluster() {
    local n=$1 i; shift
    cl_net "$n" || return 1
    cl_init || return 1
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3 "$@" || return 1
    i=1
    while [ "$i" -le "$n" ]; do
        cl_start_worker "w$i" --slots "${CL_SLOTS:-2}"
        i=$(( i + 1 ))
    done
    cl_wait 15 cl_connected "$n" || { cl_log "workers did not connect"; return 1; }
}

# cl_kill9 PID: SIGKILL and reap.
cl_kill9() {
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# ------------------------------------------------------------- tear-down

# Kills every process started here and every process still inside our
# namespaces (orphaned task children of a killed worker), deletes the
# namespaces (which takes their links and nftables rules with them),
# unmounts what we mounted, and removes the test directory.
cl_teardown() {
    local pid ns m
    for pid in $CL_PIDS; do
        kill -CONT "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
    done
    for pid in $CL_PIDS; do wait "$pid" 2>/dev/null || true; done
    CL_PIDS=""
    for ns in $CL_NETNS; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
    for ns in $CL_NETNS; do
        cl_wait 5 cl_ns_empty "$ns" || cl_log "processes left in $ns: $(ip netns pids "$ns" | tr '\n' ' ')"
        ip netns del "$ns" 2>/dev/null || cl_log "cannot delete namespace $ns"
    done
    CL_NETNS=""
    for m in $CL_MOUNTS; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || cl_log "cannot unmount $m"
    done
    CL_MOUNTS=""
    if [ -n "${CL_KEEP:-}" ] && [ -n "${CL_DIR:-}" ]; then
        cl_log "kept $CL_DIR"
    elif [ -n "${CL_DIR:-}" ]; then
        rm -rf "$CL_DIR"
    fi
}

cl_ns_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

# cl_leftovers PREFIX: prints namespaces, links and mounts named after PREFIX
# that still exist (nothing when tear-down did its job).
cl_leftovers() {
    ip netns list 2>/dev/null | awk '{print $1}' | grep "^$1" | sed 's/^/netns /'
    ip -o link 2>/dev/null | awk -F': ' '{print $2}' | grep "^$1" | sed 's/^/link /'
    grep " /tmp/sluice-cl\." /proc/mounts | awk '{print "mount " $2}'
    return 0
}

# ------------------------------------------------------------ assertions

# cl_apply NAME: writes a DAG file from stdin to $CL_DIR/NAME.yaml, applies it.
cl_apply() {
    cat >"$CL_DIR/$1.yaml"
    cl_sl dag apply "$CL_DIR/$1.yaml" >/dev/null
}

cl_run_state() { cl_sql "SELECT state FROM runs WHERE id=$1"; }

cl_run_final() {
    case "$(cl_run_state "$1")" in success|failed|cancelled) return 0 ;; esac
    return 1
}

cl_task_state() {
    cl_sql "SELECT state FROM task_instances WHERE run_id=$1 AND task_id='$2'"
}

# cl_attempts RUN TASK: "state@worker ..." of the task's attempts, in order.
cl_attempts() {
    cl_sql "SELECT group_concat(state || '@' || worker, ' ') FROM
        (SELECT state, worker FROM attempts WHERE run_id=$1 AND task_id='$2' ORDER BY id)"
}

# cl_dump: what a failing test leaves for the reader.
cl_dump() {
    local f
    for f in "$CL_DIR"/*.log; do
        [ -e "$f" ] || continue
        echo "--- $f (last 25 lines)" >&2
        tail -n 25 "$f" >&2
    done
    if [ -e "$CL_STATE/store.db" ]; then
        echo "--- workers" >&2
        cl_sql "SELECT name, state, state_at FROM workers" >&2 || true
        echo "--- attempts (last 20)" >&2
        cl_sql "SELECT id, run_id, task_id, number, worker, state, created_at, ended_at, exit_code, signal, error
                FROM attempts ORDER BY id DESC LIMIT 20" >&2 || true
        echo "--- stale_results" >&2
        cl_sql "SELECT * FROM stale_results" >&2 || true
    fi
}

# cl_check DESCRIPTION CMD...: fails the test with DESCRIPTION unless CMD.
cl_check() {
    local what=$1; shift
    if ! "$@"; then
        echo "check failed: $what" >&2
        cl_dump
        return 1
    fi
}

# cl_check_run RUN STATE: the store tells one consistent story about RUN:
# the run ended in STATE; every task instance is in exactly one final state;
# no attempt is still running; a successful task has exactly one success
# attempt and an unsuccessful one none; attempt numbers are not repeated;
# every attempt state is a known one.
cl_check_run() {
    local r=$1
    cl_check "run $r ended $2 (is $(cl_run_state "$r"))" [ "$(cl_run_state "$r")" = "$2" ]
    cl_check "run $r: every task instance final" cl_sql_is 0 "
        SELECT count(*) FROM task_instances WHERE run_id=$r AND state NOT IN
        ('success','failed','timed_out','cancelled','upstream_failed','skipped')"
    cl_check "run $r: no attempt still running or held" cl_sql_is 0 "
        SELECT count(*) FROM attempts WHERE run_id=$r
        AND state IN ('running','dispatched')"
    cl_check "run $r: attempt states known" cl_sql_is 0 "
        SELECT count(*) FROM attempts WHERE run_id=$r AND state NOT IN
        ('success','failed','timed_out','cancelled','lost')"
    cl_check "run $r: each successful task has exactly one success attempt" cl_sql_is 0 "
        SELECT count(*) FROM task_instances t WHERE t.run_id=$r AND t.state='success'
        AND (SELECT count(*) FROM attempts a WHERE a.run_id=t.run_id
             AND a.task_id=t.task_id AND a.state='success') != 1"
    cl_check "run $r: no unsuccessful task has a success attempt" cl_sql_is 0 "
        SELECT count(*) FROM task_instances t WHERE t.run_id=$r AND t.state!='success'
        AND EXISTS (SELECT 1 FROM attempts a WHERE a.run_id=t.run_id
                    AND a.task_id=t.task_id AND a.state='success')"
    cl_check "run $r: attempt numbers unique per task" cl_sql_is 0 "
        SELECT count(*) FROM (SELECT task_id, number FROM attempts WHERE run_id=$r
        GROUP BY task_id, number HAVING count(*) > 1)"
}

# cl_wait_run RUN SECONDS: waits until the run is final.
cl_wait_run() {
    cl_check "run $1 ends within $2 s" cl_wait "$2" cl_run_final "$1"
}

# cl_running_on RUN TASK: the worker a running attempt of TASK is on.
cl_running_on() {
    cl_sql "SELECT worker FROM attempts WHERE run_id=$1 AND task_id='$2' AND state='running'
            ORDER BY id DESC LIMIT 1"
}
