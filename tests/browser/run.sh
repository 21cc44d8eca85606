#!/bin/bash
# The web UI in a real browser: Debian's chromium, headless, driven by
# playwright-core (ui.test.mjs) against a real scheduler serving the UI on
# a free loopback port and two real workers running the AI pipeline.
# Screenshots of each page go to $OUT_DIR (default build/browser-shots/).
# The last line is "N passed, N failed"; the exit status is 0 when nothing
# failed, or when the tests cannot run here (the first line says why).
#
#   BUILD=build/dev bash tests/browser/run.sh
#   WIDE_TASKS=0 ...   skips the 10,000-task load-time measurement
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${BUILD:=build/release}"
SLUICE=${SLUICE:-$PWD/$BUILD/sluice}
OUT_DIR=${OUT_DIR:-$PWD/build/browser-shots}
WIDE_TASKS=${WIDE_TASKS:-10000}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export SLUICE OUT_DIR CHROMIUM

skip() {
    echo "browser tests skipped: $*"
    exit 0
}
[ -x "$CHROMIUM" ] || skip "chromium is not installed (apt-get install chromium)"
command -v node >/dev/null 2>&1 ||
    skip "node is not installed (apt-get install nodejs npm)"
[ -f tests/browser/node_modules/playwright-core/package.json ] ||
    skip "playwright-core is not installed (run 'npm ci' in tests/browser first)"

broken() {
    echo "browser tests: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}
[ -x "$SLUICE" ] || broken "no sluice at $SLUICE; run 'make' (or set BUILD)"
BIN=$PWD/$BUILD/examples/ai-pipeline
[ -x "$BIN/train" ] || broken "no AI pipeline programs in $BIN; run 'make tools'"

. tests/integration/lib.sh
trap 'it_teardown; rm -f "$IT_PORTS_GIVEN" "$IT_PORTS_GIVEN.lock"' EXIT
mkdir -p "$OUT_DIR" && rm -f "$OUT_DIR"/*.png

# it_cluster gives the scheduler its own HTTP port: $IT_HTTP.
it_cluster 2 || { it_dump; broken "the scheduler and its two workers did not start"; }
it_wait 10 curl -sf "http://$IT_HTTP/healthz" ||
    { it_dump; broken "the scheduler does not answer HTTP on $IT_HTTP"; }
token=$("$SLUICE" token create --dir "$IT_STATE" --api --role operator 2>/dev/null) ||
    broken "sluice token create --api failed"
token=$(printf '%s\n' "$token" | grep -o 'sat_[A-Za-z0-9_-]*' | head -n 1)
[ -n "$token" ] || broken "sluice token create --api printed no sat_ token"
viewer=$("$SLUICE" token create --dir "$IT_STATE" --api --role viewer --name viewer 2>/dev/null |
    grep -o 'sat_[A-Za-z0-9_-]*' | head -n 1)

# Day 1's feed lands first (by the CLI): the UI then trains on it.
it_shared_dir "$IT_DIR/data"
"$SLUICE" dag apply --dir "$IT_STATE" examples/ai-pipeline/daily.yaml >/dev/null &&
    "$SLUICE" dag apply --dir "$IT_STATE" examples/ai-pipeline/pipeline.yaml >/dev/null ||
    broken "the AI pipeline's DAGs were not applied"
"$SLUICE" trigger --dir "$IT_STATE" ai-daily --date 2024-01-01 \
    --param "data=$IT_DIR/data" --param "bin=$BIN" --wait >/dev/null ||
    { it_dump; broken "ai-daily did not land the feed"; }

# A task that prints for a few seconds: its log is followed while it runs.
cat >"$IT_DIR/ticker.yaml" <<'EOF'
dag: ticker
description: prints a line every 300 ms for 3 seconds
schedule: "0 3 * * *"
timezone: Europe/Paris
params:
  lines: {type: int, default: 10, min: 1, max: 100}
  delay: {type: float, default: 0.3, min: 0, max: 5}
  word: {type: string, enum: [tick, tock], default: tick}
  loud: {type: bool, default: false}
tasks:
  - id: tick
    run: "for i in $(seq 1 {{ params.lines }}); do echo {{ params.word }} $i; sleep {{ params.delay }}; done"
EOF
"$SLUICE" dag apply --dir "$IT_STATE" "$IT_DIR/ticker.yaml" >/dev/null ||
    broken "the ticker DAG was not applied"

# A wide DAG for the load-time measurement: one run, cancelled at once, so
# that its grid and graph hold WIDE_TASKS coloured tasks.
WIDE_RUN=""
if [ "$WIDE_TASKS" -gt 0 ]; then
    {
        echo "dag: wide"
        echo "description: $WIDE_TASKS independent tasks (UI load time)"
        echo "tasks:"
        i=0
        while [ "$i" -lt "$WIDE_TASKS" ]; do
            printf '  - id: t%05d\n    run: "true"\n' "$i"
            i=$((i + 1))
        done
    } >"$IT_DIR/wide.yaml"
    if "$SLUICE" dag apply --dir "$IT_STATE" "$IT_DIR/wide.yaml" >/dev/null; then
        WIDE_RUN=$("$SLUICE" trigger --dir "$IT_STATE" wide 2>/dev/null |
            grep -o '[0-9][0-9]*' | head -n 1)
        [ -n "$WIDE_RUN" ] &&
            "$SLUICE" cancel --dir "$IT_STATE" "$WIDE_RUN" >/dev/null 2>&1
    else
        echo "browser tests: the $WIDE_TASKS-task DAG was not applied; no load times" >&2
    fi
fi

SLUICE_URL="http://$IT_HTTP" SLUICE_TOKEN=$token SLUICE_VIEWER_TOKEN=$viewer DATA_DIR="$IT_DIR/data" \
    BIN_DIR="$BIN" WIDE_RUN="$WIDE_RUN" WIDE_TASKS="$WIDE_TASKS" \
    timeout 900 node tests/browser/ui.test.mjs
rc=$?
if [ "$rc" = 124 ]; then
    echo "browser tests: ui.test.mjs ran past 15 minutes" >&2
    echo "0 passed, 1 failed"
fi
[ "$rc" = 0 ] || it_dump
exit "$rc"
