#!/bin/sh
# Gantry `command` driver, deploy: points the environment's Deployment at the release's image,
# by digest, and waits for the rollout. A rollout that does not finish in K8S_ROLLOUT_TIMEOUT is
# undone (kubectl rollout undo) and the deployment fails with the reason; Gantry then runs this
# script again with the release that served before. Settings: see k8s-lib.sh.
set -eu
. "$(dirname "$0")/k8s-lib.sh"

[ "${GANTRY_ARTIFACT_KIND:-tarball}" = image ] ||
  fail "release ${GANTRY_SHA:-?} is a tar.gz artifact, and this script deploys images: build it with build.image in gantry.yaml"
image=${GANTRY_IMAGE:-}
# Only a reference by digest names one image for good: a tag can be moved to another one.
expr "X$image" : 'X[^@[:space:]]\{1,\}@sha256:[0-9a-f]\{64\}$' >/dev/null ||
  fail "GANTRY_IMAGE=\"$image\" is not pinned by digest (<registry>/<repository>@sha256:<64 hex digits>); refusing to deploy a tag, which can point at another image tomorrow"
if [ -n "${GANTRY_ARTIFACT_DIGEST:-}" ] && [ "${image##*@}" != "$GANTRY_ARTIFACT_DIGEST" ]; then
  fail "GANTRY_IMAGE=$image does not carry the release's digest $GANTRY_ARTIFACT_DIGEST"
fi

state=$(deployment_state) ||
  fail "cannot read $where: create it first (examples/kubernetes/manifests/app.yaml) and check the kubeconfig"
replicas=${state%% *}
previous=${state#* }
[ -n "$previous" ] || fail "$where has no container named $K8S_CONTAINER; set K8S_CONTAINER in the environment's config"
echo "$where runs $previous ($replicas replicas); deploying release $GANTRY_SHA: $image"

k set image "$deployment" "$K8S_CONTAINER=$image"
if [ "$replicas" = 0 ]; then
  echo "$where was stopped (0 replicas); scaling it to $K8S_REPLICAS"
  k scale "$deployment" --replicas="$K8S_REPLICAS"
fi
if k rollout status "$deployment" --timeout="$K8S_ROLLOUT_TIMEOUT"; then
  echo "release $GANTRY_SHA serves $where"
  exit 0
fi

why="the rollout of release $GANTRY_SHA ($image) did not finish within $K8S_ROLLOUT_TIMEOUT in $where"
# `set image` with the image the Deployment already had changed nothing: undo would go one too far.
[ "$previous" != "$image" ] || fail "$why; it already ran that image, so there was nothing to undo"
k rollout undo "$deployment"
k rollout status "$deployment" --timeout="$K8S_ROLLOUT_TIMEOUT" ||
  fail "$why; kubectl rollout undo to $previous did not finish either"
fail "$why; kubectl rollout undo brought back $previous, which serves"
