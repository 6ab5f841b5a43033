#!/usr/bin/env bash
# Stops exactly what `npm run up` started: its supervisor, which stops the processes it runs
# (any left by a supervisor killed hard are stopped by their recorded PIDs); with
# --hosts, the simulated hosts (agents, dockerds, namespaces, links, the bridge and its rule);
# with the one local agent, this cluster's containers and Docker pod network, and the routes
# and iptables chains its agent programmed here; those of another cluster on this machine
# stay (the cluster is told by its CA, $CERTS/ca.crt). With --ha, the etcd members and
# apiservers are among the supervisor's children (in the simulated hosts' namespaces too).
# `--purge` also deletes the cluster's data (SQLite or etcd members' data dirs) and its
# agents' roots (their credentials), so the next `up` starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${COXSWAIN_STATE:-$PWD/.cluster}
CERTS=${COXSWAIN_CERTS:-$PWD/certs}
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
  # The agent's own teardown: what carries this cluster's identity (containers and pod
  # network labelled with it, its CX<id>- chains and the jumps to them, proto-77 routes
  # inside its cluster CIDR).
  cidr=$(cat "$STATE/cluster-cidr" 2>/dev/null || echo "${COXSWAIN_CLUSTER_CIDR:-10.244.0.0/16}")
  if [ -f "$CERTS/ca.crt" ]; then
    node dist/cmd/kubelet.js --teardown --client-ca-file "$CERTS/ca.crt" --cluster-cidr "$cidr" 2>&1 | sed -E 's/^[0-9T:.Z-]+ (teardown: )?/down: /; s/^kubelet: /down: /' \
      || echo "down: the cleanup of node $node_name's containers, network, routes or chains was incomplete (see above)" >&2
  fi
  rm -f "$STATE/node"
fi
rm -f "$STATE/hosts" "$STATE/settings" "$STATE/cluster-cidr"
if [ "$PURGE" -eq 1 ]; then
  rm -rf "$STATE/data" "$STATE/etcd" "$STATE/kubelet" "$STATE/sim" "$STATE/cluster-ca"
  echo "down: data and node agent state removed"
fi
