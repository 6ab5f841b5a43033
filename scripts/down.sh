#!/usr/bin/env bash
# Stops exactly what `npm run up` started: its supervisor, which stops the processes it runs
# (any left by a supervisor killed hard are stopped by their recorded PIDs); with
# --hosts, the simulated hosts (agents, dockerds, namespaces, links, the bridge and its rule);
# with the one local agent, its containers (by node label), its Docker pod network, and the
# routes and iptables rules it programmed here. `--purge` also deletes the cluster's data and
# its agents' roots (their credentials), so the next `up` starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${COXSWAIN_STATE:-$PWD/.cluster}
PURGE=0
[ "${1:-}" = "--purge" ] && PURGE=1

# The supervisor stops its children (SIGTERM, SIGKILL after 10 s each) before it exits.
if [ -f "$STATE/supervisor.pid" ]; then
  pid=$(cat "$STATE/supervisor.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 900); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    echo "down: stopped the supervisor (pid $pid) and the processes it ran"
  fi
  rm -f "$STATE/supervisor.pid"
fi
rm -rf "$STATE/supervise"

for pidfile in "$STATE"/pids/*; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  name=$(basename "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    echo "down: stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done

hosts=$(cat "$STATE/hosts" 2>/dev/null || echo 0)
if [ "$hosts" -gt 0 ]; then
  # Agents (by their pidfiles), dockerds and everything else of the simulated hosts.
  COXSWAIN_SIM_ROOT=$STATE/sim bash scripts/sim-hosts.sh teardown
fi

node_name=$(cat "$STATE/node" 2>/dev/null || true)
if [ -n "$node_name" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    ids=$(docker ps -aq --filter "label=io.coxswain.node=$node_name")
    if [ -n "$ids" ]; then
      docker rm -f $ids >/dev/null
      echo "down: removed $(echo "$ids" | wc -l) containers of node $node_name"
    fi
    nets=$(docker network ls -q --filter "label=io.coxswain.node=$node_name")
    for n in $nets; do docker network rm "$n" >/dev/null && echo "down: removed the pod network of node $node_name"; done
  fi
  # What the agent programmed in this machine's network: routes (protocol 77), the COX-
  # and COXNET- chains and the rules that jump to them.
  if [ "$(id -u)" -eq 0 ] && command -v iptables-save >/dev/null 2>&1; then
    routes=$(ip route show proto 77 2>/dev/null || true)
    while read -r dst _; do [ -z "$dst" ] || ip route del "$dst" proto 77 2>/dev/null || true; done <<<"$routes"
    for table in nat filter; do
      rules=$(iptables-save -t "$table" 2>/dev/null || true)
      jumps=$(grep -E '^-A [A-Za-z_-]+ .*-j COX(NET)?-' <<<"$rules" | grep -vE '^-A COX(NET)?-' || true)
      while read -r rule; do [ -z "$rule" ] || eval "iptables -w 5 -t $table ${rule/-A /-D }" || true; done <<<"$jumps"
      chains=$(grep -oE '^:COX(NET)?-[A-Za-z0-9_-]+' <<<"$rules" | tr -d : || true)
      for c in $chains; do iptables -w 5 -t "$table" -F "$c" 2>/dev/null || true; done
      for c in $chains; do iptables -w 5 -t "$table" -X "$c" 2>/dev/null || true; done
    done
  fi
  rm -f "$STATE/node"
fi
rm -f "$STATE/hosts" "$STATE/settings"
if [ "$PURGE" -eq 1 ]; then
  rm -rf "$STATE/data" "$STATE/kubelet" "$STATE/sim" "$STATE/cluster-ca"
  echo "down: data and node agent state removed"
fi
