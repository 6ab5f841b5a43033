#!/usr/bin/env bash
# Host set-up, idempotent, as root: the Debian packages Coxswain needs, a running dockerd
# (there is no init system: it runs under nohup), and the local images (no registry is
# reachable): busybox:latest from busybox-static and the coxswain/pause sandbox image.
#
#   scripts/setup-host.sh [--images-only] [--docker-socket PATH]
#
# --images-only builds the images against an already running daemon (e.g. one of the
# per-host dockerds the multi-host tests start) and installs or starts nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

SOCKET=/var/run/docker.sock
IMAGES_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --images-only) IMAGES_ONLY=1 ;;
    --docker-socket) [ $# -ge 2 ] || { echo "setup-host: --docker-socket needs a path" >&2; exit 2; }; SOCKET="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup-host: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "setup-host: $*"; }
die() { echo "setup-host: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts dockerd)"

# chromium: the browser the dashboard tests drive (test/dashboard.test.ts, through playwright-core).
PACKAGES=(docker.io busybox-static etcd-server iptables iproute2 curl ca-certificates python3-kubernetes chromium)
STATE=/var/lib/coxswain
APT_STAMP=$STATE/apt-updated
APT_LOG=/var/log/coxswain-apt.log
DOCKERD_LOG=/var/log/coxswain-dockerd.log
DOCKERD_PID=/var/run/docker.pid
SUMMARY=()

# Outputs are captured before matching: with pipefail, `cmd | grep -q` can fail at random
# when grep stops reading early (SIGPIPE).
installed() { local s; s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true); [[ "$s" == *"install ok installed"* ]]; }

apt_update() {
  log "apt-get update"
  apt-get update -qq >>"$APT_LOG" 2>&1 || { tail -20 "$APT_LOG" >&2; die "apt-get update failed (log: $APT_LOG)"; }
  touch "$APT_STAMP"
}

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >>"$APT_LOG" 2>&1
}

install_packages() {
  local p missing=()
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  if [ "${#missing[@]}" -eq 0 ]; then
    SUMMARY+=("packages: all present")
    return 0
  fi
  mkdir -p "$STATE"
  log "installing ${missing[*]}"
  # Package lists are fetched once per machine (the stamp), or again when they turn out stale.
  [ -f "$APT_STAMP" ] || apt_update
  # No init system: keep maintainer scripts from starting services (dockerd is started below).
  # A policy-rc.d the machine already has is left alone.
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  if ! apt_install "${missing[@]}"; then
    apt_update
    # A service start that failed in a postinst leaves the package unconfigured: retry that.
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a >>"$APT_LOG" 2>&1 || true
    apt_install "${missing[@]}" || true
  fi
  [ "$own_policy" -eq 0 ] || rm -f /usr/sbin/policy-rc.d
  # The exit status of apt-get is not the verdict (a service start may fail without an init
  # system): whether each package is installed is.
  local still=()
  for p in "${missing[@]}"; do installed "$p" || still+=("$p"); done
  if [ "${#still[@]}" -gt 0 ]; then
    tail -20 "$APT_LOG" >&2
    die "could not install ${still[*]} (log: $APT_LOG)"
  fi
  SUMMARY+=("packages: installed ${missing[*]}")
}

docker_ok() { timeout 10 docker -H "unix://$SOCKET" info >/dev/null 2>&1; }

dockerd_pid() {
  local pid
  [ -f "$DOCKERD_PID" ] || return 1
  pid=$(cat "$DOCKERD_PID" 2>/dev/null || true)
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q dockerd "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

# Waits (bounded) until dockerd answers; fails early when the process is gone.
wait_dockerd() {
  local pid="$1" i
  for i in $(seq 1 60); do
    docker_ok && return 0
    [ -d "/proc/$pid" ] || return 1
    sleep 1
  done
  return 1
}

launch_dockerd() {
  # A pid file left by a dockerd that died would stop the new one from starting.
  dockerd_pid >/dev/null || rm -f "$DOCKERD_PID"
  log "starting dockerd (log: $DOCKERD_LOG)"
  # Its own session: it outlives this script and whatever process group ran it.
  setsid nohup dockerd --host "unix://$SOCKET" --pidfile "$DOCKERD_PID" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  DOCKERD_STARTED=$!
}

stop_dockerd() {
  local pid="$1" i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 20); do [ -d "/proc/$pid" ] || return 0; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
}

use_legacy_iptables() {
  [ -x /usr/sbin/iptables-legacy ] || return 1
  update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
  update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
  SUMMARY+=("iptables: switched to the legacy backend (nftables did not work)")
  log "switched iptables to the legacy backend (update-alternatives --set iptables /usr/sbin/iptables-legacy)"
}

start_dockerd() {
  if docker_ok; then
    SUMMARY+=("dockerd: already running on $SOCKET")
    return 0
  fi
  [ "$SOCKET" = /var/run/docker.sock ] || die "no dockerd answers on $SOCKET (only the default socket's dockerd is started here)"
  # Docker programs iptables; the nftables backend fails on some kernels, legacy then works.
  if ! iptables -t nat -S >/dev/null 2>&1; then
    use_legacy_iptables || die "iptables does not work and iptables-legacy is missing"
    iptables -t nat -S >/dev/null 2>&1 || die "iptables does not work with either backend"
  fi
  local pid
  if pid=$(dockerd_pid); then
    # One is starting (or hanging): give it the same bounded wait.
    log "dockerd (pid $pid) is running but does not answer yet; waiting"
  else
    : >"$DOCKERD_LOG"
    launch_dockerd
    pid=$DOCKERD_STARTED
  fi
  if wait_dockerd "$pid"; then
    SUMMARY+=("dockerd: started (pid $(dockerd_pid || echo "$pid"), log $DOCKERD_LOG)")
    return 0
  fi
  if grep -qiE 'iptables|nf_tables|nftables' "$DOCKERD_LOG" \
    && [[ "$(update-alternatives --query iptables 2>/dev/null || true)" == *$'\nValue: '*iptables-nft* ]] \
    && use_legacy_iptables; then
    log "dockerd failed with the nftables backend; retrying with legacy iptables"
    stop_dockerd "$pid"
    launch_dockerd
    pid=$DOCKERD_STARTED
    if wait_dockerd "$pid"; then
      SUMMARY+=("dockerd: started (pid $pid, log $DOCKERD_LOG)")
      return 0
    fi
  fi
  echo "---- last lines of $DOCKERD_LOG ----" >&2
  tail -30 "$DOCKERD_LOG" >&2
  if [ -d "/proc/$pid" ]; then
    die "dockerd (pid $pid) did not answer on $SOCKET within 60 s"
  fi
  die "dockerd exited before answering on $SOCKET (see the log above)"
}

if [ "$IMAGES_ONLY" -eq 0 ]; then
  install_packages
  start_dockerd
fi
docker_ok || die "no dockerd answers on $SOCKET"
IMAGES=$(bash "$ROOT/scripts/images/build.sh" --docker-socket "$SOCKET") || die "building the images failed"
SUMMARY+=("images: ${IMAGES#build-images: }")
log "ready (docker $(docker -H "unix://$SOCKET" version -f '{{.Server.Version}}') on $SOCKET)"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
