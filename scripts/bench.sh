#!/usr/bin/env bash
# Benchmarks: prints each figure beside the baseline measured in the same run. What they
# make (control planes, simulated hosts, agent roots) lives under their own run roots and is
# swept when this script ends, also on failure or interruption (scripts/sweep-runs.ts).
#
#   npm run bench                 every benchmark
#   npm run bench -- NAME...      only these: api pods scheduler deployment network port-forward etcd storage crd ingress netpol metrics density
set -euo pipefail
cd "$(dirname "$0")/.."
ALL=(api pods scheduler deployment network port-forward etcd storage crd ingress netpol metrics density)
for name in "$@"; do
  [[ " ${ALL[*]} " == *" $name "* ]] || { echo "bench: unknown benchmark '$name' (one of: ${ALL[*]})" >&2; exit 2; }
done
ONLY=("$@")
wanted() { [ "${#ONLY[@]}" -eq 0 ] || [[ " ${ONLY[*]} " == *" $1 "* ]]; }
bash scripts/install-deps.sh
npm run --silent build
sweep() { timeout 300 node dist/scripts/sweep-runs.js >/dev/null || echo "bench: the sweep of leftovers failed" >&2; }
sweep
trap sweep EXIT
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, node $(node --version)"
if wanted api; then echo "== API (issue 2)"; node dist/scripts/bench-api.js; fi
if wanted pods; then echo "== pod start latency (issue 3)"; node dist/scripts/bench-pods.js; fi
if wanted scheduler; then echo "== scheduler (issue 4)"; node dist/scripts/bench-scheduler.js; fi
if wanted deployment; then echo "== 50-replica deployment (issue 4)"; node dist/scripts/bench-deployment.js; fi
if wanted network; then echo "== networking on 3 simulated hosts (issue 5)"; node dist/scripts/bench-network.js; fi
if wanted port-forward; then echo "== kubectl port-forward throughput (issue 12)"; node dist/scripts/bench-port-forward.js; fi
if wanted etcd; then echo "== API on SQLite, 1 and 3 etcd members, etcd alone, failover (issue 13)"; node dist/scripts/bench-etcd.js; fi
if wanted storage; then echo "== PVC (local-path) + pod to Running vs emptyDir (issue 14)"; node dist/scripts/bench-storage.js; fi
if wanted crd; then echo "== custom-object creates vs ConfigMaps, 50 clients (issue 14)"; node dist/scripts/bench-crd.js; fi
if wanted ingress; then echo "== ingress vs ClusterIP on 3 simulated hosts (issue 15)"; node dist/scripts/bench-ingress.js; fi
if wanted netpol; then echo "== NetworkPolicy rule programming and connection latency (issue 15)"; node dist/scripts/bench-netpol.js; fi
if wanted metrics; then echo "== metrics collection CPU of the agent, 50 pods vs idle (issue 15)"; node dist/scripts/bench-metrics.js; fi
if wanted density; then echo "== density: 30 pods per hollow node at N = 100, 500, 1000 (issue 16)"; node dist/scripts/bench-density.js; fi
