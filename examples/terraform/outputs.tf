output "gantry_registry" {
  description = "GANTRY_REGISTRY for the Gantry server (or `gantry app registry`): images go to <registry>/<app>."
  value       = module.registry.registry
}

output "repository_url" {
  description = "Where Gantry pushes the app's images; deployments pull them from here by digest."
  value       = module.registry.repository_url
}

output "namespaces" {
  description = "Each environment's namespace."
  value       = { for name, env in module.environment : name => env.namespace }
}

output "gantry_yaml_environments" {
  description = "The environments section of gantry.yaml that matches what was provisioned (add promote_from, protected, auto_deploy)."
  value = yamlencode({
    environments = {
      for name, env in var.environments : name => {
        driver = "command"
        deploy = "./deploy/k8s-deploy.sh"
        health = "./deploy/k8s-health.sh"
        stop   = "./deploy/k8s-stop.sh"
        config = {
          K8S_NAMESPACE = env.namespace
          K8S_REPLICAS  = tostring(env.replicas)
        }
      }
    }
  })
}
