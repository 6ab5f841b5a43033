#!/usr/bin/env bash
# Benchmarks: prints each figure beside the baseline measured in the same run. What they
# make (control planes, simulated hosts, agent roots) lives under their own run roots and is
# swept when this script ends, also on failure or interruption (scripts/sweep-runs.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run --silent build
sweep() { timeout 300 node dist/scripts/sweep-runs.js >/dev/null || echo "bench: the sweep of leftovers failed" >&2; }
sweep
trap sweep EXIT
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, node $(node --version)"
echo "== API (issue 2)"
node dist/scripts/bench-api.js
echo "== pod start latency (issue 3)"
node dist/scripts/bench-pods.js
echo "== scheduler (issue 4)"
node dist/scripts/bench-scheduler.js
echo "== 50-replica deployment (issue 4)"
node dist/scripts/bench-deployment.js
echo "== networking on 3 simulated hosts (issue 5)"
node dist/scripts/bench-network.js
echo "== kubectl port-forward throughput (issue 12)"
node dist/scripts/bench-port-forward.js
