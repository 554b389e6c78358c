#!/bin/bash
# The Debian 12 root the converge test builds the image into: debootstrap's minbase plus every
# package the playbook's roles install (each `*_packages` list of their defaults) and what a Debian
# cloud image already has. Built once per package list and mirror, then kept in the cache
# (EW_IMAGE_CACHE, by default ~/.cache/external-worker); each run works on a copy of it. The cached
# root has no apt sources: the converge installs nothing from Debian, only from the stand-ins.
# Sourced by converge.bats.

DEBIAN_MIRROR="${EW_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
IMAGE_CACHE="${EW_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/external-worker}"
# On every Debian 12 AMI, so not installed by the playbook: Python and python3-apt for Ansible,
# systemd, sudo for `become`, and the tools the stand-ins replace (kmod, procps).
CLOUD_IMAGE_PACKAGES="python3 python3-apt systemd sudo kmod procps"

playbook_packages() {
  python3 - "$1" <<'PY'
import sys, pathlib, yaml
names = set()
for defaults in sorted(pathlib.Path(sys.argv[1]).glob("roles/*/defaults/main.yml")):
    for key, value in (yaml.safe_load(defaults.read_text()) or {}).items():
        if key.endswith("_packages") and isinstance(value, list):
            names.update(str(v) for v in value)
print(" ".join(sorted(names)))
PY
}

# debootstrap resolves no virtual packages (python3-cryptography needs one): apt installs the rest.
build_root() {
  debootstrap --variant=minbase --include="${CLOUD_IMAGE_PACKAGES// /,}" bookworm "$1" "$DEBIAN_MIRROR" || return 1
  mount -t proc proc "$1/proc" || return 1
  chroot "$1" apt-get update -q || return 1
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive chroot "$1" apt-get install -y -q --no-install-recommends ${2//,/ } || return 1
  umount "$1/proc"
}

# Prints the path of the cached root for the playbook at $1, building it first when needed.
cached_root() {
  local packages key root
  # shellcheck disable=SC2046,SC2086 # one word per package
  packages=$(printf '%s\n' $CLOUD_IMAGE_PACKAGES $(playbook_packages "$1") | sort -u | paste -sd, -)
  key=$(printf 'bookworm minbase %s %s\n' "$DEBIAN_MIRROR" "$packages" | sha256sum | cut -c1-16)
  root="$IMAGE_CACHE/debian12-$key"
  mkdir -p "$IMAGE_CACHE"
  (
    flock 9
    if [ ! -e "$root/.complete" ]; then
      rm -rf "$root.partial"
      echo "# building the Debian 12 root (debootstrap, cached in $root)" >&3
      # debootstrap resolves no virtual packages (python3-cryptography needs one): apt installs the rest.
      if ! build_root "$root.partial" "$packages" >"$IMAGE_CACHE/debootstrap.log" 2>&1; then
        umount "$root.partial/proc" 2>/dev/null
        tail -n 20 "$IMAGE_CACHE/debootstrap.log" >&2
        exit 1
      fi
      chroot "$root.partial" apt-get clean
      : >"$root.partial/etc/apt/sources.list"
      rm -rf "$root.partial"/var/lib/apt/lists/*
      printf '%s\n' "$packages" >"$root.partial/.complete"
      rm -rf "$root"
      mv "$root.partial" "$root"
    fi
  ) 9>"$IMAGE_CACHE/lock" || return 1
  echo "$root"
}
