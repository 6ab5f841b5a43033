#!/usr/bin/env bash
# One command for a local cluster on the embedded store: host set-up, build, certificates
# and kubeconfigs under certs/, then the control-plane processes in the background (logs
# and PIDs under .cluster/). Safe to run twice: running processes are left alone.
#
#   npm run up [-- --demo]      (--demo also applies manifests/)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=$ROOT/.cluster
PORT=${COXSWAIN_PORT:-6443}
SERVER=https://127.0.0.1:$PORT
DEMO=0
for arg in "$@"; do
  case "$arg" in
    --demo) DEMO=1 ;;
    *) echo "up: unknown argument $arg" >&2; exit 2 ;;
  esac
done

bash scripts/setup-host.sh
bash scripts/install-deps.sh
npm run --silent build
mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/data"
node dist/cmd/coxctl.js pki init --dir certs --server "$SERVER" >/dev/null

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
    if curl -fsS --cacert certs/ca.crt "$SERVER/readyz" >/dev/null 2>&1; then return 0; fi
    alive apiserver || { tail -20 "$STATE/logs/apiserver.log" >&2; echo "up: the apiserver exited" >&2; exit 1; }
    sleep 0.5
  done
  echo "up: the apiserver did not become ready" >&2
  exit 1
}

start apiserver dist/cmd/apiserver.js --data-dir "$STATE/data" --secure-port "$PORT" \
  --tls-cert-file certs/apiserver.crt --tls-private-key-file certs/apiserver.key --client-ca-file certs/ca.crt \
  --kubelet-client-certificate certs/apiserver-kubelet-client.crt --kubelet-client-key certs/apiserver-kubelet-client.key
wait_ready
start controller-manager dist/cmd/controller-manager.js --kubeconfig certs/controller-manager.kubeconfig
start scheduler dist/cmd/scheduler.js --kubeconfig certs/scheduler.kubeconfig

# One node agent on this host.
NODE=${COXSWAIN_NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}
node dist/cmd/coxctl.js pki node --dir certs --server "$SERVER" --name "$NODE" --ip 127.0.0.1 >/dev/null
start kubelet dist/cmd/kubelet.js --kubeconfig "certs/nodes/$NODE/kubelet.kubeconfig" \
  --tls-cert-file "certs/nodes/$NODE/kubelet.crt" --tls-private-key-file "certs/nodes/$NODE/kubelet.key" \
  --client-ca-file certs/ca.crt --node-name "$NODE" --node-ip 127.0.0.1 --root-dir "$STATE/kubelet"
for _ in $(seq 1 60); do
  if node dist/cmd/coxctl.js --kubeconfig certs/admin.kubeconfig get node "$NODE" 2>/dev/null | grep -q " Ready"; then break; fi
  alive kubelet || { tail -20 "$STATE/logs/kubelet.log" >&2; echo "up: the node agent exited" >&2; exit 1; }
  sleep 0.5
done
echo "up: node $NODE is Ready"

if [ "$DEMO" -eq 1 ]; then
  node dist/cmd/coxctl.js --kubeconfig certs/admin.kubeconfig apply -f manifests/
fi

cat <<MSG

Coxswain control plane is up at $SERVER (logs: .cluster/logs, stop: npm run down)
  export KUBECONFIG=$ROOT/certs/admin.kubeconfig
  node dist/cmd/coxctl.js get all -A      # or: kubectl get all -A
  node dist/cmd/coxctl.js apply -f manifests/
MSG
