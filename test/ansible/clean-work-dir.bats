#!/usr/bin/env bats
# The worker's ExecStartPre: an empty work dir at the first start after a boot, untouched after.

CLEAN="$BATS_TEST_DIRNAME/../../ansible/roles/concourse_worker/files/external-worker-clean-work-dir"

setup() {
  export CONCOURSE_WORK_DIR="$BATS_TEST_TMPDIR/data/worker"
  export EW_WORK_DIR_MARKER="$BATS_TEST_TMPDIR/run/work-dir-clean"
}

@test "the first start after a boot clears what a previous boot left" {
  mkdir -p "$CONCOURSE_WORK_DIR/volumes/live/abc"
  touch "$CONCOURSE_WORK_DIR/volumes/live/abc/file"
  run "$CLEAN"
  [ "$status" -eq 0 ]
  [ -d "$CONCOURSE_WORK_DIR" ]
  [ -z "$(ls -A "$CONCOURSE_WORK_DIR")" ]
  [ -e "$EW_WORK_DIR_MARKER" ]
}

@test "a restart in the same boot keeps the work dir" {
  mkdir -p "$CONCOURSE_WORK_DIR/volumes" "$(dirname "$EW_WORK_DIR_MARKER")"
  touch "$EW_WORK_DIR_MARKER" "$CONCOURSE_WORK_DIR/volumes/keep"
  run "$CLEAN"
  [ "$status" -eq 0 ]
  [ -e "$CONCOURSE_WORK_DIR/volumes/keep" ]
}

@test "a missing work dir is created" {
  run "$CLEAN"
  [ "$status" -eq 0 ]
  [ -d "$CONCOURSE_WORK_DIR" ]
}
