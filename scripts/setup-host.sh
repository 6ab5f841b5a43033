#!/usr/bin/env bash
# Host set-up, idempotent: Debian packages Coxswain needs (docker.io, busybox-static,
# etcd-server, iptables, iproute2), a running dockerd, and the local images (no registry is
# reachable): busybox:latest from busybox-static and the coxswain/pause sandbox image.
#
#   scripts/setup-host.sh [--images-only] [--docker-socket PATH]
set -euo pipefail
cd "$(dirname "$0")/.."

SOCKET=/var/run/docker.sock
IMAGES_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --images-only) IMAGES_ONLY=1 ;;
    --docker-socket) SOCKET="$2"; shift ;;
    *) echo "setup-host: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "setup-host: $*"; }
die() { echo "setup-host: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts dockerd)"

PACKAGES=(docker.io busybox-static etcd-server iptables iproute2 curl ca-certificates)
STATE=/var/lib/coxswain
mkdir -p "$STATE"

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]}"
  # apt-get update once per machine (or when an install fails on stale lists).
  if [ ! -f "$STATE/apt-updated" ]; then
    apt-get update -qq && touch "$STATE/apt-updated"
  fi
  # No init system here: keep package scripts from trying to start services.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/coxswain-apt.log 2>&1; then
    apt-get update -qq && touch "$STATE/apt-updated"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/coxswain-apt.log 2>&1 \
      || { tail -20 /tmp/coxswain-apt.log >&2; rm -f /usr/sbin/policy-rc.d; die "apt-get install failed"; }
  fi
  rm -f /usr/sbin/policy-rc.d
}

docker_ok() { docker -H "unix://$SOCKET" info >/dev/null 2>&1; }

start_dockerd() {
  docker_ok && return 0
  [ "$SOCKET" = /var/run/docker.sock ] || die "no dockerd answers on $SOCKET"
  log "starting dockerd"
  nohup dockerd --host "unix://$SOCKET" --pidfile /var/run/docker.pid >/var/log/coxswain-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker_ok && { log "dockerd is up"; return 0; }
    sleep 1
  done
  # Some kernels lack nftables support for Docker's rules: fall back to legacy iptables once.
  if grep -qiE "iptables|nf_tables" /var/log/coxswain-dockerd.log && [ -x /usr/sbin/iptables-legacy ]; then
    log "dockerd failed with the nftables backend; switching iptables to legacy"
    [ -f /var/run/docker.pid ] && kill "$(cat /var/run/docker.pid)" 2>/dev/null || true
    sleep 2
    update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
    update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null || true
    nohup dockerd --host "unix://$SOCKET" --pidfile /var/run/docker.pid >/var/log/coxswain-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
      docker_ok && { log "dockerd is up"; return 0; }
      sleep 1
    done
  fi
  tail -30 /var/log/coxswain-dockerd.log >&2
  die "dockerd did not come up"
}

# The image recipe's hash, so images are rebuilt only when the recipe changes.
RECIPE_HASH=$(cat "$0" scripts/images/* 2>/dev/null | sha256sum | cut -c1-16)

image_current() {
  local got
  got=$(docker -H "unix://$SOCKET" image inspect -f '{{ index .Config.Labels "io.coxswain.recipe" }}' "$1" 2>/dev/null || true)
  [ "$got" = "$RECIPE_HASH" ]
}

busybox_root() {
  local root="$1"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/www,root,proc,sys,dev}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf /bin/busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  chmod 1777 "$root/tmp"
  echo '<h1>busybox httpd</h1>' > "$root/var/www/index.html"
}

build_images() {
  [ -x /bin/busybox ] || die "busybox-static is not installed"
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  if ! image_current busybox:latest; then
    log "building busybox:latest"
    busybox_root "$work/busybox"
    tar -C "$work/busybox" -c . | docker -H "unix://$SOCKET" import \
      --change 'CMD ["sh"]' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "LABEL io.coxswain.recipe=$RECIPE_HASH" - busybox:latest >/dev/null
  fi
  if ! image_current coxswain/pause:latest; then
    log "building coxswain/pause:latest"
    busybox_root "$work/pause"
    cp scripts/images/pause.sh "$work/pause/pause"
    chmod +x "$work/pause/pause"
    tar -C "$work/pause" -c . | docker -H "unix://$SOCKET" import \
      --change 'ENTRYPOINT ["/bin/sh", "/pause"]' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "LABEL io.coxswain.recipe=$RECIPE_HASH" - coxswain/pause:latest >/dev/null
  fi
}

if [ "$IMAGES_ONLY" -eq 0 ]; then
  install_packages
  start_dockerd
fi
docker_ok || die "no dockerd answers on $SOCKET"
build_images
log "ready: docker $(docker -H "unix://$SOCKET" version -f '{{.Server.Version}}'), images busybox:latest coxswain/pause:latest"
