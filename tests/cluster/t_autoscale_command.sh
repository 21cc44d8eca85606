# Autoscaler with the `command` provider on network-namespace
# hosts: examples/autoscale/netns.sh makes a new host (namespace on the test
# bridge) per worker and starts `sluice worker` in it. 40 one-second tasks:
# hosts appear, every task succeeds once, and the hosts are removed after
# the idle timeout. The scheduler is killed and restarted in the middle and
# reconciles through `list`: no host is orphaned.

# Hosts netns.sh made that still exist.
cl_as_hosts() {
    ip netns list 2>/dev/null | awk '{print $1}' | grep -c "^${CL_TAG}as" || true
}

cl_as_events() { cl_sql "SELECT count(*) FROM events WHERE kind='$1'"; }

cl_as_none_left() {
    [ "$(cl_as_hosts)" = 0 ] &&
        [ "$(cl_sql "SELECT count(*) FROM workers WHERE state='connected'")" = 0 ]
}

# Whatever a failed test leaves: its hosts and their processes.
cl_as_cleanup() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${CL_TAG}as"); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    cl_teardown
}

cl_as_start() {
    # shellcheck disable=SC2086  # flags are words
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3 \
        --autoscale-provider command \
        --autoscale-command "$PWD/examples/autoscale/netns.sh" \
        --min-workers 0 --max-workers 4 --worker-shapes small:slots=2 \
        --scale-up-delay 200ms --idle-timeout 2s --cooldown 500ms \
        --launch-timeout 20s
}

t_autoscale_command_netns_hosts() {
    trap cl_as_cleanup EXIT
    cl_net 0
    cl_init
    export SLUICE_NETNS_SWITCH="$CL_SW" SLUICE_NETNS_SUBNET="$CL_NET" \
        SLUICE_NETNS_STATE="$CL_DIR/hosts" SLUICE_NETNS_PREFIX="${CL_TAG}as" \
        SLUICE_NETNS_SLUICE="$SLUICE" SLUICE_NETNS_MNT="/proc/$BASHPID/ns/mnt"
    cl_as_start
    {
        echo "dag: many"
        echo "tasks:"
        for i in $(seq 1 40); do
            echo "  - {id: t$i, run: sleep 1}"
        done
    } | cl_apply many
    run=$(cl_sl trigger many)
    cl_check "hosts appear as namespaces" cl_wait 30 sh -c "[ \$(ip netns list | grep -c '^${CL_TAG}as') -ge 1 ]"
    cl_check "8 tasks succeed" cl_wait 60 sh -c "[ \$(sqlite3 -readonly '$CL_STATE/store.db' \"SELECT count(*) FROM task_instances WHERE run_id=$run AND state='success'\") -ge 8 ]"
    hosts_before=$(cl_as_hosts)
    cl_log "hosts before the restart: $hosts_before"
    cl_kill9 "$CL_SCHED_PID"
    cl_as_start
    cl_check "the restarted scheduler adopts the $hosts_before hosts through list" \
        cl_wait 10 sh -c "[ \$(grep -c 'adopted worker .* from the provider' '$CL_DIR/scheduler.log') = $hosts_before ]"
    cl_wait_run "$run" 120
    cl_check_run "$run" success
    cl_check "40 tasks succeeded" cl_sql_is 40 "SELECT count(*) FROM task_instances WHERE run_id=$run AND state='success'"
    cl_check "each ran on a launched worker" cl_sql_is 0 "SELECT count(*) FROM attempts WHERE run_id=$run AND worker NOT LIKE 'as-%'"
    launches=$(cl_as_events autoscale_launch)
    cl_log "launches: $launches"
    cl_check "4 launches, none again after the restart (got $launches)" [ "$launches" = 4 ]
    cl_check "no failed launch" cl_sql_is 0 "SELECT count(*) FROM events WHERE kind='autoscale_launch_failed'"
    cl_check "hosts and workers removed after the idle timeout" cl_wait 40 cl_as_none_left
    cl_check "netns.sh lists nothing" [ -z "$(examples/autoscale/netns.sh list)" ]
    cl_check "no host directory left" [ -z "$(ls "$CL_DIR/hosts")" ]
    up=$(cl_sql "SELECT min(a.started_at) - r.created_at FROM attempts a JOIN runs r ON r.id=a.run_id WHERE a.run_id=$run")
    down=$(cl_sql "SELECT max(e.at - (SELECT max(ended_at) FROM attempts WHERE worker=e.subject)) FROM events e WHERE e.kind='autoscale_remove'")
    cl_measure "command/netns: first waiting task -> first new worker running it" "$up"
    cl_measure "command/netns: idle -> removed (slowest host)" "$down"
}
