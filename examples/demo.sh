#!/bin/sh
# The README demo: one scheduler and two workers on loopback run the AI
# pipeline of examples/ai-pipeline over two days:
#   day 1: ai-daily lands and checks the feed, ai-pipeline trains, evaluates
#          and scores (show the run, the train metrics, the report);
#   day 2: the feed shifts; ai-daily's drift check fails and the new feed
#          version triggers retraining (dataset trigger);
# and ends with the lineage of the predictions back to the raw data.
# A feature of sluice that this build lacks is skipped with one line
# "(not available yet: ...)"; one that exists must work, or the demo fails.
# Every process it starts is stopped on the way out, also on failure or
# Ctrl-C. Exit status 0 when every step that should succeed did.
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
# Workers started as root run each attempt as its own uid, all of them in
# group 61000 (the first of --run-as-range): the steps share a data folder
# of that group, setgid, so each can rewrite what the one before it wrote.
mkdir -m 1777 "$T/data" || exit 1
if [ "$(id -u)" = 0 ]; then
    chgrp 61000 "$T/data" && chmod 2775 "$T/data" || exit 1
fi
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
    # The token goes in the environment: a command line is visible in ps.
    SLUICE_JOIN_TOKEN=$TOKEN "$SLUICE" worker --join "$JOIN" --dir "$T/$w" \
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

# A verb this build has: listed by `sluice --help`.
has_verb() {
    "$SLUICE" --help 2>&1 | grep -q "^  $1 "
}

skip() {
    echo "(not available yet: $*)"
}

if command -v timeout >/dev/null 2>&1; then
    TO="timeout $RUN_TIMEOUT_S"
else
    TO=""
fi

# run_dag NAME [ARGS...]: triggers NAME and waits; sets RUN (the run id)
# and RESULT (the exit status of trigger --wait: 0 when it succeeded).
run_dag() {
    name=$1
    shift
    say "sluice trigger $name $* --wait"
    # In the background and waited for, so that a TERM or Ctrl-C reaches the
    # trap at once instead of after the run.
    $TO "$SLUICE" trigger "$name" --dir "$STATE" "$@" --wait \
        >"$T/trigger.out" &
    TRIGGER=$!
    PIDS="$PIDS $TRIGGER"
    wait "$TRIGGER"
    RESULT=$?
    cat "$T/trigger.out"
    RUN=$(grep -o '[0-9][0-9]*' "$T/trigger.out" | head -n 1)
    [ -n "$RUN" ] || fail "sluice trigger $name printed no run id (exit $RESULT)"
}

# run_state ID: the run's state, from `sluice run show --json`.
run_state() {
    "$SLUICE" run show "$1" --dir "$STATE" --json 2>/dev/null |
        grep -o '"state": *"[a-z_]*"' | head -n 1 | sed 's/.*"\([a-z_]*\)"$/\1/'
}

# latest_run DAG: the id of DAG's newest run, or nothing.
latest_run() {
    "$SLUICE" runs "$1" --dir "$STATE" --json --limit 1 2>/dev/null |
        grep -o '"run_id": *[0-9][0-9]*' | head -n 1 | grep -o '[0-9][0-9]*$'
}

# wait_run ID: until the run ends; 0 when it succeeded. Bounded.
wait_run() {
    i=0
    while :; do
        st=$(run_state "$1")
        case "$st" in
        success) return 0 ;;
        failed | cancelled) return 1 ;;
        esac
        i=$((i + 1))
        [ $i -ge $((RUN_TIMEOUT_S * 5)) ] && return 1
        sleep 0.2
    done
}

# The DAG files name their data and program folders as param defaults and
# the feed in `trigger:`; runs started by a dataset trigger use the
# defaults, so point them at this demo's folders.
for f in daily pipeline; do
    sed -e "s#/tmp/sluice-demo/data#$T/data#g" \
        -e "s#/usr/local/lib/sluice/ai-pipeline#$BIN#g" \
        "$ROOT/examples/ai-pipeline/$f.yaml" >"$T/$f.yaml"
    say "sluice dag apply examples/ai-pipeline/$f.yaml"
    "$SLUICE" dag apply --dir "$STATE" "$T/$f.yaml" ||
        fail "sluice dag apply $f.yaml failed"
done
FEED=$T/data/feed/transactions.csv
DATASET_TRIGGERS=0
grep -q '^trigger:' "$T/pipeline.yaml" && DATASET_TRIGGERS=1

# train_run: after a new feed version, the ai-pipeline run that trains on
# it: started by the dataset trigger when sluice has them, else by hand.
# BEFORE is the newest ai-pipeline run before the feed changed.
train_run() {
    before=$1
    shift
    if [ $DATASET_TRIGGERS = 1 ]; then
        say "waiting for the new version of $FEED to trigger ai-pipeline"
        i=0
        while :; do
            RUN=$(latest_run ai-pipeline)
            [ -n "$RUN" ] && [ "$RUN" != "$before" ] && break
            i=$((i + 1))
            [ $i -ge 150 ] && fail "no ai-pipeline run was triggered by $FEED in 30 s"
            sleep 0.2
        done
        echo "dataset trigger started run $RUN"
        "$SLUICE" runs ai-pipeline --dir "$STATE" --limit 3
        wait_run "$RUN"
        RESULT=$?
    else
        skip "dataset triggers; starting ai-pipeline by hand"
        run_dag ai-pipeline "$@"
    fi
}

# run_dir RUN: where a run of ai-pipeline wrote, DATA/DS/RUN (a run that a
# dataset triggered has today's logical date).
run_dir() {
    for d in "$T"/data/*/"$1"; do
        [ -d "$d" ] && echo "$d" && return 0
    done
    return 1
}

show_run() {
    say "sluice run show $1"
    "$SLUICE" run show "$1" --dir "$STATE"
}

D1=2024-01-01
D2=2024-01-02

say "DAY 1 ($D1): land the feed, check it, train, evaluate, score"
run_dag ai-daily --date "$D1"
[ $RESULT -eq 0 ] || fail "day 1: ai-daily run $RUN did not succeed"
DAILY1=$RUN
show_run "$DAILY1"
train_run "" --date "$D1"
TRAIN1=$RUN
show_run "$TRAIN1"
[ $RESULT -eq 0 ] || fail "day 1: ai-pipeline run $TRAIN1 did not succeed"

say "sluice logs $TRAIN1 train (last lines)"
"$SLUICE" logs "$TRAIN1" train --dir "$STATE" | tail -n 3

if has_verb metrics; then
    say "sluice metrics ai-pipeline train"
    "$SLUICE" metrics ai-pipeline train --dir "$STATE" ||
        fail "sluice metrics failed"
else
    skip "sluice metrics; train wrote $(cat "$(run_dir "$TRAIN1")/metrics.json")"
fi

if has_verb report; then
    say "sluice report $TRAIN1 validate"
    "$SLUICE" report "$TRAIN1" validate --dir "$STATE" ||
        fail "sluice report failed"
else
    skip "sluice report; the validation summary is $(cat "$(run_dir "$TRAIN1")/validation.json")"
fi

PRED=$(run_dir "$TRAIN1")/predictions.csv
[ -f "$PRED" ] || fail "day 1 wrote no $PRED"
say "head of $PRED"
head -n 4 "$PRED"
cat "$(run_dir "$TRAIN1")/summary.json"

say "DAY 2 ($D2): the feed shifts (new market: larger amounts, more foreign cards)"
run_dag ai-daily --date "$D2" --param shift=1
DAILY2=$RUN
show_run "$DAILY2"
if ! grep -Eq '^[^#]*drift[a-z_]* *:' "$T/daily.yaml"; then
    # Without a drift check the shifted day passes.
    [ $RESULT -eq 0 ] || fail "day 2: ai-daily run $DAILY2 did not succeed"
    skip "drift checks; the shifted day $D2 passed ai-daily"
else
    [ $RESULT -ne 0 ] || fail "day 2: the drift check of run $DAILY2 passed a shifted feed"
    echo "day 2: ai-daily run $DAILY2 failed, as it should: the drift check caught the shift"
    if has_verb report; then
        say "sluice report $DAILY2 check"
        "$SLUICE" report "$DAILY2" check --dir "$STATE" ||
            fail "sluice report failed"
    fi
fi
train_run "$TRAIN1" --date "$D2"
TRAIN2=$RUN
show_run "$TRAIN2"
[ $RESULT -eq 0 ] || fail "day 2: retraining run $TRAIN2 did not succeed"
if has_verb metrics; then
    say "sluice metrics ai-pipeline train (day 1 against the retrained day 2)"
    "$SLUICE" metrics ai-pipeline train --dir "$STATE" ||
        fail "sluice metrics failed"
fi

PRED=$(run_dir "$TRAIN2")/predictions.csv
[ -f "$PRED" ] || fail "day 2 wrote no $PRED"
if has_verb datasets; then
    say "sluice datasets (the feed; every file of every run is listed too)"
    out=$("$SLUICE" datasets --dir "$STATE") || fail "sluice datasets failed"
    echo "$out" | grep -E '^DATASET|/feed/'
    echo "... $(echo "$out" | wc -l) lines in all"
else
    skip "sluice datasets"
fi
if has_verb lineage; then
    say "sluice lineage $PRED --upstream"
    "$SLUICE" lineage "$PRED" --upstream --dir "$STATE" ||
        fail "sluice lineage failed"
else
    skip "sluice lineage; $PRED came from run $TRAIN2, which read $FEED"
fi

say "demo: done (day 1: runs $DAILY1 and $TRAIN1; day 2: runs $DAILY2 and $TRAIN2)"
exit 0
