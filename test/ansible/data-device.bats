#!/usr/bin/env bats
# Which block device holds the worker data, per useLocalDevice and varLibDevice, on a fake /sys and
# /dev with stand-ins for nvme (the controller's vendor data) and mdadm (records its calls, makes
# the array's device node as udev would).
# `run --separate-stderr` sets $stderr.
# shellcheck disable=SC2154

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
  export MDADM_CALLS="$BATS_TEST_TMPDIR/mdadm-calls"
  cat >"$BATS_TEST_TMPDIR/bin/mdadm" <<'STUB'
#!/bin/bash
echo "$*" >>"$MDADM_CALLS"
[ -z "${MDADM_FAILS:-}" ] || { echo "mdadm: cannot open $3: Device or resource busy" >&2; exit 1; }
if [ "$1" = --create ]; then
  mkdir -p "$DEV_ROOT/dev/md"
  touch "$DEV_ROOT/dev/md127"
  ln -s ../md127 "$DEV_ROOT$2"
  echo "mdadm: array $2 started." >&2
fi
STUB
  chmod +x "$BATS_TEST_TMPDIR/bin/mdadm"
  export EW_MOUNTS="$BATS_TEST_TMPDIR/mounts"
  echo "/dev/nvme0n1p1 / ext4 rw,relatime 0 0" >"$EW_MOUNTS"
  export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
}

# instance_store COUNT: NVMe instance-store disks nvme1n1… (after the EBS root nvme0n1).
instance_store() {
  local i
  disk nvme0n1 "Amazon Elastic Block Store" /dev/xvda
  for i in $(seq 1 "$1"); do disk "nvme${i}n1" "Amazon EC2 NVMe Instance Storage"; done
}

# member_of ARRAY DISK…: the kernel has assembled ARRAY from the disks (a reboot).
member_of() {
  local array=$1 name
  shift
  for name in "$@"; do mkdir -p "$SYS_ROOT/block/$name/holders/$array"; done
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

@test "one instance-store disk is used as it is" {
  instance_store 1
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/nvme1n1 ]
  [ ! -e "$MDADM_CALLS" ]
}

@test "two instance-store disks become one RAID0 array" {
  nitro_with_instance_store
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  [ "$output" = /dev/md127 ]
  [ "$(cat "$MDADM_CALLS")" = "--create /dev/md/external-worker --run --level=0 --raid-devices=2 --metadata=1.2 --name=external-worker /dev/nvme2n1 /dev/nvme3n1" ]
  [[ "$stderr" == *"RAID0 /dev/md127 of the 2 instance-store disks /dev/nvme2n1 /dev/nvme3n1"* ]]
}

@test "every instance-store disk of a large type is in the array, in disk order" {
  instance_store 12
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  [ "$output" = /dev/md127 ]
  local expected="" i
  for i in $(seq 1 12); do expected+=" /dev/nvme${i}n1"; done
  [ "$(cat "$MDADM_CALLS")" = "--create /dev/md/external-worker --run --level=0 --raid-devices=12 --metadata=1.2 --name=external-worker$expected" ]
}

@test "an array the kernel assembled already (a reboot) is reused, not made again" {
  instance_store 3
  member_of md126 nvme1n1 nvme2n1 nvme3n1
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/md126 ]
  [ ! -e "$MDADM_CALLS" ]
  [[ "$stderr" == *"already assembled"* ]]
}

@test "a disk outside the assembled array is an error, not a second array" {
  instance_store 3
  member_of md126 nvme1n1 nvme2n1
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ "$stderr" == *"/dev/nvme3n1 not in the array /dev/md126"* ]]
  [ ! -e "$MDADM_CALLS" ]
}

@test "disks in different arrays are an error" {
  instance_store 2
  member_of md126 nvme1n1
  member_of md127 nvme2n1
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"in different arrays (/dev/md126 /dev/md127)"* ]]
}

@test "a failing mdadm is an error" {
  instance_store 2
  MDADM_FAILS=1 run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ "$stderr" == *"mdadm could not make a RAID0 of /dev/nvme1n1 /dev/nvme2n1"* ]]
}

@test "an array device that never appears is an error" {
  instance_store 2
  # shellcheck disable=SC2016 # the stand-in's own $*
  printf '#!/bin/bash\necho "$*" >>"$MDADM_CALLS"\n' >"$BATS_TEST_TMPDIR/bin/mdadm"
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"/dev/md/external-worker did not appear after 0s"* ]]
}

@test "the original's /dev/local0 link to an instance-store disk is that disk, counted once" {
  instance_store 2
  ln -s nvme1n1 "$DEV_ROOT/dev/local0"
  ln -s nvme2n1 "$DEV_ROOT/dev/local1"
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/md127 ]
  [[ "$(cat "$MDADM_CALLS")" == *"--raid-devices=2 "*" /dev/nvme1n1 /dev/nvme2n1" ]]
}

@test "the original's /dev/local0 to a disk of another model is used" {
  disk nvme0n1 "Amazon Elastic Block Store" /dev/xvda
  touch "$DEV_ROOT/dev/sdb"
  ln -s sdb "$DEV_ROOT/dev/local0"
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/sdb ]
}

@test "Xen instance store at the launch template's /dev/xvdg, /dev/xvdh becomes one array" {
  touch "$DEV_ROOT/dev/xvda" "$DEV_ROOT/dev/xvdf" "$DEV_ROOT/dev/xvdg" "$DEV_ROOT/dev/xvdh"
  mkdir -p "$SYS_ROOT/block/xvda/xvda1"
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  [ "$output" = /dev/md127 ]
  [[ "$(cat "$MDADM_CALLS")" == *"--raid-devices=2 "*" /dev/xvdg /dev/xvdh" ]]
}

@test "a virtio /dev/vdb is a local disk" {
  touch "$DEV_ROOT/dev/vda" "$DEV_ROOT/dev/vdb"
  run --separate-stderr "$FIND_DEVICE" true nodevice
  [ "$status" -eq 0 ]
  [ "$output" = /dev/vdb ]
}

@test "an original name that leads to EBS, or to the data volume, is not instance store" {
  disk nvme0n1 "Amazon Elastic Block Store" /dev/xvda
  disk nvme1n1 "Amazon Elastic Block Store" sdf
  disk nvme2n1 "Amazon Elastic Block Store" sdg
  ln -s nvme2n1 "$DEV_ROOT/dev/xvdg"
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/nvme1n1 ]
  # On Xen the data volume itself may sit at one of those names.
  rm -rf "${SYS_ROOT:?}" "${DEV_ROOT:?}/dev"/*
  touch "$DEV_ROOT/dev/xvdg"
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdg
  [ "$status" -eq 0 ]
  [ "$output" = /dev/xvdg ]
  [[ "$stderr" == *"no instance store; using /dev/xvdg instead"* ]]
}

@test "a disk with partitions or a mount is left alone" {
  instance_store 2
  mkdir -p "$SYS_ROOT/block/nvme2n1/nvme2n1p1"
  touch "$DEV_ROOT/dev/vdb"
  echo "/dev/vdb /mnt ext4 rw 0 0" >>"$EW_MOUNTS"
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/nvme1n1 ]
  [[ "$stderr" == *"/dev/nvme2n1 has partitions or is mounted: left alone"* ]]
  [[ "$stderr" == *"/dev/vdb has partitions or is mounted: left alone"* ]]
}

@test "useLocalDevice without an instance store falls back to varLibDevice, and says so" {
  disk nvme0n1 "Amazon Elastic Block Store" /dev/xvda
  disk nvme1n1 "Amazon Elastic Block Store" sdf
  run --separate-stderr "$FIND_DEVICE" true /dev/xvdf
  [ "$status" -eq 0 ]
  [ "$output" = /dev/nvme1n1 ]
  [ "$stderr" = "external-worker-data-device: useLocalDevice: this instance type has no instance store; using /dev/xvdf instead" ]
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
