# Prometheus metrics: the scheduler's /metrics as promtool and a real
# Prometheus server (Debian's) read them.

# it_prom_dag: a DAG of three tasks that succeed and one that fails.
it_prom_dag() {
    it_apply promdag <<'YAML'
dag: promdag
tasks:
  - id: a
    run: "true"
  - id: b
    run: "true"
    after: [a]
  - id: c
    run: "true"
    after: [a]
  - id: boom
    run: exit 3
YAML
}

# it_prom_metrics: the scheduler's /metrics into $IT_DIR/metrics.txt, its
# headers into $IT_DIR/metrics.head.
it_prom_metrics() {
    curl -sf -D "$IT_DIR/metrics.head" -o "$IT_DIR/metrics.txt" \
        "http://$IT_HTTP/metrics"
}

# it_prom_line LINE: the scrape has exactly that line.
it_prom_line() {
    it_prom_metrics && grep -qxF "$1" "$IT_DIR/metrics.txt"
}

# it_prom_query EXPR: the value of a one-element instant vector from the
# Prometheus at $IT_PROM_ADDR ("" when the vector is empty).
it_prom_query() {
    curl -sf "http://$IT_PROM_ADDR/api/v1/query" \
        --data-urlencode "query=$1" |
        sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'
}

it_prom_equals() {
    [ "$(it_prom_query "$1")" = "$2" ]
}

it_prom_number() {
    case "$(it_prom_query "$1")" in ''|NaN|*Inf) return 1 ;; esac
}

t_prometheus_scrape_counts_finished_tasks() {
    it_cluster 1
    it_prom_dag
    r=$("$SLUICE" trigger --dir "$IT_STATE" promdag)
    it_check "run ends" it_wait 30 it_run_final "$r"
    ran=$(it_sql "SELECT count(*) FROM task_instances WHERE run_id=$r AND state='success'")
    it_check "three tasks succeeded (got $ran)" [ "$ran" = 3 ]
    it_check "/metrics counts them" \
        it_wait 10 it_prom_line "sluice_tasks_finished_total{state=\"success\"} $ran"
    it_check "the content type is text format 0.0.4" \
        grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' \
        "$IT_DIR/metrics.head"
    it_check "the failure is counted by state" \
        grep -qxF 'sluice_tasks_finished_total{state="failed"} 1' "$IT_DIR/metrics.txt"
    it_check "... and its attempt by cause" \
        grep -qxF 'sluice_attempts_failed_total{cause="exit"} 1' "$IT_DIR/metrics.txt"
    it_check "the run is counted" \
        grep -qxF 'sluice_runs_finished_total{state="failed"} 1' "$IT_DIR/metrics.txt"
    it_check "four dispatches observed" \
        grep -qxF 'sluice_task_dispatch_latency_seconds_count 4' "$IT_DIR/metrics.txt"
    it_check "nothing queued or running" \
        grep -qxF 'sluice_tasks_running 0' "$IT_DIR/metrics.txt"
    it_check "the worker and its slots are shown" \
        it_wait 5 it_prom_line 'sluice_worker_slots 2'
    it_check "commits are timed" \
        grep -q '^sluice_store_commit_seconds_bucket{le="+Inf"} [1-9]' "$IT_DIR/metrics.txt"
    if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
        echo "prometheus tests skipped: prometheus is not installed (apt-get install prometheus)"
        return 0
    fi
    promtool check metrics <"$IT_DIR/metrics.txt" >"$IT_DIR/promtool.out" 2>&1 ||
        { cat "$IT_DIR/promtool.out" >&2; it_check "promtool accepts the scrape" false; }
    it_check "promtool has no complaint: $(cat "$IT_DIR/promtool.out")" \
        [ ! -s "$IT_DIR/promtool.out" ]
    IT_PROM_ADDR="127.0.0.1:$(it_free_port)"
    cat >"$IT_DIR/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ["$IT_HTTP"]
YAML
    prometheus --config.file="$IT_DIR/prometheus.yml" \
        --storage.tsdb.path="$IT_DIR/tsdb" \
        --web.listen-address="$IT_PROM_ADDR" >"$IT_DIR/prometheus.log" 2>&1 &
    IT_PIDS="$IT_PIDS $!"
    it_check "prometheus scrapes the scheduler" \
        it_wait 30 it_prom_equals 'up{job="sluice"}' 1
    it_check "prometheus has the count of tasks that ran ($ran)" \
        it_wait 15 it_prom_equals 'sum(sluice_tasks_finished_total{state="success"})' "$ran"
    it_check "a histogram quantile is computed" \
        it_wait 15 it_prom_number \
        'histogram_quantile(0.5, sum by (le) (sluice_task_dispatch_latency_seconds_bucket))'
}

t_prometheus_metrics_closed_needs_a_token() {
    it_cluster 0
    echo "http_open_metrics: false" >>"$IT_STATE/config.yaml"
    it_stop "$IT_SCHED_PID"
    it_start_scheduler --heartbeat-ms 300 || return 1
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$IT_HTTP/metrics")
    it_check "/metrics without a token is refused (got $code)" [ "$code" = 401 ]
    token=$("$SLUICE" token create --api --role viewer --name prometheus \
        --dir "$IT_STATE" 2>/dev/null)
    it_check "a viewer token was made" [ -n "$token" ]
    it_check "/metrics with a viewer token answers" \
        sh -c "curl -sf -H 'Authorization: Bearer $token' 'http://$IT_HTTP/metrics' |
            grep -q '^sluice_tasks_queued 0\$'"
}

# Junk on the client socket (tests/tools/junk, as t_hostile.sh sends it) is
# counted by reason, as junk says the scheduler should count it.
t_prometheus_dropped_messages_by_reason() {
    it_cluster 0
    curve=""
    if [ -s "$IT_STATE/scheduler.curve.pub" ]; then
        curve="--curve-server-key $IT_STATE/scheduler.curve.pub"
    fi
    rc=0
    # shellcheck disable=SC2086  # curve is zero or two words
    "$BUILD/tests/tools/junk" attack --connect "tcp://127.0.0.1:$cp" \
        --socket client --client-key "$IT_STATE/client.key" --count 50 \
        $curve >"$IT_DIR/junk.out" 2>&1 || rc=$?
    it_check "junk finished (rc $rc)" [ "$rc" = 0 ]
    expect=$(grep '^expect ' "$IT_DIR/junk.out")
    it_check "junk says what to expect" [ -n "$expect" ]
    for kv in ${expect#expect }; do
        reason=${kv%%=*}
        n=${kv#*=}
        it_check "/metrics counts $n dropped as $reason" it_wait 5 \
            it_prom_line "sluice_messages_dropped_total{reason=\"$reason\"} $n"
    done
}

# The gauges follow a task in a pool while it runs; when its worker dies the
# attempt counts as failed (lost) and the worker as lost.
t_prometheus_gauges_and_a_lost_worker() {
    it_cluster 1
    "$SLUICE" pool set --dir "$IT_STATE" gpu 2 >/dev/null
    it_apply promlost <<YAML
dag: promlost
tasks:
  - id: long
    run: echo \$\$ >$IT_DIR/long.pid; exec sleep 30
    pool: gpu
    retry_on: [oom]
YAML
    r=$("$SLUICE" trigger --dir "$IT_STATE" promlost)
    it_check "the task runs" it_wait 20 sh -c \
        "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT state FROM task_instances WHERE run_id=$r\")\" = running ]"
    it_check "one task running" it_wait 5 it_prom_line 'sluice_tasks_running 1'
    it_check "one run running" grep -qxF 'sluice_runs{state="running"} 1' "$IT_DIR/metrics.txt"
    it_check "the pool's slot in use" \
        it_wait 5 it_prom_line 'sluice_pool_slots_used{pool="gpu"} 1'
    it_check "the pool's slots" grep -qxF 'sluice_pool_slots{pool="gpu"} 2' "$IT_DIR/metrics.txt"
    it_check "one worker slot free" grep -qxF 'sluice_worker_slots_free 1' "$IT_DIR/metrics.txt"
    it_wait 10 test -s "$IT_DIR/long.pid"
    kill -KILL "$IT_PID_w1"
    it_check "run ends" it_wait 30 it_run_final "$r"
    # The worker died, its task did not (at-least-once): end it here.
    kill -KILL "$(cat "$IT_DIR/long.pid")" 2>/dev/null || true
    it_check "the attempt counts as lost" \
        it_wait 5 it_prom_line 'sluice_attempts_failed_total{cause="lost"} 1'
    it_check "the task as failed" \
        grep -qxF 'sluice_tasks_finished_total{state="failed"} 1' "$IT_DIR/metrics.txt"
    it_check "nothing running" grep -qxF 'sluice_tasks_running 0' "$IT_DIR/metrics.txt"
    it_check "the pool is free" \
        grep -qxF 'sluice_pool_slots_used{pool="gpu"} 0' "$IT_DIR/metrics.txt"
    it_check "the worker is lost" \
        it_wait 5 it_prom_line 'sluice_workers{state="lost"} 1'
}
