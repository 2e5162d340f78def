#!/usr/bin/env bash
# Makes sure the base image the Dockerfile starts FROM exists in the local image store.
#
# Usage: docker/base-image.sh <engine> [image]   (engine: docker or podman)
#
# Order: already in the store → pull it → build an equivalent locally. The local build is for
# machines that reach Debian's mirror and the npm registry but no image registry: a Debian bookworm
# minbase tree made by debootstrap, slimmed like debian:bookworm-slim, plus the official Node
# binary as the npm package `node-linux-<arch>` ships it, plus npm itself from the npm registry,
# imported under the same name so the Dockerfile builds unchanged here and anywhere else.
set -euo pipefail

engine=${1:?usage: base-image.sh <docker|podman> [image]}
image=${2:-docker.io/library/node:20-bookworm-slim}
# Node major of the stand-in; the newest 20.x the registry has unless pinned.
node_version=${MINI_AGENT_BASE_NODE_VERSION:-20}
# npm as bundled with Node 20's latest releases.
npm_version=${MINI_AGENT_BASE_NPM_VERSION:-10.8.2}

log() { printf '[base-image] %s\n' "$*" >&2; }

if "$engine" image inspect "$image" >/dev/null 2>&1; then
  log "$image is in the local store"
  exit 0
fi
log "pulling $image"
if "$engine" pull "$image" >/dev/null 2>&1; then
  exit 0
fi
log "cannot pull $image: building an equivalent locally (debootstrap + Node from the npm registry)"

if [[ $(id -u) -ne 0 ]]; then
  log "building the base image needs root (debootstrap)"; exit 1
fi
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
fi
command -v npm >/dev/null || { log "npm is needed to fetch the Node binary"; exit 1; }

case "$(uname -m)" in
  x86_64) node_arch=x64 ;;
  aarch64) node_arch=arm64 ;;
  *) log "unsupported architecture $(uname -m)"; exit 1 ;;
esac

# The mirror apt already uses here, so the build needs no other host.
mirror=${MINI_AGENT_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null | head -n1 | tr -d ' ' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

work=$(mktemp -d /var/tmp/mini-agent-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

start=$(date +%s)
log "debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2; exit 1
}

# What debian:bookworm-slim does: no docs, man pages or locales, now or on later installs.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<CFG
Types: deb
URIs: ${mirror%/}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian*}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/{man,groff,info,lintian,linda,locale}/* \
  "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/*.log "$root"/var/log/apt/* \
  "$root"/tmp/* "$root"/var/tmp/*

log "adding Node $node_version (node-linux-$node_arch) and npm $npm_version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-$node_arch@$node_version" "npm@$npm_version" >packed.txt)
node_tgz=$work/$(sed -n 1p "$work/packed.txt")
npm_tgz=$work/$(sed -n 2p "$work/packed.txt")
mkdir -p "$work/node" "$root/usr/local/lib/node_modules/npm"
tar -xzf "$node_tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
cp -r "$work/node/package/include" "$root/usr/local/"
tar -xzf "$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
full_version=$(chroot "$root" /usr/local/bin/node --version)
# The official image has a `node` user (uid 1000); keep that for images built on either.
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

log "importing as $image (Node $full_version)"
tar -C "$root" --numeric-owner -c . | "$engine" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${full_version#v}" \
  --change 'CMD ["node"]' \
  --change 'LABEL org.opencontainers.image.description="Debian bookworm slim + Node, built locally by mini-agent docker/base-image.sh"' \
  - "$image" >/dev/null
log "built $image in $(( $(date +%s) - start ))s"
