#!/bin/sh
# The README demo: one scheduler and two workers on loopback run the AI
# pipeline (examples/ai-pipeline/pipeline.yaml) once, then show the run, the
# training log and the first predictions. Every process it starts is
# stopped on the way out, also on failure or Ctrl-C. The exit status is the
# run's: 0 when it succeeded.
#
# usage: BUILD=build/release sh examples/demo.sh   (what `make demo` runs)
set -u

BUILD=${BUILD:-build/release}
ROOT=$(pwd)
SLUICE=$ROOT/sluice
BIN=$ROOT/$BUILD/examples/ai-pipeline
WAIT_WORKERS_S=${WAIT_WORKERS_S:-30}
RUN_TIMEOUT_S=${RUN_TIMEOUT_S:-600}

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX") || exit 1
# Workers started as root run tasks as 'nobody' (least privilege): give the
# tasks a data folder they can write.
mkdir -m 1777 "$T/data" || exit 1
chmod 711 "$T"
PIDS=""

say() {
    printf '\n== %s\n' "$*"
}

show_logs() {
    for f in "$T"/scheduler.log "$T"/w1.log "$T"/w2.log; do
        [ -f "$f" ] || continue
        echo "---- last lines of $f"
        tail -n 30 "$f"
    done
}

cleanup() {
    for pid in $PIDS; do
        kill -TERM "$pid" 2>/dev/null
    done
    # Bounded: give them 5 s to stop cleanly, then SIGKILL what is left.
    i=0
    while [ $i -lt 50 ]; do
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
        echo "demo: kept $T (KEEP=1)"
    else
        rm -rf "$T"
    fi
}

trap 'cleanup' EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

fail() {
    echo "demo: $*" >&2
    show_logs >&2
    exit 1
}

# A free TCP port on loopback: a random one that `ss` does not list.
free_port() {
    used=$(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        p=$(awk -v s="$$$(date +%N)" 'BEGIN { srand(s); print 20000 + int(rand() * 40000) }')
        if ! echo "$used" | grep -qx "$p" && [ "$p" != "${P1:-}" ]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

[ -x "$SLUICE" ] || fail "'$SLUICE' is missing; run 'make sluice' first"
[ -x "$BIN/train" ] || fail "'$BIN/train' is missing; run 'make tools' first"

P1=$(free_port) || fail "no free TCP port found on 127.0.0.1"
P2=$(free_port) || fail "no free TCP port found on 127.0.0.1"
STATE=$T/state

say "sluice init (state in $STATE, workers dial 127.0.0.1:$P1)"
"$SLUICE" init --dir "$STATE" --listen "tcp://127.0.0.1:$P1" \
    --client-listen "tcp://127.0.0.1:$P2" --advertise "127.0.0.1:$P1" ||
    fail "sluice init failed"

say "starting the scheduler and two workers (logs in $T)"
"$SLUICE" scheduler --dir "$STATE" >"$T/scheduler.log" 2>&1 &
PIDS="$PIDS $!"
# join-line may print the whole worker command; keep the sluice:// line.
JOIN=$("$SLUICE" join-line --dir "$STATE" | grep -o 'sluice://[^ ]*' | tail -n 1)
[ -n "$JOIN" ] || fail "sluice join-line printed no sluice:// line"
echo "join line: $JOIN"
# New workers are admitted with a join token (or 'sluice keys accept').
i=0
until TOKEN=$("$SLUICE" token create --dir "$STATE" --uses 2 --ttl 10m \
    2>/dev/null); do
    i=$((i + 1))
    [ $i -ge 50 ] && fail "the scheduler did not answer within 10 s"
    sleep 0.2
done
for w in w1 w2; do
    "$SLUICE" worker --join "$JOIN" --token "$TOKEN" --dir "$T/$w" \
        --name "$w" --slots 2 >"$T/$w.log" 2>&1 &
    PIDS="$PIDS $!"
done

# Both workers must be listed as connected; bounded wait.
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
    [ $i -ge $((WAIT_WORKERS_S * 5)) ] &&
        fail "workers w1 and w2 did not connect within ${WAIT_WORKERS_S}s"
    sleep 0.2
done
"$SLUICE" workers --dir "$STATE"

say "sluice dag apply examples/ai-pipeline/pipeline.yaml"
"$SLUICE" dag apply --dir "$STATE" "$ROOT/examples/ai-pipeline/pipeline.yaml" ||
    fail "sluice dag apply failed"

say "sluice trigger ai-pipeline --wait"
if command -v timeout >/dev/null 2>&1; then
    TO="timeout $RUN_TIMEOUT_S"
else
    TO=""
fi
# In the background and waited for, so that a TERM or Ctrl-C reaches the
# trap at once instead of after the run.
$TO "$SLUICE" trigger ai-pipeline --dir "$STATE" \
    --param "data=$T/data" --param "bin=$BIN" --wait >"$T/trigger.out" &
TRIGGER=$!
PIDS="$PIDS $TRIGGER"
wait "$TRIGGER"
RESULT=$?
cat "$T/trigger.out"
RUN=$(grep -o '[0-9][0-9]*' "$T/trigger.out" | head -n 1)
[ -n "$RUN" ] || fail "sluice trigger printed no run id (exit $RESULT)"

say "sluice run show $RUN"
"$SLUICE" run show "$RUN" --dir "$STATE"

say "sluice logs $RUN train (last lines)"
"$SLUICE" logs "$RUN" train --dir "$STATE" | tail -n 6

PRED=$(find "$T/data" -name predictions.csv 2>/dev/null | head -n 1)
if [ -n "$PRED" ]; then
    say "head of $PRED"
    head -n 6 "$PRED"
    cat "$(dirname "$PRED")/summary.json"
fi

if [ $RESULT -eq 0 ]; then
    say "demo: run $RUN succeeded"
else
    say "demo: run $RUN did not succeed (sluice trigger exited $RESULT)"
    show_logs
fi
exit $RESULT
