# One environment of gantry.yaml: its namespace, the app's ConfigMap, Deployment and Service, and
# the identity Gantry's deploy scripts use there. Every environment is made from this one module,
# so they differ only by the variables below.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.30, < 3.0"
    }
  }
}

variable "app" {
  description = "The app's name: the Deployment, its container, the Service."
  type        = string
}

variable "name" {
  description = "The environment's name in gantry.yaml."
  type        = string
}

variable "namespace" {
  description = "The environment's namespace (K8S_NAMESPACE in gantry.yaml)."
  type        = string
}

variable "config" {
  description = "The app's runtime settings, as a ConfigMap its pods read as environment variables."
  type        = map(string)
  default     = {}
}

variable "port" {
  description = "The port the app listens on in its container."
  type        = number
}

variable "health_path" {
  description = "The readiness probe's HTTP path."
  type        = string
}

variable "initial_image" {
  description = "The image the Deployment is created with, before Gantry's first deployment sets it."
  type        = string
}

locals {
  selector = { "app.kubernetes.io/name" = var.app }
  labels = merge(local.selector, {
    "app.kubernetes.io/managed-by" = "terraform"
    "gantry.dev/environment"       = var.name
  })
}

resource "kubernetes_namespace_v1" "env" {
  metadata {
    name   = var.namespace
    labels = { "gantry.dev/app" = var.app, "gantry.dev/environment" = var.name }
  }
}

resource "kubernetes_config_map_v1" "app" {
  metadata {
    name      = "${var.app}-config"
    namespace = kubernetes_namespace_v1.env.metadata[0].name
    labels    = local.labels
  }
  # Pods read it when they start: a change reaches them with the next deployment.
  data = var.config
}

resource "kubernetes_deployment_v1" "app" {
  metadata {
    name      = var.app
    namespace = kubernetes_namespace_v1.env.metadata[0].name
    labels    = local.labels
  }

  spec {
    replicas                  = 0 # the first deployment scales it to K8S_REPLICAS
    revision_history_limit    = 10
    progress_deadline_seconds = 120

    selector {
      match_labels = local.selector
    }

    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }

    template {
      metadata {
        labels = local.selector
      }
      spec {
        container {
          name  = var.app
          image = var.initial_image

          port {
            name           = "http"
            container_port = var.port
          }
          env {
            name  = "PORT"
            value = tostring(var.port)
          }
          env_from {
            config_map_ref {
              name = kubernetes_config_map_v1.app.metadata[0].name
            }
          }
          readiness_probe {
            http_get {
              path = var.health_path
              port = "http"
            }
            period_seconds = 5
          }
        }
      }
    }
  }

  # Gantry deploys (and waits for) rollouts; Terraform only creates the Deployment.
  wait_for_rollout = false

  lifecycle {
    # Gantry owns these: k8s-deploy.sh sets the image by digest, k8s-stop.sh scales to 0.
    ignore_changes = [
      spec[0].replicas,
      spec[0].template[0].spec[0].container[0].image,
    ]
  }
}

resource "kubernetes_service_v1" "app" {
  metadata {
    name      = var.app
    namespace = kubernetes_namespace_v1.env.metadata[0].name
    labels    = local.labels
  }
  spec {
    selector = local.selector
    port {
      name        = "http"
      port        = 80
      target_port = "http"
    }
  }
}

# What examples/kubernetes/deploy/*.sh may do here, and nothing else (as manifests/deployer-rbac.yaml).
resource "kubernetes_service_account_v1" "deployer" {
  metadata {
    name      = "gantry-deployer"
    namespace = kubernetes_namespace_v1.env.metadata[0].name
  }
}

resource "kubernetes_role_v1" "deployer" {
  metadata {
    name      = "gantry-deployer"
    namespace = kubernetes_namespace_v1.env.metadata[0].name
  }
  rule {
    api_groups = ["apps"]
    resources  = ["deployments"]
    verbs      = ["get", "list", "watch", "patch"]
  }
  rule {
    api_groups = ["apps"]
    resources  = ["deployments/scale"]
    verbs      = ["get", "patch", "update"]
  }
  rule {
    api_groups = ["apps"]
    resources  = ["replicasets"]
    verbs      = ["get", "list"]
  }
}

resource "kubernetes_role_binding_v1" "deployer" {
  metadata {
    name      = "gantry-deployer"
    namespace = kubernetes_namespace_v1.env.metadata[0].name
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role_v1.deployer.metadata[0].name
  }
  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.deployer.metadata[0].name
    namespace = kubernetes_namespace_v1.env.metadata[0].name
  }
}

output "namespace" {
  value = kubernetes_namespace_v1.env.metadata[0].name
}
