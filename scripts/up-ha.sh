# shellcheck shell=bash
# The HA control plane of `npm run up -- --ha` (sourced by up.sh, which sets STATE, CERTS,
# PORT, HOSTS, ADDRESS, NODE_BIN and the start/crashed helpers): 3 etcd members (Debian's
# /usr/bin/etcd, each its own data dir under $STATE/etcd, peer and client TLS with client-
# certificate auth, certificates of its own from `coxctl pki member`), 3 apiservers on all
# three members, then 2 schedulers and 2 controller-managers (leader-elected) given every
# apiserver. With simulated hosts, member i's etcd and apiserver run inside host i's network
# namespace on its 198.18.0.x address, so losing the host loses the whole member.

ETCD_BIN=${COXSWAIN_ETCD:-/usr/bin/etcd}
ETCD_PORT=${COXSWAIN_ETCD_PORT:-2379}
MEMBERS=(1 2 3)

# Where member i lives: MEMBER_IP (its etcd listens there), ETCD_CLIENT/ETCD_PEER ports,
# API_PORT, and IN_NS (the nsenter prefix with simulated hosts, empty otherwise).
member_vars() {
  local i=$1
  if [ "$HOSTS" -gt 0 ]; then
    eval "$(bash scripts/sim-hosts.sh env "$i")"
    MEMBER_IP=$IP
    ETCD_CLIENT=$ETCD_PORT
    ETCD_PEER=$((ETCD_PORT + 1))
    API_PORT=$PORT
    IN_NS=(nsenter --net="/run/netns/$NS")
  else
    # One machine: loopback for etcd (it holds every Secret), a port pair and an apiserver port each.
    MEMBER_IP=127.0.0.1
    ETCD_CLIENT=$((ETCD_PORT + 2 * (i - 1)))
    ETCD_PEER=$((ETCD_CLIENT + 1))
    API_PORT=$((PORT + i - 1))
    IN_NS=()
  fi
}

# The apiservers' URLs (what clients get as --apiservers) and the ports `up` must find free.
ha_layout() {
  local i urls=() ports=()
  for i in "${MEMBERS[@]}"; do
    if [ "$HOSTS" -gt 0 ]; then
      urls+=("https://198.18.0.$((10 + i)):$PORT")
    else
      urls+=("https://$ADDRESS:$((PORT + i - 1))")
      ports+=("$((PORT + i - 1))" "$((ETCD_PORT + 2 * (i - 1)))" "$((ETCD_PORT + 2 * (i - 1) + 1))")
    fi
  done
  APISERVER_URLS=("${urls[@]}")
  APISERVERS=$(IFS=,; echo "${urls[*]}")
  # With simulated hosts the ports are inside the hosts' namespaces (reclaimed by sim-hosts.sh).
  CHECK_PORTS=("${ports[@]}")
}

# True if dist/cmd/NAME.js lists FLAG in its --help (a flag another part of the work may not have yet).
supports_flag() { node "dist/cmd/$1.js" --help 2>/dev/null | grep -q -- "$2"; }

etcd_curl() {
  curl -fsS --max-time 3 --cacert "$CERTS/etcd/ca.crt" --cert "$CERTS/apiserver-etcd-client.crt" \
    --key "$CERTS/apiserver-etcd-client.key" "$@"
}

# Waits (bounded) until URL's /readyz (apiserver) or /health (etcd) answers 200; NAME's log on failure.
wait_healthy() {
  local name=$1 url=$2 kind=$3
  for _ in $(seq 1 120); do
    if [ "$kind" = etcd ]; then
      etcd_curl "$url/health" 2>/dev/null | grep -q '"health":"true"' && return 0
    else
      curl -fsS --max-time 3 --cacert "$CERTS/ca.crt" "$url/readyz" >/dev/null 2>&1 && return 0
    fi
    if crashed "$name"; then tail -20 "$STATE/logs/$name.log" >&2; echo "up: $name exited" >&2; exit 1; fi
    sleep 0.5
  done
  tail -20 "$STATE/logs/$name.log" >&2
  echo "up: $name did not become ready at $url" >&2
  exit 1
}

start_ha_control_plane() {
  local i initial=() etcd_urls=() pidfile=() certs
  [ -x "$ETCD_BIN" ] || { echo "up: --ha needs etcd at $ETCD_BIN (Debian package etcd-server)" >&2; exit 1; }
  mkdir -p "$STATE/etcd"
  for i in "${MEMBERS[@]}"; do
    member_vars "$i"
    local extra=()
    # The address clients use for this member's apiserver when it is not the member's own.
    if [ "$HOSTS" -eq 0 ] && [ "$ADDRESS" != 127.0.0.1 ]; then extra=(--address "$ADDRESS"); fi
    node dist/cmd/coxctl.js pki member --dir "$CERTS" --name "cp$i" --address "$MEMBER_IP" "${extra[@]}" \
      --san "$KUBERNETES_SVC_IP" >/dev/null
    initial+=("cp$i=https://$MEMBER_IP:$ETCD_PEER")
    etcd_urls+=("https://$MEMBER_IP:$ETCD_CLIENT")
  done
  ETCD_SERVERS=$(IFS=,; echo "${etcd_urls[*]}")
  local cluster token
  cluster=$(IFS=,; echo "${initial[*]}")
  # A token of this cluster's own: members of another cluster can never join it by mistake.
  token=coxswain-$(head -c 12 "$STATE/cluster-ca")
  # Together: a member waits for a quorum of its peers before it is healthy.
  for i in "${MEMBERS[@]}"; do
    member_vars "$i"
    certs=$CERTS/members/cp$i
    pidfile=()
    if [ "$HOSTS" -gt 0 ]; then pidfile=(--pid-file "$HOST_RUN/etcd.pid"); fi
    start "etcd-$i" "${pidfile[@]}" "${IN_NS[@]}" "$ETCD_BIN" --name "cp$i" --data-dir "$STATE/etcd/cp$i" \
      --listen-client-urls "https://$MEMBER_IP:$ETCD_CLIENT" --advertise-client-urls "https://$MEMBER_IP:$ETCD_CLIENT" \
      --listen-peer-urls "https://$MEMBER_IP:$ETCD_PEER" --initial-advertise-peer-urls "https://$MEMBER_IP:$ETCD_PEER" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$token" \
      --cert-file "$certs/etcd-server.crt" --key-file "$certs/etcd-server.key" \
      --trusted-ca-file "$CERTS/etcd/ca.crt" --client-cert-auth \
      --peer-cert-file "$certs/etcd-peer.crt" --peer-key-file "$certs/etcd-peer.key" \
      --peer-trusted-ca-file "$CERTS/etcd/ca.crt" --peer-client-cert-auth \
      --logger zap --log-level warn
  done
  for i in "${MEMBERS[@]}"; do
    member_vars "$i"
    wait_healthy "etcd-$i" "https://$MEMBER_IP:$ETCD_CLIENT" etcd
  done
  echo "up: etcd cluster of 3 members healthy ($ETCD_SERVERS)"
  for i in "${MEMBERS[@]}"; do
    member_vars "$i"
    certs=$CERTS/members/cp$i
    local where=() pidfile=()
    if [ "$HOSTS" -gt 0 ]; then
      where=(--bind-address "$MEMBER_IP" --advertise-address "$MEMBER_IP")
      pidfile=(--pid-file "$HOST_RUN/apiserver.pid")
    else
      where=("${ADVERTISE[@]}")
    fi
    start "apiserver-$i" "${pidfile[@]}" "${IN_NS[@]}" "$NODE_BIN" dist/cmd/apiserver.js \
      --etcd-servers "$ETCD_SERVERS" --etcd-cafile "$CERTS/etcd/ca.crt" \
      --etcd-certfile "$CERTS/apiserver-etcd-client.crt" --etcd-keyfile "$CERTS/apiserver-etcd-client.key" \
      --secure-port "$API_PORT" "${where[@]}" \
      --tls-cert-file "$certs/apiserver.crt" --tls-private-key-file "$certs/apiserver.key" --client-ca-file "$CERTS/ca.crt" \
      --kubelet-client-certificate "$CERTS/apiserver-kubelet-client.crt" --kubelet-client-key "$CERTS/apiserver-kubelet-client.key" \
      --service-cluster-ip-range "$SERVICE_CIDR" \
      --service-account-signing-key-file "$CERTS/service-account.key" --service-account-key-file "$CERTS/service-account.pub" \
      --encryption-provider-config "$CERTS/encryption.yaml"
    # The first one alone: it creates the cluster's bootstrap objects; the others find them.
    if [ "$i" -eq 1 ]; then wait_healthy apiserver-1 "${APISERVER_URLS[0]}" apiserver; fi
  done
  for i in 2 3; do wait_healthy "apiserver-$i" "${APISERVER_URLS[$((i - 1))]}" apiserver; done
  echo "up: 3 apiservers ready ($APISERVERS)"

  # Components that can take the whole list get it; until then they use their kubeconfig's server.
  local list_args=()
  for c in controller-manager scheduler; do
    if supports_flag "$c" --apiservers; then list_args=(--apiservers "$APISERVERS"); else
      list_args=()
      echo "up: $c has no --apiservers yet: it talks to ${APISERVER_URLS[0]} only"
    fi
    for i in 1 2; do
      if [ "$c" = scheduler ]; then
        start "scheduler-$i" "$NODE_BIN" dist/cmd/scheduler.js --kubeconfig "$CERTS/scheduler.kubeconfig" "${list_args[@]}" \
          --secure-port $((SCHEDULER_PORT + i - 1))
      else
        start "controller-manager-$i" "$NODE_BIN" dist/cmd/controller-manager.js --kubeconfig "$CERTS/controller-manager.kubeconfig" \
          --cluster-signing-cert-file "$CERTS/ca.crt" --cluster-signing-key-file "$CERTS/ca.key" --cluster-cidr "$CLUSTER_CIDR" \
          "${list_args[@]}" --secure-port $((CONTROLLER_MANAGER_PORT + i - 1))
      fi
    done
  done
}
