#!/bin/bash
# Integration tests: real scheduler and worker processes on loopback running
# real DAGs. Each test gets its own state directory, ports and processes, and
# tears them down whatever happens. Ends with "N passed, N failed".
#   tests/integration/run.sh [TEST_NAME...]
# IT_JOBS=N runs N tests at once (default 1): most of a test's time is
# spent waiting on clocks, and each one's ports, directories, processes and
# sanitizer reports are its own.
cd "$(dirname "$0")/../.." || exit 2
. tests/integration/lib.sh
for f in tests/integration/t_*.sh; do . "$f"; done

: "${IT_JOBS:=1}"
IT_RESULTS=$(mktemp -d /tmp/sluice-it-results.XXXXXX)

# with_sanitizer_dir NAME: this test's processes write their sanitizer
# reports (make asan) under SANITIZER_LOG_DIR/NAME, not beside another's.
with_sanitizer_dir() {
    [ -n "${SANITIZER_LOG_DIR:-}" ] || return 0
    mkdir -p "$SANITIZER_LOG_DIR/$1"
    ASAN_OPTIONS=$(echo "${ASAN_OPTIONS:-}" | sed "s|log_path=[^:]*|log_path=$SANITIZER_LOG_DIR/$1/asan|")
    UBSAN_OPTIONS=$(echo "${UBSAN_OPTIONS:-}" | sed "s|log_path=[^:]*|log_path=$SANITIZER_LOG_DIR/$1/ubsan|")
    export ASAN_OPTIONS UBSAN_OPTIONS
}

# run_one NAME: runs one test; its verdict, time and output go to
# $IT_RESULTS/NAME.{rc,secs,out}, and its ok/not ok line to stdout.
run_one() {
    name=$1
    start=$(date +%s.%N)
    out="$IT_RESULTS/$name.out"
    # Each test runs in a subshell so its traps and variables stay its own.
    (
        with_sanitizer_dir "$name"
        trap it_teardown EXIT
        trap 'exit 130' INT TERM
        set -e
        "$name"
    ) >"$out" 2>&1
    rc=$?
    # make asan: a sanitizer report (leak, overflow, UB) from any process
    # the test ran fails the test.
    if [ -n "${SANITIZER_LOG_DIR:-}" ] && ls "$SANITIZER_LOG_DIR/$name"/*.* >/dev/null 2>&1; then
        cat "$SANITIZER_LOG_DIR/$name"/*.* >>"$out"
        rc=1
    fi
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
    echo "$rc" >"$IT_RESULTS/$name.rc"
    if [ "$rc" -eq 0 ]; then
        echo "ok - $name (${secs}s)"
    else
        {
            echo "not ok - $name (${secs}s)"
            sed 's/^/    /' "$out" | tail -n 60
        } | flock "$IT_RESULTS" cat
    fi
}

if [ $# -gt 0 ]; then
    tests="$*"
else
    tests=$(declare -F | awk '{print $3}' | grep '^t_' | sort)
fi
if [ "$IT_JOBS" -gt 1 ]; then at=", $IT_JOBS at a time"; else at=""; fi
echo "integration tests: $(echo $tests | wc -w)$at"
running=0
for t in $tests; do
    if [ "$IT_JOBS" -le 1 ]; then
        run_one "$t"
        continue
    fi
    if [ "$running" -ge "$IT_JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait
passed=0 failed=0 failed_names=""
for t in $tests; do
    if [ "$(cat "$IT_RESULTS/$t.rc" 2>/dev/null)" = 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_names="$failed_names $t"
    fi
done
rm -rf "$IT_RESULTS"
rm -f "$IT_PORTS_GIVEN" "$IT_PORTS_GIVEN.lock"
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
