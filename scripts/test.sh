#!/usr/bin/env bash
# Runs every test from nothing: host set-up (Docker engine, test images), npm
# packages, the TypeScript build, the linter and formatter check, then node's test runner over all compiled test files.
# What earlier runs killed halfway left is swept first, and what this one leaves when it
# fails or is interrupted is swept when it ends (scripts/sweep-runs.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-host.sh
bash scripts/install-deps.sh
npm run --silent build
npm run --silent lint
sweep() { timeout 300 node dist/scripts/sweep-runs.js || echo "test: the sweep of leftovers failed" >&2; }
sweep
trap sweep EXIT

# Only files whose source still exists: a renamed or deleted test leaves its old build in dist.
mapfile -t files < <(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort |
  while read -r f; do src="${f#dist/}"; [ -f "${src%.js}.ts" ] && echo "$f"; done)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found under dist/" >&2
  exit 1
fi
echo "running ${#files[@]} test files"
# Bounded: a test that hangs fails after 15 minutes (the longest takes about 2), a file
# whose tests are done exits even if something keeps it alive, and the whole run stops
# after 50 minutes, so a hang is a failure with a name, not a run that never ends.
timeout --kill-after=60 "${TEST_RUN_LIMIT:-50m}" \
  node --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=900000 --test-force-exit \
  --test-reporter=spec "${files[@]}"
