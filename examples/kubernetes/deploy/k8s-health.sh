#!/bin/sh
# Gantry `command` driver, health: healthy when the environment's Deployment has finished rolling
# out and runs the release Gantry asks about (GANTRY_IMAGE). Prints that release's SHA last, which
# is how the driver learns what serves. Settings: see k8s-lib.sh.
set -eu
. "$(dirname "$0")/k8s-lib.sh"

k rollout status "$deployment" --timeout="$K8S_HEALTH_TIMEOUT" || fail "$where has not finished rolling out"
state=$(deployment_state) || fail "cannot read $where"
replicas=${state%% *}
image=${state#* }
[ "$replicas" != 0 ] || fail "$where is scaled to 0 replicas (stopped)"
[ -n "${GANTRY_IMAGE:-}" ] || fail "$where runs $image, but Gantry has deployed nothing here yet"
[ "$image" = "$GANTRY_IMAGE" ] || fail "$where runs $image, not release $GANTRY_SHA ($GANTRY_IMAGE)"
echo "$where: $replicas replicas of $image, rolled out"
echo "$GANTRY_SHA"
