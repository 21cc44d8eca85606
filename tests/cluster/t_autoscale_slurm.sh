# Autoscaler with the `slurm` provider: a single-node Slurm
# (munged, slurmctld, slurmd from Debian's slurm-wlm and munge) started by
# the test inside the scheduler's host, on its own ports and directories.
# Tasks wait, workers arrive as Slurm jobs (sbatch), run them, are drained
# when idle and removed with scancel, and their jobs end.

# cl_slurm_why: empty when Slurm can be started here, else why not.
cl_slurm_why() {
    local c
    for c in munged mungekey slurmctld slurmd sbatch squeue scancel nsenter; do
        command -v "$c" >/dev/null 2>&1 || { echo "'$c' is not installed (apt-get install slurm-wlm munge)"; return; }
    done
}

# In the scheduler's host: its eth0 address lets Slurm resolve localhost
# (getaddrinfo with AI_ADDRCONFIG), and the jobs' workers reach the
# scheduler there. nsenter keeps the host's mount namespace (cgroups).
cl_slurm_in() { nsenter --net="/run/netns/${CL_TAG}s" "$@"; }

cl_slurm_start() {
    local d="$CL_DIR/slurm"
    mkdir -p "$d/state" "$d/spool" "$d/log" "$d/jobs"
    chmod 755 "$CL_DIR" "$d"
    mungekey --create --keyfile="$d/munge.key" >/dev/null 2>&1
    chmod 600 "$d/munge.key"
    cat >"$d/slurm.conf" <<CONF
ClusterName=sluicetest
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$d/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$d/slurm.conf"
    cl_slurm_in munged -f --key-file="$d/munge.key" --socket="$d/munge.sock" \
        --pid-file="$d/munged.pid" --log-file="$d/log/munged.log" \
        --seed-file="$d/munged.seed" || { echo "munged did not start"; return 1; }
    cl_slurm_in slurmctld -i >"$d/log/slurmctld.out" 2>&1 || { echo "slurmctld did not start"; return 1; }
    cl_slurm_in slurmd -N localhost >"$d/log/slurmd.out" 2>&1 || { echo "slurmd did not start"; return 1; }
    cl_wait 20 sh -c "nsenter --net=/run/netns/${CL_TAG}s sinfo -h -o '%t' | grep -q idle" ||
        { echo "the Slurm node did not become idle: $(tail -n 3 "$d/log/slurmctld.log" "$d/log/slurmd.log" | tr '\n' ' ')"; return 1; }
}

cl_slurm_jobs() { cl_slurm_in squeue -h -o '%j %i' 2>/dev/null | grep -c '^sluice-' || true; }

cl_slurm_stop() {
    local p
    for p in slurmd slurmctld munged; do
        if [ -e "$CL_DIR/slurm/$p.pid" ]; then kill "$(cat "$CL_DIR/slurm/$p.pid")" 2>/dev/null || true; fi
    done
    cl_teardown
}

t_autoscale_slurm_jobs() {
    why=$(cl_slurm_why)
    [ -z "$why" ] || cl_skip "Slurm cannot be started: $why"
    trap cl_slurm_stop EXIT
    cl_net 0
    cl_init
    # The scheduler's environment reaches sbatch, and sbatch's the jobs.
    export SLURM_CONF="$CL_DIR/slurm/slurm.conf" \
        SBATCH_OUTPUT="$CL_DIR/slurm/jobs/job-%j.out" TMPDIR="$CL_DIR/slurm/jobs"
    if ! why=$(cl_slurm_start); then cl_skip "Slurm cannot be started: $why"; fi
    cl_start_scheduler --heartbeat-ms "$CL_HB" --liveness 3 \
        --autoscale-provider slurm --min-workers 0 --max-workers 2 \
        --worker-shapes small:cpus=1,memory=200M,slots=2 \
        --scale-up-delay 200ms --idle-timeout 2s --cooldown 500ms \
        --launch-timeout 30s
    {
        echo "dag: many"
        echo "tasks:"
        for i in $(seq 1 12); do
            echo "  - {id: t$i, run: sleep 1}"
        done
    } | cl_apply many
    run=$(cl_sl trigger many)
    cl_check "workers arrive as Slurm jobs" cl_wait 30 sh -c "[ \$(nsenter --net=/run/netns/${CL_TAG}s squeue -h -o '%j' | grep -c '^sluice-as-') -ge 1 ]"
    cl_wait_run "$run" 90
    cl_check_run "$run" success
    cl_check "every task ran on a Slurm worker" cl_sql_is 0 "SELECT count(*) FROM attempts WHERE run_id=$run AND worker NOT LIKE 'as-%'"
    launches=$(cl_sql "SELECT count(*) FROM events WHERE kind='autoscale_launch'")
    cl_log "launches: $launches"
    cl_check "2 launches (got $launches)" [ "$launches" = 2 ]
    cl_check "handles are job ids" cl_sql_is 0 "SELECT count(*) FROM events WHERE kind='autoscale_launch' AND detail NOT GLOB '*handle [0-9]*'"
    cl_check "workers drained and removed, their jobs ended" cl_wait 40 sh -c "
        [ \$(sqlite3 -readonly '$CL_STATE/store.db' \"SELECT count(*) FROM events WHERE kind='autoscale_remove'\") = $launches ] &&
        [ \$(nsenter --net=/run/netns/${CL_TAG}s squeue -h -o '%j' | grep -c '^sluice-') = 0 ]"
    up=$(cl_sql "SELECT min(a.started_at) - r.created_at FROM attempts a JOIN runs r ON r.id=a.run_id WHERE a.run_id=$run")
    down=$(cl_sql "SELECT max(e.at - (SELECT max(ended_at) FROM attempts WHERE worker=e.subject)) FROM events e WHERE e.kind='autoscale_remove'")
    cl_measure "slurm: first waiting task -> first new worker running it" "$up"
    cl_measure "slurm: idle -> removed (slowest job)" "$down"
}
