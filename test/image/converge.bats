#!/usr/bin/env bats
# The worker image converged for real, as the original stack's molecule tests did: ansible/build.yml
# run through the chroot connection into a Debian 12 root made with debootstrap, every download
# served on 127.0.0.1 by stand-ins reached through the playbook's own variables, then checked; a
# second run must change nothing; then the boot script runs inside with stand-ins for the instance
# metadata (IMDSv2) and SSM (moto). Root only (chroot, debootstrap): `npm run test:image`.
#
# The root shares the host's kernel: the commands that would change it (sysctl, modprobe) are
# stand-ins in /usr/local/sbin of the root that record their calls, and the plays run in a UTS
# namespace of their own so that naming the instance does not rename the host.

bats_require_minimum_version 1.5.0

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
ANSIBLE_DIR="$REPO/ansible"
COMPONENT="$REPO/infra/image/worker-component.yml"
UNITS="concourse-worker fluentd telegraf amazon-ssm-agent rsyslog"
KEY_PARAMETER=/external-worker/prod/worker-key

pinned() {
  python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' \
    "$ANSIBLE_DIR/roles/$1/defaults/main.yml" "$2"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {
  for _ in $(seq 100); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  echo "$2 did not start" >&2
  return 1
}

clean_env() {
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

# build.yml into the root, through the chroot connection (the play says `connection: local`: the
# connection variables override it).
converge() {
  clean_env ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_PIPELINING=1 \
    unshare --uts ansible-playbook -i localhost, "$ANSIBLE_DIR/build.yml" \
    -e ansible_connection=community.general.chroot -e "ansible_host=$ROOT" \
    -e ansible_python_interpreter=/usr/bin/python3 -e "@$VARS"
}

# One role of the build play against the converged root, with changed variables.
role_play() {
  local role=$1
  shift
  printf -- '---\n- name: Only %s\n  hosts: localhost\n  become: true\n  roles: [%s]\n' "$role" "$role" >"$WORK/$role.yml"
  clean_env ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PIPELINING=1 "ANSIBLE_ROLES_PATH=$ANSIBLE_DIR/roles" \
    unshare --uts ansible-playbook -i localhost, "$WORK/$role.yml" \
    -e ansible_connection=community.general.chroot -e "ansible_host=$ROOT" \
    -e ansible_python_interpreter=/usr/bin/python3 -e "@$VARS" "$@"
}

in_root() {
  clean_env AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "EW_TEST_SSM_ENDPOINT=$SSM" \
    unshare --uts chroot "$ROOT" "$@"
}

stand_in_commands() {
  local name
  for name in sysctl modprobe; do
    printf '#!/bin/sh\n# test stand-in: the root shares the host kernel\necho "%s $*" >>/var/log/stand-in-calls.log\n' \
      "$name" >"$ROOT/usr/local/sbin/$name"
    chmod 0755 "$ROOT/usr/local/sbin/$name"
  done
  # The real AWS CLI, pointed at the SSM stand-in.
  # shellcheck disable=SC2016 # expanded by the wrapper
  printf '#!/bin/sh\nexec /usr/bin/aws --endpoint-url "$EW_TEST_SSM_ENDPOINT" "$@"\n' >"$ROOT/usr/local/bin/aws"
  chmod 0755 "$ROOT/usr/local/bin/aws"
}

setup_file() {
  if [ "$(id -u)" != 0 ]; then
    export IMAGE_SKIP="needs root"
    echo "# skipped: the image converge test needs root (debootstrap, chroot); .ci/run runs it as root" >&3
    return 0
  fi
  load root.bash
  load artifacts.bash
  local cached
  cached=$(cached_root "$ANSIBLE_DIR")
  export WORK ROOT FILES STATE VARS PORT SSM BASE
  WORK=$(mktemp -d /var/tmp/external-worker-image.XXXXXX)
  ROOT="$WORK/root" FILES="$WORK/files" STATE="$WORK/state" VARS="$WORK/build-vars.json"
  mkdir -p "$FILES" "$STATE" "$ROOT" "$WORK/upper" "$WORK/overlay"
  # The run writes to an overlay: the cached root stays as debootstrap left it. A copy where the
  # kernel has no overlayfs.
  mount -t overlay overlay -o "lowerdir=$cached,upperdir=$WORK/upper,workdir=$WORK/overlay" "$ROOT" 2>/dev/null ||
    cp -a "$cached/." "$ROOT"
  mount -t proc proc "$ROOT/proc"
  stand_in_commands

  PORT=$(free_port)
  python3 "$BATS_TEST_DIRNAME/standins.py" "$PORT" "$FILES" "$STATE" 3>&- &
  echo $! >"$STATE/standins.pid"
  local ssm_port
  ssm_port=$(free_port)
  SSM="http://127.0.0.1:$ssm_port"
  moto_server -H 127.0.0.1 -p "$ssm_port" >"$STATE/moto.log" 2>&1 3>&- &
  echo $! >"$STATE/moto.pid"
  wait_for "$STATE/standins.ready" "the stand-in server"

  export TELEGRAF_VERSION
  TELEGRAF_VERSION=$(pinned telegraf telegraf_version)
  export SSM_AGENT_VERSION
  SSM_AGENT_VERSION=$(pinned ssm_agent ssm_agent_version)
  export FLUENTD_VERSION
  FLUENTD_VERSION=$(pinned fluentd fluentd_version)
  export PLUGIN_VERSION
  PLUGIN_VERSION=$(pinned fluentd fluentd_cloudwatch_plugin_version)
  export SIGDUMP_VERSION
  SIGDUMP_VERSION=$(python3 -c 'import sys, yaml
print(next(g["version"] for g in yaml.safe_load(open(sys.argv[1]))["fluentd_gems"] if g["name"] == "sigdump"))' \
    "$ANSIBLE_DIR/roles/fluentd/defaults/main.yml")
  BASE="http://127.0.0.1:$PORT/files"
  build_artifacts "$FILES" "$ROOT" "$BASE" "$VARS"

  converge >"$STATE/converge-1.log" 2>&1 || {
    tail -n 40 "$STATE/converge-1.log" >&2
    return 1
  }
  cp "$ROOT/var/log/stand-in-calls.log" "$STATE/calls-1.log"
  cp "$STATE/requests.log" "$STATE/requests-1.log"
  converge >"$STATE/converge-2.log" 2>&1 || {
    tail -n 40 "$STATE/converge-2.log" >&2
    return 1
  }
}

setup() {
  [ -z "${IMAGE_SKIP:-}" ] || skip "$IMAGE_SKIP"
}

teardown_file() {
  [ -n "${WORK:-}" ] || return 0
  local pid
  for pid in "$STATE/standins.pid" "$STATE/moto.pid"; do
    [ -e "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
  done
  mountpoint -q "$ROOT/proc" && umount "$ROOT/proc"
  mountpoint -q "$ROOT" && umount "$ROOT"
  if [ -n "${EW_IMAGE_KEEP:-}" ]; then
    echo "# kept $WORK" >&3
  else
    rm -rf --one-file-system "$WORK"
  fi
}

@test "the build play completes" {
  grep -Eq 'localhost +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=0' "$STATE/converge-1.log"
}

@test "a second run changes nothing" {
  grep -Eq 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' "$STATE/converge-2.log" || {
    grep -B2 '^changed:' "$STATE/converge-2.log"
    false
  }
}

@test "every download came from the stand-ins, through the playbook's variables" {
  local log="$STATE/requests-1.log"
  grep -q "^GET /files/concourse/v7.11.2/concourse-7.11.2-linux-amd64.tgz$" "$log"
  grep -q "^GET /files/influxdata/influxdata-archive.key$" "$log"
  grep -q "^GET /files/influxdata/debian/dists/stable/InRelease$" "$log"
  grep -q "^GET /files/influxdata/debian/pool/telegraf_$(pinned telegraf telegraf_version)_amd64.deb$" "$log"
  grep -q "^GET /files/ssm/$(pinned ssm_agent ssm_agent_version)/debian_amd64/amazon-ssm-agent.deb$" "$log"
  grep -q "^GET /files/rubygems/gems/fluentd-$(pinned fluentd fluentd_version).gem$" "$log"
  grep -q "^GET /files/rubygems/gems/sigdump-" "$log"
  # The configured sha256 was used, not the SHA-1 published beside the tarball.
  run ! grep -q '\.sha1$' "$log"
}

@test "the units are installed and enabled" {
  local unit link
  # The boot script at every start, and after a resume from hibernation.
  [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/external-worker-boot.service" ]
  [ -L "$ROOT/etc/systemd/system/hibernate.target.wants/external-worker-resume.service" ]
  for unit in $UNITS; do
    link="$ROOT/etc/systemd/system/multi-user.target.wants/$unit.service"
    [ -L "$link" ] || { echo "$unit: no multi-user.target.wants link"; false; }
    [ -e "$ROOT$(readlink "$link")" ] || { echo "$unit: link to a missing unit $(readlink "$link")"; false; }
    run in_root systemctl is-enabled "$unit"
    [ "$output" = enabled ] || { echo "$unit: $output"; false; }
  done
}

@test "files, owners and modes" {
  local path expected actual
  while read -r path expected; do
    actual=$(stat -c '%U:%G %a %F' "$ROOT$path" 2>&1) || { echo "$path: missing"; false; }
    [ "$actual" = "$expected" ] || { echo "$path: $actual, expected $expected"; false; }
  done <<'FILES'
/usr/local/concourse/bin/concourse root:root 755 regular file
/usr/local/sbin/external-worker-boot root:root 755 regular file
/usr/local/sbin/external-worker-retire root:root 755 regular file
/usr/local/sbin/external-worker-clean-work-dir root:root 755 regular file
/usr/local/sbin/external-worker-data-device root:root 755 regular file
/etc/systemd/system/concourse-worker.service root:root 644 regular file
/etc/systemd/system/fluentd.service root:root 644 regular file
/etc/systemd/system/external-worker-boot.service root:root 644 regular file
/etc/systemd/system/external-worker-resume.service root:root 644 regular file
/etc/concourse root:root 755 directory
/etc/fluent root:root 755 directory
/var/lib/fluentd root:root 700 directory
/etc/telegraf/telegraf.conf root:root 644 regular file
/etc/apt/keyrings/influxdata-archive.asc root:root 644 regular file
/etc/apt/sources.list.d/influxdata.list root:root 644 regular file
/etc/sysctl.d/90-external-worker.conf root:root 644 regular file
/etc/modules-load.d/external-worker.conf root:root 644 regular file
/etc/logrotate.d/external-worker root:root 644 regular file
/opt/external-worker/ansible/boot.yml root:root 644 regular file
/var/lib/external-worker root:root 755 directory
/etc/external-worker root:root 755 directory
FILES
  grep -q "^net.nf_conntrack_max = 524288$" "$ROOT/etc/sysctl.d/90-external-worker.conf"
  grep -q "^deb \[signed-by=/etc/apt/keyrings/influxdata-archive.asc\] http://127.0.0.1:$PORT/files/influxdata/debian stable main$" \
    "$ROOT/etc/apt/sources.list.d/influxdata.list"
  # No configuration before the first boot: the worker and the shipper stay down on a bare image.
  [ ! -e "$ROOT/etc/concourse/worker.env" ]
  [ ! -e "$ROOT/etc/fluent/fluentd.conf" ]
  # The downloads do not stay in the image.
  run ! compgen -G "$ROOT/var/cache/external-worker/*.tgz"
  run ! compgen -G "$ROOT/var/cache/external-worker/*.deb"
  [ ! -e "$ROOT/var/cache/external-worker/gems" ]
}

@test "the pinned packages and gems are the ones installed" {
  # shellcheck disable=SC2016 # dpkg-query's format
  run in_root dpkg-query -W -f '${Version}' telegraf
  [ "$output" = "$(pinned telegraf telegraf_version)" ]
  # shellcheck disable=SC2016 # dpkg-query's format
  run in_root dpkg-query -W -f '${Version}' amazon-ssm-agent
  [ "$output" = "$(pinned ssm_agent ssm_agent_version)" ]
  run in_root /usr/local/bin/fluentd --version
  [ "$output" = "fluentd $(pinned fluentd fluentd_version) (stand-in)" ]
  run in_root gem list --exact --installed fluent-plugin-cloudwatch-logs --version "$(pinned fluentd fluentd_cloudwatch_plugin_version)"
  [ "$status" = 0 ]
}

@test "the kernel settings are applied once, by the first run only" {
  grep -qx "sysctl -p /etc/sysctl.d/90-external-worker.conf" "$STATE/calls-1.log"
  grep -qx "modprobe nf_conntrack" "$STATE/calls-1.log"
  [ "$(grep -c '^sysctl' "$ROOT/var/log/stand-in-calls.log")" = 1 ]
}

# The image's own checks, as Image Builder runs them: the version is resolved by the component's
# step (pinned here), then its validate and test phases run in the root.
@test "the image's validate and test steps pass" {
  local script
  while IFS= read -r -d '' script; do
    run in_root bash -c "$script"
    [ "$status" = 0 ] || { echo "$output"; false; }
  done < <(python3 - "$COMPONENT" "$ANSIBLE_DIR/roles/concourse_worker/defaults/main.yml" <<'PY'
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
# The stack passes the same grammar the playbook checks versions with.
pattern = yaml.safe_load(open(sys.argv[2]))["concourse_version_pattern"]
values = {"PinnedVersion": "7.11.2", "Region": "eu-west-1", "BuildVersionParameter": "/unused",
          "SchedulerApiAddress": "https://scheduler.invalid", "VersionPattern": pattern}
for parameter in doc["parameters"]:
    (name, spec), = parameter.items()
    if name not in values and "default" in spec:
        values[name] = spec["default"]
def value(match):
    if match.group(1) not in values:
        sys.exit(f"component parameter {match.group(1)} has no value in this test: add it")
    return values[match.group(1)]
steps = [s for p in doc["phases"] for s in p["steps"]
         if s["name"] == "ResolveConcourseVersion" or p["name"] in ("validate", "test")]
for step in steps:
    script = step["inputs"]["commands"][0]
    sys.stdout.write(re.sub(r"\{\{ *(\w+) *\}\}", value, script) + "\0")
PY
)
  [ "$(cat "$ROOT/opt/external-worker/concourse-version")" = 7.11.2 ]
}

@test "a signing key other than the pinned one is refused" {
  run role_play telegraf -e "telegraf_apt_key_url=$BASE/influxdata/another.key" \
    -e telegraf_apt_key_file=/etc/apt/keyrings/another.asc
  [ "$status" != 0 ]
  [[ "$output" == *"is not the key $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["telegraf_apt_key_fingerprint"])' "$VARS")"* ]]
}

@test "a key file that holds a second key is refused" {
  run role_play telegraf -e "telegraf_apt_key_url=$BASE/influxdata/both.key" \
    -e telegraf_apt_key_file=/etc/apt/keyrings/both.asc
  [ "$status" != 0 ]
  [[ "$output" == *"is not the key"* ]]
}

@test "a Telegraf package other than the pinned one is refused" {
  run role_play telegraf -e "telegraf_sha256=$(printf '0%.0s' $(seq 64))"
  [ "$status" != 0 ]
  [[ "$output" == *"is not the package with sha256"* ]]
}

@test "a Concourse tarball that does not match its configured checksum is refused" {
  run role_play concourse_worker -e concourse_version=7.11.3 \
    -e "{\"concourse_sha256\": {\"7.11.3\": \"$(printf '0%.0s' $(seq 64))\"}}"
  [ "$status" != 0 ]
  [[ "$output" == *"did not match"* ]]
  # The installed worker is left as it was.
  [ "$(in_root /usr/local/concourse/bin/concourse --version)" = 7.11.2 ]
}

# An empty sha256 is allowed: the package is then the one the index signed by the pinned key lists
# for the pinned version, and the build log says that it is not checksum-pinned.
@test "an unpinned Telegraf installs from the signed index, with a warning" {
  in_root dpkg --purge telegraf >/dev/null
  # No copy of the package left from the first install: apt downloads it again.
  in_root apt-get clean
  : >"$STATE/requests.log"
  run role_play telegraf -e telegraf_sha256=
  [ "$status" = 0 ] || { echo "$output" | tail -n 30; false; }
  [[ "$output" == *"WARNING: not checksum-pinned: telegraf $TELEGRAF_VERSION (telegraf_sha256 is empty)"* ]]
  grep -q "^GET /files/influxdata/debian/pool/telegraf_${TELEGRAF_VERSION}_amd64.deb$" "$STATE/requests.log"
  # shellcheck disable=SC2016 # dpkg-query's format
  run in_root dpkg-query -W -f '${Version}' telegraf
  [ "$output" = "$TELEGRAF_VERSION" ]
}

@test "an unpinned download is refused over plain http, a malformed sha256 always" {
  run role_play ssm_agent -e ssm_agent_sha256=
  [ "$status" != 0 ]
  [[ "$output" == *"ssm_agent_base_url must be an https URL, not $BASE/ssm"* ]]
  run role_play ssm_agent -e ssm_agent_sha256=abc
  [ "$status" != 0 ]
  [[ "$output" == *"ssm_agent_sha256 is 64 hex digits or empty"* ]]
  run role_play telegraf -e "telegraf_sha256=$(printf 'A%.0s' $(seq 64))"
  [ "$status" != 0 ]
  [[ "$output" == *"telegraf_sha256 is 64 hex digits or empty"* ]]
}

# The build firewall: installed and enabled by the build, its rules checked by running the installed
# command on the installed configuration with a recording iptables (netfilter is the host's kernel:
# nothing is applied from the chroot).
@test "the build firewall is installed, enabled, and drops builds' packets to the metadata service and tcp/9100" {
  local path expected actual
  while read -r path expected; do
    actual=$(stat -c '%U:%G %a %F' "$ROOT$path" 2>&1) || { echo "$path: missing"; false; }
    [ "$actual" = "$expected" ] || { echo "$path: $actual, expected $expected"; false; }
  done <<'FILES'
/usr/local/sbin/external-worker-build-firewall root:root 755 regular file
/etc/systemd/system/external-worker-build-firewall.service root:root 644 regular file
/etc/external-worker/build-firewall.conf root:root 644 regular file
FILES
  run in_root systemctl is-enabled external-worker-build-firewall
  [ "$output" = enabled ] || { echo "is-enabled: $output"; false; }
  # RequiredBy=concourse-worker.service: the worker does not start without the rules.
  [ -L "$ROOT/etc/systemd/system/concourse-worker.service.requires/external-worker-build-firewall.service" ]
  grep -qx "ExecStart=/usr/local/sbin/external-worker-build-firewall /etc/external-worker/build-firewall.conf" \
    "$ROOT/etc/systemd/system/external-worker-build-firewall.service"
  # shellcheck disable=SC2016 # the recorder's own $*
  printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>/var/log/iptables-calls.log\ncase "$*" in *" -C "*) exit 1 ;; esac\n' \
    >"$ROOT/usr/local/sbin/iptables-recorder"
  chmod 0755 "$ROOT/usr/local/sbin/iptables-recorder"
  run in_root env EW_IPTABLES=/usr/local/sbin/iptables-recorder \
    /usr/local/sbin/external-worker-build-firewall /etc/external-worker/build-firewall.conf
  [ "$status" = 0 ] || { echo "$output"; false; }
  local calls="$ROOT/var/log/iptables-calls.log"
  grep -qx -- '-w -t mangle -I PREROUTING 1 -s 10.80.0.0/16 -j EXTERNAL-WORKER-BUILDS' "$calls"
  grep -qx -- '-w -t mangle -A EXTERNAL-WORKER-BUILDS -d 169.254.169.254/32 -j DROP' "$calls"
  grep -qx -- '-w -t mangle -A EXTERNAL-WORKER-BUILDS -p tcp --dport 9100 -m addrtype --dst-type LOCAL -j DROP' "$calls"
  # Only drops: nothing that lets a build through.
  run grep -E -- '-j (ACCEPT|RETURN)' "$calls"
  [ "$status" = 1 ]
}

write_settings() {
  cat >"$ROOT/etc/external-worker/settings.env" <<SETTINGS
EW_STACK='external-worker-prod'
EW_PROJECT='external-worker'
EW_ENV='prod'
EW_CUSTOMER='acme'
EW_SCHEDULER_API_ADDRESS='https://scheduler.invalid'
EW_SCHEDULER_HOST='scheduler.invalid'
EW_SCHEDULER_PORT='32223'
EW_TSA_PUBLIC_KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStandIn tsa'
EW_TEAM_ID='team-a'
EW_WORKER_TAG='tag-a'
EW_WORKER_RUNTIME='containerd'
EW_WORKER_DNS_SERVER=''
EW_WORKER_VERSION=''
EW_WORKER_KEY_PARAMETER='$KEY_PARAMETER'
EW_LOG_GROUP='/external-worker/prod/workers'
EW_FS_VOLUME_TYPE='btrfs'
EW_USE_LOCAL_DEVICE='false'
EW_VAR_LIB_DEVICE='nodevice'
EW_KEEPRUNNING_DEFAULT='false'
EW_PLAYBOOK_S3_URI='s3://unused/ansible.zip'
EW_ANSIBLE_VERSION='2.17.7'
SETTINGS
}

# No systemd runs in the root: for the boot script, `systemctl` starts nothing and reports the worker
# active (so that only the health endpoint decides), and records those calls; everything else
# (enable, show, unit files) is the real systemctl's.
systemd_stand_in() {
  [ -e "$ROOT/usr/local/bin/systemctl" ] && return 0
  cat >"$ROOT/usr/local/bin/systemctl" <<'STANDIN'
#!/bin/sh
# test stand-in: no systemd runs in the image test's root
case "$1" in
  start | restart | stop | is-active)
    echo "systemctl $*" >>/var/log/stand-in-calls.log
    # The worker's log as a worker that the TSA registered and heartbeated writes it (lager JSON,
    # the beacon's messages: worker/beacon.go), which the boot script waits for.
    if [ "$1 $2" = "start concourse-worker" ]; then
      for event in registered heartbeated; do
        printf '{"timestamp":"%s","level":"info","source":"worker","message":"worker.beacon-runner.beacon.%s","data":{"session":"4.1"}}\n' \
          "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" "$event" >>/var/log/concourse-worker.log
      done
    fi
    exit 0
    ;;
esac
exec /usr/bin/systemctl "$@"
STANDIN
  chmod 0755 "$ROOT/usr/local/bin/systemctl"
}

boot() {
  systemd_stand_in
  in_root env "EW_IMDS_URL=http://127.0.0.1:$PORT" "EW_HEALTH_URL=http://127.0.0.1:$PORT/health/$1" \
    EW_HEALTH_TIMEOUT=3 EW_HEALTH_INTERVAL=1 /usr/local/sbin/external-worker-boot
}

# The phases of this run, timed from its log lines, for the benchmark: bench/boot-phases.json.
record_boot_phases() {
  local environment
  environment=$(python3 - "$ROOT" <<'PY'
import json, os, platform, subprocess, sys
root = sys.argv[1]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
ansible = subprocess.run(["ansible-playbook", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
print(json.dumps({
    "where": "test/image/converge.bats, test 'boot: the worker comes up healthy'",
    "root": "Debian %s (debootstrap minbase and the playbook's packages), entered with chroot" % open(os.path.join(root, "etc/debian_version")).read().strip(),
    "host": "Linux %s, %d CPUs (%s), shared with other work" % (platform.release(), os.cpu_count(), cpu),
    "ansible": ansible,
    "standIns": "instance metadata (IMDSv2) and downloads: test/image/standins.py on 127.0.0.1; SSM: moto_server on 127.0.0.1; systemctl: a stand-in that starts nothing and writes the worker's registered and heartbeated lines at once; health endpoint: 200 at once, polled every 1 s",
}))
PY
)
  python3 "$BATS_TEST_DIRNAME/boot-phases.py" "$ROOT/var/log/user-data.log" "$1" "$REPO/bench/boot-phases.json" "$environment"
}

status_of() {
  python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print(s["status"], s["step"])' \
    "$ROOT/var/lib/external-worker/boot-status.json"
}

WORKER_KEY='-----BEGIN OPENSSH PRIVATE KEY-----
c3RhbmQtaW4gd29ya2VyIGtleQ==
-----END OPENSSH PRIVATE KEY-----'

put_key() {
  in_root aws ssm put-parameter --region eu-west-1 --name "$KEY_PARAMETER" --type SecureString --overwrite \
    --value "$(printf '%s\n' "$WORKER_KEY" | base64 -w0)" >/dev/null
}

@test "boot: the worker key is missing from SSM" {
  write_settings
  run boot ok
  [ "$status" = 1 ]
  [ "$(status_of)" = "failed worker-key" ]
  [ ! -e "$ROOT/etc/concourse/worker_key" ]
  grep -q "could not read the worker key from SSM parameter $KEY_PARAMETER" "$ROOT/var/log/user-data.log"
}

@test "boot: the worker comes up healthy" {
  write_settings
  put_key
  local offset=0
  [ ! -e "$ROOT/var/log/user-data.log" ] || offset=$(stat -c %s "$ROOT/var/log/user-data.log")
  run boot ok
  [ "$status" = 0 ] || { tail -n 30 "$ROOT/var/log/user-data.log"; false; }
  record_boot_phases "$offset"
  [ "$(status_of)" = "ok done" ]
  [ "$(stat -c '%U:%G %a' "$ROOT/etc/concourse/worker_key")" = "root:root 600" ]
  [ "$(cat "$ROOT/etc/concourse/worker_key")" = "$WORKER_KEY" ]
  # The key never reaches the log.
  run ! grep -q c3RhbmQtaW4gd29ya2VyIGtleQ "$ROOT/var/log/user-data.log"
  grep -qx "CONCOURSE_NAME=external-worker-worker-prod-i-0123456789abcdef0" "$ROOT/etc/concourse/worker.env"
  grep -qx "CONCOURSE_TEAM=team-a" "$ROOT/etc/concourse/worker.env"
  grep -qx "CONCOURSE_BAGGAGECLAIM_DRIVER=overlay" "$ROOT/etc/concourse/worker.env"
  [ "$(stat -c '%a' "$ROOT/etc/concourse/worker.env")" = 640 ]
  grep -q "log_stream_name i-0123456789abcdef0/syslog" "$ROOT/etc/fluent/fluentd.conf"
  [ "$(cat "$ROOT/etc/hostname")" = external-worker-worker-prod-i-0123456789abcdef0 ]
  grep -qx "systemctl start concourse-worker" "$ROOT/var/log/stand-in-calls.log"
  grep -q "worker registered, heartbeat seen" "$ROOT/var/log/user-data.log"
  [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/concourse-worker.service" ]
}

@test "boot: the worker never becomes healthy" {
  write_settings
  put_key
  run boot fail
  [ "$status" = 1 ]
  [ "$(status_of)" = "failed worker-health" ]
  grep -q "FAILED: worker not healthy after 3s (last HTTP status 503)" "$ROOT/var/log/user-data.log"
}

@test "boot: prepared for the warm pool, then started into service" {
  write_settings
  put_key
  : >"$ROOT/var/log/stand-in-calls.log"
  echo Warmed:Stopped >"$STATE/target-lifecycle-state"
  run boot ok
  [ "$status" = 0 ] || { tail -n 30 "$ROOT/var/log/user-data.log"; false; }
  [ "$(status_of)" = "prepared prepared" ]
  [ -e "$ROOT/var/lib/external-worker/prepared" ]
  grep -qx "CONCOURSE_TEAM=team-a" "$ROOT/etc/concourse/worker.env"
  run ! grep -q "start concourse-worker" "$ROOT/var/log/stand-in-calls.log"
  echo InService >"$STATE/target-lifecycle-state"
  run boot ok
  [ "$status" = 0 ] || { tail -n 30 "$ROOT/var/log/user-data.log"; false; }
  [ "$(status_of)" = "ok done" ]
  grep -q "boot mode: enter-service" "$ROOT/var/log/user-data.log"
  grep -qx "systemctl start concourse-worker" "$ROOT/var/log/stand-in-calls.log"
  # The later tests boot cold.
  rm -f "$ROOT/var/lib/external-worker/prepared" "$STATE/target-lifecycle-state"
}

# The installed command with the image's own bash and tools, on a fake /sys and /dev inside the
# root; mdadm is a recording stand-in there (the root shares the host's kernel: no array is made).
@test "storage: several instance-store disks become one RAID0 array" {
  run in_root mdadm --version
  [ "$status" = 0 ] || { echo "mdadm is not installed: $output"; false; }
  local fake="$ROOT/tmp/storage" i
  rm -rf "$fake"
  mkdir -p "$fake/bin" "$fake/devroot/dev" "$fake/sys/block/nvme0n1/device"
  printf '%-40s\n' "Amazon Elastic Block Store" >"$fake/sys/block/nvme0n1/device/model"
  for i in 1 2 3 4; do
    mkdir -p "$fake/sys/block/nvme${i}n1/device"
    printf '%-40s\n' "Amazon EC2 NVMe Instance Storage" >"$fake/sys/block/nvme${i}n1/device/model"
    touch "$fake/devroot/dev/nvme${i}n1"
  done
  cat >"$fake/bin/mdadm" <<'STANDIN'
#!/bin/sh
echo "$*" >/tmp/storage/mdadm-calls
mkdir -p /tmp/storage/devroot/dev/md
touch /tmp/storage/devroot/dev/md127
ln -s ../md127 "/tmp/storage/devroot$2"
STANDIN
  chmod 0755 "$fake/bin/mdadm"
  : >"$fake/mounts"
  run in_root env PATH=/tmp/storage/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin SYS_ROOT=/tmp/storage/sys \
    DEV_ROOT=/tmp/storage/devroot EW_MOUNTS=/tmp/storage/mounts EW_DEVICE_WAIT=0 \
    /usr/local/sbin/external-worker-data-device true /dev/xvdf
  [ "$status" = 0 ] || { echo "$output"; false; }
  [ "${lines[-1]}" = /dev/md127 ]
  [ "$(cat "$fake/mdadm-calls")" = "--create /dev/md/external-worker --run --level=0 --raid-devices=4 --metadata=1.2 --name=external-worker /dev/nvme1n1 /dev/nvme2n1 /dev/nvme3n1 /dev/nvme4n1" ]
  rm -rf "$fake"
}

@test "boot: useLocalDevice without an instance store keeps to varLibDevice and says so" {
  write_settings
  sed -i "s/^EW_USE_LOCAL_DEVICE=.*/EW_USE_LOCAL_DEVICE='true'/" "$ROOT/etc/external-worker/settings.env"
  put_key
  run boot ok
  [ "$status" = 0 ] || { tail -n 30 "$ROOT/var/log/user-data.log"; false; }
  [ "$(status_of)" = "ok done" ]
  grep -q "useLocalDevice: this instance type has no instance store; using nodevice instead" \
    "$ROOT/var/log/user-data.log"
  [ ! -e "$ROOT/etc/systemd/system/var-lib-concourse.mount" ]
}
