#!/bin/bash
# Runs on the Packer build instance: installs ansible-core in a venv (the same place the first boot
# on a stock image puts it) and runs the build play, as Image Builder does.
set -euo pipefail

: "${ANSIBLE_VERSION:?}" "${CONCOURSE_VERSION:?}" "${PLAYBOOK_DIR:?}" "${BUILD_VARIABLES:=e30=}"
venv=/opt/external-worker/ansible-venv

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3-venv
if [ ! -x "$venv/bin/ansible-playbook" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q "ansible-core==${ANSIBLE_VERSION}"

# Mirrors and checksums (base64 JSON of playbook variables, from worker.pkr.hcl).
printf '%s' "$BUILD_VARIABLES" | base64 -d >/opt/external-worker/build-vars.json

cd "$PLAYBOOK_DIR"
ANSIBLE_NOCOLOR=1 PYTHONUNBUFFERED=1 "$venv/bin/ansible-playbook" -c local -i localhost, build.yml \
  -e "concourse_version=${CONCOURSE_VERSION}" -e @/opt/external-worker/build-vars.json

rm -rf "$PLAYBOOK_DIR"
