#!/bin/sh
# make bench: sluice's throughput and latency against the machine's own
# limit. Starts a real scheduler and two workers with one slot each on
# loopback, then runs three DAGs of /bin/true tasks:
#
#   wide     2,000 independent tasks       target: >= 85% of the spawn limit
#   chain    200 tasks, each after the last target: hop <= spawn + 1 ms
#   diamond  1 -> 1,000 -> 1               target: >= 85% of the spawn limit
#
# The spawn limit is what tests/tools/spawnbench measures: two threads
# starting and reaping /bin/true as fast as they can (two workers with one
# slot each can do no better). For every workload it also prints the
# scheduler's CPU time per task (utime+stime from /proc/PID/stat, target
# <= 100 us) and its peak RSS (VmHWM, target < 30 MB).
#
# usage: BUILD=build/release sh tests/bench/bench.sh   (what `make bench` runs)
#        SCHED_ARGS="--store-sync normal" make bench  (scheduler flags)
#        BENCH_WORKER_ARGS="--run-as nobody" make bench (worker flags)
# Not part of `make test`: speed is measured here, never by a timed test.
set -u

BUILD=${BUILD:-build/release}
ROOT=$(pwd)
SLUICE=$ROOT/sluice
SPAWNBENCH=$ROOT/$BUILD/tests/tools/spawnbench
WIDE=${WIDE:-2000}
CHAIN=${CHAIN:-200}
DIAMOND=${DIAMOND:-1000}
RUN_TIMEOUT_S=${RUN_TIMEOUT_S:-900}

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX") || exit 1
PIDS=""
SCHED_PID=""

cleanup() {
    for pid in $PIDS; do
        kill -TERM "$pid" 2>/dev/null
    done
    i=0
    while [ "$i" -lt 50 ]; do
        alive=""
        for pid in $PIDS; do
            kill -0 "$pid" 2>/dev/null && alive="$alive $pid"
        done
        [ -z "$alive" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    for pid in $PIDS; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    PIDS=""
    if [ "${KEEP:-0}" = 1 ]; then
        echo "bench: kept $T (KEEP=1)"
    else
        rm -rf "$T"
    fi
}

trap 'cleanup' EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

fail() {
    echo "bench: $*" >&2
    for f in "$T"/*.log; do
        [ -f "$f" ] && { echo "---- $f"; tail -n 20 "$f"; } >&2
    done
    exit 1
}

. "$ROOT/tests/bench/lib.sh"

sched_cpu_s() {
    proc_cpu_s "$SCHED_PID"
}

sched_hwm_kb() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$SCHED_PID/status"
}


gen_wide() {
    printf 'dag: bwide\ndefaults:\n  retries: 0\ntasks:\n'
    awk -v n="$WIDE" 'BEGIN { for (i = 0; i < n; i++)
        printf "  - id: t%d\n    run: /bin/true\n", i }'
}

gen_chain() {
    printf 'dag: bchain\ndefaults:\n  retries: 0\ntasks:\n'
    awk -v n="$CHAIN" 'BEGIN { for (i = 0; i < n; i++) {
        printf "  - id: c%d\n    run: /bin/true\n", i
        if (i > 0) printf "    after: [c%d]\n", i - 1 } }'
}

gen_diamond() {
    printf 'dag: bdiamond\ndefaults:\n  retries: 0\ntasks:\n'
    printf '  - id: s\n    run: /bin/true\n'
    awk -v n="$DIAMOND" 'BEGIN {
        for (i = 0; i < n; i++) printf "  - id: m%d\n    run: /bin/true\n    after: [s]\n", i
        printf "  - id: e\n    run: /bin/true\n    after: ["
        for (i = 0; i < n; i++) printf "%sm%d", (i ? ", " : ""), i
        printf "]\n" }'
}

# run_workload NAME TASKS: applies, triggers with --wait, prints one block.
run_workload() {
    name=$1
    tasks=$2
    "$SLUICE" dag apply --dir "$STATE" "$T/$name.yaml" >/dev/null ||
        fail "sluice dag apply $T/$name.yaml failed"
    cpu0=$(sched_cpu_s)
    timeout "$RUN_TIMEOUT_S" "$SLUICE" trigger "b$name" --dir "$STATE" \
        --wait >"$T/$name.out" 2>&1 || fail "the $name run failed: $(cat "$T/$name.out")"
    cpu1=$(sched_cpu_s)
    hwm=$(sched_hwm_kb)
    # Wall time from the store (trigger to the run's end, in ms), not from
    # the CLI, whose --wait polls only every 200 ms.
    ms=$(sqlite3 -readonly "$STATE/store.db" \
        "SELECT ended_at - created_at FROM runs ORDER BY id DESC LIMIT 1")
    t0=0
    t1=$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')
    awk -v name="$name" -v n="$tasks" -v t0="$t0" -v t1="$t1" \
        -v c0="$cpu0" -v c1="$cpu1" -v hwm="$hwm" -v lim="$LIMIT" \
        -v lat="$LAT_US" 'BEGIN {
        wall = t1 - t0; rate = n / wall; cpu = (c1 - c0) * 1e6 / n
        printf "%-8s %6d tasks  %7.2f s  %8.1f tasks/s", name, n, wall, rate
        if (name == "chain") {
            hop = wall * 1000 / n - lat / 1000
            printf "  hop %.2f ms over spawn (target <= 1 ms: %s)\n", hop,
                hop <= 1 ? "ok" : "MISSED"
        } else {
            printf "  %5.1f%% of spawn limit (target >= 85%%: %s)\n",
                100 * rate / lim, rate >= 0.85 * lim ? "ok" : "MISSED"
        }
        printf "         scheduler cpu %.1f us/task (target <= 100: %s)", cpu,
            cpu <= 100 ? "ok" : "MISSED"
        printf "  peak rss %.1f MB (target < 30: %s)\n", hwm / 1024,
            hwm / 1024 < 30 ? "ok" : "MISSED" }'
}

[ -x "$SLUICE" ] || fail "'$SLUICE' is missing; run 'make sluice' first"
if [ ! -x "$SPAWNBENCH" ]; then
    ${MAKE:-make} --no-print-directory BUILD="$BUILD" "$SPAWNBENCH" >/dev/null ||
        fail "cannot build $SPAWNBENCH"
fi

echo "== spawn limit of this machine (2 spawners, /bin/true, ~2 s)"
"$SPAWNBENCH" >"$T/spawn.out" || fail "spawnbench failed"
LIMIT=$(awk '$1 == "spawn_per_sec" { print $2 }' "$T/spawn.out")
LAT_US=$(awk '$1 == "spawn_latency_us" { print $2 }' "$T/spawn.out")
echo "spawn limit ${LIMIT} tasks/s, one spawn+reap ${LAT_US} us"

P1=$(free_port) || fail "no free TCP port on 127.0.0.1"
P2=$(free_port) || fail "no free TCP port on 127.0.0.1"
STATE=$T/state
"$SLUICE" init --dir "$STATE" --listen "tcp://127.0.0.1:$P1" \
    --client-listen "tcp://127.0.0.1:$P2" --advertise "127.0.0.1:$P1" \
    >"$T/init.log" 2>&1 || fail "sluice init failed"
"$SLUICE" scheduler --dir "$STATE" ${SCHED_ARGS:-} >"$T/scheduler.log" 2>&1 &
SCHED_PID=$!
PIDS="$SCHED_PID"
# join-line may print the whole worker command; keep the sluice:// line.
JOIN=$("$SLUICE" join-line --dir "$STATE" | grep -o 'sluice://[^ ]*' | tail -n 1)
[ -n "$JOIN" ] || fail "sluice join-line printed no sluice:// line"
# New workers are admitted with a join token (or 'sluice keys accept').
i=0
until TOKEN=$("$SLUICE" token create --dir "$STATE" --uses 2 --ttl 10m \
    2>/dev/null); do
    i=$((i + 1))
    [ $i -ge 50 ] && fail "the scheduler did not answer within 10 s"
    sleep 0.2
done
for w in w1 w2; do
    # shellcheck disable=SC2086  # BENCH_WORKER_ARGS is words
    SLUICE_JOIN_TOKEN=$TOKEN "$SLUICE" worker --join "$JOIN" --dir "$T/$w" \
        --name "$w" --slots 1 ${BENCH_WORKER_ARGS:-} >"$T/$w.log" 2>&1 &
    PIDS="$PIDS $!"
done
i=0
while :; do
    out=$("$SLUICE" workers --dir "$STATE" --json 2>/dev/null)
    n=0
    for w in w1 w2; do
        echo "$out" | tr '{' '\n' | grep "\"$w\"" | grep -v '"lost"' |
            grep -q . && n=$((n + 1))
    done
    [ $n -eq 2 ] && break
    i=$((i + 1))
    [ $i -ge 150 ] && fail "workers w1 and w2 did not connect within 30 s"
    sleep 0.2
done

gen_wide >"$T/wide.yaml"
gen_chain >"$T/chain.yaml"
gen_diamond >"$T/diamond.yaml"

echo "== sluice: 1 scheduler, 2 workers x 1 slot, loopback"
run_workload wide "$WIDE"
run_workload chain "$CHAIN"
run_workload diamond $((DIAMOND + 2))
