#!/bin/sh
# Gantry `command` driver, stop: scales the environment's Deployment to 0 replicas. Its pods stop;
# the Deployment, its Service and its rollout history stay, and the next deployment scales it back
# to K8S_REPLICAS. Delete the namespace yourself (or with Terraform) to remove the environment.
# Settings: see k8s-lib.sh.
set -eu
. "$(dirname "$0")/k8s-lib.sh"

k scale "$deployment" --replicas=0
echo "$where scaled to 0 replicas; the next deployment scales it back to $K8S_REPLICAS"
