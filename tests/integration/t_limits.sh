# Limits, pools and priorities with real workers: what runs at once is
# read back from the tasks' own timestamps (each task appends "KEY START
# END" in ns to a file), never from the scheduler's view of itself.

# it_no_overlap FILE: every interval in FILE (KEY START END, one a line)
# starts after the one before it (by start) ended; with KEY given as $2,
# intervals are first grouped per key (earliest start, latest end).
it_no_overlap() {
    awk -v group="${2:-}" '
        { k = group ? $1 : NR
          if (!(k in s) || $2 < s[k]) s[k] = $2
          if (!(k in e) || $3 > e[k]) e[k] = $3 }
        END { for (k in s) print s[k], e[k] }' "$1" | sort -n |
        awk 'NR > 1 && $1 < end { bad = 1 } { end = $2 } END { exit bad }'
}

it_lines() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# it_timed_task ID SECONDS FILE [GATE]: a task that records when it ran
# (RUN_ID START END); with GATE, it first waits (at most 30 s) until that
# file exists, so that the test can look at the others while it runs.
it_timed_task() {
    cat <<YAML
  - id: $1
    run: >-
      s=\$(date +%s%N); n=0;
      while [ -n "${4:-}" ] && [ ! -e "${4:-}" ] && [ \$n -lt 600 ]; do
      sleep 0.05; n=\$((n+1)); done;
      sleep $2; e=\$(date +%s%N); echo "{{ run_id }} \$s \$e" >>$3
YAML
}

t_limits_pool_of_one_slot() {
    it_cluster 2
    "$SLUICE" pool set --dir "$IT_STATE" gpu 1 --description "one card" >/dev/null
    times="$IT_DIR/pool.times"
    {
        echo "dag: pooled"
        echo "tasks:"
        for t in a b c d; do
            it_timed_task "$t" 0.3 "$times" "$IT_DIR/gate"
            echo "    pool: gpu"
        done
    } | it_apply pooled
    run=$("$SLUICE" trigger --dir "$IT_STATE" pooled | grep -o '[0-9]\+' | head -1)
    it_check "run show says what the others wait for" it_wait 20 sh -c \
        "\"$SLUICE\" run show --dir \"$IT_STATE\" $run | grep -q \"waits: pool 'gpu' 1/1 in use\""
    it_check "pool list shows the slot in use" it_wait 20 sh -c \
        "\"$SLUICE\" pool list --dir \"$IT_STATE\" --json | grep -q '\"used\": *1'"
    rc=0
    out=$("$SLUICE" pool rm --dir "$IT_STATE" gpu 2>&1) || rc=$?
    it_check "pool rm refused while in use (rc $rc): $out" [ "$rc" != 0 ]
    touch "$IT_DIR/gate"
    it_check "run ends" it_wait 60 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "four tasks ran" [ "$(wc -l <"$times")" = 4 ]
    it_check "never two at once on 2 workers x 2 slots: $(cat "$times")" \
        it_no_overlap "$times"
    list=$("$SLUICE" pool list --dir "$IT_STATE")
    it_check "pool list: $list" sh -c "echo \"\$1\" | grep -q 'gpu.*1.*0.*0.*one card'" _ "$list"
    "$SLUICE" pool rm --dir "$IT_STATE" gpu >/dev/null
    it_check "pool gone" sh -c "! \"$SLUICE\" pool list --dir \"$IT_STATE\" | grep -q gpu"
}

t_limits_max_active_runs() {
    it_cluster 2
    times="$IT_DIR/runs.times"
    {
        echo "dag: serial"
        echo "max_active_runs: 1"
        echo "tasks:"
        it_timed_task first 0.3 "$times" "$IT_DIR/gate"
        it_timed_task second 0.3 "$times"
        echo "    after: [first]"
    } | it_apply serial
    for i in 1 2 3; do
        "$SLUICE" trigger --dir "$IT_STATE" serial >/dev/null
    done
    it_check "a later run says it waits for max_active_runs" it_wait 20 sh -c \
        "\"$SLUICE\" run show --dir \"$IT_STATE\" 3 | grep -q 'run 3 waits: max_active_runs 1 reached'"
    touch "$IT_DIR/gate"
    for run in 1 2 3; do
        it_check "run $run ends" it_wait 60 it_run_final "$run"
        it_check "run $run succeeded" [ "$(it_run_state "$run")" = success ]
    done
    it_check "six tasks ran" [ "$(wc -l <"$times")" = 6 ]
    it_check "never two runs at once: $(cat "$times")" it_no_overlap "$times" by-run
    order=$(sort -k2n "$times" | awk '!seen[$1]++ { printf "%s", $1 }')
    it_check "runs started in the order they were created ($order)" [ "$order" = 123 ]
}

# The first task holds the pool's only slot until the test opens a gate,
# which it does only after the scheduler was killed, restarted and both
# workers are back: the reloaded scheduler must count that slot as used.
t_limits_pool_survives_restart() {
    it_cluster 2
    "$SLUICE" pool set --dir "$IT_STATE" gpu 1 >/dev/null
    times="$IT_DIR/restart.times"
    gate="$IT_DIR/gate"
    {
        echo "dag: pooled"
        echo "tasks:"
        for t in a b c; do
            cat <<YAML
  - id: $t
    pool: gpu
    run: >-
      s=\$(date +%s%N); n=0;
      while [ ! -e $gate ] && [ \$n -lt 600 ]; do sleep 0.05; n=\$((n+1)); done;
      sleep 0.2; e=\$(date +%s%N); echo "{{ run_id }} \$s \$e" >>$times
YAML
        done
    } | it_apply pooled
    run=$("$SLUICE" trigger --dir "$IT_STATE" pooled | grep -o '[0-9]\+' | head -1)
    running="SELECT count(*) FROM task_instances WHERE run_id=$run AND state='running'"
    it_check "one task running" it_wait 20 sh -c \
        "[ \"\$(sqlite3 -readonly \"$IT_STATE/store.db\" \"$running\")\" = 1 ]"
    kill -KILL "$IT_SCHED_PID"
    wait "$IT_SCHED_PID" 2>/dev/null || true
    it_start_scheduler --heartbeat-ms 300
    it_check "workers back" it_wait 30 it_connected 2
    it_check "pool list counts the slot held across the restart" it_wait 20 sh -c \
        "\"$SLUICE\" pool list --dir \"$IT_STATE\" --json | grep -q '\"used\": *1'"
    # Give a wrong count the chance to show: a second task starting here
    # would overlap the first in the timestamps.
    sleep 1
    touch "$gate"
    it_check "run ends after the restart" it_wait 90 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "three tasks ran: $(cat "$times")" [ "$(wc -l <"$times")" = 3 ]
    it_check "the slot was never used twice over: $(cat "$times")" \
        it_no_overlap "$times"
}
