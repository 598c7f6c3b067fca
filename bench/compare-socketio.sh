#!/usr/bin/env bash
# Fan-out side by side with Socket.IO: the Socket.IO peer (bench/peers/socketio, WebSocket transport)
# pinned to core 0, two generator processes on core 1 (bench/Herald.LoadGen --target socketio), the
# publisher at full rate for SECONDS_ s with SUBSCRIBERS subscribers in one room. Prints one Markdown
# row (system, deliveries/s, p50/p99 latency, server CPU µs/delivery from /proc/<pid>/stat of the node
# process, gaps/dups); the full JSON report goes to stderr. About 30 s. Herald's own row: bench/loadgen.sh fanout.
#
# Usage: bench/compare-socketio.sh      SUBSCRIBERS=5000 SECONDS_=10 GENERATORS=2 PAYLOAD=100
set -euo pipefail
cd "$(dirname "$0")/.."
subscribers=${SUBSCRIBERS:-5000}; seconds=${SECONDS_:-10}; generators=${GENERATORS:-2}; payload=${PAYLOAD:-100}
sources=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9
port=$((18800 + RANDOM % 500))
peer=bench/peers/socketio

server=""; log=$(mktemp /tmp/socketio-peer-XXXX.log)
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -f "$log"
}
trap cleanup EXIT INT TERM

[[ -d $peer/node_modules/socket.io ]] || (cd "$peer" && npm ci --no-audit --no-fund >/dev/null)
dotnet build bench/Herald.LoadGen -c Release -nologo -v:q >/dev/null
version=$(node -p "require('./$peer/node_modules/socket.io/package.json').version")

# taskset execs node, so $! is the node process whose /proc/<pid>/stat the generator reads.
taskset -c 0 node "$peer/server.mjs" --port "$port" >"$log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/top/bench" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/top/bench" >/dev/null || { echo "peer did not start:"; cat "$log"; exit 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); node $(node --version), socket.io $version" >&2
echo "== fan-out socket.io (websocket): $subscribers subscribers over $generators processes, publisher at full rate for $seconds s" >&2
report=$(timeout $((seconds + 300)) taskset -c 1 dotnet bench/Herald.LoadGen/bin/Release/net10.0/Herald.LoadGen.dll \
  fanout --target socketio --channel bench --subscribers "$subscribers" --processes "$generators" \
  --url "http://127.0.0.1:$port" --source-ips $sources --rate max --seconds "$seconds" --payload "$payload" \
  --server-pid "$server")
echo "$report" >&2

echo "| system | subscribers | deliveries/s | p50 ms | p99 ms | server CPU µs/delivery | gaps/dups |"
echo "|---|---:|---:|---:|---:|---:|---|"
jq -r --arg system "Socket.IO $version (node $(node --version), websocket)" \
  '"| \($system) | \(.acked) | \(.deliveriesPerSecond) | \(.latencyP50Ms) | \(.latencyP99Ms) | \(.serverCpuMicrosPerDelivery) | \(.gaps)/\(.duplicates) |"' <<<"$report"
