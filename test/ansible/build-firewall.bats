#!/usr/bin/env bats
# The build firewall command, with iptables replaced by a stub that records its calls.

FIREWALL="$BATS_TEST_DIRNAME/../../ansible/roles/build_isolation/files/external-worker-build-firewall"

setup() {
  export CALLS="$BATS_TEST_TMPDIR/calls.log"
  : >"$CALLS"
  cat >"$BATS_TEST_TMPDIR/iptables" <<'STUB'
#!/bin/bash
echo "$*" >>"$CALLS"
# -N of an existing chain and -C of a missing rule fail, as iptables does.
case "$*" in
  *" -N "*) [ -n "${STUB_CHAIN_EXISTS:-}" ] && exit 1 ;;
  *" -C "*) [ -n "${STUB_JUMP_EXISTS:-}" ] || exit 1 ;;
esac
exit 0
STUB
  chmod +x "$BATS_TEST_TMPDIR/iptables"
  export EW_IPTABLES="$BATS_TEST_TMPDIR/iptables"
  CONF="$BATS_TEST_TMPDIR/build-firewall.conf"
  write_conf false
}

write_conf() {
  cat >"$CONF" <<CONF
# comment
BUILD_NETWORK=10.80.0.0/16
METADATA_ADDRESS=169.254.169.254
METRICS_PORT=9100
METADATA_REACHABLE=$1
CONF
}

@test "drops builds' packets to the metadata service and to the host's metrics port" {
  run "$FIREWALL" "$CONF"
  [ "$status" -eq 0 ]
  grep -qx -- '-w -t mangle -A EXTERNAL-WORKER-BUILDS -d 169.254.169.254/32 -j DROP' "$CALLS"
  grep -qx -- '-w -t mangle -A EXTERNAL-WORKER-BUILDS -p tcp --dport 9100 -m addrtype --dst-type LOCAL -j DROP' "$CALLS"
  grep -qx -- '-w -t mangle -I PREROUTING 1 -s 10.80.0.0/16 -j EXTERNAL-WORKER-BUILDS' "$CALLS"
}

@test "running again replaces the rules instead of adding a second jump" {
  STUB_CHAIN_EXISTS=1 STUB_JUMP_EXISTS=1 run "$FIREWALL" "$CONF"
  [ "$status" -eq 0 ]
  grep -qx -- '-w -t mangle -F EXTERNAL-WORKER-BUILDS' "$CALLS"
  run grep -c -- '-I PREROUTING' "$CALLS"
  [ "$output" = 0 ]
}

@test "with buildsUseInstanceRole the metadata service stays reachable, the metrics port does not" {
  write_conf true
  run "$FIREWALL" "$CONF"
  [ "$status" -eq 0 ]
  run grep -c -- '169.254.169.254' "$CALLS"
  [ "$output" = 0 ]
  grep -q -- '--dport 9100 -m addrtype --dst-type LOCAL -j DROP' "$CALLS"
}

@test "refuses a configuration it does not understand, and changes nothing" {
  local bad
  # shellcheck disable=SC2016 # the values are meant literally
  for bad in 'BUILD_NETWORK=10.80.0.0/16; reboot' 'BUILD_NETWORK=$(id)' 'METRICS_PORT=99999' \
    'METADATA_REACHABLE=yes' 'METADATA_ADDRESS=169.254.169.254 -j ACCEPT' 'EXTRA=1'; do
    write_conf false
    key=${bad%%=*}
    grep -v "^$key=" "$CONF" >"$CONF.tmp"
    printf '%s\n' "$bad" >>"$CONF.tmp"
    mv "$CONF.tmp" "$CONF"
    : >"$CALLS"
    run "$FIREWALL" "$CONF"
    [ "$status" -eq 1 ] || { echo "accepted: $bad"; return 1; }
    [[ "$output" == *"$key"* ]] || { echo "no key in: $output"; return 1; }
    [ ! -s "$CALLS" ] || { echo "ran iptables for: $bad"; return 1; }
  done
}

@test "a missing configuration is an error" {
  run "$FIREWALL" "$BATS_TEST_TMPDIR/none.conf"
  [ "$status" -eq 1 ]
  [ ! -s "$CALLS" ]
}
