#!/usr/bin/env bash
# What the tests need beyond npm: the Debian tools of the Ansible, shell, Packer and image checks,
# and moto_server for the integration tests. Installs the Debian packages when it can (root with
# apt-get), otherwise stops with the one command to run. Silent when everything is there.
set -euo pipefail

# tool on the PATH → the Debian 12 package that provides it
declare -A package_of=(
  [shellcheck]=shellcheck
  [yamllint]=yamllint
  [ansible-playbook]=ansible-core
  [ansible-lint]=ansible-lint
  [bats]=bats
  [packer]=packer
  [jq]=jq
  [debootstrap]=debootstrap
  # the image converge test: a local apt repository of stand-ins, signed
  [dpkg-scanpackages]=dpkg-dev
  [gpg]=gpg
)
MOTO_VERSION=5.2.1

have() {
  # debootstrap lives in /usr/sbin, which a non-root PATH may lack.
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

# The template checks import Jinja2 with the Python that runs Ansible (its shebang).
ansible_python() {
  local playbook interpreter
  playbook=$(command -v ansible-playbook 2>/dev/null) || return 1
  read -r interpreter <"$playbook" || return 1
  interpreter=${interpreter#\#!}
  read -r -a interpreter <<<"$interpreter"
  if [ "${interpreter[0]}" = /usr/bin/env ]; then echo "${interpreter[1]:-python3}"; else echo "${interpreter[0]}"; fi
}

missing_packages() {
  local tool python
  for tool in "${!package_of[@]}"; do
    have "$tool" || echo "${package_of[$tool]}"
  done
  python=$(ansible_python) || python=python3
  "$python" -c 'import jinja2' >/dev/null 2>&1 || echo python3-jinja2
  # The image converge test's chroot connection comes with the full Ansible package (community.general).
  ansible-doc -t connection community.general.chroot >/dev/null 2>&1 || echo ansible
}

mapfile -t missing < <(missing_packages | sort -u)
if [ "${#missing[@]}" -gt 0 ]; then
  install="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "missing test tools; run: sudo apt-get update && sudo $install" >&2
    exit 1
  fi
  echo "installing ${missing[*]} (apt-get)"
  log=$(mktemp)
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive $install; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "could not install the test tools; run: apt-get update && $install" >&2
    exit 1
  fi
  rm -f "$log"
  mapfile -t still < <(missing_packages | sort -u)
  if [ "${#still[@]}" -gt 0 ]; then
    echo "still missing after apt-get: ${still[*]}" >&2
    exit 1
  fi
fi

if ! command -v moto_server >/dev/null 2>&1; then
  echo "moto_server is not on the PATH; run: pip install 'moto[server]==$MOTO_VERSION'" >&2
  exit 1
fi
