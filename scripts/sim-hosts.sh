#!/usr/bin/env bash
# Simulated hosts for multi-host clusters on one machine (DESIGN.md §8). Each host is a
# network namespace `coxhN` with address 198.18.0.(10+N)/24 on the shared bridge `coxbr0`
# (198.18.0.1 is this machine, where the control plane listens), and its own dockerd (own
# data-root, exec-root, socket, pidfile, cgroup parent) started inside that namespace with
# nsenter --net only (a new mount namespace would hide the cgroup mounts from dockerd).
#
#   scripts/sim-hosts.sh add N        create host N and start its dockerd (idempotent; a host
#                                     of another root is reclaimed: its agent and dockerd
#                                     stopped by their PID files, its state removed)
#   scripts/sim-hosts.sh del N        stop host N's agent and dockerd, remove all of it
#   scripts/sim-hosts.sh cut N        cut host N's link (the host is "lost")
#   scripts/sim-hosts.sh restore N    reconnect host N
#   scripts/sim-hosts.sh env N        print NS, IP, SOCKET, HOST_ROOT, AGENT_PIDFILE, HOST_RUN
#                                     (where an HA member's etcd.pid and apiserver.pid go) for host N
#   scripts/sim-hosts.sh teardown     delete the hosts of this root; the bridge and the rule
#                                     when no host is left (--all: every host)
#   scripts/sim-hosts.sh list         the hosts that exist, with their roots
#
# COXSWAIN_SIM_ROOT (default /var/lib/coxswain/sim) holds each host's docker data and agent
# root under <root>/coxhN: every user (up, a benchmark, a test run) has its own, so no one
# reuses another's agent credentials. Per namespace: /run/coxswain/sim/coxhN (sockets, pids,
# and `root`, naming the root that owns it); logs in /var/log/coxswain/. Everything is found
# again by name, so teardown works after a crash of whoever created the hosts.
set -euo pipefail

BRIDGE=coxbr0
GATEWAY=198.18.0.1
RUN_BASE=/run/coxswain/sim
LIB_BASE=${COXSWAIN_SIM_ROOT:-/var/lib/coxswain/sim}
LOG_DIR=/var/log/coxswain
RULE_COMMENT=coxswain-sim

die() { echo "sim-hosts: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"

host_vars() {
  local n=$1
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 200 ] || die "host number must be 1..200, not '$n'"
  NS=coxh$n
  IP=198.18.0.$((10 + n))
  VETH=${NS}-r
  RUN=$RUN_BASE/$NS
  LIB=$LIB_BASE/$NS
  OWNER_FILE=$RUN/root
  SOCKET=$RUN/docker.sock
  DOCKER_PIDFILE=$RUN/docker.pid
  AGENT_PIDFILE=$RUN/kubelet.pid
}

in_ns() { nsenter --net="/run/netns/$NS" "$@"; }

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$GATEWAY/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1
  # With br_netfilter loaded (Docker loads it), frames bridged between hosts pass this
  # machine's FORWARD chain, whose policy Docker sets to DROP: let the simulated LAN through.
  local rules
  rules=$(iptables -S FORWARD 2>/dev/null || true)
  if [[ "$rules" != *"$RULE_COMMENT"* ]]; then
    iptables -I FORWARD 1 -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$RULE_COMMENT" -j ACCEPT
  fi
}

docker_ready() { docker -H "unix://$SOCKET" version >/dev/null 2>&1; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() {
  local file=$1 pid
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$file"
}

# The root that owns namespace NS ('' when none is recorded: hosts made before roots existed).
owner_of() {
  if [ -f "$RUN_BASE/$1/root" ]; then cat "$RUN_BASE/$1/root"; elif [ -e "/run/netns/$1" ] || [ -d "$RUN_BASE/$1" ]; then echo /var/lib/coxswain/sim; fi
}

add_host() {
  host_vars "$1"
  local owner
  owner=$(owner_of "$NS")
  if [ -n "$owner" ] && [ "$owner" != "$LIB_BASE" ]; then
    # Another run's host (a live one loses it; a dead one's leftovers go).
    echo "sim-hosts: reclaiming $NS from $owner"
    del_host "$1" >/dev/null
    host_vars "$1"
  fi
  ensure_bridge
  mkdir -p "$RUN" "$LIB" "$LOG_DIR"
  echo "$LIB_BASE" >"$OWNER_FILE"
  if [ ! -e "/run/netns/$NS" ]; then
    ip netns add "$NS"
    ip link add "$VETH" type veth peer name eth0 netns "$NS"
    ip link set "$VETH" master "$BRIDGE" up
    in_ns ip link set lo up
    in_ns ip addr add "$IP/24" dev eth0
    in_ns ip link set eth0 up
    in_ns ip route add default via "$GATEWAY"
  fi
  in_ns sysctl -qw net.ipv4.ip_forward=1
  if ! docker_ready; then
    stop_pidfile "$DOCKER_PIDFILE"
    rm -f "$SOCKET"
    # setsid: the daemon outlives this script and ignores the caller's terminal signals.
    setsid nsenter --net="/run/netns/$NS" dockerd \
      --data-root "$LIB/docker" --exec-root "$RUN/docker" --pidfile "$DOCKER_PIDFILE" \
      --host "unix://$SOCKET" --cgroup-parent "$NS" --exec-opt native.cgroupdriver=cgroupfs \
      --bip 172.31.255.1/24 --log-level warn \
      >>"$LOG_DIR/$NS-dockerd.log" 2>&1 < /dev/null 9>&- &
    for _ in $(seq 1 120); do docker_ready && break; sleep 0.5; done
    docker_ready || { tail -20 "$LOG_DIR/$NS-dockerd.log" >&2; die "dockerd of $NS did not start"; }
  fi
  # No registry: the host gets the machine's local images.
  local image missing=()
  for image in busybox:latest coxswain/pause:latest coxswain/curl:latest coxswain/node:latest; do
    [ -n "$(docker images -q "$image" 2>/dev/null || true)" ] || die "this machine has no $image: run scripts/images/build.sh"
    [ -n "$(docker -H "unix://$SOCKET" images -q "$image" 2>/dev/null || true)" ] || missing+=("$image")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    docker save "${missing[@]}" | docker -H "unix://$SOCKET" load >/dev/null
  fi
  echo "sim-hosts: $NS up at $IP (docker $SOCKET)"
}

del_host() {
  host_vars "$1"
  # The host's state lives under the root that owns it, whoever asks.
  local owner
  owner=$(owner_of "$NS")
  if [ -n "$owner" ]; then LIB=$owner/$NS; fi
  stop_pidfile "$AGENT_PIDFILE"
  # An HA control-plane member's processes (npm run up -- --ha --hosts N) run in the host too.
  stop_pidfile "$RUN/apiserver.pid"
  stop_pidfile "$RUN/etcd.pid"
  if docker_ready; then
    local ids
    ids=$(docker -H "unix://$SOCKET" ps -aq 2>/dev/null || true)
    [ -z "$ids" ] || docker -H "unix://$SOCKET" rm -f $ids >/dev/null 2>&1 || true
  fi
  stop_pidfile "$DOCKER_PIDFILE"
  # Mounts a dockerd killed hard may leave under its folders (same mount namespace as ours).
  local m
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($LIB|$RUN)/" | sort -r || true); do umount -l "$m" 2>/dev/null || true; done
  ip link del "$VETH" 2>/dev/null || true
  [ ! -e "/run/netns/$NS" ] || ip netns del "$NS"
  rm -rf "$RUN" "$LIB"
  echo "sim-hosts: $NS removed"
}

list_hosts() {
  local f
  for f in /run/netns/coxh* "$RUN_BASE"/coxh*; do [ -e "$f" ] && basename "$f"; done | sort -u
  return 0
}

teardown() {
  local ns all=${1:-}
  for ns in $(list_hosts); do
    if [ "$all" = --all ] || [ "$(owner_of "$ns")" = "$LIB_BASE" ]; then del_host "${ns#coxh}"; fi
  done
  rmdir "$LIB_BASE" 2>/dev/null || true
  # The bridge and the rule are shared by every root's hosts: they go with the last host.
  [ -z "$(list_hosts)" ] || return 0
  ip link del "$BRIDGE" 2>/dev/null || true
  local rules
  rules=$(iptables -S FORWARD 2>/dev/null || true)
  while [[ "$rules" == *"$RULE_COMMENT"* ]]; do
    iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$RULE_COMMENT" -j ACCEPT 2>/dev/null || break
    rules=$(iptables -S FORWARD 2>/dev/null || true)
  done
  rmdir "$RUN_BASE" 2>/dev/null || true
}

# Hosts are made and removed one at a time on this machine: the bridge is shared, and the
# last host's teardown removes it, which must not happen while another run adds a host.
# (dockerd is started with the lock's descriptor closed, or it would hold the lock.)
lock_hosts() {
  exec 9>"${COXSWAIN_SIM_LOCK:-/run/coxswain-sim.lock}"
  flock 9
}

cmd=${1:-}
case "$cmd" in
  add) lock_hosts; add_host "${2:?host number}" ;;
  del) lock_hosts; del_host "${2:?host number}" ;;
  cut) host_vars "${2:?host number}"; ip link set "$VETH" down; echo "sim-hosts: $NS cut off" ;;
  restore) host_vars "${2:?host number}"; ip link set "$VETH" up; echo "sim-hosts: $NS reconnected" ;;
  env) host_vars "${2:?host number}"; printf 'NS=%s\nIP=%s\nSOCKET=%s\nHOST_ROOT=%s\nAGENT_PIDFILE=%s\nHOST_RUN=%s\n' "$NS" "$IP" "$SOCKET" "$LIB" "$AGENT_PIDFILE" "$RUN" ;;
  teardown) lock_hosts; teardown "${2:-}" ;;
  list) for ns in $(list_hosts); do echo "$ns $(owner_of "$ns")"; done ;;
  *) sed -n '2,26p' "$0" >&2; exit 2 ;;
esac
