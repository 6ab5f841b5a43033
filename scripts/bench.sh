#!/usr/bin/env bash
# Benchmarks: prints each figure beside the baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run --silent build
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
