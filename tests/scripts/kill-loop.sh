#!/usr/bin/env bash
# The SIGKILL loop, long version: the real herald on SQLite killed with SIGKILL KILLS times (default
# 20) under 8 publishers with idempotency keys and retries, restarted on the same data directory
# each time; then every acknowledged publish must be in history exactly once (0 lost, 0 duplicated).
# ./test.sh runs the short version (3 kills) with the integration tests.
#   tests/scripts/kill-loop.sh [KILLS]
set -euo pipefail
cd "$(dirname "$0")/../.."
kills=${1:-20}
report=$(mktemp)
dotnet build tests/Herald.IntegrationTests -c Release -nologo -v:q >/dev/null
HERALD_KILL_LOOP_KILLS=$kills HERALD_KILL_LOOP_REPORT=$report \
  dotnet test tests/Herald.IntegrationTests -c Release --no-build --nologo -v:q \
  --filter "FullyQualifiedName~KillLoopTests" --blame-hang-timeout 30m
cat "$report"
rm -f "$report"
