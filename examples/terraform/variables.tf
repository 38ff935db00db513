variable "app" {
  description = "The app's name, as in gantry.yaml (`app:`): the ECR repository, the Deployment, its container and Service."
  type        = string
  default     = "shop"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.app))
    error_message = "app must be a Kubernetes name: lowercase letters, digits and '-', at most 63."
  }
}

variable "environments" {
  description = <<-EOT
    One entry per environment of gantry.yaml, keyed by its name. Every environment gets the same
    resources; only these values differ. `config` becomes the app's ConfigMap (its runtime
    settings); `replicas` is what Gantry scales to (K8S_REPLICAS).
  EOT
  type = map(object({
    namespace = string
    replicas  = optional(number, 1)
    config    = optional(map(string), {})
  }))
  default = {
    qa         = { namespace = "shop-qa", config = { LOG_LEVEL = "debug" } }
    staging    = { namespace = "shop-staging", config = { LOG_LEVEL = "info" } }
    production = { namespace = "shop-production", replicas = 3, config = { LOG_LEVEL = "info" } }
  }
  validation {
    condition     = alltrue([for name, env in var.environments : can(regex("^[a-z][a-z0-9-]{0,62}$", name))])
    error_message = "Environment names are gantry.yaml's: lowercase letters, digits and dashes, starting with a letter, at most 63."
  }
  validation {
    condition     = alltrue([for env in values(var.environments) : can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", env.namespace))])
    error_message = "Each namespace must be a Kubernetes name: lowercase letters, digits and '-', at most 63."
  }
  validation {
    condition     = length(distinct([for env in values(var.environments) : env.namespace])) == length(var.environments)
    error_message = "Each environment needs a namespace of its own."
  }
}

variable "port" {
  description = "The port the app listens on in its container (given to it as PORT)."
  type        = number
  default     = 8080
}

variable "health_path" {
  description = "The app's health path: the readiness probe, so that a rollout waits for it."
  type        = string
  default     = "/healthz"
}

variable "aws_region" {
  description = "The AWS region of the ECR registry."
  type        = string
  default     = "eu-west-1"
}

variable "kubeconfig" {
  description = "The kubeconfig Terraform uses (an administrator's, not the deployer's)."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "The kubeconfig context of the cluster; null for the current one."
  type        = string
  default     = null
}
