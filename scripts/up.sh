#!/usr/bin/env bash
# One command for a local cluster on the embedded store: host set-up, build, certificates
# and kubeconfigs under "$CERTS/", then the components under the cluster's supervisor
# (dist/cmd/supervisor.js: restarts a crashed one with back-off; logs and PIDs under .cluster/).
# Safe to run twice: a running cluster is left alone. Over leftovers of another cluster
# (data, certificates, agent roots, the port) it stops with one line saying what to run.
#
#   npm run up [-- --demo]              one node agent on this machine
#   npm run up -- --hosts N [--demo]    N simulated hosts (network namespaces with their own
#                                       dockerd, scripts/sim-hosts.sh) that join with a token
#   npm run up -- --ha [--hosts N]      an HA control plane on etcd (scripts/up-ha.sh): 3 etcd
#                                       members, 3 apiservers, 2 schedulers, 2 controller-
#                                       managers; with --hosts N (N >= 3) member i on host i
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
# The secure ports of /metrics and /healthz (127.0.0.1 only); with --ha the second instance takes the next port.
SCHEDULER_PORT=${COXSWAIN_SCHEDULER_PORT:-10259}
CONTROLLER_MANAGER_PORT=${COXSWAIN_CONTROLLER_MANAGER_PORT:-10257}
DEMO=0
HOSTS=0
HA=0
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) DEMO=1 ;;
    --ha) HA=1 ;;
    --hosts)
      [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 50 ] || { echo "up: --hosts needs a number from 1 to 50" >&2; exit 2; }
      HOSTS=$2; shift ;;
    *) echo "up: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$HA" -eq 1 ] && [ "$HOSTS" -gt 0 ] && [ "$HOSTS" -lt 3 ]; then
  echo "up: --ha with --hosts needs at least 3 hosts (one control-plane member on each of the first 3)" >&2
  exit 2
fi
# The address agents reach the apiserver at: with simulated hosts the shared bridge's; for
# real second machines set COXSWAIN_ADDRESS to this machine's address on their network.
if [ "$HOSTS" -gt 0 ]; then ADDRESS=198.18.0.1; else ADDRESS=${COXSWAIN_ADDRESS:-127.0.0.1}; fi
CHECK_PORTS=("$PORT")
# Pods reach the API (the `kubernetes` Service) at the advertised address, which cannot be
# loopback: on one machine the apiserver picks its default route's address itself.
ADVERTISE=()
if [ "$ADDRESS" != 127.0.0.1 ]; then ADVERTISE=(--advertise-address "$ADDRESS"); fi
SERVER=https://$ADDRESS:$PORT
if [ "$HA" -eq 1 ]; then
  # shellcheck source=up-ha.sh
  source scripts/up-ha.sh
  ha_layout
  # The user's kubeconfig and the agents' first choice: the first apiserver.
  SERVER=${APISERVER_URLS[0]}
fi
# The simulated hosts' docker data and agent roots belong to this cluster alone.
export COXSWAIN_SIM_ROOT=$STATE/sim
SETTINGS="server=$SERVER hosts=$HOSTS certs=$CERTS ha=$HA"

# What is already there: this cluster running, processes of an earlier run, or leftovers of
# another cluster (scripts/up-checks.sh).
# shellcheck source=up-checks.sh
source scripts/up-checks.sh
check_running
check_leftovers

# COXSWAIN_SKIP_SETUP=1: the machine is set up and dist/ is built (tests that run up.sh).
if [ "${COXSWAIN_SKIP_SETUP:-0}" != 1 ]; then
  bash scripts/setup-host.sh
  bash scripts/install-deps.sh
  npm run --silent build
fi
# A fresh start: the last run's logs and child list go (a supervisor would restart them).
rm -rf "$STATE/logs" "$STATE/supervise" "$STATE/pids"
mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/data"
echo "$SETTINGS" >"$STATE/settings"
echo "$HOSTS" >"$STATE/hosts"
# From here on a failure stops what this run started (logs stay) instead of leaving half a cluster.
failed() {
  echo "up: failed; stopping what it started (logs in $STATE/logs)" >&2
  bash scripts/down.sh >&2 || true
}
trap 'rc=$?; [ "$rc" -eq 0 ] || failed' EXIT
if [ "$HOSTS" -gt 0 ]; then
  for n in $(seq 1 "$HOSTS"); do bash scripts/sim-hosts.sh add "$n"; done
fi
# The `kubernetes` Service's address (the first of the Service CIDR) is in the apiserver's certificate.
IFS=./ read -r s1 s2 s3 s4 sbits <<<"$SERVICE_CIDR"
sbase=$(( ((s1 << 24) | (s2 << 16) | (s3 << 8) | s4) & ~((1 << (32 - sbits)) - 1) & 0xffffffff ))
KUBERNETES_SVC_IP="$(( (sbase + 1) >> 24 & 255 )).$(( (sbase + 1) >> 16 & 255 )).$(( (sbase + 1) >> 8 & 255 )).$(( (sbase + 1) & 255 ))"
node dist/cmd/coxctl.js pki init --dir "$CERTS" --server "$SERVER" --san "$ADDRESS" --san "$KUBERNETES_SVC_IP" >/dev/null
# Secrets are encrypted at rest from the first start (security by default): one key, made once.
if [ ! -f "$CERTS/encryption.yaml" ]; then
  node dist/cmd/coxctl.js encryption-config generate -o "$CERTS/encryption.yaml" >/dev/null
fi
ca_identity "$CERTS/ca.crt" >"$STATE/cluster-ca"

NODE_BIN=$(command -v node)
node dist/cmd/supervisor.js start --state "$STATE" | sed 's/^[^ ]* /up: /'

# start NAME [--pid-file F] CMD ARGS...: run CMD under the supervisor, logs in $STATE/logs/NAME.log.
start() {
  local name=$1 extra=(); shift
  if [ "$1" = --pid-file ]; then extra=(--pid-file "$2"); shift 2; fi
  node dist/cmd/supervisor.js add --state "$STATE" --name "$name" "${extra[@]}" -- "$@" | sed 's/^/up: /'
}

# True once the supervisor has seen NAME end (a crash during start-up).
crashed() { grep -qE " $1 \(pid [0-9-]+\) ended" "$STATE/logs/supervisor.log" 2>/dev/null; }

wait_ready() {
  for _ in $(seq 1 60); do
    if curl -fsS --cacert "$CERTS/ca.crt" "$SERVER/readyz" >/dev/null 2>&1; then return 0; fi
    if crashed apiserver; then tail -20 "$STATE/logs/apiserver.log" >&2; echo "up: the apiserver exited" >&2; exit 1; fi
    sleep 0.5
  done
  tail -20 "$STATE/logs/apiserver.log" >&2
  echo "up: the apiserver did not become ready" >&2
  exit 1
}

if [ "$HA" -eq 1 ]; then
  start_ha_control_plane
else
  start apiserver "$NODE_BIN" dist/cmd/apiserver.js --data-dir "$STATE/data" --secure-port "$PORT" "${ADVERTISE[@]}" \
    --tls-cert-file "$CERTS/apiserver.crt" --tls-private-key-file "$CERTS/apiserver.key" --client-ca-file "$CERTS/ca.crt" \
    --kubelet-client-certificate "$CERTS/apiserver-kubelet-client.crt" --kubelet-client-key "$CERTS/apiserver-kubelet-client.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-account-signing-key-file "$CERTS/service-account.key" --service-account-key-file "$CERTS/service-account.pub" \
    --encryption-provider-config "$CERTS/encryption.yaml"
  wait_ready
  start controller-manager "$NODE_BIN" dist/cmd/controller-manager.js --kubeconfig "$CERTS/controller-manager.kubeconfig" \
    --cluster-signing-cert-file "$CERTS/ca.crt" --cluster-signing-key-file "$CERTS/ca.key" --cluster-cidr "$CLUSTER_CIDR" \
    --secure-port "$CONTROLLER_MANAGER_PORT"
  start scheduler "$NODE_BIN" dist/cmd/scheduler.js --kubeconfig "$CERTS/scheduler.kubeconfig" --secure-port "$SCHEDULER_PORT"
fi

coxctl() { node dist/cmd/coxctl.js --kubeconfig "$CERTS/admin.kubeconfig" "$@"; }

wait_node_ready() {
  local node=$1 name=$2 out
  local log=$STATE/logs/$name.log
  for _ in $(seq 1 240); do
    out=$(coxctl get node "$node" 2>/dev/null || true)
    if [[ "$out" == *" Ready"* ]]; then echo "up: node $node is Ready"; return 0; fi
    if crashed "$name"; then tail -20 "$log" >&2; echo "up: the node agent of $node exited" >&2; exit 1; fi
    sleep 0.5
  done
  tail -20 "$log" >&2
  echo "up: node $node did not become Ready" >&2
  exit 1
}

# down.sh removes this cluster's routes: the proto-77 ones inside this CIDR.
echo "$CLUSTER_CIDR" >"$STATE/cluster-cidr"
# HA: the agents get every apiserver (when they can take the list; until then the first one).
AGENT_LIST=()
if [ "$HA" -eq 1 ]; then
  if supports_flag kubelet --apiservers; then AGENT_LIST=(--apiservers "$APISERVERS"); else
    echo "up: the node agent has no --apiservers yet: it talks to $SERVER only"
  fi
fi
if [ "$HOSTS" -eq 0 ]; then
  # One node agent on this machine, with credentials made offline from the CA.
  # COXSWAIN_KUBELET_ARGS: more flags for it (tests: --network none --port N, so they neither
  # program this machine's network nor need port 10250).
  read -r -a KUBELET_EXTRA <<<"${COXSWAIN_KUBELET_ARGS:-}"
  NODE=${COXSWAIN_NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}
  node dist/cmd/coxctl.js pki node --dir "$CERTS" --server "$SERVER" --name "$NODE" --ip "$ADDRESS" >/dev/null
  start kubelet "$NODE_BIN" dist/cmd/kubelet.js --kubeconfig "$CERTS/nodes/$NODE/kubelet.kubeconfig" \
    --tls-cert-file "$CERTS/nodes/$NODE/kubelet.crt" --tls-private-key-file "$CERTS/nodes/$NODE/kubelet.key" \
    --client-ca-file "$CERTS/ca.crt" --node-name "$NODE" --node-ip "$ADDRESS" --root-dir "$STATE/kubelet" \
    --cluster-cidr "$CLUSTER_CIDR" --port "$KUBELET_PORT" --ingress "${AGENT_LIST[@]}" "${KUBELET_EXTRA[@]}"
  echo "$NODE" >"$STATE/node"
  wait_node_ready "$NODE" kubelet
else
  # Every simulated host joins as a new machine would: the join command from a token.
  JOIN=$(coxctl token create --ttl 1h --description "npm run up --hosts")
  # The controller-manager's bootstrap signer signs cluster-info for a new token a moment
  # later, and an agent that asks first is refused: wait (bounded) for the signature.
  TOKEN_ID=$(grep -o -- '--token [a-z0-9]\{6\}' <<<"$JOIN" | cut -d' ' -f2 || true)
  for _ in $(seq 1 60); do
    INFO=$(coxctl get configmap cluster-info -n kube-public -o json 2>/dev/null || true)
    grep -q "\"jws-kubeconfig-$TOKEN_ID\"" <<<"$INFO" && break
    sleep 0.5
  done
  read -r -a JOIN_ARGS <<<"${JOIN#coxswain-kubelet }"
  # HA: join discovery may try every apiserver (--server takes the comma-separated list).
  if [ "${#AGENT_LIST[@]}" -gt 0 ]; then
    for k in "${!JOIN_ARGS[@]}"; do
      if [ "${JOIN_ARGS[$k]}" = --server ]; then JOIN_ARGS[k + 1]=$APISERVERS; fi
    done
  fi
  for n in $(seq 1 "$HOSTS"); do
    eval "$(bash scripts/sim-hosts.sh env "$n")"
    # --pid-file: whoever reclaims this namespace later (sim-hosts.sh add) stops the agent by it.
    start "kubelet-$NS" --pid-file "$AGENT_PIDFILE" nsenter --net="/run/netns/$NS" "$NODE_BIN" dist/cmd/kubelet.js "${JOIN_ARGS[@]}" \
      --node-name "$NS" --node-ip "$IP" --docker-socket "$SOCKET" --root-dir "$HOST_ROOT/kubelet" --cluster-cidr "$CLUSTER_CIDR" \
      --ingress "${AGENT_LIST[@]}"
  done
  for n in $(seq 1 "$HOSTS"); do
    eval "$(bash scripts/sim-hosts.sh env "$n")"
    wait_node_ready "$NS" "kubelet-$NS"
  done
fi

if [ "$DEMO" -eq 1 ]; then
  coxctl apply -f manifests/
fi

cat <<MSG

Coxswain control plane is up at $SERVER, supervised by pid $(cat "$STATE/supervisor.pid")
(logs: $STATE/logs, stop: npm run down)
  export KUBECONFIG=$CERTS/admin.kubeconfig
  node dist/cmd/coxctl.js get all -A      # or: kubectl get all -A
  node dist/cmd/coxctl.js apply -f manifests/
Dashboard: $SERVER/ui/ (sign in with a token; an admin one, once:
  kubectl -n kube-system create serviceaccount dashboard-admin
  kubectl create clusterrolebinding dashboard-admin --clusterrole=cluster-admin --serviceaccount=kube-system:dashboard-admin
  kubectl -n kube-system create token dashboard-admin)
MSG
if [ "$HA" -eq 1 ]; then
  cat <<MSG
HA control plane: etcd members $ETCD_SERVERS, apiservers $APISERVERS
(the kubeconfig points at the first; another: kubectl --server <url> or
 kubectl config set-cluster coxswain --server <url>)
MSG
fi
