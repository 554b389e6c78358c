# The worker AMI built with Packer, from the same playbook as the Image Builder pipeline: for a
# build outside the stack (another account, a local test). Written for Packer 1.6.6 (Debian 12's)
# and later. Packer 1.6 has no `required_plugins` and fails on a file that declares one: the block
# for Packer >= 1.7 lives in plugins.pkr.hcl.example; copy it to plugins.pkr.hcl there.
#
#   packer build -var region=eu-west-1 -var subnet_id=subnet-0123 -var concourse_version=7.11.2 .
#   (-var architecture=arm64 for Graviton workers)

variable "region" {
  type        = string
  description = "AWS region to build in."
  default     = "eu-west-1"
}

variable "subnet_id" {
  type        = string
  description = "Subnet of the build instance (needs internet access); empty for the default VPC."
  default     = ""
}

variable "concourse_version" {
  type        = string
  description = "Concourse worker version, the scheduler's (GET <scheduler>/api/v1/info)."
}

# The same mirrors and checksums as the stack's artifactMirrors and concourseChecksums keys
# (README.md, Configuration), e.g. -var 'artifact_mirrors={gems="https://gems.example.com"}'.
variable "artifact_mirrors" {
  type        = map(string)
  description = "Mirror base URLs by artifact: concourse, telegrafRepository, telegrafKey, ssmAgent, gems."
  default     = {}
}

variable "concourse_checksums" {
  type        = map(string)
  description = "sha256 of the Concourse linux-<architecture> tarball by version."
  default     = {}
}

# Graviton instance types are arm64 (README.md, Configuration): the source AMI, the build instance
# and every binary follow this.
variable "architecture" {
  type        = string
  description = "Architecture of the workers: amd64 or arm64 (Graviton)."
  default     = "amd64"
}

variable "ansible_version" {
  type        = string
  description = "ansible-core version installed on the build instance to run the playbook."
  default     = "2.17.7"
}

variable "instance_type" {
  type        = string
  description = "Build instance type, of the architecture; empty for c5.large (amd64) or c7g.large (arm64)."
  default     = ""
}

variable "project" {
  type    = string
  default = "external-worker"
}

variable "env" {
  type    = string
  default = "prod"
}

locals {
  timestamp = formatdate("YYYYMMDDhhmmss", timestamp())
  # EC2's name of each architecture, and a build instance of it; another value fails here.
  ec2_architecture = { amd64 = "x86_64", arm64 = "arm64" }[var.architecture]
  instance_type    = var.instance_type != "" ? var.instance_type : { amd64 = "c5.large", arm64 = "c7g.large" }[var.architecture]
  # The playbook's variable for each mirror (infra/build-variables.ts has the same map).
  mirror_variables = {
    concourse          = "concourse_release_base"
    telegrafRepository = "telegraf_apt_repository_url"
    telegrafKey        = "telegraf_apt_key_url"
    ssmAgent           = "ssm_agent_base_url"
    gems               = "fluentd_gem_source"
  }
  build_variables = merge(
    { worker_architecture = var.architecture },
    { for name, url in var.artifact_mirrors : local.mirror_variables[name] => trimsuffix(url, "/") },
    length(var.concourse_checksums) > 0 ? { concourse_sha256 = var.concourse_checksums } : {},
  )
}

source "amazon-ebs" "worker" {
  region                      = var.region
  subnet_id                   = var.subnet_id
  instance_type               = local.instance_type
  associate_public_ip_address = true
  ssh_username                = "admin"
  ami_name                    = "${var.project}_worker_${var.env}_${local.timestamp}"
  ami_description             = "Concourse worker ${var.concourse_version} (${var.architecture}) for ${var.project} ${var.env}"

  source_ami_filter {
    owners      = ["136693071363"]
    most_recent = true
    filters = {
      name                = "debian-12-${var.architecture}-*"
      architecture        = local.ec2_architecture
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
  }

  tags = {
    Name              = "${var.project}_worker_${var.env}"
    project           = var.project
    env               = var.env
    role              = "worker"
    concourse_version = var.concourse_version
    architecture      = var.architecture
    built_by          = "packer"
  }
}

build {
  sources = ["source.amazon-ebs.worker"]

  provisioner "shell" {
    inline = ["mkdir -p /tmp/external-worker-ansible"]
  }

  provisioner "file" {
    source      = "${path.root}/../ansible/"
    destination = "/tmp/external-worker-ansible"
  }

  provisioner "shell" {
    script          = "${path.root}/provision.sh"
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    environment_vars = [
      "ANSIBLE_VERSION=${var.ansible_version}",
      "CONCOURSE_VERSION=${var.concourse_version}",
      "BUILD_VARIABLES=${base64encode(jsonencode(local.build_variables))}",
      "PLAYBOOK_DIR=/tmp/external-worker-ansible",
    ]
  }
}
