# Autoscaler with the `local` provider: workers follow the queue,
# every launch is an event, idle workers are drained and removed; a shape
# whose workers never join fails after launch_timeout and backs off.

# The autoscaler's settings for a quick test.
IT_AS_FLAGS="--autoscale-provider local --min-workers 0 --max-workers 4
    --worker-shapes small:slots=2 --scale-up-delay 200ms --idle-timeout 2s
    --cooldown 500ms --launch-timeout 20s"

it_as_events() { it_sql "SELECT count(*) FROM events WHERE kind='$1'"; }

# No worker the autoscaler launched is still connected, and each launch was
# removed.
it_as_all_removed() {
    [ "$(it_sql "SELECT count(*) FROM workers WHERE state='connected'")" = 0 ] &&
        [ "$(it_as_events autoscale_remove)" = "$(it_as_events autoscale_launch)" ]
}

t_autoscale_local_follows_load() {
    # shellcheck disable=SC2086 # word splitting of the flags is wanted
    it_cluster 0 $IT_AS_FLAGS
    {
        echo "dag: many"
        echo "tasks:"
        for i in $(seq 1 40); do
            echo "  - id: t$i"
            echo "    run: sleep 1"
        done
    } | it_apply many
    run=$("$SLUICE" trigger --dir "$IT_STATE" many)
    it_check "run ends" it_wait 90 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "40 tasks succeeded" [ "$(it_sql "SELECT count(*) FROM task_instances WHERE run_id=$run AND state='success'")" = 40 ]
    it_check "each ran exactly once" [ "$(it_sql "SELECT count(*) FROM attempts WHERE run_id=$run")" = 40 ]
    it_check "4 launches (got $(it_as_events autoscale_launch))" [ "$(it_as_events autoscale_launch)" = 4 ]
    it_check "tasks ran on 4 launched workers" [ "$(it_sql "SELECT count(DISTINCT worker) FROM attempts WHERE run_id=$run AND worker LIKE 'as-small-%'")" = 4 ]
    it_check "no failed launch" [ "$(it_as_events autoscale_launch_failed)" = 0 ]
    "$SLUICE" autoscale status --dir "$IT_STATE" >"$IT_DIR/status.txt"
    it_check "status shows the shape" grep -q '^small' "$IT_DIR/status.txt"
    it_check "status shows launches" grep -q 'autoscale_launch' "$IT_DIR/status.txt"
    it_check "status --json" sh -c "'$SLUICE' autoscale status --dir '$IT_STATE' --json | grep -q '\"provider\": *\"local\"'"
    it_check "workers drained and removed after the idle timeout" it_wait 30 it_as_all_removed
    it_check "each removed worker was drained first" [ "$(it_as_events autoscale_drain)" = 4 ]
    it_check "worker processes gone" it_wait 10 sh -c "! pgrep -f 'worker --name as-small-' -P $IT_SCHED_PID"
    # Measurements for the report.
    up=$(it_sql "SELECT min(a.started_at) - r.created_at FROM attempts a JOIN runs r ON r.id=a.run_id WHERE a.run_id=$run")
    down=$(it_sql "SELECT max(e.at - (SELECT max(ended_at) FROM attempts WHERE worker=e.subject)) FROM events e WHERE e.kind='autoscale_remove'")
    it_log "autoscale local: first waiting task to first new worker running it: ${up} ms; idle to removed (slowest worker): ${down} ms"
    # SLUICE_AUTOSCALE_TIMES=FILE keeps them (a passing test's output is
    # not shown).
    if [ -n "${SLUICE_AUTOSCALE_TIMES:-}" ]; then
        echo "local: waiting->running ${up} ms, idle->removed ${down} ms" >>"$SLUICE_AUTOSCALE_TIMES"
    fi
}

# A shape whose worker never joins (a wrong sluice path): a failed launch
# after launch_timeout, then backoff, and no storm of launches.
t_autoscale_failed_launch_backs_off() {
    it_cluster 0 --autoscale-provider local --autoscale-sluice /nonexistent/sluice \
        --max-workers 4 --worker-shapes small:slots=1 --scale-up-delay 200ms \
        --cooldown 500ms --launch-timeout 1s
    it_apply one <<'YAML'
dag: one
tasks:
  - id: t
    run: "true"
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" one)
    it_check "a failed launch" it_wait 10 sh -c "[ \$(sqlite3 -readonly '$IT_STATE/store.db' \"SELECT count(*) FROM events WHERE kind='autoscale_launch_failed'\") -ge 2 ]"
    sleep 2
    launches=$(it_as_events autoscale_launch)
    it_check "backoff: at most 4 launches in ~7 s (got $launches)" [ "$launches" -le 4 ]
    it_check "failure says why" [ "$(it_sql "SELECT count(*) FROM events WHERE kind='autoscale_launch_failed' AND detail LIKE '%did not join within 1000 ms%back off%'")" -ge 1 ]
    "$SLUICE" autoscale status --dir "$IT_STATE" --json >"$IT_DIR/status.json"
    it_check "status shows the failures" grep -q '"failures"' "$IT_DIR/status.json"
    it_check "task still waits" [ "$(it_task_state "$run" t)" = queued ]
    "$SLUICE" cancel --dir "$IT_STATE" "$run" >/dev/null
}
