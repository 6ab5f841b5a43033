#!/usr/bin/env bash
# The unit tests alone: every compiled pkg/**/*.test.js except *.host.test.js (those need
# root, iptables, network namespaces or Docker). Needs neither root nor Docker and touches
# nothing on the host; `npm test` runs these and everything else.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent build
# Only files whose source still exists: a renamed or deleted test leaves its old build in dist.
mapfile -t files < <(find dist/pkg -name '*.test.js' -not -name '*.host.test.js' | sort |
  while read -r f; do src="${f#dist/}"; [ -f "${src%.js}.ts" ] && echo "$f"; done)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no unit test files found under dist/pkg" >&2
  exit 1
fi
echo "running ${#files[@]} unit test files"
node --test --test-reporter="${TEST_REPORTER:-spec}" "${files[@]}"
