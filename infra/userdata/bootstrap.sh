#!/bin/bash
# Runs at every boot of a worker, after the user data has written /etc/external-worker/settings.env.
# On an AMI baked by the image pipeline the boot script is already installed: run it. On the stock
# Debian AMI of a first deploy, install Ansible, fetch the playbook and run its build play first,
# then the same boot script. Secrets never pass through here: the boot script reads the worker key
# from SSM itself. EW_ROOT prefixes every path (tests run it unprivileged in a scratch directory).
set -euo pipefail
EW_ROOT="${EW_ROOT:-}"
exec >>"$EW_ROOT/var/log/user-data.log" 2>&1
echo "$(date -Is) bootstrap: start"

# shellcheck source=/dev/null
. "$EW_ROOT/etc/external-worker/settings.env"

BOOT_SCRIPT="$EW_ROOT/usr/local/sbin/external-worker-boot"
STATUS_DIR="$EW_ROOT/var/lib/external-worker"
VENV="$EW_ROOT/opt/external-worker/ansible-venv"
PLAYBOOK_DIR="$EW_ROOT/opt/external-worker/ansible"

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
  # The version decides what the build play downloads and runs as root: whatever gives it (the pin
  # or the scheduler's answer), it must match the stack's version pattern before anything is done.
  [ -n "${EW_CONCOURSE_VERSION_PATTERN:-}" ] || fail install "the settings give no version pattern"
  version="${EW_WORKER_VERSION:-}"
  if [ -z "$version" ]; then
    version=$(curl -fsS --max-time 10 --max-filesize 65536 "${EW_SCHEDULER_API_ADDRESS%/}/api/v1/info" |
      jq -r '.version') || fail install "scheduler version unreadable"
  fi
  if ! [[ $version =~ $EW_CONCOURSE_VERSION_PATTERN ]]; then
    fail install "the Concourse version given is not a release version (MAJOR.MINOR.PATCH); nothing installed"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || fail install "apt-get update failed"
  apt-get install -y -q python3-venv curl unzip jq awscli || fail install "apt-get install failed"
  python3 -m venv "$VENV" || fail install "python venv failed"
  "$VENV/bin/pip" install -q "ansible-core==${EW_ANSIBLE_VERSION}" || fail install "ansible install failed"
  mkdir -p "$PLAYBOOK_DIR"
  aws s3 cp --region "$EW_REGION" "$EW_PLAYBOOK_S3_URI" "$EW_ROOT/tmp/external-worker-ansible.zip" || fail install "playbook download failed"
  unzip -q -o "$EW_ROOT/tmp/external-worker-ansible.zip" -d "$PLAYBOOK_DIR" || fail install "playbook unzip failed"
  echo "$(date -Is) bootstrap: Concourse ${version}"
  printf '%s' "${EW_BUILD_VARIABLES:-e30=}" | base64 -d >"$EW_ROOT/opt/external-worker/build-vars.json" ||
    fail install "build variables unreadable"
  "$VENV/bin/ansible-playbook" -c local -i localhost, \
    "$PLAYBOOK_DIR/build.yml" -e "concourse_version=${version}" \
    -e "@$EW_ROOT/opt/external-worker/build-vars.json" || fail install "build play failed"
fi

# The external-worker-boot unit may start it too, once the settings exist: the first run wins.
EW_BOOT_ONCE=1 exec "$BOOT_SCRIPT"
