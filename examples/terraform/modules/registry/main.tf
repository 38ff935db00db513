# The app's image repository in ECR. Gantry pushes <repository>:<sha> and deploys by digest, so
# tags stay mutable (a `--rebuild` pushes the SHA's tag again) and nothing depends on one.
# For another registry (Harbor, GitLab, a self-hosted distribution) replace this module: the
# environments only need its repository URL.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}

variable "repository" {
  description = "The repository name, e.g. shop."
  type        = string
}

variable "keep_untagged" {
  description = "Untagged images (replaced by a rebuild) kept before the oldest expire. An environment may still run one by digest: keep this generous."
  type        = number
  default     = 100
}

resource "aws_ecr_repository" "app" {
  name                 = var.repository
  image_tag_mutability = "MUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "expire untagged images beyond the newest ${var.keep_untagged}"
      selection = {
        tagStatus   = "untagged"
        countType   = "imageCountMoreThan"
        countNumber = var.keep_untagged
      }
      action = { type = "expire" }
    }]
  })
}

output "repository_url" {
  description = "<account>.dkr.ecr.<region>.amazonaws.com/<repository>"
  value       = aws_ecr_repository.app.repository_url
}

output "registry" {
  description = "The registry host, without the repository."
  value       = split("/", aws_ecr_repository.app.repository_url)[0]
}
