#!/bin/bash
# make bench-scale: the scheduler alone at fleet scale. A real scheduler
# (store_sync: full, every commit durable) serves simulated workers
# (tests/tools/simfleet: N workers x 4 slots in one process, each with its
# own keys and connection, answering every task at once), so what is
# measured is the scheduler's own cost, not process spawning.
#
# For each fleet size in FLEETS:
#   idle     CPU that the fleet's heartbeats cost, idle, over IDLE_S seconds
#            (percent of one core; target for 1,000 workers: < 5%)
#   wide     one DAG of TASKS independent tasks: sustained tasks/s (run
#            created -> ended, from the store; target with 1,000 workers:
#            >= 10,000/s), scheduler CPU per task, peak RSS (VmHWM, with
#            all TASKS queued at once; target < 256 MB)
#   chains   fleet*slots/2 chains of CHAIN_LEN tasks: every task becomes
#            ready while slots are free, so its ready -> dispatched time
#            (the task's 'queued' transition to its attempt's creation, in
#            the store) is the scheduler's own latency; p50 and p99 over
#            the tasks a parent's result made ready (the trigger's burst of
#            first tasks is throughput) (target p99 < 50 ms)
# Then the growth table, on one scheduler with GROWTH_FLEET workers:
# scheduler CPU per task for one DAG of each size in GROWTH_SIZES, and for
# a DAG of GROWTH_MID tasks with EARLIER runs already in the store (made
# with 'sluice backfill' of a one-task DAG that simfleet answers); they
# should stay within 20% of each other. It also times 'sluice dag apply' of
# the largest DAG (target < 2 s) and 'sluice run show' of its run (< 1 s).
#
# Prints a table with the targets marked ok/MISSED, writes it as JSON to
# $BENCH_OUT/bench-scale.json and draws $BENCH_OUT/bench-scale.svg (gnuplot).
# A quick run: FLEETS="100" TASKS=5000 GROWTH_SIZES="1000 5000"
# GROWTH_MID=1000 EARLIER="10 100" IDLE_S=3 make bench-scale
# Numbers from a shared or busy machine are noisy: say so with them.
set -u

BUILD=${BUILD:-build/release}
ROOT=$(pwd)
SLUICE=$ROOT/sluice
SIMFLEET=$ROOT/$BUILD/tests/tools/simfleet
FLEETS=${FLEETS:-100 1000 2000}
SLOTS=${SLOTS:-4}
PREFETCH=${PREFETCH:-1}
TASKS=${TASKS:-100000}
CHAIN_LEN=${CHAIN_LEN:-10}
IDLE_S=${IDLE_S:-10}
GROWTH_FLEET=${GROWTH_FLEET:-100}
GROWTH_SIZES=${GROWTH_SIZES:-1000 10000 100000}
GROWTH_MID=${GROWTH_MID:-10000}
GROWTH_MIN_TASKS=${GROWTH_MIN_TASKS:-20000}
EARLIER=${EARLIER:-10 10000}
PART_TASKS=${PART_TASKS:-100000}
RUN_TIMEOUT_S=${RUN_TIMEOUT_S:-300}
BUDGET_S=${BUDGET_S:-720} # the whole bench; a phase left without time fails
PHASE_S=${PHASE_S:-240}   # one phase (a fleet size, the growth table)
CLI_TIMEOUT_S=${CLI_TIMEOUT_S:-60}
SCHED_ARGS=${SCHED_ARGS:-}
SIMFLEET_ARGS=${SIMFLEET_ARGS:-}
BENCH_OUT=${BENCH_OUT:-$ROOT/build/bench-scale}

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-scale.XXXXXX") || exit 1
SCHED_PID=""
FLEET_PID=""
RESULTS=$T/results.tsv # one "section key value" line per number
: >"$RESULTS"

stop_pid() {
    pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

stop_all() {
    stop_pid "$FLEET_PID"
    FLEET_PID=""
    stop_pid "$SCHED_PID"
    SCHED_PID=""
}

cleanup() {
    stop_all
    if [ "${KEEP:-0}" = 1 ]; then
        echo "bench-scale: kept $T (KEEP=1)"
    else
        rm -rf "$T"
    fi
}
trap 'cleanup' EXIT
trap 'echo "bench-scale: interrupted" >&2; exit 130' INT TERM

# fail MESSAGE: ends the phase (or, outside one, the bench) with the tail of
# the phase's logs.
PHASE=""
fail() {
    echo "bench-scale: $*" >&2
    for f in "$T/$PHASE"*.log "$T/$PHASE"*.err; do
        [ -f "$f" ] && { echo "---- $f"; tail -n 8 "$f"; } >&2
    done
    exit 1
}

# phase NAME CMD...: runs CMD in a subshell that stops what it started
# however it ends; a phase that fails or runs out of BUDGET_S is noted as
# failed (its numbers are missing, its targets MISSED) and the bench goes on.
phase() {
    PHASE=$1
    shift
    if [ "$(date +%s)" -ge "$END" ]; then
        echo "bench-scale: $PHASE skipped: the bench's BUDGET_S ($BUDGET_S s) is spent" >&2
        note "$PHASE" failed 1
        return 0
    fi
    PHASE_END=$(($(date +%s) + PHASE_S))
    [ "$PHASE_END" -gt "$END" ] && PHASE_END=$END
    (
        trap 'stop_all' EXIT
        trap 'exit 130' INT TERM
        "$@"
    )
    rc=$?
    [ $rc -eq 130 ] && exit 130
    if [ $rc -ne 0 ]; then
        echo "bench-scale: $PHASE did not finish; its numbers are missing" >&2
        note "$PHASE" failed 1
    fi
    PHASE=""
}

# deadline SECONDS: now + SECONDS, but no later than the phase's end.
deadline() {
    d=$(($(date +%s) + $1))
    echo $((d < PHASE_END ? d : PHASE_END))
}

note() {
    echo "$1 $2 $3" >>"$RESULTS"
}

. "$ROOT/tests/bench/lib.sh"

cpu_s() {
    proc_cpu_s "$1"
}

hwm_kb() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$SCHED_PID/status"
}

now_s() {
    date +%s.%N
}

cli() {
    timeout "$CLI_TIMEOUT_S" "$SLUICE" "$@" --dir "$STATE"
}

sql() {
    sqlite3 -readonly -cmd '.timeout 5000' "$STATE/store.db" "$1"
}

# start_scheduler NAME: a fresh state directory and a scheduler with room
# for the fleet's connections.
start_scheduler() {
    name=$1
    STATE=$T/$name
    P1=$(free_port) || fail "no free TCP port on 127.0.0.1"
    P2=$(free_port) || fail "no free TCP port on 127.0.0.1"
    "$SLUICE" init --dir "$STATE" --listen "tcp://127.0.0.1:$P1" \
        --client-listen "tcp://127.0.0.1:$P2" --advertise "127.0.0.1:$P1" \
        >"$T/$name-init.log" 2>&1 || fail "sluice init failed"
    (
        ulimit -n "$(ulimit -Hn)" 2>/dev/null
        exec "$SLUICE" scheduler --dir "$STATE" --store-sync full \
            --log-level warn $SCHED_ARGS
    ) >"$T/$name-scheduler.log" 2>&1 &
    SCHED_PID=$!
}

# start_fleet NAME WORKERS: simfleet with WORKERS simulated workers; waits
# until every one is registered.
start_fleet() {
    name=$1
    workers=$2
    FLEET_N=$workers
    JOIN=$("$SLUICE" join-line --dir "$STATE" | grep -o 'sluice://[^ ]*' |
        tail -n 1)
    [ -n "$JOIN" ] || fail "sluice join-line printed no sluice:// line"
    i=0
    until TOKEN=$("$SLUICE" token create --dir "$STATE" --uses "$workers" \
        --ttl 10m 2>/dev/null); do
        i=$((i + 1))
        [ $i -ge 50 ] && fail "the scheduler did not answer within 10 s"
        sleep 0.2
    done
    FLEET_ERR=$T/$name-simfleet.err
    : >"$FLEET_ERR"
    (
        ulimit -n "$(ulimit -Hn)" 2>/dev/null
        exec "$SIMFLEET" --join "$JOIN" --token "$TOKEN" --workers "$workers" \
            --slots "$SLOTS" --prefetch "$PREFETCH" --progress-ms 1000 \
            $SIMFLEET_ARGS
    ) >"$T/$name-simfleet.out" 2>"$T/$name-simfleet.err" &
    FLEET_PID=$!
    wait_registered
}

# Waits until a progress line of simfleet written from now on says that
# every simulated worker is registered (again: a scheduler that stops
# answering for longer than its heartbeat window loses them all).
wait_registered() {
    seen=$(wc -l <"$FLEET_ERR")
    wait_s=$((30 + FLEET_N / 20))
    until_t=$(deadline "$wait_s")
    until tail -n +"$((seen + 1))" "$FLEET_ERR" |
        grep -q " $FLEET_N/$FLEET_N registered"; do
        kill -0 "$FLEET_PID" 2>/dev/null || fail "simfleet exited"
        [ "$(date +%s)" -ge "$until_t" ] &&
            fail "$FLEET_N simulated workers did not all register in $wait_s s"
        sleep 0.2
    done
}

# Links the simulated workers lost so far (silence past the heartbeat
# window, or the scheduler said goodbye).
fleet_lost() {
    n=$(grep ' lost links' "$FLEET_ERR" | tail -n 1 |
        sed -n 's/.* \([0-9][0-9]*\) lost links.*/\1/p')
    echo "${n:-0}"
}

gen_wide() { # NAME COUNT
    printf 'dag: %s\ndefaults:\n  retries: 0\ntasks:\n' "$1"
    awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
        printf "  - id: t%d\n    run: \"true\"\n", i }'
}

gen_chains() { # NAME CHAINS LENGTH
    printf 'dag: %s\ndefaults:\n  retries: 0\ntasks:\n' "$1"
    awk -v c="$2" -v l="$3" 'BEGIN { for (i = 0; i < c; i++)
        for (j = 0; j < l; j++) {
            printf "  - id: c%d_%d\n    run: \"true\"\n", i, j
            if (j > 0) printf "    after: [c%d_%d]\n", i, j - 1 } }'
}

# trigger NAME: sets RUN. A scheduler busy with a fleet's connections may
# not answer the CLI in time: a run of NAME that appears meanwhile counts
# (the request did arrive), else the trigger is sent again (3 tries).
trigger() {
    before=$(sql "SELECT COALESCE(MAX(id), 0) FROM runs")
    for _ in 1 2 3; do
        RUN=$(cli trigger "$1" 2>>"$T/trigger.err") && return 0
        i=0
        while [ $i -lt 60 ]; do
            RUN=$(sql "SELECT MIN(id) FROM runs WHERE dag = '$1' AND id > $before")
            [ -n "$RUN" ] && return 0
            sleep 0.5
            i=$((i + 1))
        done
    done
    fail "sluice trigger $1 failed 3 times: $(tail -n 1 "$T/trigger.err")"
}

# run_dags NAME...: triggers each DAG (back to back, so that all their
# tasks are queued at once) and waits for every run's end by reading the
# store (not by 'trigger --wait', whose polling would cost the scheduler
# CPU). Sets RUN (the last run), RUNS (all, comma-separated), SECS (first
# run created -> last run ended) and CPU (scheduler seconds).
run_dags() {
    c0=$(cpu_s "$SCHED_PID")
    RUNS=""
    for dag in "$@"; do
        trigger "$dag"
        RUNS=${RUNS:+$RUNS,}$RUN
    done
    until_t=$(deadline "$RUN_TIMEOUT_S")
    while :; do
        st=$(sql "SELECT SUM(state = 'success'), SUM(state IN ('failed', 'cancelled')) FROM runs WHERE id IN ($RUNS)")
        [ "${st#*|}" != 0 ] && fail "a run of $* ended failed or cancelled"
        [ "${st%|*}" = "$#" ] && break
        [ "$(date +%s)" -ge "$until_t" ] &&
            fail "the runs of $* did not end in time (RUN_TIMEOUT_S $RUN_TIMEOUT_S, BUDGET_S $BUDGET_S)"
        sleep 0.25
    done
    CPU=$(awk -v a="$c0" -v b="$(cpu_s "$SCHED_PID")" 'BEGIN { print b - a }')
    SECS=$(sql "SELECT (MAX(ended_at) - MIN(created_at)) / 1000.0 FROM runs WHERE id IN ($RUNS)")
}

# Milliseconds from each task's 'queued' transition to its first attempt,
# over the runs $1 (comma-separated); then p50 and p99. Only tasks that a
# parent's result made ready (not a chain's first, 'c*_0'): that is the
# scheduler's latency; the trigger's burst of every chain's first task at
# once is throughput (the wide run), whose last task waits for all before.
ready_ms() {
    sql "SELECT a.created_at - q.at FROM attempts a
         JOIN (SELECT run_id, task_id, MIN(at) AS at FROM transitions
               WHERE run_id IN ($1) AND state = 'queued'
               GROUP BY run_id, task_id) q
         ON q.run_id = a.run_id AND q.task_id = a.task_id
         WHERE a.run_id IN ($1) AND a.number = 1
         AND a.task_id NOT LIKE '%\_0' ESCAPE '\\'" >"$T/ready.txt"
    sort -n "$T/ready.txt" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan nan"; exit }
        p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
        print p50, p99 }'
}

# ------------------------------------------------------------ fleet sizes

bench_fleet() {
    workers=$1
    chains=$((workers * SLOTS / 2))
    start_scheduler "fleet$workers"
    # Applied before the fleet joins: a long apply stalls the scheduler's
    # heartbeats (the growth table times apply on its own).
    # DAG files are limited to 1 MiB of YAML: TASKS come in DAGs of at
    # most PART_TASKS, triggered together.
    parts=""
    left=$TASKS
    p=0
    while [ "$left" -gt 0 ]; do
        p=$((p + 1))
        n=$((left < PART_TASKS ? left : PART_TASKS))
        gen_wide "wide$p" "$n" >"$T/wide$p.yaml"
        cli dag apply "$T/wide$p.yaml" >/dev/null || fail "dag apply wide$p failed"
        parts="$parts wide$p"
        left=$((left - n))
    done
    cparts=""
    per=$((PART_TASKS / 2 / CHAIN_LEN)) # 'after' lines make tasks longer
    left=$chains
    p=0
    while [ "$left" -gt 0 ]; do
        p=$((p + 1))
        n=$((left < per ? left : per))
        gen_chains "chains$p" "$n" "$CHAIN_LEN" >"$T/chains$p.yaml"
        cli dag apply "$T/chains$p.yaml" >/dev/null || fail "dag apply chains$p failed"
        cparts="$cparts chains$p"
        left=$((left - n))
    done
    start_fleet "fleet$workers" "$workers"
    echo "== $workers simulated workers x $SLOTS slots (prefetch $PREFETCH)"
    sleep 2 # the registrations' turns settle
    c0=$(cpu_s "$SCHED_PID")
    sleep "$IDLE_S"
    c1=$(cpu_s "$SCHED_PID")
    idle=$(awk -v a="$c0" -v b="$c1" -v s="$IDLE_S" 'BEGIN { printf "%.2f", 100 * (b - a) / s }')
    note "fleet$workers" workers "$workers"
    note "fleet$workers" idle_cpu_pct "$idle"

    lost0=$(fleet_lost)
    f0=$(cpu_s "$FLEET_PID")
    run_dags $parts
    f1=$(cpu_s "$FLEET_PID")
    sleep 1.1 # the next progress line
    note "fleet$workers" lost_links "$(($(fleet_lost) - lost0))"
    note "fleet$workers" tasks "$TASKS"
    note "fleet$workers" seconds "$SECS"
    note "fleet$workers" tasks_per_s "$(awk -v n="$TASKS" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }')"
    note "fleet$workers" cpu_us_per_task "$(awk -v c="$CPU" -v n="$TASKS" 'BEGIN { printf "%.1f", c * 1e6 / n }')"
    note "fleet$workers" simfleet_cpu_us_per_task "$(awk -v a="$f0" -v b="$f1" -v n="$TASKS" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')"
    note "fleet$workers" peak_rss_mb "$(awk -v k="$(hwm_kb)" 'BEGIN { printf "%.1f", k / 1024 }')"

    wait_registered
    run_dags $cparts
    read -r p50 p99 <<EOF
$(ready_ms "$RUNS")
EOF
    note "fleet$workers" chain_tasks "$((chains * CHAIN_LEN))"
    note "fleet$workers" ready_p50_ms "$p50"
    note "fleet$workers" ready_p99_ms "$p99"
    tail -n 1 "$FLEET_ERR"
    stop_all
}

# ------------------------------------------------------------------ growth

# earlier_runs N: N more finished one-task runs in the store, by a backfill
# of an hourly DAG that simfleet answers.
EARLIER_DONE=0
earlier_runs() {
    want=$1
    more=$((want - EARLIER_DONE))
    [ "$more" -gt 0 ] || return 0
    if [ "$EARLIER_DONE" -eq 0 ]; then
        printf 'dag: history\nschedule: "0 * * * *"\nstart_date: 2000-01-01\ntasks:\n  - id: one\n    run: "true"\n' >"$T/history.yaml"
        cli dag apply "$T/history.yaml" >/dev/null || fail "dag apply history failed"
        cli dag pause history >/dev/null || fail "dag pause history failed"
    fi
    from=$(date -u -d "2001-01-01 +$EARLIER_DONE hours" '+%Y-%m-%dT%H:00:00Z')
    to=$(date -u -d "2001-01-01 +$((want - 1)) hours" '+%Y-%m-%dT%H:00:00Z')
    timeout "$RUN_TIMEOUT_S" "$SLUICE" backfill history --from "$from" \
        --to "$to" --max-active 1000 --dir "$STATE" >"$T/backfill.log" 2>&1 ||
        fail "sluice backfill history failed"
    until_t=$(deadline "$RUN_TIMEOUT_S")
    while :; do
        done_n=$(sql "SELECT COUNT(*) FROM runs WHERE dag = 'history' AND state = 'success'")
        [ "$done_n" -ge "$want" ] && break
        [ "$(date +%s)" -ge "$until_t" ] &&
            fail "$want earlier runs not done in time ($done_n done)"
        sleep 0.5
    done
    EARLIER_DONE=$want
}

# growth_row LABEL DAG TASKS: runs an applied DAG, notes its CPU per task.
# A small DAG runs several times at once (at least GROWTH_MIN_TASKS tasks
# in all), so that the CPU clock's 10 ms ticks and the run's own fixed
# costs do not pass for a cost per task.
growth_row() {
    key=$1
    reps=$((GROWTH_MIN_TASKS / $3))
    [ "$reps" -ge 1 ] || reps=1
    dags=""
    i=0
    while [ "$i" -lt "$reps" ]; do
        dags="$dags $2"
        i=$((i + 1))
    done
    note "$key" earlier_runs "$(sql "SELECT COUNT(*) FROM runs")"
    run_dags $dags
    n=$(($3 * reps))
    note "$key" tasks "$3"
    note "$key" tasks_per_s "$(awk -v n="$n" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }')"
    note "$key" cpu_us_per_task "$(awk -v c="$CPU" -v n="$n" 'BEGIN { printf "%.1f", c * 1e6 / n }')"
}

bench_growth() {
    start_scheduler growth
    start_fleet growth "$GROWTH_FLEET"
    echo "== growth: $GROWTH_FLEET simulated workers x $SLOTS slots"
    set -- $EARLIER
    first_earlier=$1
    earlier_runs "$first_earlier"
    gen_wide mid "$GROWTH_MID" >"$T/mid.yaml"
    cli dag apply "$T/mid.yaml" >/dev/null || fail "dag apply mid failed"
    growth_row "earlier$first_earlier" mid "$GROWTH_MID"
    largest=0
    apply_s=""
    show_s=""
    for n in $GROWTH_SIZES; do
        gen_wide "size$n" "$n" >"$T/size$n.yaml"
        t0=$(now_s)
        if ! cli dag apply "$T/size$n.yaml" >"$T/apply.out" 2>&1; then
            echo "bench-scale: dag apply of $n tasks failed, no growth row: $(head -c 300 "$T/apply.out")" >&2
            note cli apply_failed "$n"
            continue
        fi
        t1=$(now_s)
        wait_registered
        growth_row "size$n" "size$n" "$n"
        if [ "$n" -gt "$largest" ]; then
            largest=$n
            apply_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
            t0=$(now_s)
            cli run show "$RUN" >"$T/runshow.out" 2>&1 ||
                echo "bench-scale: sluice run show $RUN failed or timed out" >&2
            t1=$(now_s)
            show_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        fi
    done
    note cli apply_tasks "$largest"
    note cli apply_s "$apply_s"
    note cli run_show_s "$show_s"
    for e in $EARLIER; do
        [ "$e" = "$first_earlier" ] && continue
        earlier_runs "$e"
        growth_row "earlier$e" mid "$GROWTH_MID"
    done
    stop_all
}

# ------------------------------------------------------------------ report

[ -x "$SLUICE" ] || fail "'$SLUICE' is missing; run 'make sluice' first"
[ -x "$SIMFLEET" ] || fail "'$SIMFLEET' is missing; run 'make tools' first"
command -v sqlite3 >/dev/null || fail "sqlite3 is missing (apt-get install sqlite3)"
mkdir -p "$BENCH_OUT" || fail "cannot create $BENCH_OUT"
START=$(date +%s)
END=$((START + BUDGET_S))
echo "bench-scale: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); numbers on a shared machine are noisy"
# Fleets up to 1,000 workers, the growth table, then the larger fleets:
# a fleet too large for the scheduler spends its phase, not the others'.
for f in $FLEETS; do
    [ "$f" -le 1000 ] && phase "fleet$f" bench_fleet "$f"
done
phase growth bench_growth
for f in $FLEETS; do
    [ "$f" -gt 1000 ] && phase "fleet$f" bench_fleet "$f"
done
cp "$RESULTS" "$BENCH_OUT/bench-scale.tsv"
FLEETS="$FLEETS" GROWTH_SIZES="$GROWTH_SIZES" EARLIER="$EARLIER" \
    SLOTS="$SLOTS" TASKS="$TASKS" PREFETCH="$PREFETCH" \
    ELAPSED=$(($(date +%s) - START)) \
    awk -f "$ROOT/tests/bench/bench_scale_report.awk" \
    -v json="$BENCH_OUT/bench-scale.json" -v dat="$BENCH_OUT/bench-scale" \
    "$RESULTS" || fail "the report failed"
if command -v gnuplot >/dev/null; then
    # One fleet size or one DAG size makes gnuplot warn of an empty range.
    gnuplot -e "dir='$BENCH_OUT'" "$ROOT/tests/bench/bench_scale.gp" \
        2>"$T/gnuplot.err" ||
        { cat "$T/gnuplot.err" >&2; echo "bench-scale: gnuplot failed; no chart" >&2; }
    echo "bench-scale: chart $BENCH_OUT/bench-scale.svg"
else
    echo "bench-scale: gnuplot is missing (apt-get install gnuplot-nox); no chart" >&2
fi
echo "bench-scale: table $BENCH_OUT/bench-scale.json ($(($(date +%s) - START)) s)"
