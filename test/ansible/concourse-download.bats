#!/usr/bin/env bats
# The Concourse download of the build play (roles/concourse_worker/tasks/download.yml) against a
# local stand-in of the release server: the tarball of the host's architecture, and a clear failure
# for a version that publishes none for it (linux-arm64 tarballs exist from some 7.x release on).

ANSIBLE_DIR="$BATS_TEST_DIRNAME/../../ansible"
STANDINS="$BATS_TEST_DIRNAME/../image/standins.py"

setup() {
  # The role's files belong to root, as on a build instance.
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  FILES="$BATS_TEST_TMPDIR/files"
  STATE="$BATS_TEST_TMPDIR/state"
  DOWNLOADS="$BATS_TEST_TMPDIR/downloads"
  mkdir -p "$FILES" "$STATE"
  # 7.12.1 publishes both architectures, 7.10.0 amd64 only.
  release 7.12.1 amd64
  release 7.12.1 arm64
  release 7.10.0 amd64
  python3 "$STANDINS" 0 "$FILES" "$STATE" 3>&- &
  echo $! >"$STATE/standins.pid"
  for _ in $(seq 50); do [ -s "$STATE/standins.ready" ] && break; sleep 0.1; done
  BASE="http://127.0.0.1:$(cat "$STATE/standins.ready")/files/concourse"
  cat >"$BATS_TEST_TMPDIR/download.yml" <<'PLAY'
---
- name: Download Concourse
  hosts: localhost
  connection: local
  gather_facts: true
  tasks:
    - name: Download the release
      ansible.builtin.include_role:
        name: concourse_worker
        tasks_from: download
PLAY
}

teardown() {
  if [ -f "$STATE/standins.pid" ]; then kill "$(cat "$STATE/standins.pid")" 2>/dev/null || true; fi
}

release() {
  local version=$1 arch=$2 dir="$FILES/concourse/v$1"
  mkdir -p "$dir"
  echo "concourse $version $arch (stand-in)" >"$dir/concourse-$version-linux-$arch.tgz"
  (cd "$dir" && sha1sum "concourse-$version-linux-$arch.tgz" >"concourse-$version-linux-$arch.tgz.sha1")
}

download() {
  run env ANSIBLE_ROLES_PATH="$ANSIBLE_DIR/roles" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
    ansible-playbook -i localhost, "$BATS_TEST_TMPDIR/download.yml" \
    -e concourse_release_base="$BASE" -e concourse_download_dir="$DOWNLOADS" "$@"
}

@test "a version without a linux-arm64 tarball fails saying so, and downloads nothing" {
  download -e concourse_version=7.10.0 -e concourse_arch=arm64
  [ "$status" -ne 0 ]
  [[ "$output" == *"Concourse 7.10.0 publishes no linux-arm64 tarball"* ]]
  # Asked for, never fetched: no checksum file, no tarball.
  grep -q "^HEAD /files/concourse/v7.10.0/concourse-7.10.0-linux-arm64.tgz$" "$STATE/requests.log"
  run grep -v "^HEAD " "$STATE/requests.log"
  [ "$status" -eq 1 ]
  [ -z "$(ls -A "$DOWNLOADS")" ]
}

@test "the arm64 tarball of a version that has one, checked against its published SHA-1" {
  download -e concourse_version=7.12.1 -e concourse_arch=arm64
  [ "$status" -eq 0 ]
  grep -q "^GET /files/concourse/v7.12.1/concourse-7.12.1-linux-arm64.tgz.sha1$" "$STATE/requests.log"
  grep -q "^GET /files/concourse/v7.12.1/concourse-7.12.1-linux-arm64.tgz$" "$STATE/requests.log"
  [ "$(cat "$DOWNLOADS/concourse-7.12.1-linux-arm64.tgz")" = "concourse 7.12.1 arm64 (stand-in)" ]
}

@test "a configured sha256 is enforced on the arm64 tarball too" {
  download -e concourse_version=7.12.1 -e concourse_arch=arm64 \
    -e '{"concourse_sha256": {"7.12.1": "0000000000000000000000000000000000000000000000000000000000000000"}}'
  [ "$status" -ne 0 ]
  [[ "$output" == *"checksum"* ]]
  [ ! -e "$DOWNLOADS/concourse-7.12.1-linux-arm64.tgz" ]
}

@test "unless told, the architecture is the host's" {
  local arch
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) skip "no Concourse release for $(uname -m)" ;;
  esac
  download -e concourse_version=7.12.1
  [ "$status" -eq 0 ]
  [ "$(cat "$DOWNLOADS/concourse-7.12.1-linux-$arch.tgz")" = "concourse 7.12.1 $arch (stand-in)" ]
  run grep -v "linux-$arch" "$STATE/requests.log"
  [ "$status" -eq 1 ]
}
