#!/bin/sh
# EXAMPLE (not run by the tests): a `command` autoscale provider that grows
# and shrinks a Google Cloud managed instance group. Adapt the three verbs to
# your cloud (AWS: aws ec2 run-instances / terminate-instances with tags;
# Azure: az vm create / delete). See docs/autoscaling.md for the protocol.
#
# scheduler config.yaml:
#   autoscale_provider: command
#   autoscale_command: /etc/sluice/cloud-instance-group.sh
#   worker_shapes: "small:cpus=4,memory=16G,slots=4; gpu:cpus=8,memory=64G,gpus=1,slots=1,labels=gpu"
#
# One instance template per shape ("sluice-worker-small", ...) whose image
# has sluice installed and whose startup script runs
#   sluice worker --join "$(curl -s -H Metadata-Flavor:Google \
#       http://metadata/computeMetadata/v1/instance/attributes/sluice-join)" \
#       --name "$(curl ... attributes/sluice-name)" --slots ...
# The join line carries a single-use token: it goes into the instance's
# metadata, never into a log or the command line of this script.
set -eu

GROUP=${SLUICE_GCE_GROUP:-sluice-workers}
ZONE=${SLUICE_GCE_ZONE:-europe-west4-a}

case "${1:-}" in
up)
    # sluice asks for one worker at a time: `up SHAPE 1`.
    shape=$2
    # Instance names must be lowercase; the worker name already is.
    name=$SLUICE_WORKER_NAME
    meta_file=$(mktemp)
    trap 'rm -f "$meta_file"' EXIT
    printf '%s' "$SLUICE_JOIN" >"$meta_file"
    gcloud compute instance-groups managed create-instance \
        "$GROUP-$shape" --zone "$ZONE" --instance "$name" \
        --stateful-metadata "sluice-name=$name" >&2
    gcloud compute instances add-metadata "$name" --zone "$ZONE" \
        --metadata-from-file "sluice-join=$meta_file" >&2
    # The last line of stdout is the handle sluice passes back to `down`.
    echo "$GROUP-$shape/$name"
    ;;
down)
    # down WORKER HANDLE: the worker has been drained and is idle.
    group=${3%%/*}
    name=${3#*/}
    gcloud compute instance-groups managed delete-instances "$group" \
        --zone "$ZONE" --instances "$name" >&2
    ;;
list)
    # One "WORKER<TAB>HANDLE" line per instance that exists, for every
    # group of ours; sluice reconciles with this after a restart.
    for group in $(gcloud compute instance-groups managed list \
        --filter "name~^$GROUP-" --format 'value(name)'); do
        gcloud compute instance-groups managed list-instances "$group" \
            --zone "$ZONE" --format 'value(name)' |
            while read -r name; do printf '%s\t%s/%s\n' "$name" "$group" "$name"; done
    done
    ;;
*)
    echo "usage: $0 up SHAPE COUNT | down WORKER HANDLE | list" >&2
    exit 2
    ;;
esac
