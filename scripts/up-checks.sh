# shellcheck shell=bash
# What `up` finds before it starts anything (sourced by up.sh, which sets STATE, CERTS, PORT,
# SERVER, SETTINGS, CHECK_PORTS): this cluster already running, processes an earlier run left, or
# leftovers of another cluster. Each finding is one line naming what is there and what to run.

# How the user reaches this cluster's down.sh (the env only when not the default).
if [ -n "${COXSWAIN_STATE:-}" ]; then DOWN="COXSWAIN_STATE=$STATE npm run down"; else DOWN="npm run down"; fi

# The sha256 of a CA certificate's public key (what a join's discovery hash pins).
ca_identity() {
  openssl x509 -in "$1" -pubkey -noout 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1
}

# True if the process PID was started for this cluster (its command line names our folders):
# a recorded PID may have been reused by an unrelated process since.
ours() {
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true)
  [[ "$cmdline" == *"$STATE/"* || "$cmdline" == *"$CERTS/"* ]]
}

check_running() {
  local pid was
  pid=$(cat "$STATE/supervisor.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    was=$(cat "$STATE/settings" 2>/dev/null || true)
    if [ -z "$was" ] || [ "$was" = "$SETTINGS" ]; then
      echo "up: the cluster of $STATE is already running ($SERVER, supervisor pid $pid); $DOWN stops it"
      exit 0
    fi
    echo "up: a cluster with other settings ($was) is already running from $STATE (supervisor pid $pid); stop it first: $DOWN" >&2
    exit 1
  fi
  # The supervisor was killed hard and its children live on: they are ours, stop them.
  local pidfile name
  for pidfile in "$STATE"/pids/*; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    name=$(basename "$pidfile")
    if kill -0 "$pid" 2>/dev/null && ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      echo "up: stopped $name (pid $pid), left running by an earlier run"
    fi
    rm -f "$pidfile"
  done
}

# Someone else on one of our ports: name it, and what frees it.
check_port() {
  local port=$1 line pid cmdline data
  line=$(ss -ltnpH "sport = :$port" 2>/dev/null | head -1 || true)
  [ -n "$line" ] || return 0
  pid=$(grep -oE 'pid=[0-9]+' <<<"$line" | head -1 | cut -d= -f2 || true)
  cmdline=$(tr '\0' ' ' <"/proc/${pid:-0}/cmdline" 2>/dev/null || true)
  cmdline=${cmdline% }
  if [[ "$cmdline" == *dist/cmd/apiserver.js* ]]; then
    data=$(grep -oE -- '--data-dir [^ ]+' <<<"$cmdline" | cut -d' ' -f2 || true)
    echo "up: port $port is taken by the apiserver of another cluster (pid $pid, data ${data:-unknown}); stop it with COXSWAIN_STATE=$(dirname "${data:-/unknown/data}") npm run down, or choose another port: COXSWAIN_PORT=<port> npm run up" >&2
  else
    echo "up: port $port is in use by ${cmdline:-another process}${pid:+ (pid $pid)}; stop it or choose another port: COXSWAIN_PORT=<port> npm run up" >&2
  fi
  exit 1
}

# Data or agent credentials of a cluster with another CA than $CERTS/ca.crt (or none there).
check_foreign_state() {
  local want='' recorded f fix="start afresh with: $DOWN -- --purge"
  [ -f "$CERTS/ca.crt" ] && want=$(ca_identity "$CERTS/ca.crt")
  recorded=$(cat "$STATE/cluster-ca" 2>/dev/null || true)
  local data
  for data in "$STATE/data" "$STATE/etcd"; do
    [ -n "$(ls -A "$data" 2>/dev/null)" ] || continue
    if [ -z "$want" ]; then
      echo "up: $data holds a cluster whose CA is not in $CERTS (ca.crt missing); $fix" >&2
      exit 1
    fi
    if [ -n "$recorded" ] && [ "$recorded" != "$want" ]; then
      echo "up: $data belongs to a cluster with another CA (${recorded:0:8}, $CERTS has ${want:0:8}); $fix" >&2
      exit 1
    fi
  done
  for f in "$STATE"/kubelet/pki/ca.crt "$STATE"/sim/*/kubelet/pki/ca.crt; do
    [ -f "$f" ] || continue
    if [ -z "$want" ] || [ "$(ca_identity "$f")" != "$want" ]; then
      echo "up: ${f%/pki/ca.crt} holds a node agent's credentials for another cluster; $fix" >&2
      exit 1
    fi
  done
}

check_leftovers() {
  local port
  for port in "${CHECK_PORTS[@]}"; do check_port "$port"; done
  check_foreign_state
}
