#!/bin/bash
# Cluster tests: a scheduler host and worker hosts, each its own network
# namespace on a private bridge, and real sluice processes in them; machines
# die, links break, clocks lie. Each test builds its own hosts and tears them
# down whatever happens (also on Ctrl-C). Ends with "N passed, N failed".
#   tests/cluster/run.sh [--or-skip] [TEST_NAME...]
# --or-skip: when this machine cannot make namespaces (not root, no netns),
# print "cluster tests skipped: WHY" and succeed (what `make test` uses).
cd "$(dirname "$0")/../.." || exit 2

or_skip=""
if [ "${1:-}" = "--or-skip" ]; then or_skip=1; shift; fi

cannot() {
    if [ -n "$or_skip" ]; then
        echo "cluster tests skipped: $1"
        exit 0
    fi
    echo "cluster tests cannot run: $1" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || cannot "they need root to create network namespaces (run: sudo make test-cluster)"
command -v ip >/dev/null 2>&1 || cannot "'ip' (iproute2) is not installed"
command -v sqlite3 >/dev/null 2>&1 || cannot "'sqlite3' is not installed"
probe="slprobe$$"
if ! why=$(ip netns add "$probe" 2>&1); then
    cannot "'ip netns add' failed: $why"
fi
ip netns del "$probe"

# nftables and faketime are test tools the Makefile's DEB_PKGS lists; a
# machine set up before they were added gets them here.
missing=""
command -v nft >/dev/null 2>&1 || missing="$missing nftables"
command -v faketime >/dev/null 2>&1 || missing="$missing faketime"
if [ -n "$missing" ]; then
    echo "cluster tests: installing$missing" >&2
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 ||
        echo "cluster tests: could not install$missing" >&2
fi

export CL_RUN_TAG="sl$$"
export CL_RUN_PID=$$
. tests/cluster/lib.sh
for f in tests/cluster/t_*.sh; do . "$f"; done

passed=0
failed=0
skipped=0
failed_names=""
interrupted=""
trap 'interrupted=1' INT TERM
test_no=0

run_one() {
    name=$1
    test_no=$((test_no + 1))
    out="/tmp/sluice-cl-$$-$name.out"
    CL_MEASURES="/tmp/sluice-cl-$$-$name.measures"
    : >"$CL_MEASURES"
    start=$(date +%s.%N)
    # Each test runs in a subshell so its traps and variables stay its own;
    # its EXIT trap tears its hosts down, also after a failed check or ^C.
    (
        CL_TEST_NO=$test_no
        trap cl_teardown EXIT
        trap 'exit 130' INT TERM
        set -e
        "$name"
    ) >"$out" 2>&1
    rc=$?
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok - $name (${secs}s)"
        sed 's/^/    /' "$CL_MEASURES"
        # CL_VERBOSE=1 shows what a passing test printed too.
        [ -n "${CL_VERBOSE:-}" ] && sed 's/^/    | /' "$out"
    elif [ "$rc" -eq 77 ]; then
        skipped=$((skipped + 1))
        echo "skip - $name: $(grep '^skip: ' "$out" | tail -n 1 | sed 's/^skip: //')"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
        echo "not ok - $name (${secs}s)"
        sed 's/^/    /' "$CL_MEASURES"
        sed 's/^/    /' "$out" | tail -n 120
    fi
    rm -f "$out" "$CL_MEASURES"
    # Nothing of this test may outlive it.
    left=$(cl_leftovers "$CL_RUN_TAG-$test_no")
    if [ -n "$left" ]; then
        failed=$((failed + 1))
        failed_names="$failed_names $name/teardown"
        echo "not ok - $name left things behind:"
        echo "$left" | sed 's/^/    /'
    fi
}

if [ $# -gt 0 ]; then
    tests="$*"
else
    tests=$(declare -F | awk '{print $3}' | grep '^t_' | sort)
fi
echo "cluster tests: $(echo "$tests" | wc -w)"
for t in $tests; do
    [ -n "$interrupted" ] && break
    run_one "$t"
done
[ -n "$interrupted" ] && echo "interrupted"
[ -n "$failed_names" ] && echo "failed:$failed_names"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ -z "$interrupted" ]
