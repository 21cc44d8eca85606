# Schedules: runs started by the scheduler for each data interval, one run
# per logical date also across a kill -9, catchup, pause, and `dag next`
# across a daylight saving change.

# it_sched_dag NAME SCHEDULE [EXTRA YAML LINES]: writes and applies a DAG
# whose one task prints its time templates.
it_sched_dag() {
    name=$1 schedule=$2 extra=${3:-}
    cat >"$IT_DIR/$name.yaml" <<YAML
dag: $name
schedule: "$schedule"
$extra
tasks:
  - id: show
    run: echo "ds={{ ds }} logical={{ logical_date }} start={{ data_interval_start }} end={{ data_interval_end }}"
YAML
    "$SLUICE" dag apply --dir "$IT_STATE" "$IT_DIR/$name.yaml"
}

it_sched_count() {
    it_sql "SELECT count(*) FROM runs WHERE dag='$1' AND trigger='$2'"
}

it_sched_at_least() {
    [ "$(it_sched_count "$1" "$2")" -ge "$3" ]
}

# Scheduled runs of $1: no logical date twice, and each interval starts
# where the one before it ended (none missing, none overlapping).
it_sched_contiguous() {
    dups=$(it_sql "SELECT count(*) - count(DISTINCT logical_at) FROM runs WHERE dag='$1' AND trigger='scheduled'")
    gaps=$(it_sql "SELECT count(*) FROM runs a WHERE a.dag='$1' AND a.trigger='scheduled' AND a.interval_start > (SELECT min(interval_start) FROM runs WHERE dag='$1' AND trigger='scheduled') AND NOT EXISTS (SELECT 1 FROM runs b WHERE b.dag='$1' AND b.trigger='scheduled' AND b.interval_end = a.interval_start)")
    [ "$dups" = 0 ] && [ "$gaps" = 0 ]
}

t_schedule_every_2s_one_run_per_interval() {
    it_cluster 1
    it_sched_dag tick "@every 2s"
    it_check "three scheduled runs within 20 s" it_wait 20 it_sched_at_least tick scheduled 3
    it_check "one run per interval, contiguous" it_sched_contiguous tick
    n=$(it_sched_count tick scheduled)
    distinct=$(it_sql "SELECT count(DISTINCT logical_at) FROM runs WHERE dag='tick'")
    it_check "distinct logical dates ($distinct of $n)" [ "$distinct" = "$n" ]
    width=$(it_sql "SELECT DISTINCT interval_end - interval_start FROM runs WHERE dag='tick'")
    it_check "every interval is 2 s long ($width)" [ "$width" = 2000 ]
    run=$(it_sql "SELECT min(id) FROM runs WHERE dag='tick'")
    it_check "run $run ends" it_wait 20 sh -c "[ \"\$(sqlite3 -readonly '$IT_STATE/store.db' \"SELECT state FROM runs WHERE id=$run\")\" = success ]"
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run" show)
    start=$(it_sql "SELECT strftime('%Y-%m-%dT%H:%M:%S', interval_start / 1000.0, 'unixepoch') FROM runs WHERE id=$run")
    it_check "logical date is the interval start ($out vs $start)" sh -c "echo \"\$1\" | grep -q \"logical=$start+00:00 start=$start+00:00\"" _ "$out"
    it_check "ds is the start's day ($out)" sh -c "echo \"\$1\" | grep -q \"ds=${start%%T*} \"" _ "$out"
}

# A schedule faster than its runs: with max_active_runs 1 every interval
# still gets its own run, and they run one after another, never two at
# once (read from the tasks' own timestamps; helpers in t_limits.sh).
t_schedule_every_2s_max_active_runs_one_never_overlaps() {
    it_cluster 2
    times="$IT_DIR/slow.times"
    {
        echo "dag: slow"
        echo 'schedule: "@every 2s"'
        echo "max_active_runs: 1"
        echo "tasks:"
        it_timed_task work 3 "$times"
    } | it_apply slow
    it_check "three scheduled runs ran" it_wait 40 it_lines "$times" 3
    it_check "one run per interval, contiguous" it_sched_contiguous slow
    it_check "never two runs at once: $(cat "$times")" \
        it_no_overlap "$times" by-run
}

# kill -9, 10 s down, restart: with catchup every missed interval runs
# once, none twice.
t_schedule_restart_catchup_exactly_once() {
    it_cluster 1
    it_sched_dag catch "@every 2s" "catchup: true"
    it_check "two scheduled runs" it_wait 20 it_sched_at_least catch scheduled 2
    kill -KILL "$IT_SCHED_PID"
    wait "$IT_SCHED_PID" 2>/dev/null || true
    before=$(it_sched_count catch scheduled)
    last=$(it_sql "SELECT max(interval_end) FROM runs WHERE dag='catch'")
    sleep 10
    it_start_scheduler --heartbeat-ms 300
    now=$(( $(date +%s%N) / 1000000 ))
    # every interval that ended while it was down, and then one more
    want=$(( before + (now - last) / 2000 + 1 ))
    it_check "missed intervals caught up (want $want)" it_wait 20 it_sched_at_least catch scheduled "$want"
    it_check "no logical date twice, none missing" it_sched_contiguous catch
}

# Without catchup, a downtime leaves a gap: only the latest missed
# interval runs.
t_schedule_restart_no_catchup_runs_latest() {
    it_cluster 1
    it_sched_dag latest "@every 2s"
    it_check "one scheduled run" it_wait 20 it_sched_at_least latest scheduled 1
    kill -KILL "$IT_SCHED_PID"
    wait "$IT_SCHED_PID" 2>/dev/null || true
    before=$(it_sched_count latest scheduled)
    sleep 10
    it_start_scheduler --heartbeat-ms 300
    it_check "a run after the restart" it_wait 20 it_sched_at_least latest scheduled $((before + 1))
    n=$(it_sched_count latest scheduled)
    it_check "missed intervals skipped ($before before, $n after)" [ "$n" -le $((before + 3)) ]
    dups=$(it_sql "SELECT count(*) - count(DISTINCT logical_at) FROM runs WHERE dag='latest'")
    it_check "no logical date twice" [ "$dups" = 0 ]
}

t_schedule_pause_keeps_manual_triggers() {
    it_cluster 1
    it_sched_dag pausy "@every 1s"
    it_check "scheduled runs start" it_wait 20 it_sched_at_least pausy scheduled 1
    "$SLUICE" dag pause --dir "$IT_STATE" pausy
    out=$("$SLUICE" dag list --dir "$IT_STATE")
    it_check "dag list shows paused: $out" sh -c "echo \"\$1\" | grep pausy | grep -q yes" _ "$out"
    paused=$(it_sched_count pausy scheduled)
    sleep 3
    it_check "no scheduled run while paused" [ "$(it_sched_count pausy scheduled)" = "$paused" ]
    "$SLUICE" trigger --dir "$IT_STATE" pausy --wait
    it_check "manual trigger ran" [ "$(it_sched_count pausy manual)" = 1 ]
    it_check "pause is audited" [ "$(it_sql "SELECT count(*) FROM events WHERE kind='dag_paused' AND subject='pausy'")" = 1 ]
    "$SLUICE" dag unpause --dir "$IT_STATE" pausy
    it_check "scheduled runs start again" it_wait 20 it_sched_at_least pausy scheduled $((paused + 1))
}

t_schedule_manual_logical_date() {
    it_cluster 1
    it_sched_dag man "0 3 * * *" "timezone: Europe/Berlin"
    "$SLUICE" trigger --dir "$IT_STATE" man --logical-date 2027-03-28T03:00 --wait
    run=$(it_sql "SELECT max(id) FROM runs WHERE dag='man'")
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run" show)
    it_check "logical date in the DAG's zone: $out" sh -c "echo \"\$1\" | grep -q 'ds=2027-03-28 logical=2027-03-28T03:00:00+02:00'" _ "$out"
    rc=0
    err=$("$SLUICE" trigger --dir "$IT_STATE" man --logical-date 2027-03-28T03:00 2>&1) || rc=$?
    it_check "a second run with that logical date is refused ($rc): $err" sh -c "[ $rc = 4 ] && echo \"\$1\" | grep -q 'already has run'" _ "$err"
}

t_schedule_dag_next_across_dst() {
    it_cluster 0
    it_sched_dag dst "0 2 * * *" "timezone: Europe/Berlin
start_date: 2027-01-01"
    out=$("$SLUICE" dag next --dir "$IT_STATE" dst --from 2027-03-26 --count 4)
    it_check "spring forward fires at 03:00+02:00: $out" sh -c "echo \"\$1\" | grep -q '2027-03-28T03:00:00+02:00 *2027-03-28T01:00:00Z'" _ "$out"
    it_check "the day before at 02:00+01:00: $out" sh -c "echo \"\$1\" | grep -q '2027-03-27T02:00:00+01:00 *2027-03-27T01:00:00Z'" _ "$out"
    it_check "the day after at 02:00+02:00: $out" sh -c "echo \"\$1\" | grep -q '2027-03-29T02:00:00+02:00 *2027-03-29T00:00:00Z'" _ "$out"
    json=$("$SLUICE" dag next --dir "$IT_STATE" dst --from 2027-10-30 --count 2 --json)
    it_check "fall back fires once, at the first 02:00: $json" sh -c "echo \"\$1\" | grep -q '2027-10-31T02:00:00+02:00'" _ "$json"
    it_check "no second 02:00 that night: $json" sh -c "! echo \"\$1\" | grep -q '2027-10-31T02:00:00+01:00'" _ "$json"
}

# Three daily intervals, each its own run with the day as {{ ds }}; run
# again, nothing new is made.
t_schedule_backfill_three_days() {
    it_cluster 1
    it_sched_dag days "@daily" "start_date: 2020-01-01
timezone: Europe/Berlin"
    dry=$("$SLUICE" backfill --dir "$IT_STATE" days --from 2021-03-01 --to 2021-03-03 --dry-run)
    it_check "dry run lists 3 intervals: $dry" [ "$(echo "$dry" | grep -c ' run ')" = 3 ]
    it_check "dry run makes no run" [ "$(it_sched_count days backfill)" = 0 ]
    "$SLUICE" backfill --dir "$IT_STATE" days --from 2021-03-01 --to 2021-03-03 --max-active 2 --wait
    it_check "exactly 3 backfill runs" [ "$(it_sched_count days backfill)" = 3 ]
    for day in 01 02 03; do
        run=$(it_sql "SELECT id FROM runs WHERE dag='days' AND logical_date='2021-03-$day'")
        out=$("$SLUICE" logs --dir "$IT_STATE" "$run" show)
        it_check "run $run shows ds=2021-03-$day: $out" sh -c "echo \"\$1\" | grep -q 'ds=2021-03-$day logical=2021-03-${day}T00:00:00+01:00 start=2021-03-${day}T00:00:00+01:00 end=2021-03-'" _ "$out"
    done
    again=$("$SLUICE" backfill --dir "$IT_STATE" days --from 2021-03-01 --to 2021-03-03 --wait 2>&1)
    it_check "a second backfill skips them: $again" [ "$(it_sched_count days backfill)" = 3 ]
    rc=0
    err=$("$SLUICE" backfill --dir "$IT_STATE" days --from 2021-03-03 --to 2021-03-01 2>&1) || rc=$?
    it_check "--to before --from is refused ($rc): $err" sh -c "[ $rc = 4 ] && echo \"\$1\" | grep -q 'swap them'" _ "$err"
}
