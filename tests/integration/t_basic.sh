# The walking skeleton end to end: hello succeeds; failures retry with
# backoff, then fail the run and mark downstream upstream_failed; timeouts
# kill the whole process group; cancel stops running tasks.

t_hello_dag_succeeds() {
    it_cluster 2
    "$SLUICE" dag apply --dir "$IT_STATE" examples/hello/hello.yaml
    "$SLUICE" trigger --dir "$IT_STATE" hello --wait
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    for t in start left right join; do
        it_check "task $t succeeded" [ "$(it_task_state "$run" "$t")" = success ]
    done
    # join ran after both left and right ended.
    it_check "join started after left and right" [ "$(it_sql "
        SELECT (SELECT created_at FROM attempts WHERE run_id=$run AND task_id='join') >=
               (SELECT max(ended_at) FROM attempts WHERE run_id=$run AND task_id IN ('left','right'))")" = 1 ]
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run" start)
    it_check "start's log is templated: '$out'" [ "$out" = "hi from $run" ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" | grep -q join
    "$SLUICE" trigger --dir "$IT_STATE" hello --param greeting=hello --wait
    run2=$(it_sql "SELECT max(id) FROM runs")
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run2" start)
    it_check "--param overrides: '$out'" [ "$out" = "hello from $run2" ]
}

t_failure_retries_then_fails_downstream() {
    it_cluster 2
    it_apply flaky <<'YAML'
dag: flaky
defaults:
  retries: 2
  retry_delay: 300ms
tasks:
  - id: bad
    run: echo trying; exit 3
  - id: child
    after: [bad]
    run: echo never
  - id: grandchild
    after: [child]
    run: echo never
  - id: fine
    run: echo fine
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" flaky --wait || rc=$?
    it_check "trigger --wait exits 1 for a failed run (got $rc)" [ "$rc" = 1 ]
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    it_check "bad failed" [ "$(it_task_state "$run" bad)" = failed ]
    it_check "child upstream_failed" [ "$(it_task_state "$run" child)" = upstream_failed ]
    it_check "grandchild upstream_failed" [ "$(it_task_state "$run" grandchild)" = upstream_failed ]
    it_check "fine succeeded" [ "$(it_task_state "$run" fine)" = success ]
    it_check "bad ran 3 times, each exit 3" [ "$(it_sql "
        SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='bad'
        AND state='failed' AND exit_code=3")" = 3 ]
    it_check "child never ran" [ "$(it_sql "
        SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='child'")" = 0 ]
    # Backoff: 300 ms before the 2nd try, 600 ms before the 3rd.
    gaps=$(it_sql "SELECT b.created_at - a.ended_at FROM attempts a JOIN attempts b
        ON b.run_id=a.run_id AND b.task_id=a.task_id AND b.number=a.number+1
        WHERE a.run_id=$run AND a.task_id='bad' ORDER BY a.number")
    set -- $gaps
    it_check "retry delays grow: $gaps" [ "$1" -ge 280 ] && [ "$2" -ge 580 ]
    it_check "every try has its own log" [ "$(it_sql "
        SELECT count(DISTINCT l.attempt_id) FROM log_chunks l JOIN attempts a ON a.id=l.attempt_id
        WHERE a.run_id=$run AND a.task_id='bad'")" = 3 ]
}

t_timeout_kills_process_group() {
    it_cluster 1
    it_apply slow <<YAML
dag: slow
tasks:
  - id: sleeper
    timeout: 1s
    run: sh -c 'sleep 60 & echo \$! > $IT_DIR/grandchild.pid; wait'
YAML
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" slow --wait || rc=$?
    it_check "trigger --wait exits 1 (got $rc)" [ "$rc" = 1 ]
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "task timed out" [ "$(it_task_state "$run" sleeper)" = timed_out ]
    it_check "attempt recorded timed_out" [ "$(it_sql "
        SELECT state FROM attempts WHERE run_id=$run AND task_id='sleeper'")" = timed_out ]
    gc=$(cat "$IT_DIR/grandchild.pid")
    it_check "grandchild sleep $gc is gone" it_wait 5 sh -c "! kill -0 $gc 2>/dev/null"
}

t_cancel_stops_running_tasks() {
    it_cluster 1
    it_apply long <<YAML
dag: long
tasks:
  - id: a
    run: sh -c 'sleep 60 & echo \$! > $IT_DIR/a.pid; wait'
  - id: b
    after: [a]
    run: echo never
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" long)
    it_check "task a starts" it_wait 10 test -s "$IT_DIR/a.pid"
    "$SLUICE" cancel --dir "$IT_STATE" "$run"
    it_check "run cancelled" [ "$(it_run_state "$run")" = cancelled ]
    it_check "b cancelled" [ "$(it_task_state "$run" b)" = cancelled ]
    pid=$(cat "$IT_DIR/a.pid")
    it_check "a's grandchild $pid is gone" it_wait 10 sh -c "! kill -0 $pid 2>/dev/null"
    it_check "a's attempt recorded cancelled" it_wait 10 sh -c \
        "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT state FROM attempts WHERE run_id=$run AND task_id='a'\")\" = cancelled ]"
}

# A run of more than 1,000 tasks is paged by run show: counts per state,
# the first 100 tasks in DAG order and how to see more; --limit, --offset
# and --all page through it, and --json writes every task. A small run is
# shown whole, as before. No workers: the tasks stay queued.
t_run_show_pages() {
    it_cluster 0
    awk 'BEGIN { print "dag: big"; print "tasks:"
        for (i = 1500; i > 0; i--) printf "  - {id: t%d, run: /bin/true}\n", i }' |
        it_apply big
    "$SLUICE" trigger --dir "$IT_STATE" big >/dev/null
    "$SLUICE" trigger --dir "$IT_STATE" big >/dev/null
    run=$(it_sql "SELECT min(id) FROM runs")
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.txt"
    it_check "the counts per state" grep -qx 'by state:  queued 1500' "$IT_DIR/show.txt"
    it_check "100 task rows" [ "$(grep -c '^t[0-9]* *queued' "$IT_DIR/show.txt")" = 100 ]
    it_check "in DAG order" [ "$(grep -m1 '^t[0-9]' "$IT_DIR/show.txt" | cut -d' ' -f1)" = t1500 ]
    it_check "says how to see more" grep -q \
        "tasks 1-100 of 1500 shown; next: sluice run show $run --offset 100" "$IT_DIR/show.txt"
    out=$("$SLUICE" run show --dir "$IT_STATE" "$run" --offset 1498 --limit 5)
    it_check "--offset near the end: the last two" \
        [ "$(echo "$out" | grep '^t[0-9]' | cut -d' ' -f1 | tr '\n' ' ')" = "t2 t1 " ]
    it_check "--all: every task" \
        [ "$("$SLUICE" run show --dir "$IT_STATE" "$run" --all | grep -c '^t[0-9]* *queued')" = 1500 ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" --json >"$IT_DIR/show.json"
    it_check "--json: every task once, of this run only" \
        [ "$(grep -c '"task_id"' "$IT_DIR/show.json")" = 1500 ]
    it_check "--json: one document" python3 -c "
import json, sys
d = json.load(open('$IT_DIR/show.json'))
assert d['run']['total'] == 1500 and len(d['tasks']) == 1500
assert d['states'] == [{'state': 'queued', 'count': 1500}]
assert d['tasks'][0]['task_id'] == 't1500' and d['tasks'][-1]['task_id'] == 't1'"
    it_check "--json --limit 3" [ "$("$SLUICE" run show --dir "$IT_STATE" "$run" --json --limit 3 |
        grep -c '"task_id"')" = 3 ]
    it_apply small <<'YAML'
dag: small
tasks:
  - {id: a, run: /bin/true}
  - {id: b, run: /bin/true, after: [a]}
YAML
    "$SLUICE" trigger --dir "$IT_STATE" small >/dev/null
    small=$(it_sql "SELECT max(id) FROM runs")
    "$SLUICE" run show --dir "$IT_STATE" "$small" >"$IT_DIR/small.txt"
    it_check "a small run is shown whole" grep -q '^b  *pending' "$IT_DIR/small.txt"
    it_check "without paging" [ "$(grep -c 'by state\|shown' "$IT_DIR/small.txt")" = 0 ]
    "$SLUICE" run show --dir "$IT_STATE" "$small" --json >"$IT_DIR/small.json"
    it_check "its tasks carry 'after' in JSON" python3 -c "
import json
d = json.load(open('$IT_DIR/small.json'))
assert [t['after'] for t in d['tasks']] == [[], ['a']]"
}
