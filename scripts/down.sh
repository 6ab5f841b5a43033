#!/usr/bin/env bash
# Stops exactly the processes `npm run up` started (by their recorded PIDs) and removes the
# containers Coxswain created. `--purge` also deletes the cluster's data.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=$PWD/.cluster
PURGE=0
[ "${1:-}" = "--purge" ] && PURGE=1

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

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  ids=$(docker ps -aq --filter label=io.coxswain.pod.uid)
  if [ -n "$ids" ]; then
    docker rm -f $ids >/dev/null
    echo "down: removed $(echo "$ids" | wc -l) containers"
  fi
fi
if [ "$PURGE" -eq 1 ]; then rm -rf "$STATE/data"; echo "down: data removed"; fi
