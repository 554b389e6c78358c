#!/usr/bin/env bats
# The retire command the drain runs through SSM, against a fake worker process.

RETIRE="$BATS_TEST_DIRNAME/../../ansible/roles/concourse_worker/files/external-worker-retire"

setup() {
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  export SIGNALLED="$BATS_TEST_TMPDIR/signalled"
  export READY="$BATS_TEST_TMPDIR/ready"
  export MAIN_PID_FILE="$BATS_TEST_TMPDIR/main-pid"
  echo 0 >"$MAIN_PID_FILE"
  export EW_RETIRED_FILE="$BATS_TEST_TMPDIR/run/retired"
  cat >"$BATS_TEST_TMPDIR/bin/systemctl" <<'STUB'
#!/bin/bash
[ "$1" = show ] && cat "$MAIN_PID_FILE"
STUB
  chmod +x "$BATS_TEST_TMPDIR/bin/systemctl"
  export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
  unset MAINPID
}

teardown() {
  if [ -n "${worker:-}" ]; then kill "$worker" 2>/dev/null || true; fi
}

# A worker that, like Concourse, exits some time after SIGUSR2.
start_worker() {
  # Short sleeps, and no inherited output: the test run never waits on a leftover process.
  bash -c 'trap "touch \"\$SIGNALLED\"; end=\$((SECONDS + $1)); while [ \$SECONDS -lt \$end ]; do sleep 0.1; done; exit 0" USR2
    touch "$READY"; while :; do sleep 0.1; done' _ "$1" >/dev/null 2>&1 3>&- &
  worker=$!
  echo "$worker" >"$MAIN_PID_FILE"
  # signalled before its trap is set, it would just die
  for _ in $(seq 100); do [ -e "$READY" ] && return 0; sleep 0.1; done
  return 1
}

@test "signals the worker and returns at once" {
  start_worker 30
  run "$RETIRE"
  [ "$status" -eq 0 ]
  [[ "$output" == *"retiring concourse-worker (pid $worker)"* ]]
  for _ in $(seq 50); do [ -e "$SIGNALLED" ] && break; sleep 0.1; done
  [ -e "$SIGNALLED" ]
  kill -0 "$worker"
  # and keeps systemd from starting it again
  [ -e "$EW_RETIRED_FILE" ]
}

@test "exits 0 when the worker is not running, and keeps it down" {
  run "$RETIRE"
  [ "$status" -eq 0 ]
  [[ "$output" == *"not running"* ]]
  [ -e "$EW_RETIRED_FILE" ]
}

@test "exits 0 when the recorded process is gone" {
  echo 999999 >"$MAIN_PID_FILE"
  run "$RETIRE"
  [ "$status" -eq 0 ]
  [[ "$output" == *"not running"* ]]
}

@test "as ExecStop, waits for the worker to exit" {
  start_worker 1
  MAINPID=$worker run "$RETIRE" --wait 30
  [ "$status" -eq 0 ]
  [ -e "$SIGNALLED" ]
  # a plain stop does not keep the worker from being started again
  [ ! -e "$EW_RETIRED_FILE" ]
  run kill -0 "$worker"
  [ "$status" -ne 0 ]
}

@test "as ExecStop, gives up after the bound" {
  start_worker 60
  MAINPID=$worker run "$RETIRE" --wait 2
  [ "$status" -eq 0 ]
  kill -0 "$worker"
}
