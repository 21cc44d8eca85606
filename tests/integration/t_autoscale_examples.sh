# The Kubernetes example provider's bookkeeping, against a stand-in kubectl
# (tests/integration/fake/kubectl): no cluster here, but `up`, `down` and
# `list` must keep the StatefulSet's size and the per-pod entries right.

# k8s ARGS...: the example with the fake kubectl first in PATH.
it_k8s() {
    PATH="$PWD/tests/integration/fake:$PATH" FAKE_K8S="$IT_DIR/k8s" \
        SLUICE_K8S_NAMESPACE=test sh examples/autoscale/kubernetes.sh "$@"
}

t_autoscale_kubernetes_example_scales_past_drained_pods_only() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    mkdir -p "$IT_DIR/k8s/sts" "$IT_DIR/k8s/secret"
    echo 0 >"$IT_DIR/k8s/sts/sluice-worker-small"
    for w in a b c; do
        pod=$(SLUICE_WORKER_NAME="as-$w" SLUICE_JOIN="sluice://h:1/k/c?token=t$w" it_k8s up small 1)
        it_check "up prints the pod: $pod" [ -n "$pod" ]
    done
    sts=$(cat "$IT_DIR/k8s/sts/sluice-worker-small")
    it_check "three replicas ($sts)" [ "$sts" = 3 ]
    it_check "pod 1 gets its own worker name and token" \
        [ "$(cat "$IT_DIR/k8s/secret/sluice-worker-small-join/sluice-worker-small-1")" = "as-b sluice://h:1/k/c?token=tb" ]
    list=$(it_k8s list | sort | tr '\t\n' ': ')
    it_check "list: $list" [ "$list" = "as-a:sluice-worker-small-0 as-b:sluice-worker-small-1 as-c:sluice-worker-small-2 " ]
    # The middle pod is drained: it is retired but cannot be scaled away yet.
    it_k8s down as-b sluice-worker-small-1
    it_check "a drained middle pod keeps the size" [ "$(cat "$IT_DIR/k8s/sts/sluice-worker-small")" = 3 ]
    list=$(it_k8s list | sort | tr '\t\n' ': ')
    it_check "list without it: $list" [ "$list" = "as-a:sluice-worker-small-0 as-c:sluice-worker-small-2 " ]
    # The top one goes: the set shrinks past both, never past pod 0.
    it_k8s down as-c sluice-worker-small-2
    sts=$(cat "$IT_DIR/k8s/sts/sluice-worker-small")
    it_check "shrinks to the live pod ($sts)" [ "$sts" = 1 ]
    list=$(it_k8s list | tr '\t\n' ': ')
    it_check "list after: $list" [ "$list" = "as-a:sluice-worker-small-0 " ]
    it_check "retired entries removed" [ ! -e "$IT_DIR/k8s/secret/sluice-worker-small-join/sluice-worker-small-2" ]
}
