#!/bin/sh
# A `command` autoscale provider whose "machines" are network namespaces on
# this host, each joined to a bridge like a real host on a LAN. It is what
# tests/cluster/t_autoscale_command.sh uses, and a small complete template
# for a provider of your own (see docs/autoscaling.md). Needs root and
# iproute2.
#
#   netns.sh up SHAPE COUNT     starts COUNT (always 1 from sluice) hosts;
#                               prints the handle (namespace name) last
#   netns.sh down WORKER HANDLE stops the worker, deletes the namespace
#   netns.sh list               "WORKER<TAB>HANDLE" for every host it made
#
# sluice gives `up` the worker's name and join line (with a single-use
# token) in SLUICE_WORKER_NAME and SLUICE_JOIN, and the shape in
# SLUICE_SHAPE_NAME/_CPUS/_MEMORY_MB/_GPUS/_SLOTS/_LABELS.
#
# Where the hosts go (set them in the scheduler's environment):
#   SLUICE_NETNS_SWITCH  namespace holding bridge br0 (the "switch")
#   SLUICE_NETNS_SUBNET  first three octets of the /24, e.g. 10.213.7
#   SLUICE_NETNS_STATE   a directory for this provider's state and logs
#   SLUICE_NETNS_PREFIX  namespace name prefix (default "slas")
#   SLUICE_NETNS_SLUICE  the sluice executable (default: sluice in PATH)
#   SLUICE_NETNS_MNT     a mount namespace to run `ip` in, e.g.
#                        /proc/PID/ns/mnt of a process outside it when the scheduler itself runs under
#                        `ip netns exec` (whose private mounts would hide the
#                        namespaces it makes from everyone else)
# Exit 0 on success; otherwise the last line on stderr says why.
set -eu

SW=${SLUICE_NETNS_SWITCH:?set SLUICE_NETNS_SWITCH to the switch namespace}
NET=${SLUICE_NETNS_SUBNET:?set SLUICE_NETNS_SUBNET, e.g. 10.213.7}
STATE=${SLUICE_NETNS_STATE:?set SLUICE_NETNS_STATE to a directory}
PREFIX=${SLUICE_NETNS_PREFIX:-slas}
SLUICE=${SLUICE_NETNS_SLUICE:-sluice}

# `ip`, in the host's mount namespace when SLUICE_NETNS_MNT names one.
ip() {
    if [ -n "${SLUICE_NETNS_MNT:-}" ]; then
        nsenter --mount="$SLUICE_NETNS_MNT" ip "$@"
    else
        command ip "$@"
    fi
}

die() { echo "netns.sh: $*" >&2; exit 1; }

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

# Host number N owns $STATE/hN (mkdir is atomic) and address .(100+N).
take_number() {
    n=1
    while [ "$n" -le 150 ]; do
        if mkdir "$STATE/h$n" 2>/dev/null; then echo "$n"; return 0; fi
        n=$((n + 1))
    done
    die "all 150 host numbers are in use; remove some hosts first"
}

up() {
    [ "${2:-1}" = 1 ] || die "COUNT must be 1 (sluice asks for one at a time)"
    worker=${SLUICE_WORKER_NAME:?SLUICE_WORKER_NAME is not set}
    join=${SLUICE_JOIN:?SLUICE_JOIN is not set}
    mkdir -p "$STATE"
    n=$(take_number)
    ns="$PREFIX$n"
    dir="$STATE/h$n"
    echo "$worker" >"$dir/worker"
    ip netns add "$ns" || { rm -rf "$dir"; die "cannot create namespace $ns"; }
    # The veth pair is made inside the switch namespace, so no link ever
    # appears in the root namespace; deleting $ns deletes the pair.
    ip -n "$SW" link add "as$n" type veth peer name eth0 netns "$ns"
    ip -n "$SW" link set "as$n" master br0 up
    ip -n "$ns" addr add "$NET.$((100 + n))/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    labels=""
    [ -n "${SLUICE_SHAPE_LABELS:-}" ] && labels="--labels $SLUICE_SHAPE_LABELS"
    # Its own session, stdio away from ours: sluice waits only for this
    # script, not for the worker it leaves running.
    # shellcheck disable=SC2086  # labels is words
    # The join line (and its token) stays in the environment: SLUICE_JOIN
    # is what the worker reads when --join is not given, and ps shows none.
    SLUICE_JOIN=$join ip netns exec "$ns" setsid "$SLUICE" worker \
        --name "$worker" --slots "${SLUICE_SHAPE_SLOTS:-1}" $labels \
        --dir "$dir/worker.d" </dev/null >>"$dir/worker.log" 2>&1 &
    echo "started worker $worker in $ns ($NET.$((100 + n)))"
    echo "$ns"
}

down() {
    ns=$2
    case "$ns" in "$PREFIX"[0-9]*) ;; *) die "'$ns' is not one of my hosts ($PREFIX*)" ;; esac
    n=${ns#"$PREFIX"}
    if ns_exists "$ns"; then
        # The worker was drained and is idle: SIGTERM lets it leave cleanly.
        pids=$(ip netns pids "$ns")
        # shellcheck disable=SC2086  # one word per pid
        if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null || true; fi
        i=0
        while [ -n "$(ip netns pids "$ns")" ] && [ "$i" -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        pids=$(ip netns pids "$ns")
        # shellcheck disable=SC2086  # one word per pid
        if [ -n "$pids" ]; then kill -KILL $pids 2>/dev/null || true; fi
        ip netns del "$ns" || die "cannot delete namespace $ns"
    fi
    rm -rf "${STATE:?}/h$n"
}

list() {
    [ -d "$STATE" ] || return 0
    for dir in "$STATE"/h*; do
        [ -e "$dir/worker" ] || continue
        ns="$PREFIX${dir##*/h}"
        ns_exists "$ns" && printf '%s\t%s\n' "$(cat "$dir/worker")" "$ns"
    done
    return 0
}

case "${1:-}" in
    up) up "$2" "${3:-1}" ;;
    down) [ $# -eq 3 ] || die "usage: netns.sh down WORKER HANDLE"; down "$2" "$3" ;;
    list) list ;;
    *) die "usage: netns.sh up SHAPE COUNT | down WORKER HANDLE | list" ;;
esac
