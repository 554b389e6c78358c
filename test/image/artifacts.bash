#!/bin/bash
# Stand-in artifacts for the converge test, built at test time: a Concourse release tarball, a
# signed apt repository with Telegraf, the SSM agent package and a gem source with Fluentd, laid
# out as their real origins (or mirrors of them) serve them. Their checksums are computed here and
# reach the playbook through the same variables as the pinned ones (build-vars.json).
# Sourced by converge.bats; needs dpkg-deb, dpkg-scanpackages, gpg, sha256sum, and Ruby in ROOT.

# The versions are the repository's pins (set by the caller from the role defaults); only the
# content and so the checksums are the stand-ins' own.
CONCOURSE_VERSION=7.11.2

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# A package with a stand-in binary, its systemd unit and (optionally) its configuration file, as
# the real package installs them.
stand_in_deb() {
  local name=$1 version=$2 binary=$3 out=$4 conffile=${5:-} pkg
  pkg=$(mktemp -d)
  mkdir -p "$pkg/DEBIAN" "$pkg$(dirname "$binary")" "$pkg/lib/systemd/system"
  printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: test <test@example.com>\nDescription: stand-in for %s\n' \
    "$name" "$version" "$name" >"$pkg/DEBIAN/control"
  printf '#!/bin/sh\necho "%s %s (stand-in)"\n' "$name" "$version" >"$pkg$binary"
  chmod 0755 "$pkg$binary"
  printf '[Unit]\nDescription=%s (stand-in)\n\n[Service]\nExecStart=%s\n\n[Install]\nWantedBy=multi-user.target\n' \
    "$name" "$binary" >"$pkg/lib/systemd/system/$name.service"
  if [ -n "$conffile" ]; then
    mkdir -p "$pkg$(dirname "$conffile")"
    echo "# $name defaults (stand-in)" >"$pkg$conffile"
    echo "$conffile" >"$pkg/DEBIAN/conffiles"
  fi
  mkdir -p "$(dirname "$out")"
  dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$out" >/dev/null
  rm -rf "$pkg"
}

concourse_release() {
  local version=${2:-$CONCOURSE_VERSION}
  local dir=$1/concourse/v$version tree
  tree=$(mktemp -d)
  mkdir -p "$tree/concourse/bin" "$dir"
  # shellcheck disable=SC2016 # the stand-in's own $1 and $*
  printf '#!/bin/sh\n[ "$1" = --version ] && echo %s && exit 0\necho "concourse stand-in: $*"\n' \
    "$version" >"$tree/concourse/bin/concourse"
  chmod 0755 "$tree/concourse/bin/concourse"
  tar -C "$tree" -czf "$dir/concourse-$version-linux-amd64.tgz" concourse
  (cd "$dir" && sha1sum "concourse-$version-linux-amd64.tgz" >"concourse-$version-linux-amd64.tgz.sha1")
  rm -rf "$tree"
  [ "$version" != "$CONCOURSE_VERSION" ] || CONCOURSE_SHA256=$(sha256 "$dir/concourse-$version-linux-amd64.tgz")
}

# An apt repository signed with a key of its own, at the layout of repos.influxdata.com/debian.
telegraf_repository() {
  local files=$1 repo=$1/influxdata/debian gnupg
  stand_in_deb telegraf "$TELEGRAF_VERSION" /usr/bin/telegraf "$repo/pool/telegraf_${TELEGRAF_VERSION}_amd64.deb" \
    /etc/telegraf/telegraf.conf
  TELEGRAF_SHA256=$(sha256 "$repo/pool/telegraf_${TELEGRAF_VERSION}_amd64.deb")
  mkdir -p "$repo/dists/stable/main/binary-amd64"
  (cd "$repo" && dpkg-scanpackages --multiversion pool /dev/null 2>/dev/null) >"$repo/dists/stable/main/binary-amd64/Packages"
  {
    printf 'Origin: stand-in\nSuite: stable\nCodename: stable\nComponents: main\nArchitectures: amd64\n'
    printf 'Date: %s\nSHA256:\n' "$(date -Ru)"
    printf ' %s %s main/binary-amd64/Packages\n' "$(sha256 "$repo/dists/stable/main/binary-amd64/Packages")" \
      "$(stat -c %s "$repo/dists/stable/main/binary-amd64/Packages")"
  } >"$repo/dists/stable/Release"
  gnupg=$(mktemp -d)
  GNUPGHOME=$gnupg gpg --batch -q --passphrase '' --quick-gen-key 'apt stand-in <apt@example.com>' ed25519 sign never 2>/dev/null
  GNUPGHOME=$gnupg gpg --batch -q --armor --export >"$files/influxdata/influxdata-archive.key"
  GNUPGHOME=$gnupg gpg --batch -q --clearsign -o "$repo/dists/stable/InRelease" "$repo/dists/stable/Release" 2>/dev/null
  TELEGRAF_KEY_FINGERPRINT=$(GNUPGHOME=$gnupg gpg --with-colons --list-keys | awk -F: '/^fpr:/ { print $10; exit }')
  # A second key, to show that the playbook refuses a key file that is not the pinned key.
  GNUPGHOME=$gnupg gpg --batch -q --passphrase '' --quick-gen-key 'another <other@example.com>' ed25519 sign never 2>/dev/null
  GNUPGHOME=$gnupg gpg --batch -q --armor --export 'another' >"$files/influxdata/another.key"
  cat "$files/influxdata/influxdata-archive.key" "$files/influxdata/another.key" >"$files/influxdata/both.key"
  gpgconf --homedir "$gnupg" --kill all 2>/dev/null || true
  rm -rf "$gnupg"
}

ssm_agent_package() {
  local out=$1/ssm/$SSM_AGENT_VERSION/debian_amd64/amazon-ssm-agent.deb
  stand_in_deb amazon-ssm-agent "$SSM_AGENT_VERSION" /usr/bin/amazon-ssm-agent "$out"
  SSM_AGENT_SHA256=$(sha256 "$out")
}

# Three gems with the real names, versions and dependency chain (plugin -> fluentd -> sigdump), built
# with the Ruby of the image, at the layout of rubygems.org/gems/<name>-<version>.gem.
gem_source() {
  local files=$1 root=$2 work=/tmp/stand-in-gems name version deps
  rm -rf "$root$work"
  mkdir -p "$root$work" "$files/rubygems/gems"
  while read -r name version deps; do
    mkdir -p "$root$work/$name/lib" "$root$work/$name/bin"
    echo "module StandIn; end" >"$root$work/$name/lib/$name.rb"
    local executables='[]'
    if [ "$name" = fluentd ]; then
      printf '#!/usr/bin/env ruby\nputs "fluentd %s (stand-in)"\n' "$version" >"$root$work/$name/bin/fluentd"
      chmod 0755 "$root$work/$name/bin/fluentd"
      executables='["fluentd"]'
    fi
    cat >"$root$work/$name/$name.gemspec" <<GEMSPEC
Gem::Specification.new do |s|
  s.name = "$name"
  s.version = "$version"
  s.summary = "stand-in"
  s.authors = ["test"]
  s.license = "Apache-2.0"
  s.files = Dir["lib/*.rb", "bin/*"]
  s.bindir = "bin"
  s.executables = $executables
  $( [ -n "$deps" ] && printf 's.add_runtime_dependency "%s", "= %s"' "${deps%%=*}" "${deps#*=}" )
end
GEMSPEC
    chroot "$root" sh -c "cd $work/$name && gem build -q $name.gemspec" >/dev/null 2>&1
    mv "$root$work/$name/$name-$version.gem" "$files/rubygems/gems/"
  done <<GEMS
sigdump $SIGDUMP_VERSION
fluentd $FLUENTD_VERSION sigdump=$SIGDUMP_VERSION
fluent-plugin-cloudwatch-logs $PLUGIN_VERSION fluentd=$FLUENTD_VERSION
GEMS
  rm -rf "${root:?}$work"
  FLUENTD_GEMS=$(for name in sigdump fluentd fluent-plugin-cloudwatch-logs; do
    version=$(basename "$files"/rubygems/gems/"$name"-[0-9]*.gem .gem)
    version=${version#"$name"-}
    printf '{"name":"%s","version":"%s","sha256":"%s"}\n' "$name" "$version" "$(sha256 "$files/rubygems/gems/$name-$version.gem")"
  done | paste -sd, -)
}

# Writes every stand-in under FILES and the playbook variables that point at them (base URL BASE).
build_artifacts() {
  local files=$1 root=$2 base=$3 vars=$4
  : "${TELEGRAF_VERSION:?}" "${SSM_AGENT_VERSION:?}" "${FLUENTD_VERSION:?}" "${PLUGIN_VERSION:?}" "${SIGDUMP_VERSION:?}"
  concourse_release "$files"
  # The next release, for the check that a configured checksum is enforced.
  concourse_release "$files" 7.11.3
  telegraf_repository "$files"
  ssm_agent_package "$files"
  gem_source "$files" "$root"
  cat >"$vars" <<JSON
{
  "concourse_version": "$CONCOURSE_VERSION",
  "concourse_release_base": "$base/concourse",
  "concourse_sha256": {"$CONCOURSE_VERSION": "$CONCOURSE_SHA256"},
  "telegraf_apt_key_url": "$base/influxdata/influxdata-archive.key",
  "telegraf_apt_key_fingerprint": "$TELEGRAF_KEY_FINGERPRINT",
  "telegraf_apt_repository_url": "$base/influxdata/debian",
  "telegraf_sha256": "$TELEGRAF_SHA256",
  "ssm_agent_base_url": "$base/ssm",
  "ssm_agent_sha256": "$SSM_AGENT_SHA256",
  "fluentd_gem_source": "$base/rubygems",
  "fluentd_gems": [$FLUENTD_GEMS]
}
JSON
}
