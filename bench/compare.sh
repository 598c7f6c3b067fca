#!/usr/bin/env bash
# Herald vs ASP.NET Core SignalR, side by side: fan-out at full publish rate to SUBSCRIBERS
# subscribers of one channel/group (Herald over WebSocket with the in-memory store; SignalR =
# bench/peers/SignalRPeer, JSON hub protocol over WebSocket), both published to over HTTP. Each
# system gets a fresh server on core 0, the generators (GENERATORS processes) run on core 1,
# as in bench/loadgen.sh. Then (IDLE=1, the default) both servers' idle RSS per connection at
# CONNECTIONS (after an induced GC), Herald subscribed to one channel, SignalR joined to one group.
# Prints one Markdown table; JSON lines go to $OUT. About 1 minute, 2 with IDLE=1.
#
# Usage: bench/compare.sh        SUBSCRIBERS=5000 SECONDS_=10 GENERATORS=2 IDLE=1 CONNECTIONS=10000
set -euo pipefail
cd "$(dirname "$0")/.."
subscribers=${SUBSCRIBERS:-5000}; seconds=${SECONDS_:-10}; generators=${GENERATORS:-2}
idle=${IDLE:-1}; connections=${CONNECTIONS:-10000}
key=bench-key-0123456789
out=${OUT:-$(mktemp /tmp/herald-compare-XXXX.jsonl)}
sources=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9
port=$((18900 + RANDOM % 500))

dotnet build src/Herald.Server -c Release -nologo -v:q >/dev/null
dotnet build bench/Herald.LoadGen -c Release -nologo -v:q >/dev/null
dotnet build bench/peers/SignalRPeer -c Release -nologo -v:q >/dev/null
loadgen() { timeout 600 taskset -c 1 dotnet bench/Herald.LoadGen/bin/Release/net10.0/Herald.LoadGen.dll "$@"; }

server=""; data=""
stop_server() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [[ -n $data ]] && rm -rf "$data" "$data.log"
  server=""; data=""
}
cleanup() {
  stop_server
  local jobs; jobs=$(jobs -p); [[ -n $jobs ]] && kill $jobs 2>/dev/null || true
}
trap cleanup EXIT INT TERM

wait_healthy() {
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start:"; cat "$data.log"; exit 1
}
start_herald() {
  stop_server; port=$((port + 1)); data=$(mktemp -d)
  taskset -c 0 dotnet src/Herald.Server/bin/Release/net10.0/herald.dll serve \
    --urls "http://127.0.0.1:$port" --data "$data" --store memory --Herald:ApiKeys:0=$key \
    --Logging:LogLevel:Default=Warning >"$data.log" 2>&1 &
  server=$!; wait_healthy
}
start_signalr() {
  stop_server; port=$((port + 1)); data=$(mktemp -d)
  taskset -c 0 dotnet bench/peers/SignalRPeer/bin/Release/net10.0/SignalRPeer.dll \
    --urls "http://127.0.0.1:$port" --Logging:LogLevel:Default=Warning >"$data.log" 2>&1 &
  server=$!; wait_healthy
}
fanout() { # system target
  echo "== fan-out $1: $subscribers subscribers, full rate for $seconds s" >&2
  loadgen fanout --target "$2" --transport ws --subscribers "$subscribers" --processes "$generators" \
    --url "http://127.0.0.1:$port" --source-ips $sources --rate max --seconds "$seconds" --payload 100 \
    --api-key $key --server-pid "$server" | jq -c --arg s "$1" '. + {phase: "fanout", system: $s}' | tee -a "$out" >&2
}

echo "results: $out" >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start_herald;  fanout "Herald (WebSocket)" herald
start_signalr; fanout "ASP.NET Core SignalR (JSON, WebSocket)" signalr
idle() { # system target
  echo "== idle $1: $connections connections over $generators processes" >&2
  loadgen idle --target "$2" --transport ws --connections "$connections" --processes "$generators" \
    --url "http://127.0.0.1:$port" --source-ips $sources --rate 1500 \
    --server-pid "$server" --server-gc --warmup 100 --settle 15 \
    | jq -c --arg s "$1" '. + {phase: "idle", system: $s}' | tee -a "$out" >&2 || true
}
if [[ $idle == 1 ]]; then
  start_herald;  idle "Herald (WebSocket)" herald
  start_signalr; idle "ASP.NET Core SignalR (JSON, WebSocket)" signalr
fi
stop_server

echo
echo "| system | subscribers | published/s | deliveries/s | p50 / p99 latency (ms) | server CPU µs/delivery | gaps / dups / missing |"
echo "|---|---|---|---|---|---|---|"
jq -r 'select(.phase=="fanout") | "| \(.system) | \(.acked) | \(.publishedPerSecond) | **\(.deliveriesPerSecond)** | \(.latencyP50Ms) / \(.latencyP99Ms) | \(.serverCpuMicrosPerDelivery) | \(.gaps) / \(.duplicates) / \(.missing) |"' "$out"
if jq -e 'select(.phase=="idle")' "$out" >/dev/null 2>&1; then
  echo
  echo "| system | idle connections open | server RSS before → after (MiB) | KiB per connection (after induced GC / without) |"
  echo "|---|---|---|---|"
  jq -r 'select(.phase=="idle") | "| \(.system) | \(.stillOpen)/\(.requested) | \(.rssBeforeKiB/1024*10|round/10) → \(.rssAfterGcKiB/1024*10|round/10) | **\(.kiBPerConnection)** / \(.kiBPerConnectionNoGc) |"' "$out"
fi
