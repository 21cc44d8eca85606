#!/bin/bash
# Integration tests: real scheduler and worker processes on loopback running
# real DAGs. Each test gets its own state directory, ports and processes, and
# tears them down whatever happens. Ends with "N passed, N failed".
#   tests/integration/run.sh [TEST_NAME...]
cd "$(dirname "$0")/../.." || exit 2
. tests/integration/lib.sh
for f in tests/integration/t_*.sh; do . "$f"; done

passed=0
failed=0
failed_names=""

run_one() {
    name=$1
    start=$(date +%s.%N)
    out=$(mktemp "/tmp/sluice-it-$name.XXXXXX.out")
    # Each test runs in a subshell so its traps and variables stay its own.
    (
        trap it_teardown EXIT
        trap 'exit 130' INT TERM
        set -e
        "$name"
    ) >"$out" 2>&1
    rc=$?
    # make asan: a sanitizer report (leak, overflow, UB) from any process
    # the test ran fails the test.
    if [ -n "${SANITIZER_LOG_DIR:-}" ] && ls "$SANITIZER_LOG_DIR"/*.* >/dev/null 2>&1; then
        mkdir -p "$SANITIZER_LOG_DIR/$name"
        cat "$SANITIZER_LOG_DIR"/*.* >>"$out"
        mv "$SANITIZER_LOG_DIR"/*.* "$SANITIZER_LOG_DIR/$name/"
        rc=1
    fi
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok - $name (${secs}s)"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
        echo "not ok - $name (${secs}s)"
        sed 's/^/    /' "$out" | tail -n 60
    fi
    rm -f "$out"
}

if [ $# -gt 0 ]; then
    tests="$*"
else
    tests=$(declare -F | awk '{print $3}' | grep '^t_' | sort)
fi
echo "integration tests: $(echo $tests | wc -w)"
for t in $tests; do
    run_one "$t"
done
rm -f "$IT_PORTS_GIVEN"
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
