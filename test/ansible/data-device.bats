#!/usr/bin/env bats
# Which block device holds the worker data, per useLocalDevice and varLibDevice, on a fake /sys and
# /dev with a stubbed nvme command.

bats_require_minimum_version 1.5.0

FIND_DEVICE="$BATS_TEST_DIRNAME/../../ansible/roles/storage/files/external-worker-data-device"

setup() {
  export SYS_ROOT="$BATS_TEST_TMPDIR/sys"
  export DEV_ROOT="$BATS_TEST_TMPDIR/devroot"
  export EW_DEVICE_WAIT=0
  export NVME_NAMES="$BATS_TEST_TMPDIR/nvme-names"
  mkdir -p "$DEV_ROOT/dev" "$NVME_NAMES" "$BATS_TEST_TMPDIR/bin"
  # id-ctrl's vendor area starts at byte 3072 and begins with the attachment name.
  cat >"$BATS_TEST_TMPDIR/bin/nvme" <<'STUB'
#!/bin/bash
name=$(cat "$NVME_NAMES/$(basename "${@: -1}")" 2>/dev/null) || exit 1
head -c 3072 /dev/zero
printf '%-32s' "$name"
STUB
  chmod +x "$BATS_TEST_TMPDIR/bin/nvme"
  export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
}

# disk NAME MODEL [ATTACHMENT-NAME]
disk() {
  mkdir -p "$SYS_ROOT/block/$1/device"
  printf '%-40s\n' "$2" >"$SYS_ROOT/block/$1/device/model"
  touch "$DEV_ROOT/dev/$1"
  if [ -n "${3:-}" ]; then echo "$3" >"$NVME_NAMES/$1"; fi
}

nitro_with_instance_store() {
  disk nvme0n1 "Amazon Elastic Block Store" /dev/xvda
  disk nvme1n1 "Amazon Elastic Block Store" sdf
  disk nvme2n1 "Amazon EC2 NVMe Instance Storage"
  disk nvme3n1 "Amazon EC2 NVMe Instance Storage"
}

@test "useLocalDevice picks the first instance-store disk" {
  nitro_with_instance_store
  run "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/nvme2n1 ]
}

@test "useLocalDevice without an instance store falls back to varLibDevice" {
  disk nvme0n1 "Amazon Elastic Block Store" /dev/xvda
  disk nvme1n1 "Amazon Elastic Block Store" sdf
  run "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = /dev/nvme1n1 ]
}

@test "useLocalDevice without an instance store and nodevice keeps the root volume" {
  disk nvme0n1 "Amazon Elastic Block Store" /dev/xvda
  run --separate-stderr "$FIND_DEVICE" true nodevice
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "nodevice keeps the data on the root volume" {
  nitro_with_instance_store
  run --separate-stderr "$FIND_DEVICE" false nodevice
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "a Xen device name is used as it is" {
  touch "$DEV_ROOT/dev/xvdf"
  run "$FIND_DEVICE" false /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/xvdf ]
}

@test "a udev symlink to the NVMe device is resolved" {
  disk nvme1n1 "Amazon Elastic Block Store" sdf
  ln -s nvme1n1 "$DEV_ROOT/dev/xvdf"
  run "$FIND_DEVICE" false /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/nvme1n1 ]
}

@test "on Nitro the EBS volume is found by its attachment name" {
  nitro_with_instance_store
  run "$FIND_DEVICE" false /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/nvme1n1 ]
  run "$FIND_DEVICE" false /dev/sdf
  [ "$output" = /dev/nvme1n1 ]
}

@test "a volume that never appears is an error" {
  disk nvme0n1 "Amazon Elastic Block Store" /dev/xvda
  run "$FIND_DEVICE" false /dev/xvdg
  [ "$status" -eq 1 ]
  [[ "$output" == *"/dev/xvdg not found"* ]]
}
