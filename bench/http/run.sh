#!/usr/bin/env bash
# HTTP publish throughput next to a trivial GET /healthz, in the same run, with wrk on loopback.
# The server runs on core 0 and wrk on core 1 (taskset), with the default durable SQLite store.
# Usage: bench/http/run.sh [seconds=10] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}; connections=${2:-64}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
dotnet build src/Herald.Server -c Release -nologo -v:q >/dev/null

data=$(mktemp -d); port=18080
export HERALD_API_KEY=bench-key-0123456789
taskset -c 0 dotnet src/Herald.Server/bin/Release/net10.0/herald.dll serve --urls "http://127.0.0.1:$port" --data "$data" \
  --Herald:ApiKeys:0=$HERALD_API_KEY --Logging:LogLevel:Default=Warning >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

run() { taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" --latency "$@"; }
echo "warm-up"; run -s bench/http/publish.lua "http://127.0.0.1:$port/v1/channels/bench:warm/messages" >/dev/null
health=$(run "http://127.0.0.1:$port/healthz")
publish=$(run -s bench/http/publish.lua "http://127.0.0.1:$port/v1/channels/bench:wrk/messages")
rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
p99() { awk '/ 99%/ {print $2}' <<<"$1"; }
h=$(rps "$health"); p=$(rps "$publish")
echo
echo "| endpoint | requests/s | p99 latency |"
echo "|---|---|---|"
echo "| GET /healthz | $h | $(p99 "$health") |"
echo "| POST /v1/channels/{ch}/messages (SQLite, durable) | $p | $(p99 "$publish") |"
awk -v p="$p" -v h="$h" 'BEGIN { printf "\npublish / healthz = %.0f %%\n", 100 * p / h }'
stored=$(curl -s "http://127.0.0.1:$port/v1/channels/bench:wrk/messages?reverse=true&limit=1" | sed -E 's/.*"top":([0-9]+).*/\1/')
echo "publications stored on bench:wrk: $stored"
