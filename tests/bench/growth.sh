#!/bin/sh
# Growth: the scheduler's cost per task must not grow with the size of a DAG
# or of the store. Starts a real scheduler and two real workers on loopback
# and, for each DAG size, applies a DAG of that many independent /bin/true
# tasks, triggers it with --wait and prints:
#
#   apply_s     wall time of `sluice dag apply` (target < 2 s at 100,000)
#   show_s      wall time of `sluice run show RUN` on the finished run
#               (paged; target < 1 s at 100,000)
#   cpu_us      the scheduler's CPU (utime+stime from /proc/PID/stat) per
#               task over the whole run: within 20% across sizes and
#               histories is the target
#
# HISTORY earlier finished runs (10 tasks each) are written into the store
# before the scheduler starts, so that the same sizes can be compared with
# a small and a big store.
#
# usage: SIZES="1000 10000 100000" HISTORY=10000 sh tests/bench/growth.sh
#        SLOTS=2 (per worker)  SLUICE=./sluice
# Not part of `make test`: speed is measured here, never by a timed test.
# The machine's other load shows in cpu_us: compare runs taken together.
set -u

SLUICE=${SLUICE:-$(pwd)/sluice}
SIZES=${SIZES:-1000 10000 100000}
HISTORY=${HISTORY:-10}
SLOTS=${SLOTS:-2}
RUN_TIMEOUT_S=${RUN_TIMEOUT_S:-1800}

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-growth.XXXXXX") || exit 1
PIDS=""
SCHED_PID=""

cleanup() {
    for pid in $PIDS; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $PIDS; do
        wait "$pid" 2>/dev/null
    done
    PIDS=""
    if [ "${KEEP:-0}" = 1 ]; then
        echo "growth: kept $T (KEEP=1)"
    else
        rm -rf "$T"
    fi
}

trap 'cleanup' EXIT
trap 'echo "growth: interrupted" >&2; exit 130' INT TERM

fail() {
    echo "growth: $*" >&2
    for f in "$T"/*.log; do
        [ -f "$f" ] && { echo "---- $f"; tail -n 20 "$f"; } >&2
    done
    exit 1
}

sched_cpu_s() {
    ticks=$(getconf CLK_TCK)
    sed 's/.*) //' "/proc/$SCHED_PID/stat" |
        awk -v hz="$ticks" '{ printf "%.4f\n", ($12 + $13) / hz }'
}

now_s() {
    date +%s.%N
}

gen_wide() {
    printf 'dag: %s\ndefaults:\n  retries: 0\ntasks:\n' "$1"
    awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
        printf "  - id: t%d\n    run: /bin/true\n", i }'
}

start_scheduler() {
    "$SLUICE" scheduler --dir "$STATE" >>"$T/scheduler.log" 2>&1 &
    SCHED_PID=$!
    PIDS="$PIDS $SCHED_PID"
    i=0
    until "$SLUICE" dag list --dir "$STATE" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge 100 ] && fail "the scheduler did not answer within 20 s"
        sleep 0.2
    done
}

stop_scheduler() {
    kill -TERM "$SCHED_PID"
    wait "$SCHED_PID" 2>/dev/null
    PIDS=""
}

# HISTORY finished runs of a 10-task DAG, with their instances, attempts
# and transitions, written straight into the store.
seed_history() {
    gen_wide hist 10 >"$T/hist.yaml"
    "$SLUICE" dag apply --dir "$STATE" "$T/hist.yaml" >/dev/null ||
        fail "cannot apply the history DAG"
    stop_scheduler
    sqlite3 "$STATE/store.db" <<EOF || fail "cannot seed the store"
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $HISTORY)
INSERT INTO runs (dag, version, state, trigger, created_at, started_at, ended_at)
SELECT 'hist', (SELECT current_version FROM dags WHERE name = 'hist'),
       'success', 'manual', 1000 * i, 1000 * i, 1000 * i + 500 FROM c;
WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 9)
INSERT INTO task_instances (run_id, task_id, state, tries, updated_at)
SELECT r.id, 't' || k.j, 'success', 1, r.ended_at FROM runs r, k
WHERE r.dag = 'hist';
INSERT INTO attempts (run_id, task_id, number, worker, state, created_at,
                      started_at, ended_at, exit_code)
SELECT run_id, task_id, 1, 'w1', 'success', updated_at - 400, updated_at - 300,
       updated_at, 0 FROM task_instances;
INSERT INTO transitions (run_id, task_id, state, at)
SELECT run_id, task_id, s.state, updated_at FROM task_instances,
       (SELECT 'queued' AS state UNION ALL SELECT 'running'
        UNION ALL SELECT 'success') s;
COMMIT;
EOF
    start_scheduler
}

command -v sqlite3 >/dev/null || fail "sqlite3 (the shell) is needed"
STATE=$T/state
P1=$((20000 + $$ % 6000))
P2=$((P1 + 6000))
"$SLUICE" init --dir "$STATE" --listen "tcp://127.0.0.1:$P1" \
    --client-listen "tcp://127.0.0.1:$P2" --advertise "127.0.0.1:$P1" \
    >"$T/init.log" 2>&1 || fail "sluice init failed"
start_scheduler
seed_history
JOIN=$("$SLUICE" join-line --dir "$STATE" | grep -o 'sluice://[^ ]*' | tail -n 1)
TOKEN=$("$SLUICE" token create --dir "$STATE" --uses 2 --ttl 10m) ||
    fail "cannot create a join token"
for w in w1 w2; do
    "$SLUICE" worker --join "$JOIN" --token "$TOKEN" --dir "$T/$w" \
        --name "$w" --slots "$SLOTS" >"$T/$w.log" 2>&1 &
    PIDS="$PIDS $!"
done
i=0
until [ "$("$SLUICE" workers --dir "$STATE" --json 2>/dev/null |
    grep -c '"connected"')" -ge 2 ]; do
    i=$((i + 1))
    [ $i -ge 150 ] && fail "the workers did not connect within 30 s"
    sleep 0.2
done

echo "== growth: $HISTORY earlier runs in the store, 2 workers x $SLOTS slots"
printf '%-8s %8s %8s %10s %9s\n' tasks apply_s show_s tasks/s cpu_us
for n in $SIZES; do
    gen_wide "g$n" "$n" >"$T/g$n.yaml"
    t0=$(now_s)
    "$SLUICE" dag apply --dir "$STATE" "$T/g$n.yaml" >/dev/null ||
        fail "applying $n tasks failed"
    t1=$(now_s)
    c0=$(sched_cpu_s)
    timeout "$RUN_TIMEOUT_S" "$SLUICE" trigger "g$n" --dir "$STATE" --wait \
        >"$T/run$n.out" 2>&1 || fail "the run of $n tasks failed"
    c1=$(sched_cpu_s)
    run=$(sqlite3 -readonly "$STATE/store.db" \
        "SELECT id FROM runs ORDER BY id DESC LIMIT 1")
    ms=$(sqlite3 -readonly "$STATE/store.db" \
        "SELECT ended_at - created_at FROM runs WHERE id = $run")
    t2=$(now_s)
    "$SLUICE" run show "$run" --dir "$STATE" >/dev/null ||
        fail "run show $run failed"
    t3=$(now_s)
    awk -v n="$n" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" \
        -v c0="$c0" -v c1="$c1" -v ms="$ms" 'BEGIN {
        printf "%-8d %8.2f %8.2f %10.1f %9.1f\n", n, t1 - t0, t3 - t2,
            n * 1000 / ms, (c1 - c0) * 1e6 / n }'
done
