#!/bin/bash
# Runs at every boot of a worker, after the user data has written /etc/external-worker/settings.env.
# On an AMI baked by the image pipeline the boot script is already installed: run it. On the stock
# Debian AMI of a first deploy, install Ansible, fetch the playbook and run its build play first,
# then the same boot script. Secrets never pass through here: the boot script reads the worker key
# from SSM itself.
set -euo pipefail
exec >>/var/log/user-data.log 2>&1
echo "$(date -Is) bootstrap: start"

# shellcheck source=/dev/null
. /etc/external-worker/settings.env

BOOT_SCRIPT=/usr/local/sbin/external-worker-boot
STATUS_DIR=/var/lib/external-worker

fail() {
  echo "$(date -Is) bootstrap: failed at $1: $2"
  mkdir -p "$STATUS_DIR"
  printf '{"status":"failed","step":"%s","message":"%s","time":"%s"}\n' "$1" "$2" "$(date -Is)" >"$STATUS_DIR/boot-status.json.tmp"
  mv "$STATUS_DIR/boot-status.json.tmp" "$STATUS_DIR/boot-status.json"
  exit 1
}

if [ ! -x "$BOOT_SCRIPT" ]; then
  echo "$(date -Is) bootstrap: stock image, installing the worker"
  mkdir -p "$STATUS_DIR"
  printf '{"status":"running","step":"install","message":"installing on a stock image","time":"%s"}\n' "$(date -Is)" >"$STATUS_DIR/boot-status.json"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || fail install "apt-get update failed"
  apt-get install -y -q python3-venv curl unzip jq awscli || fail install "apt-get install failed"
  python3 -m venv /opt/external-worker/ansible-venv || fail install "python venv failed"
  /opt/external-worker/ansible-venv/bin/pip install -q "ansible-core==${EW_ANSIBLE_VERSION}" || fail install "ansible install failed"
  mkdir -p /opt/external-worker/ansible
  aws s3 cp --region "$EW_REGION" "$EW_PLAYBOOK_S3_URI" /tmp/external-worker-ansible.zip || fail install "playbook download failed"
  unzip -q -o /tmp/external-worker-ansible.zip -d /opt/external-worker/ansible || fail install "playbook unzip failed"
  version="${EW_WORKER_VERSION:-}"
  if [ -z "$version" ]; then
    version=$(curl -fsS --max-time 10 "${EW_SCHEDULER_API_ADDRESS%/}/api/v1/info" | jq -r '.version') || fail install "scheduler version unreadable"
  fi
  echo "$(date -Is) bootstrap: Concourse ${version}"
  printf '%s' "${EW_BUILD_VARIABLES:-e30=}" | base64 -d >/opt/external-worker/build-vars.json || fail install "build variables unreadable"
  /opt/external-worker/ansible-venv/bin/ansible-playbook -c local -i localhost, \
    /opt/external-worker/ansible/build.yml -e "concourse_version=${version}" \
    -e @/opt/external-worker/build-vars.json || fail install "build play failed"
fi

exec "$BOOT_SCRIPT"
