# Shared by k8s-deploy.sh, k8s-health.sh and k8s-stop.sh (sourced, not run).
#
# Settings, from the environment's `config` in gantry.yaml:
#   K8S_NAMESPACE        required: the namespace of this environment, e.g. shop-qa
#   K8S_DEPLOYMENT       the Deployment to update (default: the app's name, $GANTRY_APP)
#   K8S_CONTAINER        its container that runs the app (default: the Deployment's name)
#   K8S_ROLLOUT_TIMEOUT  how long a rollout may take before it is undone (default: 5m)
#   K8S_HEALTH_TIMEOUT   how long one health check waits for a rollout (default: 10s)
#   K8S_REPLICAS         replicas to scale back to when a deployment finds it stopped (default: 1)
# kubectl reads its kubeconfig from $HOME/.kube/config, which for a command-driver script is
# <data>/envs/<app>/<env>/.home/.kube/config, or from KUBECONFIG when the config sets it.

fail() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

dns_label() {
  printf '%s' "$2" | grep -Eq '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' ||
    fail "$1=\"$2\" is not a Kubernetes name (lowercase letters, digits and '-', at most 63)"
}

[ -n "${K8S_NAMESPACE:-}" ] ||
  fail "K8S_NAMESPACE is not set: give the environment config: { K8S_NAMESPACE: <namespace> } in gantry.yaml"
K8S_DEPLOYMENT=${K8S_DEPLOYMENT:-$GANTRY_APP}
K8S_CONTAINER=${K8S_CONTAINER:-$K8S_DEPLOYMENT}
K8S_ROLLOUT_TIMEOUT=${K8S_ROLLOUT_TIMEOUT:-5m}
K8S_HEALTH_TIMEOUT=${K8S_HEALTH_TIMEOUT:-10s}
K8S_REPLICAS=${K8S_REPLICAS:-1}
dns_label K8S_NAMESPACE "$K8S_NAMESPACE"
dns_label K8S_DEPLOYMENT "$K8S_DEPLOYMENT"
dns_label K8S_CONTAINER "$K8S_CONTAINER"

deployment="deployment/$K8S_DEPLOYMENT"
where="$deployment in namespace $K8S_NAMESPACE"

# Every kubectl call names the environment's namespace, never the kubeconfig's default.
k() {
  kubectl --namespace "$K8S_NAMESPACE" "$@"
}

# Prints "<replicas> <image of K8S_CONTAINER>" ("1 " when there is no such container).
deployment_state() {
  k get "$deployment" -o "jsonpath={.spec.replicas} {.spec.template.spec.containers[?(@.name==\"$K8S_CONTAINER\")].image}"
}
