# Identical environments as code: one registry for the app's images, and for each environment of
# gantry.yaml the same namespace, ConfigMap, Deployment, Service and deployer identity, differing
# only by the values in var.environments.

module "registry" {
  source     = "./modules/registry"
  repository = var.app
}

module "environment" {
  source   = "./modules/environment"
  for_each = var.environments

  app         = var.app
  name        = each.key
  namespace   = each.value.namespace
  config      = each.value.config
  port        = var.port
  health_path = var.health_path
  # The Deployment is created with no replicas and this placeholder; from then on Gantry owns the
  # image (k8s-deploy.sh sets it by digest) and the replica count.
  initial_image = "${module.registry.repository_url}@sha256:${local.zero_digest}"
}

locals {
  zero_digest = "0000000000000000000000000000000000000000000000000000000000000000"
}
