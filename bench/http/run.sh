#!/usr/bin/env bash
# Durable publish: HTTP publish requests/s with the default SQLite store (acknowledged after
# commit), next to a trivial GET /healthz in the same run, with wrk on loopback. Server on core 0,
# wrk on core 1 (bench/lib.sh). Usage: bench/http/run.sh [seconds=10] [connections=64]
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$root"
wrk_setup "$@"
start_server herald-sqlite
export HERALD_API_KEY=$key

echo "warm-up: ${warmup}s"; wrk_run "$warmup" -s bench/http/publish.lua "http://127.0.0.1:$port/v1/channels/bench:warm/messages" >/dev/null
health=$(wrk_run "$seconds" "http://127.0.0.1:$port/healthz")
publish=$(wrk_run "$seconds" -s bench/http/publish.lua "http://127.0.0.1:$port/v1/channels/bench:wrk/messages")
rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
p99() { awk '/ 99%/ {print $2}' <<<"$1"; }
errors() { awk '/Non-2xx/ {print $NF}' <<<"$1"; }
h=$(rps "$health"); p=$(rps "$publish")
echo
echo "| endpoint | requests/s | p99 latency | non-2xx |"
echo "|---|---|---|---|"
echo "| GET /healthz | $h | $(p99 "$health") | $(errors "$health") |"
echo "| POST /v1/channels/{ch}/messages (SQLite, durable) | $p | $(p99 "$publish") | $(errors "$publish") |"
awk -v p="$p" -v h="$h" 'BEGIN { printf "\npublish / healthz = %.0f %%\n", 100 * p / h }'
stored=$(curl -s "http://127.0.0.1:$port/v1/channels/bench:wrk/messages?reverse=true&limit=1" | sed -E 's/.*"top":([0-9]+).*/\1/')
echo "publications stored on bench:wrk: $stored"
