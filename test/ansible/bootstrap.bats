#!/usr/bin/env bats
# The first-boot bootstrap on a stock image, under a scratch root with stubbed commands: the
# Concourse version it is given (the pin, or the scheduler's answer) decides what runs as root next,
# so anything but a release version is refused before anything is installed or run.

# Stub bodies are written for the stubs to expand, not this file.
# shellcheck disable=SC2016

BOOTSTRAP="$BATS_TEST_DIRNAME/../../infra/userdata/bootstrap.sh"

setup() {
  export EW_ROOT="$BATS_TEST_TMPDIR/root"
  export CALLS="$BATS_TEST_TMPDIR/calls.log"
  export MARKER="$BATS_TEST_TMPDIR/pwned"
  mkdir -p "$EW_ROOT/etc/external-worker" "$EW_ROOT/var/log" "$EW_ROOT/tmp" "$BATS_TEST_TMPDIR/bin"
  : >"$CALLS"
  write_settings ''
  stub curl 'printf "%s" "$ANSWER"'
  stub apt-get ''
  stub aws ''
  stub unzip ''
  # python3 -m venv DIR: a venv whose pip and ansible-playbook are stubs too; the build play
  # installs the boot script.
  stub python3 'mkdir -p "$3/bin"
printf "#!/bin/bash\necho \"pip \$*\" >>\"\$CALLS\"\n" >"$3/bin/pip"
printf "#!/bin/bash\necho \"ansible-playbook \$*\" >>\"\$CALLS\"\nmkdir -p \"\$EW_ROOT/usr/local/sbin\"\nprintf \"#!/bin/bash\\\\necho boot >>\\\\\"\\\\\$CALLS\\\\\"\\\\n\" >\"\$EW_ROOT/usr/local/sbin/external-worker-boot\"\nchmod +x \"\$EW_ROOT/usr/local/sbin/external-worker-boot\"\n" >"$3/bin/ansible-playbook"
chmod +x "$3/bin/pip" "$3/bin/ansible-playbook"'
}

stub() {
  printf '#!/bin/bash\necho "%s $*" >>"$CALLS"\n%s\n' "$1" "$2" >"$BATS_TEST_TMPDIR/bin/$1"
  chmod +x "$BATS_TEST_TMPDIR/bin/$1"
}

write_settings() {
  cat >"$EW_ROOT/etc/external-worker/settings.env" <<SETTINGS
EW_REGION='eu-west-1'
EW_SCHEDULER_API_ADDRESS='https://scheduler.example.com'
EW_WORKER_VERSION=$(printf '%q' "$1")
EW_PLAYBOOK_S3_URI='s3://bucket/ansible.zip'
EW_ANSIBLE_VERSION='2.17.7'
EW_CONCOURSE_VERSION_PATTERN='^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}\$'
SETTINGS
}

bootstrap() {
  run env PATH="$BATS_TEST_TMPDIR/bin:/usr/bin:/bin" EW_ROOT="$EW_ROOT" CALLS="$CALLS" ANSWER="$ANSWER" \
    bash "$BOOTSTRAP"
}

status_field() {
  jq -r ".$1" "$EW_ROOT/var/lib/external-worker/boot-status.json"
}

@test "a release version from the scheduler is built, then the boot script runs" {
  ANSWER='{"version":"7.11.2"}' bootstrap
  [ "$status" -eq 0 ] || { cat "$EW_ROOT/var/log/user-data.log"; false; }
  grep -q -- '-e concourse_version=7.11.2 -e @.*/opt/external-worker/build-vars.json$' "$CALLS"
  # The mirrors and checksums of the settings reach the build play.
  [ -f "$EW_ROOT/opt/external-worker/build-vars.json" ]
  [ "$(tail -n 1 "$CALLS")" = boot ]
}

@test "a pinned version is used without asking the scheduler" {
  write_settings 7.10.0
  ANSWER='{"version":"7.11.2"}' bootstrap
  [ "$status" -eq 0 ]
  grep -q -- '-e concourse_version=7.10.0 -e @' "$CALLS"
  run grep -c '^curl' "$CALLS"
  [ "$output" = 0 ]
}

hostile_versions() {
  # shellcheck disable=SC2016 # the values are meant literally
  printf '%s\0' \
    "7.11.2"$'\n'"\$(touch $MARKER)" \
    "7.11.2; touch $MARKER" \
    "7.11.2'\$(touch $MARKER)'" \
    "\`touch $MARKER\`" \
    "{{ lookup('pipe', 'touch $MARKER') }}" \
    '{% if true %}7.11.2{% endif %}' \
    '7.11.2 -e @/etc/shadow' \
    '7.11.2-rc.1' \
    '7.11' \
    'null'
}

@test "any other answer from the scheduler is refused: nothing installed, nothing run" {
  local version
  while IFS= read -r -d '' version; do
    : >"$CALLS"
    rm -f "$EW_ROOT/var/lib/external-worker/boot-status.json"
    ANSWER=$(jq -cn --arg v "$version" '{version: $v}') bootstrap
    [ "$status" -eq 1 ] || { echo "accepted: $version"; return 1; }
    [ "$(status_field status)" = failed ]
    [ "$(status_field step)" = install ]
    [ "$(grep -cv '^curl' "$CALLS")" = 0 ] || { echo "ran for $version:"; cat "$CALLS"; return 1; }
    [ ! -e "$MARKER" ]
  done < <(hostile_versions)
}

@test "a version that is not a string is refused" {
  ANSWER='{"version":7.11}' bootstrap
  [ "$status" -eq 1 ]
  [ "$(grep -cv '^curl' "$CALLS")" = 0 ]
}

@test "a bad pinned version is refused the same way" {
  write_settings "7.11.2; touch $MARKER"
  ANSWER='{"version":"7.11.2"}' bootstrap
  [ "$status" -eq 1 ]
  [ ! -s "$CALLS" ]
  [ ! -e "$MARKER" ]
}

@test "without a version pattern in the settings nothing is installed" {
  sed -i '/^EW_CONCOURSE_VERSION_PATTERN=/d' "$EW_ROOT/etc/external-worker/settings.env"
  ANSWER='{"version":"7.11.2"}' bootstrap
  [ "$status" -eq 1 ]
  [ ! -s "$CALLS" ]
}
