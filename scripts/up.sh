#!/usr/bin/env bash
# One command for a local cluster on the embedded store: host set-up, build, certificates
# and kubeconfigs under "$CERTS/", then the control-plane processes in the background (logs
# and PIDs under .cluster/). Safe to run twice: running processes are left alone.
#
#   npm run up [-- --demo]              one node agent on this machine
#   npm run up -- --hosts N [--demo]    N simulated hosts (network namespaces with their own
#                                       dockerd, scripts/sim-hosts.sh) that join with a token
# --demo also applies manifests/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# COXSWAIN_STATE and COXSWAIN_CERTS let a second cluster (a test) live beside the default one.
STATE=${COXSWAIN_STATE:-$ROOT/.cluster}
CERTS=${COXSWAIN_CERTS:-$ROOT/certs}
PORT=${COXSWAIN_PORT:-6443}
# A second cluster on this machine needs its own pod and Service CIDRs and agent port.
CLUSTER_CIDR=${COXSWAIN_CLUSTER_CIDR:-10.244.0.0/16}
SERVICE_CIDR=${COXSWAIN_SERVICE_CIDR:-10.96.0.0/12}
KUBELET_PORT=${COXSWAIN_KUBELET_PORT:-10250}
DEMO=0
HOSTS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) DEMO=1 ;;
    --hosts)
      [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 50 ] || { echo "up: --hosts needs a number from 1 to 50" >&2; exit 2; }
      HOSTS=$2; shift ;;
    *) echo "up: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
# The address agents reach the apiserver at: with simulated hosts the shared bridge's; for
# real second machines set COXSWAIN_ADDRESS to this machine's address on their network.
if [ "$HOSTS" -gt 0 ]; then ADDRESS=198.18.0.1; else ADDRESS=${COXSWAIN_ADDRESS:-127.0.0.1}; fi
SERVER=https://$ADDRESS:$PORT

# COXSWAIN_SKIP_SETUP=1: the machine is set up and dist/ is built (tests that run up.sh).
if [ "${COXSWAIN_SKIP_SETUP:-0}" != 1 ]; then
  bash scripts/setup-host.sh
  bash scripts/install-deps.sh
  npm run --silent build
fi
mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/data"
if [ "$HOSTS" -gt 0 ]; then
  for n in $(seq 1 "$HOSTS"); do bash scripts/sim-hosts.sh add "$n"; done
fi
# The `kubernetes` Service's address (the first of the Service CIDR) is in the apiserver's certificate.
IFS=./ read -r s1 s2 s3 s4 sbits <<<"$SERVICE_CIDR"
sbase=$(( ((s1 << 24) | (s2 << 16) | (s3 << 8) | s4) & ~((1 << (32 - sbits)) - 1) & 0xffffffff ))
KUBERNETES_SVC_IP="$(( (sbase + 1) >> 24 & 255 )).$(( (sbase + 1) >> 16 & 255 )).$(( (sbase + 1) >> 8 & 255 )).$(( (sbase + 1) & 255 ))"
node dist/cmd/coxctl.js pki init --dir "$CERTS" --server "$SERVER" --san "$ADDRESS" --san "$KUBERNETES_SVC_IP" >/dev/null

alive() { [ -f "$STATE/pids/$1" ] && kill -0 "$(cat "$STATE/pids/$1")" 2>/dev/null; }

start() {
  local name=$1; shift
  if alive "$name"; then echo "up: $name already running (pid $(cat "$STATE/pids/$name"))"; return; fi
  nohup node "$@" >"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/pids/$name"
  echo "up: started $name (pid $!)"
}

wait_ready() {
  for _ in $(seq 1 60); do
    if curl -fsS --cacert "$CERTS/ca.crt" "$SERVER/readyz" >/dev/null 2>&1; then return 0; fi
    alive apiserver || { tail -20 "$STATE/logs/apiserver.log" >&2; echo "up: the apiserver exited" >&2; exit 1; }
    sleep 0.5
  done
  echo "up: the apiserver did not become ready" >&2
  exit 1
}

start apiserver dist/cmd/apiserver.js --data-dir "$STATE/data" --secure-port "$PORT" --advertise-address "$ADDRESS" \
  --tls-cert-file "$CERTS/apiserver.crt" --tls-private-key-file "$CERTS/apiserver.key" --client-ca-file "$CERTS/ca.crt" \
  --kubelet-client-certificate "$CERTS/apiserver-kubelet-client.crt" --kubelet-client-key "$CERTS/apiserver-kubelet-client.key" \
  --service-cluster-ip-range "$SERVICE_CIDR"
wait_ready
start controller-manager dist/cmd/controller-manager.js --kubeconfig "$CERTS/controller-manager.kubeconfig" \
  --cluster-signing-cert-file "$CERTS/ca.crt" --cluster-signing-key-file "$CERTS/ca.key" --cluster-cidr "$CLUSTER_CIDR"
start scheduler dist/cmd/scheduler.js --kubeconfig "$CERTS/scheduler.kubeconfig"

coxctl() { node dist/cmd/coxctl.js --kubeconfig "$CERTS/admin.kubeconfig" "$@"; }

wait_node_ready() {
  local node=$1 log=$2 pidfile=$3 out
  for _ in $(seq 1 240); do
    out=$(coxctl get node "$node" 2>/dev/null || true)
    if [[ "$out" == *" Ready"* ]]; then echo "up: node $node is Ready"; return 0; fi
    { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; } || { tail -20 "$log" >&2; echo "up: the node agent of $node exited" >&2; exit 1; }
    sleep 0.5
  done
  tail -20 "$log" >&2
  echo "up: node $node did not become Ready" >&2
  exit 1
}

echo "$HOSTS" >"$STATE/hosts"
# down.sh removes this cluster's routes: the proto-77 ones inside this CIDR.
echo "$CLUSTER_CIDR" >"$STATE/cluster-cidr"
if [ "$HOSTS" -eq 0 ]; then
  # One node agent on this machine, with credentials made offline from the CA.
  NODE=${COXSWAIN_NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}
  node dist/cmd/coxctl.js pki node --dir "$CERTS" --server "$SERVER" --name "$NODE" --ip "$ADDRESS" >/dev/null
  start kubelet dist/cmd/kubelet.js --kubeconfig "$CERTS/nodes/$NODE/kubelet.kubeconfig" \
    --tls-cert-file "$CERTS/nodes/$NODE/kubelet.crt" --tls-private-key-file "$CERTS/nodes/$NODE/kubelet.key" \
    --client-ca-file "$CERTS/ca.crt" --node-name "$NODE" --node-ip "$ADDRESS" --root-dir "$STATE/kubelet" \
    --cluster-cidr "$CLUSTER_CIDR" --port "$KUBELET_PORT"
  echo "$NODE" >"$STATE/node"
  wait_node_ready "$NODE" "$STATE/logs/kubelet.log" "$STATE/pids/kubelet"
else
  # Every simulated host joins as a new machine would: the join command from a token.
  JOIN=$(coxctl token create --ttl 1h --description "npm run up --hosts")
  read -r -a JOIN_ARGS <<<"${JOIN#coxswain-kubelet }"
  for n in $(seq 1 "$HOSTS"); do
    eval "$(bash scripts/sim-hosts.sh env "$n")"
    if [ -f "$AGENT_PIDFILE" ] && kill -0 "$(cat "$AGENT_PIDFILE")" 2>/dev/null; then
      echo "up: agent of $NS already running (pid $(cat "$AGENT_PIDFILE"))"
    else
      nohup nsenter --net="/run/netns/$NS" node dist/cmd/kubelet.js "${JOIN_ARGS[@]}" \
        --node-name "$NS" --node-ip "$IP" --docker-socket "$SOCKET" --root-dir "$HOST_ROOT/kubelet" --cluster-cidr "$CLUSTER_CIDR" \
        >"$STATE/logs/kubelet-$NS.log" 2>&1 &
      echo $! >"$AGENT_PIDFILE"
      echo "up: started the agent of $NS (pid $!)"
    fi
  done
  for n in $(seq 1 "$HOSTS"); do
    eval "$(bash scripts/sim-hosts.sh env "$n")"
    wait_node_ready "$NS" "$STATE/logs/kubelet-$NS.log" "$AGENT_PIDFILE"
  done
fi

if [ "$DEMO" -eq 1 ]; then
  coxctl apply -f manifests/
fi

cat <<MSG

Coxswain control plane is up at $SERVER (logs: .cluster/logs, stop: npm run down)
  export KUBECONFIG=$CERTS/admin.kubeconfig
  node dist/cmd/coxctl.js get all -A      # or: kubectl get all -A
  node dist/cmd/coxctl.js apply -f manifests/
MSG
