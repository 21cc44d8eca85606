# Shared helpers for integration tests: real scheduler and worker processes on
# loopback, each test in its own temp directory, every wait bounded.
# Sourced by run.sh; every function prefixed it_.

: "${BUILD:=build/release}"
SLUICE="${SLUICE:-$PWD/sluice}"
IT_PIDS=""

it_log() { printf '  %s\n' "$*" >&2; }

# A TCP port no socket uses, below the kernel's ephemeral range (so that no
# outgoing connection can take it between this check and the bind), and not
# handed out before in this run (callers use $(...), a subshell: the list
# of ports given lives in a file; $$ is run.sh's pid in every subshell).
IT_PORTS_GIVEN="${TMPDIR:-/tmp}/sluice-it-ports.$$"
# Tests running at once (IT_JOBS) take the list's lock in turn.
it_free_port() {
    (
        flock 9
        low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
        span=$(( ${low:-32768} - 20000 ))
        while :; do
            port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % span ))
            grep -qx "$port" "$IT_PORTS_GIVEN" 2>/dev/null && continue
            if ! ss -Hatn "( sport = :$port )" 2>/dev/null | grep -q .; then
                echo "$port" >>"$IT_PORTS_GIVEN"
                echo "$port"
                exit 0
            fi
        done
    ) 9>>"$IT_PORTS_GIVEN.lock"
}

# it_wait SECONDS CMD...: runs CMD every 0.1 s until it succeeds; 1 on timeout.
it_wait() {
    # A deadline, not a count of tries: a try may itself take seconds.
    deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
    while :; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# it_sql QUERY: one query against the store (read-only, WAL lets us read
# while the scheduler writes).
it_sql() {
    sqlite3 -readonly -batch -noheader "$IT_STATE/store.db" "$1"
}

it_start_scheduler() {
    "$SLUICE" scheduler --dir "$IT_STATE" "$@" >>"$IT_DIR/scheduler.log" 2>&1 &
    IT_SCHED_PID=$!
    IT_PIDS="$IT_PIDS $IT_SCHED_PID"
    if ! it_wait 10 it_scheduler_answers ||
        ! kill -0 "$IT_SCHED_PID" 2>/dev/null; then
        tail -n 20 "$IT_DIR/scheduler.log" >&2
        return 1
    fi
    # Workers join with a token in the line, so their keys are admitted.
    case "${IT_JOIN:-}" in
        ''|*'?token='*) ;;
        *) IT_JOIN="$IT_JOIN?token=$("$SLUICE" token create --dir "$IT_STATE" --uses 1000 --ttl 1h)" ;;
    esac
}

# True once the scheduler answers; fails at once (no more waiting) when its
# process has died, e.g. on a port taken by something else.
it_scheduler_answers() {
    kill -0 "$IT_SCHED_PID" 2>/dev/null || return 0
    "$SLUICE" workers --dir "$IT_STATE"
}

# it_start_worker NAME [ARGS...]
it_start_worker() {
    name=$1; shift
    "$SLUICE" worker --join "$IT_JOIN" --dir "$IT_DIR/$name" --name "$name" \
        "$@" >>"$IT_DIR/$name.log" 2>&1 &
    eval "IT_PID_$name=$!"
    IT_PIDS="$IT_PIDS $!"
}

it_connected() {
    [ "$(it_sql "SELECT count(*) FROM workers WHERE state='connected'")" -ge "$1" ]
}

# it_shared_dir DIR...: a data dir that every task may write. A root
# worker runs each attempt as its own uid, all of them in group 61000 (the
# first number of --run-as-range) with umask 002: a dir of that group with
# the setgid bit gives what one task writes to that group, so the tasks
# after it, under other uids, can rewrite it.
it_shared_dir() {
    for d in "$@"; do
        mkdir -p "$d"
        chmod 1777 "$d"
        if [ "$(id -u)" = 0 ]; then chgrp 61000 "$d" && chmod 3777 "$d"; fi
    done
}

# it_cluster N [SCHEDULER ARGS...]: init, scheduler, N workers (w1..wN) with
# 2 slots each; waits until all are connected.
it_cluster() {
    n=$1; shift
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    # As root, workers run each attempt as its own uid: let tasks reach and
    # write the test dir, and rewrite what earlier tasks wrote there.
    it_shared_dir "$IT_DIR"
    IT_STATE="$IT_DIR/state"
    wp=$(it_free_port); cp=$(it_free_port)
    # The HTTP API of this test's scheduler: http://$IT_HTTP
    IT_HTTP="127.0.0.1:$(it_free_port)"
    "$SLUICE" init --dir "$IT_STATE" --listen "tcp://127.0.0.1:$wp" \
        --client-listen "tcp://127.0.0.1:$cp" --advertise "127.0.0.1:$wp" \
        --http-listen "$IT_HTTP" \
        >"$IT_DIR/init.log" 2>&1 || { cat "$IT_DIR/init.log" >&2; return 1; }
    IT_JOIN=$("$SLUICE" join-line --dir "$IT_STATE" | sed 's/.*--join //')
    it_start_scheduler --heartbeat-ms 300 "$@" || { it_log "scheduler did not start"; return 1; }
    i=1
    while [ "$i" -le "$n" ]; do
        it_start_worker "w$i" --slots 2
        i=$(( i + 1 ))
    done
    it_wait 15 it_connected "$n" || { it_log "workers did not connect"; return 1; }
}

# it_stop PID: SIGTERM, then SIGKILL after 10 s.
it_stop() {
    pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    it_wait 10 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

it_teardown() {
    for pid in $IT_PIDS; do it_stop "$pid"; done
    IT_PIDS=""
    if [ -n "${IT_KEEP:-}" ]; then
        it_log "kept $IT_DIR"
    elif [ -n "${IT_DIR:-}" ]; then
        rm -rf "$IT_DIR"
    fi
}

# it_dag NAME: writes a DAG file from stdin to $IT_DIR/NAME.yaml, applies it.
it_apply() {
    cat >"$IT_DIR/$1.yaml"
    "$SLUICE" dag apply --dir "$IT_STATE" "$IT_DIR/$1.yaml" >/dev/null
}

it_run_state() { it_sql "SELECT state FROM runs WHERE id=$1"; }

# it_task_states RUN: "task:state" for every task of RUN, by task id.
it_task_states() {
    it_sql "SELECT group_concat(task_id || ':' || state, ' ') FROM
        (SELECT task_id, state FROM task_instances WHERE run_id=$1
         ORDER BY task_id)"
}

it_run_final() {
    case "$(it_run_state "$1")" in success|failed|cancelled) return 0 ;; esac
    return 1
}

it_task_state() {
    it_sql "SELECT state FROM task_instances WHERE run_id=$1 AND task_id='$2'"
}

# it_dump: what a failing test leaves for the reader.
it_dump() {
    for f in "$IT_DIR"/*.log; do
        echo "--- $f (last 30 lines)" >&2
        tail -n 30 "$f" >&2
    done
}

# it_check DESCRIPTION CMD...: fails the test with DESCRIPTION unless CMD.
it_check() {
    what=$1; shift
    if ! "$@"; then
        echo "check failed: $what" >&2
        it_dump
        return 1
    fi
}
