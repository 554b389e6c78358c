#!/usr/bin/env bats
# The boot script, run unprivileged under a scratch root with aws, curl, ansible-playbook and
# systemctl replaced by stubs that record their calls.

# Each test runs in its own subshell: its exports are meant to stay local to it.
# shellcheck disable=SC2030,SC2031

BOOT_SCRIPT="$BATS_TEST_DIRNAME/../../ansible/roles/boot/files/external-worker-boot"
KEY_MARKER=KEYMATERIAL-b9f2

setup() {
  export EW_ROOT="$BATS_TEST_TMPDIR/root"
  export EW_HEALTH_TIMEOUT=2
  export EW_HEALTH_INTERVAL=1
  export EW_REGISTRATION_TIMEOUT=3
  export EW_REGISTRATION_HOLD=1
  export WORKER_LOG="$EW_ROOT/var/log/concourse-worker.log"
  export FIXTURES="$BATS_TEST_DIRNAME/../fixtures/worker-logs"
  # What the worker logs once started (recorded lines, see test/fixtures/worker-logs).
  export STUB_WORKER_LOG="$FIXTURES/registered.log"
  export CALLS="$BATS_TEST_TMPDIR/calls.log"
  export STATUS="$EW_ROOT/var/lib/external-worker/boot-status.json"
  export LOG="$EW_ROOT/var/log/user-data.log"
  export KEY="$EW_ROOT/etc/concourse/worker_key"
  export KEY_MARKER
  export OUT="$BATS_TEST_TMPDIR"
  mkdir -p "$EW_ROOT/etc/external-worker" "$EW_ROOT/opt/external-worker/ansible" "$BATS_TEST_TMPDIR/bin"
  : >"$CALLS"
  cat >"$EW_ROOT/etc/external-worker/settings.env" <<'SETTINGS'
EW_STACK='ew-test'
EW_PROJECT='external-worker'
EW_ENV='test'
EW_CUSTOMER='acme'
EW_REGION='eu-west-1'
EW_SCHEDULER_API_ADDRESS='https://scheduler.example.com'
EW_SCHEDULER_HOST='scheduler.example.com'
EW_SCHEDULER_PORT='32223'
EW_TSA_PUBLIC_KEY='ssh-rsa AAAATSA tsa'
EW_TEAM_ID='team-a'
EW_WORKER_TAG='tag-a'
EW_WORKER_RUNTIME='containerd'
EW_WORKER_DNS_SERVER=''
EW_WORKER_VERSION=''
EW_WORKER_KEY_PARAMETER='/external-worker/test/worker-key'
EW_LOG_GROUP='/external-worker/test/workers'
EW_FS_VOLUME_TYPE='btrfs'
EW_USE_LOCAL_DEVICE='false'
EW_VAR_LIB_DEVICE='/dev/xvdf'
EW_KEEPRUNNING_DEFAULT='false'
EW_PLAYBOOK_S3_URI='s3://bucket/ansible.zip'
EW_ANSIBLE_VERSION='2.17.7'
SETTINGS

  stub aws <<'STUB'
if [ -n "${STUB_AWS_FAIL:-}" ]; then
  echo "PARTIAL-$KEY_MARKER"
  echo "An error occurred (AccessDeniedException) when calling the GetParameter operation" >&2
  exit 254
fi
if [ -n "${STUB_AWS_BASE64:-}" ]; then
  printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n' "$KEY_MARKER" | base64 -w0
  echo
  exit 0
fi
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n' "$KEY_MARKER"
STUB
  stub curl <<'STUB'
case "$*" in
  *latest/api/token*) echo TOKEN ;;
  *meta-data/instance-id*) echo i-0123456789abcdef0 ;;
  *meta-data/placement/region*) echo eu-west-1 ;;
  # Auto Scaling's target for the instance; absent (HTTP 404) unless the test sets one.
  *meta-data/autoscaling/target-lifecycle-state*)
    if [ -n "${STUB_TARGET_STATE:-}" ]; then echo "$STUB_TARGET_STATE"; else exit 22; fi
    ;;
  *8888*) printf '%s' "${STUB_HEALTH_CODE:-200}" ;;
  *) exit 22 ;;
esac
STUB
  stub ansible-playbook <<'STUB'
cp "$STATUS" "$OUT/status-during-play.json"
args="$*"
cp "${args##*-e @}" "$OUT/boot-vars.yml"
exit "${STUB_ANSIBLE_RC:-0}"
STUB
  # start: the worker starts and writes its log; is-active: running, unless told it was not yet.
  stub systemctl <<'STUB'
if [ "$1" = is-active ]; then
  if [ -n "${STUB_INACTIVE_BEFORE_START:-}" ] && [ ! -e "$OUT/started" ]; then exit 3; fi
  exit "${STUB_ACTIVE_RC:-0}"
fi
if [ "$1" = start ]; then
  touch "$OUT/started"
  mkdir -p "$(dirname "$WORKER_LOG")"
  cat "$STUB_WORKER_LOG" >>"$WORKER_LOG"
fi
exit 0
STUB
  export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
}

# stub NAME: a command that records its arguments, then runs the body read from stdin.
stub() {
  {
    echo '#!/bin/bash'
    echo "echo \"$1 \$*\" >>\"\$CALLS\""
    cat
  } >"$BATS_TEST_TMPDIR/bin/$1"
  chmod +x "$BATS_TEST_TMPDIR/bin/$1"
}

# `! cmd` does not fail a bats test unless it is the last line.
refute() {
  if "$@"; then
    echo "unexpectedly succeeded: $*" >&2
    return 1
  fi
}

status_field() {
  jq -r ".$1" "$STATUS"
}

# A value of the boot vars file, read as YAML with the !unsafe tag kept as plain text.
boot_var() {
  python3 -c '
import sys, yaml
yaml.SafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$BATS_TEST_TMPDIR/boot-vars.yml" "$1"
}

@test "a successful boot ends with status ok and a root-only key file" {
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  [ "$(status_field status)" = ok ]
  [ "$(status_field step)" = "done" ]
  [[ "$(status_field time)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
  [ "$(stat -c %a "$KEY")" = 600 ]
  grep -q "$KEY_MARKER" "$KEY"
  refute grep -q "$KEY_MARKER" "$LOG"
  refute grep -q "$KEY_MARKER" "$STATUS"
  refute grep -q "$KEY_MARKER" "$BATS_TEST_TMPDIR/boot-vars.yml"
  # every step is logged
  [ "$(status_field message)" = "worker registered with the TSA" ]
  for step in settings metadata worker-key boot-play worker-start worker-health worker-registration; do
    grep -q "external-worker-boot\[$step\]" "$LOG"
  done
  grep -q "^aws ssm get-parameter --region eu-west-1 --name /external-worker/test/worker-key --with-decryption" "$CALLS"
  grep -q "^ansible-playbook -c local -i localhost, $EW_ROOT/opt/external-worker/ansible/boot.yml -e @" "$CALLS"
  grep -q "^systemctl start concourse-worker$" "$CALLS"
  [ "$(jq -r .status "$BATS_TEST_TMPDIR/status-during-play.json")" = running ]
  [ "$(jq -r .step "$BATS_TEST_TMPDIR/status-during-play.json")" = boot-play ]
  [ "$(boot_var ew_instance_id)" = i-0123456789abcdef0 ]
  [ "$(boot_var ew_worker_key_file)" = "$KEY" ]
  [ "$(boot_var ew_log_group)" = /external-worker/test/workers ]
  # the IMDS calls carry a session token (IMDSv2)
  grep -q "X-aws-ec2-metadata-token: TOKEN" "$CALLS"
}

@test "keepRunningOnBootFailure creates the keeprunning file, and its absence removes nothing" {
  run "$BOOT_SCRIPT"
  [ ! -e "$EW_ROOT/var/tmp/keeprunning" ]
  sed -i "s/^EW_KEEPRUNNING_DEFAULT=.*/EW_KEEPRUNNING_DEFAULT='true'/" "$EW_ROOT/etc/external-worker/settings.env"
  export STUB_AWS_FAIL=1
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ]
  [ -e "$EW_ROOT/var/tmp/keeprunning" ]
  sed -i "s/^EW_KEEPRUNNING_DEFAULT=.*/EW_KEEPRUNNING_DEFAULT='false'/" "$EW_ROOT/etc/external-worker/settings.env"
  run "$BOOT_SCRIPT"
  [ -e "$EW_ROOT/var/tmp/keeprunning" ]
}

@test "a key fetch failure fails at worker-key and leaks nothing" {
  export STUB_AWS_FAIL=1
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ]
  [ "$(status_field status)" = failed ]
  [ "$(status_field step)" = worker-key ]
  [[ "$(status_field message)" == *"/external-worker/test/worker-key"* ]]
  refute grep -q "$KEY_MARKER" "$LOG"
  refute grep -q "$KEY_MARKER" "$STATUS"
  [ ! -e "$KEY" ]
  [ -z "$(find "$EW_ROOT/etc/concourse" -type f)" ]
  refute grep -q "^ansible-playbook" "$CALLS"
  refute grep -q "^systemctl start" "$CALLS"
}

@test "a base64-encoded key is decoded into the key file" {
  export STUB_AWS_BASE64=1
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  head -n 1 "$KEY" | grep -q -- "-----BEGIN OPENSSH PRIVATE KEY-----"
  refute grep -q "$KEY_MARKER" "$LOG"
}

@test "a worker that never becomes healthy fails after the bound" {
  export STUB_HEALTH_CODE=503
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ]
  [ "$(status_field status)" = failed ]
  [ "$(status_field step)" = worker-health ]
  [[ "$(status_field message)" == *"not healthy after 2s"*"503"* ]]
  [ "$(grep -c "8888" "$CALLS")" -ge 2 ]
}

@test "a worker that exits while starting fails without waiting for the bound" {
  export STUB_HEALTH_CODE=000 STUB_ACTIVE_RC=3 EW_HEALTH_TIMEOUT=300
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ]
  [ "$(status_field step)" = worker-health ]
  [[ "$(status_field message)" == *"concourse-worker is not running"* ]]
}

@test "a failing boot play fails at boot-play" {
  export STUB_ANSIBLE_RC=2
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ]
  [ "$(status_field status)" = failed ]
  [ "$(status_field step)" = boot-play ]
  refute grep -q "^systemctl start" "$CALLS"
}

@test "missing settings fail at the settings step" {
  rm "$EW_ROOT/etc/external-worker/settings.env"
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ]
  [ "$(status_field step)" = settings ]
  [[ "$(status_field message)" == *"missing"* ]]
}

@test "an unreachable instance metadata service fails at the metadata step" {
  stub curl <<'STUB'
exit 7
STUB
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ]
  [ "$(status_field step)" = metadata ]
  [ "$(grep -c "FAILED" "$LOG")" -eq 1 ]
}

@test "running again after a success is harmless" {
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ]
  cp "$KEY" "$BATS_TEST_TMPDIR/first-key"
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  [ "$(status_field status)" = ok ]
  cmp -s "$KEY" "$BATS_TEST_TMPDIR/first-key"
  [ "$(stat -c %a "$KEY")" = 600 ]
  refute grep -Eq "^systemctl (restart|stop|kill)" "$CALLS"
  [ "$(find "$EW_ROOT/etc/concourse" -type f | wc -l)" -eq 1 ]
}

# Ready means registered: the worker's own log, after it started, decides.

registration_fails_with() {
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ] || { cat "$LOG"; false; }
  [ "$(status_field status)" = failed ]
  [ "$(status_field step)" = worker-registration ]
  [[ "$(status_field message)" == *"$1"* ]] || { status_field message; false; }
}

@test "a heartbeat line admits the worker at once" {
  export STUB_WORKER_LOG="$FIXTURES/heartbeated.log" EW_REGISTRATION_HOLD=300
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  [ "$(status_field status)" = ok ]
  grep -q "heartbeat seen" "$LOG"
}

@test "a registration admits the worker once it held without a failure" {
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  grep -q "still so after 1s" "$LOG"
}

@test "a registration that did not hold yet at the deadline is a failure that says so" {
  export EW_REGISTRATION_HOLD=300
  registration_fails_with "registered with the TSA, but for less than 300s after 3s"
}

@test "a refused worker key is a failed boot naming the key" {
  export STUB_WORKER_LOG="$FIXTURES/key-refused.log"
  registration_fails_with "worker key refused by the TSA"
  [[ "$(status_field message)" == *"not registered with the TSA after 3s"*"unable to authenticate"* ]]
  # The cause was in the status as soon as it was known, for a gate whose deadline comes first.
  grep -q "not registered yet: worker key refused by the TSA" "$LOG"
}

@test "a TSA host key other than tsaPublicKey is a failed boot naming it" {
  export STUB_WORKER_LOG="$FIXTURES/host-key-mismatch.log"
  registration_fails_with "the TSA's host key is not the configured tsaPublicKey"
}

@test "an unreachable TSA is a failed boot naming the address that did not answer" {
  export STUB_WORKER_LOG="$FIXTURES/tsa-unreachable.log"
  registration_fails_with "TSA unreachable: dial tcp 203.0.113.10:32223: i/o timeout"
}

@test "a registration the TSA ends (key of another team) fails at once, without waiting for the bound" {
  export STUB_WORKER_LOG="$FIXTURES/team-refused.log" EW_REGISTRATION_TIMEOUT=300
  SECONDS=0
  registration_fails_with "the TSA refused the registration"
  [[ "$(status_field message)" == *"authorized for team team-a"* ]]
  [ "$SECONDS" -lt 30 ]
}

@test "a worker removed right after its registration is a failed boot" {
  export STUB_WORKER_LOG="$FIXTURES/removed.log"
  registration_fails_with "the scheduler removed the worker"
}

@test "a TSA that answers after first failures admits the worker" {
  export STUB_WORKER_LOG="$FIXTURES/recovered.log"
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  [ "$(status_field status)" = ok ]
}

@test "a worker that logs nothing about its registration fails after the bound" {
  export STUB_WORKER_LOG=/dev/null
  registration_fails_with "no registration attempt in $WORKER_LOG"
}

@test "a registration logged by an earlier worker process does not count" {
  mkdir -p "$(dirname "$WORKER_LOG")"
  cp "$FIXTURES/heartbeated.log" "$WORKER_LOG"
  export STUB_INACTIVE_BEFORE_START=1 STUB_WORKER_LOG=/dev/null
  registration_fails_with "no registration attempt"
}

@test "a worker that exits while registering fails with the last cause" {
  export STUB_WORKER_LOG="$FIXTURES/key-refused.log" EW_REGISTRATION_TIMEOUT=300
  stub systemctl <<'STUB'
if [ "$1" = is-active ] && [ -e "$OUT/registering" ]; then exit 3; fi
if [ "$1" = is-active ] && [ -e "$OUT/started" ]; then touch "$OUT/registering"; fi
if [ "$1" = start ]; then touch "$OUT/started"; mkdir -p "$(dirname "$WORKER_LOG")"; cat "$STUB_WORKER_LOG" >>"$WORKER_LOG"; fi
exit 0
STUB
  registration_fails_with "concourse-worker is not running (worker key refused by the TSA"
}

@test "the registration bound is what the launch gate leaves, from bootTimeout and the time since boot" {
  unset EW_REGISTRATION_TIMEOUT
  export STUB_WORKER_LOG="$FIXTURES/heartbeated.log" EW_BOOT_TIMEOUT=900 EW_UPTIME_FILE="$BATS_TEST_TMPDIR/uptime"
  echo "200.53 390.10" >"$EW_UPTIME_FILE"
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  grep -q "waiting up to 640s for the registration with the TSA at scheduler.example.com:32223" "$LOG"
  # Past the gate's deadline already: a short wait, not none.
  echo "5000.00 1.00" >"$EW_UPTIME_FILE"
  run "$BOOT_SCRIPT"
  grep -q "waiting up to 60s for the registration" "$LOG"
}

@test "settings reach Ansible as text: templates, quotes and shell in them are never evaluated" {
  local hostile
  # shellcheck disable=SC2016 # the values are meant literally
  hostile='ssh-rsa AAAA {{ lookup("pipe", "touch '"$BATS_TEST_TMPDIR"'/pwned") }} {% if true %}x{% endif %} $(touch '"$BATS_TEST_TMPDIR"'/pwned) `id` '"'"'q'"'"' "dq"'
  sed -i '/^EW_TSA_PUBLIC_KEY=/d; /^EW_WORKER_TAG=/d' "$EW_ROOT/etc/external-worker/settings.env"
  {
    printf 'EW_TSA_PUBLIC_KEY=%q\n' "$hostile"
    printf 'EW_WORKER_TAG=%q\n' '{{ 7 * 7 }}'
  } >>"$EW_ROOT/etc/external-worker/settings.env"
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  # The real Ansible, on the vars file the boot script wrote, renders the values into a file.
  cat >"$BATS_TEST_TMPDIR/render.yml" <<'PLAY'
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ ew_tsa_public_key }}\n{{ ew_worker_tag }}\n"
        mode: "0644"
PLAY
  run env PATH=/usr/local/bin:/usr/bin:/bin ANSIBLE_NOCOLOR=1 ansible-playbook -c local -i localhost, \
    "$BATS_TEST_TMPDIR/render.yml" -e "@$BATS_TEST_TMPDIR/boot-vars.yml" -e "out=$BATS_TEST_TMPDIR/rendered"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ "$(sed -n 1p "$BATS_TEST_TMPDIR/rendered")" = "$hostile" ]
  [ "$(sed -n 2p "$BATS_TEST_TMPDIR/rendered")" = '{{ 7 * 7 }}' ]
  [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
}

@test "workerEnvironment reaches Ansible as a mapping of literal values" {
  echo "EW_WORKER_ENVIRONMENT='CONCOURSE_CONTAINERD_MAX_CONTAINERS=250 CONCOURSE_LOG_LEVEL=debug CONCOURSE_X=a=b:c/d,e@f+g'" \
    >>"$EW_ROOT/etc/external-worker/settings.env"
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  grep -qx '  CONCOURSE_CONTAINERD_MAX_CONTAINERS: !unsafe "250"' "$BATS_TEST_TMPDIR/boot-vars.yml"
  cat >"$BATS_TEST_TMPDIR/render.yml" <<'PLAY'
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{% for n, v in ew_worker_environment.items() | sort %}{{ n }}={{ v }}\n{% endfor %}"
        mode: "0644"
PLAY
  run env PATH=/usr/local/bin:/usr/bin:/bin ANSIBLE_NOCOLOR=1 ansible-playbook -c local -i localhost, \
    "$BATS_TEST_TMPDIR/render.yml" -e "@$BATS_TEST_TMPDIR/boot-vars.yml" -e "out=$BATS_TEST_TMPDIR/rendered"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ "$(cat "$BATS_TEST_TMPDIR/rendered")" = "CONCOURSE_CONTAINERD_MAX_CONTAINERS=250
CONCOURSE_LOG_LEVEL=debug
CONCOURSE_X=a=b:c/d,e@f+g" ]
}

@test "no workerEnvironment is an empty mapping" {
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  grep -qx 'ew_worker_environment: {}' "$BATS_TEST_TMPDIR/boot-vars.yml"
}

@test "a workerEnvironment pair outside the grammar fails the boot before the play" {
  local bad
  # shellcheck disable=SC2016 # the values are meant literally
  for bad in 'CONCOURSE_X={{7*7}}' 'CONCOURSE_X=$(id)' 'concourse_x=1' 'PATH=/tmp' 'CONCOURSE_X=*' 'CONCOURSE_X='; do
    sed -i '/^EW_WORKER_ENVIRONMENT=/d' "$EW_ROOT/etc/external-worker/settings.env"
    printf 'EW_WORKER_ENVIRONMENT=%q\n' "CONCOURSE_OK=1 $bad" >>"$EW_ROOT/etc/external-worker/settings.env"
    : >"$CALLS"
    run "$BOOT_SCRIPT"
    [ "$status" -eq 1 ] || { echo "accepted: $bad"; false; }
    [ "$(status_field status)" = failed ]
    [ "$(status_field step)" = boot-play ]
    [[ "$(status_field message)" == "setting EW_WORKER_ENVIRONMENT holds"*"not NAME=value of a Concourse worker setting" ]]
    refute grep -q '^ansible-playbook' "$CALLS"
  done
}

# The phases a run logged, in order, from the step names of its log lines.
phases() {
  sed -n 's/.*external-worker-boot\[\([a-z-]*\)\]: .*/\1/p' "$LOG" | uniq | tr '\n' ' '
}

@test "launched into the warm pool: prepared up to the worker's start, which never happens" {
  export STUB_TARGET_STATE=Warmed:Stopped
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  [ "$(status_field status)" = prepared ]
  [ "$(status_field step)" = prepared ]
  [ -e "$EW_ROOT/var/lib/external-worker/prepared" ]
  [ "$(phases)" = "start settings metadata worker-key boot-play prepared " ]
  grep -q "^ansible-playbook " "$CALLS"
  grep -q "$KEY_MARKER" "$KEY"
  refute grep -q "^systemctl" "$CALLS"
  refute grep -q "8888" "$CALLS"
  grep -q "target lifecycle state Warmed:Stopped" "$LOG"
}

@test "a hibernated pool prepares alike" {
  export STUB_TARGET_STATE=Warmed:Hibernated
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ]
  [ "$(status_field status)" = prepared ]
  refute grep -q "^systemctl start" "$CALLS"
}

@test "out of the warm pool into service: only the worker's start, health and registration" {
  export STUB_TARGET_STATE=Warmed:Stopped
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ]
  : >"$CALLS"
  : >"$LOG"
  export STUB_TARGET_STATE=InService
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  [ "$(status_field status)" = ok ]
  [ "$(status_field step)" = "done" ]
  [ "$(phases)" = "start settings metadata worker-start worker-health worker-registration done " ]
  grep -q "boot mode: enter-service" "$LOG"
  refute grep -q "^aws ssm get-parameter" "$CALLS"
  refute grep -q "^ansible-playbook" "$CALLS"
  grep -q "^systemctl start concourse-worker$" "$CALLS"
}

@test "into service with the key file gone: the key is read again, the play is not run" {
  export STUB_TARGET_STATE=Warmed:Stopped
  run "$BOOT_SCRIPT"
  rm -f "$KEY"
  : >"$CALLS"
  export STUB_TARGET_STATE=InService
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  grep -q "^aws ssm get-parameter" "$CALLS"
  grep -q "$KEY_MARKER" "$KEY"
  refute grep -q "^ansible-playbook" "$CALLS"
}

@test "into service with the work dir on the instance store: the play makes it again" {
  sed -i "s/^EW_USE_LOCAL_DEVICE=.*/EW_USE_LOCAL_DEVICE='true'/" "$EW_ROOT/etc/external-worker/settings.env"
  export STUB_TARGET_STATE=Warmed:Stopped
  run "$BOOT_SCRIPT"
  : >"$CALLS"
  export STUB_TARGET_STATE=InService
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  grep -q "^ansible-playbook " "$CALLS"
  refute grep -q "^aws ssm get-parameter" "$CALLS"
}

@test "a cold launch (target InService, never prepared) runs every phase, as without a warm pool" {
  export STUB_TARGET_STATE=InService
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  [ "$(phases)" = "start settings metadata worker-key boot-play worker-start worker-health worker-registration done " ]
  grep -q "boot mode: cold" "$LOG"
  [ ! -e "$EW_ROOT/var/lib/external-worker/prepared" ]
}

@test "a failed preparation is a failed boot, without the marker" {
  export STUB_TARGET_STATE=Warmed:Stopped STUB_ANSIBLE_RC=2
  run "$BOOT_SCRIPT"
  [ "$status" -eq 1 ]
  [ "$(status_field status)" = failed ]
  [ "$(status_field step)" = boot-play ]
  [ ! -e "$EW_ROOT/var/lib/external-worker/prepared" ]
}

@test "out of the pool, the registration bound counts from this start, not from the first boot" {
  unset EW_REGISTRATION_TIMEOUT
  export STUB_TARGET_STATE=Warmed:Stopped EW_BOOT_TIMEOUT=900 EW_UPTIME_FILE="$BATS_TEST_TMPDIR/uptime"
  export STUB_WORKER_LOG="$FIXTURES/heartbeated.log"
  echo "5000.00 1.00" >"$EW_UPTIME_FILE"
  run "$BOOT_SCRIPT"
  export STUB_TARGET_STATE=InService
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  grep -q "waiting up to 8[0-9][0-9]s for the registration" "$LOG"
}

@test "EW_BOOT_ONCE: a second run in the same boot does nothing; a run without it runs" {
  export EW_BOOT_ONCE=1
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ]
  : >"$CALLS"
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ]
  [ ! -s "$CALLS" ]
  grep -q "ran already since this boot" "$LOG"
  unset EW_BOOT_ONCE
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ]
  grep -q "^systemctl start concourse-worker$" "$CALLS"
}

@test "the user data's run and the unit's never overlap: the second waits, then finds the boot done" {
  export EW_BOOT_ONCE=1 STUB_PLAY_SECONDS=2
  stub ansible-playbook <<'STUB'
echo "play-begin $(date +%s.%N)" >>"$OUT/plays"
sleep "$STUB_PLAY_SECONDS"
echo "play-end $(date +%s.%N)" >>"$OUT/plays"
STUB
  "$BOOT_SCRIPT" &
  first=$!
  sleep 0.5
  run "$BOOT_SCRIPT"
  wait "$first"
  [ "$status" -eq 0 ]
  [ "$(grep -c play-begin "$OUT/plays")" -eq 1 ]
  [ "$(status_field status)" = ok ]
  grep -q "ran already since this boot" "$LOG"
}

@test "into service again after a scale-in retired the worker: the retired mark no longer holds it" {
  export STUB_TARGET_STATE=Warmed:Hibernated
  run "$BOOT_SCRIPT"
  mkdir -p "$EW_ROOT/run/external-worker"
  touch "$EW_ROOT/run/external-worker/retired"
  export STUB_TARGET_STATE=InService
  run "$BOOT_SCRIPT"
  [ "$status" -eq 0 ] || { cat "$LOG"; false; }
  [ ! -e "$EW_ROOT/run/external-worker/retired" ]
  # a cold boot leaves a mark a drain left alone
  touch "$EW_ROOT/run/external-worker/retired"
  rm "$EW_ROOT/var/lib/external-worker/prepared"
  run "$BOOT_SCRIPT"
  [ -e "$EW_ROOT/run/external-worker/retired" ]
}
