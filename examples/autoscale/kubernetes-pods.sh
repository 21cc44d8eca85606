#!/bin/sh
# EXAMPLE (not run by the tests): a `command` autoscale provider for
# Kubernetes, one bare pod per worker (kubernetes.sh scales a StatefulSet
# with `kubectl scale` instead). `up` creates the pod with the join
# line in a Secret, `down` deletes exactly the drained pod. Use it where
# workers should not sit in a StatefulSet.
#
# scheduler config.yaml:
#   autoscale_provider: command
#   autoscale_command: /etc/sluice/kubernetes.sh
#   worker_shapes: "small:cpus=2,memory=4G,slots=2"
set -eu

NS=${SLUICE_K8S_NAMESPACE:-sluice}
IMAGE=${SLUICE_K8S_IMAGE:-registry.example.com/sluice:latest}

case "${1:-}" in
up)
    shape=$2
    pod=$SLUICE_WORKER_NAME
    # The single-use token stays out of the pod spec and of `ps`.
    kubectl -n "$NS" create secret generic "$pod-join" \
        --from-literal=join="$SLUICE_JOIN" >&2
    kubectl -n "$NS" apply -f - >&2 <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  labels: {app: sluice-worker, sluice-shape: $shape}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 60
  containers:
    - name: worker
      image: $IMAGE
      command: [sh, -c, 'exec sluice worker --name $pod --slots $SLUICE_SHAPE_SLOTS --dir /var/lib/sluice']
      env:
        - name: SLUICE_JOIN
          valueFrom: {secretKeyRef: {name: $pod-join, key: join}}
      resources:
        requests: {cpu: "$SLUICE_SHAPE_CPUS", memory: "${SLUICE_SHAPE_MEMORY_MB}Mi"}
        limits: {cpu: "$SLUICE_SHAPE_CPUS", memory: "${SLUICE_SHAPE_MEMORY_MB}Mi"}
YAML
    echo "$pod"
    ;;
down)
    kubectl -n "$NS" delete pod "$3" --wait=false >&2
    kubectl -n "$NS" delete secret "$3-join" --ignore-not-found >&2
    ;;
list)
    kubectl -n "$NS" get pods -l app=sluice-worker \
        --field-selector 'status.phase!=Succeeded,status.phase!=Failed' \
        -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.metadata.name}{"\n"}{end}'
    ;;
*)
    echo "usage: $0 up SHAPE COUNT | down WORKER HANDLE | list" >&2
    exit 2
    ;;
esac
