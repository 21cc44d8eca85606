#!/bin/sh
# EXAMPLE (not run by the tests): a `command` autoscale provider for
# Kubernetes that grows and shrinks one StatefulSet per shape with
# `kubectl scale`.
#
# Why a StatefulSet: sluice removes only a worker it has drained and that
# has left, so `down` must remove *that* pod. A Deployment scaled down picks
# its own victim; a StatefulSet always removes its highest ordinal, which
# this script can plan around:
#
#   up SHAPE 1         writes "WORKER JOINLINE" for the next ordinal into
#                      the Secret sluice-worker-SHAPE-join (key: pod name),
#                      then `kubectl scale --replicas N+1`; prints the pod.
#   down WORKER POD    marks the pod's entry "retired" (the drained worker
#                      has already exited; its container restarts into
#                      `sleep`, never into a worker), then scales down past
#                      every retired pod at the top. A retired pod below a
#                      live one waits, idle and empty, until the pods above
#                      it are retired too.
#   list               prints "WORKER<TAB>POD" for every entry not retired.
#
# Each worker still gets its own single-use token (the provider's
# SLUICE_JOIN), and a pod starts a worker only if its own entry names one.
# All pods of the set mount the one Secret, so they can read each other's
# entries: treat a StatefulSet's pods as one trust domain. The StatefulSet (one per
# shape, replicas 0 to start) is the operator's; its container runs:
#
#   command: [sh, -c, 'f=/etc/sluice-join/$HOSTNAME; i=0;
#     while [ ! -s "$f" ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done;
#     read -r name join < "$f" 2>/dev/null || exec sleep infinity;
#     [ "$name" = retired ] && exec sleep infinity;
#     SLUICE_JOIN=$join exec sluice worker --name "$name" --dir /var/lib/sluice']
#   volumeMounts: [{name: join, mountPath: /etc/sluice-join, readOnly: true}]
#   volumes: [{name: join, secret: {secretName: sluice-worker-SHAPE-join}}]
#
# with /var/lib/sluice on an emptyDir (a restarted container keeps its key,
# so it rejoins without a token). The waiting loop covers the kubelet's
# delay in updating mounted Secrets.
#
# scheduler config.yaml:
#   autoscale_provider: command
#   autoscale_command: /etc/sluice/kubernetes.sh
#   worker_shapes: "small:cpus=2,memory=4G,slots=2"
set -eu

NS=${SLUICE_K8S_NAMESPACE:-sluice}

kc() { kubectl -n "$NS" "$@"; }

replicas() { kc get statefulset "$1" -o jsonpath='{.spec.replicas}'; }

# entry SECRET KEY: the decoded value of one key, or nothing.
entry() {
    kc get secret "$1" -o "jsonpath={.data.$2}" 2>/dev/null | base64 -d 2>/dev/null || true
}

set_entry() {
    kc patch secret "$1" --type merge -p "{\"stringData\":{\"$2\":\"$3\"}}" >&2
}

case "${1:-}" in
up)
    sts=sluice-worker-$2
    secret=$sts-join
    kc get secret "$secret" >/dev/null 2>&1 ||
        kc create secret generic "$secret" >&2
    n=$(replicas "$sts")
    pod=$sts-$n
    set_entry "$secret" "$pod" "$SLUICE_WORKER_NAME $SLUICE_JOIN"
    kc scale statefulset "$sts" --replicas "$((n + 1))" >&2
    echo "$pod"
    ;;
down)
    pod=$3
    sts=${pod%-*}
    secret=$sts-join
    set_entry "$secret" "$pod" "retired"
    # Shrink past every retired pod at the top; never past a live one.
    n=$(replicas "$sts")
    while [ "$n" -gt 0 ] && [ "$(entry "$secret" "$sts-$((n - 1))")" = retired ]; do
        n=$((n - 1))
        kc scale statefulset "$sts" --replicas "$n" >&2
        kc patch secret "$secret" --type json \
            -p "[{\"op\":\"remove\",\"path\":\"/data/$sts-$n\"}]" >&2
    done
    ;;
list)
    for secret in $(kc get secrets -o name | sed -n 's|^secret/\(sluice-worker-.*-join\)$|\1|p'); do
        for pod in $(kc get secret "$secret" -o jsonpath='{.data}' |
            tr -d '{}"' | tr ',' '\n' | cut -d: -f1); do
            name=$(entry "$secret" "$pod" | cut -d ' ' -f 1)
            [ "${name:-retired}" = retired ] || printf '%s\t%s\n' "$name" "$pod"
        done
    done
    ;;
*)
    echo "usage: $0 up SHAPE COUNT | down WORKER HANDLE | list" >&2
    exit 2
    ;;
esac
