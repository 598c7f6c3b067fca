#!/usr/bin/env bash
# Transport load test: idle cost per connection (ws, sse, stream, longpoll) and fan-out latency
# (ws, sse). The server runs on core 0 and the generators on core 1 (taskset); each phase gets a
# fresh server with the in-memory store. Results: one JSON line per run in $OUT (default a temp
# file) and a Markdown summary on stdout. About 6–8 minutes.
#
# Usage: bench/loadgen.sh [all|idle|fanout|smoke]
#   CONNECTIONS=15000 (idle, spread over GENERATORS=2 processes)  SUBSCRIBERS=5000  SECONDS=10
#   TRANSPORTS="ws sse stream longpoll"  SERVER_ENV="DOTNET_gcServer=0 ..." (runtime settings to try)
#   SERVER_ARGS="--Herald:Transports:HeartbeatInterval=00:00:15 ..." (server configuration to try)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
connections=${CONNECTIONS:-15000}; generators=${GENERATORS:-2}
subscribers=${SUBSCRIBERS:-5000}; seconds=${SECONDS_:-${SECONDS_FANOUT:-10}}
transports=${TRANSPORTS:-ws sse stream longpoll}
key=bench-key-0123456789
out=${OUT:-$(mktemp /tmp/herald-loadgen-XXXX.jsonl)}
sources=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9
port=$((18300 + RANDOM % 500))

dotnet build src/Herald.Server -c Release -nologo -v:q >/dev/null
dotnet build bench/Herald.LoadGen -c Release -nologo -v:q >/dev/null
loadgen() { taskset -c 1 dotnet bench/Herald.LoadGen/bin/Release/net10.0/Herald.LoadGen.dll "$@"; }

server=""; data=""
stop_server() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [[ -n $data ]] && rm -rf "$data" "$data.log"
  server=""; data=""
}
cleanup() {
  stop_server
  # Generators are children of this shell; end any still running (an interrupted run).
  local jobs; jobs=$(jobs -p); [[ -n $jobs ]] && kill $jobs 2>/dev/null || true
}
trap cleanup EXIT INT TERM

start_server() {
  stop_server
  port=$((port + 1)); data=$(mktemp -d)
  # shellcheck disable=SC2086
  env ${SERVER_ENV:-} taskset -c 0 dotnet src/Herald.Server/bin/Release/net10.0/herald.dll serve \
    --urls "http://127.0.0.1:$port" --data "$data" --store memory --Herald:ApiKeys:0=$key \
    --Logging:LogLevel:Default=Warning ${SERVER_ARGS:-} "$@" >"$data.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start:"; cat "$data.log"; exit 1
}

echo "results: $out" >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "server env: ${SERVER_ENV:-(none)}  server args: ${SERVER_ARGS:-(none)}" >&2

if [[ $what == smoke ]]; then
  start_server
  loadgen smoke --url "http://127.0.0.1:$port" --api-key $key
  exit
fi

if [[ $what == all || $what == idle ]]; then
  for transport in $transports; do
    start_server
    echo "== idle $transport: $connections connections over $generators processes" >&2
    loadgen idle --transport "$transport" --connections "$connections" --processes "$generators" \
      --url "http://127.0.0.1:$port" --source-ips $sources --rate 1500 \
      --server-pid "$server" --server-gc --warmup 100 --settle 15 \
      | jq -c '. + {phase: "idle"}' | tee -a "$out"
  done
  stop_server
fi

if [[ $what == all || $what == fanout ]]; then
  for transport in ws sse; do
    start_server
    echo "== fan-out $transport: $subscribers subscribers, publisher at full rate for $seconds s" >&2
    loadgen fanout --transport "$transport" --subscribers "$subscribers" --processes "$generators" \
      --url "http://127.0.0.1:$port" --source-ips $sources --rate max --seconds "$seconds" --payload 100 \
      --api-key $key --server-pid "$server" \
      | jq -c '. + {phase: "fanout"}' | tee -a "$out"
  done
  stop_server
fi

echo
echo "| transport | connections | open | server RSS before → after (MiB) | KiB per connection (after induced GC / without) | GC |"
echo "|---|---|---|---|---|---|"
jq -r 'select(.phase=="idle") | "| \(.transport) | \(.requested) | \(.stillOpen) | \(.rssBeforeKiB/1024*10|round/10) → \(.rssAfterGcKiB/1024*10|round/10) | **\(.kiBPerConnection)** / \(.kiBPerConnectionNoGc) | \(.gcMode) |"' "$out"
echo
echo "| transport | subscribers | published/s | deliveries/s | p50 / p99 / p99.9 ms | publications per frame | server CPU µs/delivery | server core busy | gaps / dups / missing |"
echo "|---|---|---|---|---|---|---|---|---|"
jq -r 'select(.phase=="fanout") | "| \(.transport) | \(.acked) | \(.publishedPerSecond) | **\(.deliveriesPerSecond)** | \(.latencyP50Ms) / \(.latencyP99Ms) / \(.latencyP999Ms) | \(.publicationsPerFrame) | \(.serverCpuMicrosPerDelivery) | \(.serverCoreBusyPercent) % (Herald \(.serverCpuPercent) %) | \(.gaps) / \(.duplicates) / \(.missing) |"' "$out"
