#!/usr/bin/env bash
# One command for the benchmarks: ./bench.sh quick (small sizes, a few minutes) or ./bench.sh full.
# Servers run on core 0 and load generators on core 1 (taskset), loopback only; every phase starts
# and stops its own processes. Prints each phase's table; JSON lines are kept under $RESULTS.
#
#   quick: 1,000 subscribers, 5 s fan-outs (Herald ws/sse, SignalR, Socket.IO), 2,000 idle
#          connections per transport, 5 s of durable appends and of HTTP publish under wrk.
#   full:  5,000 subscribers, 10 s fan-outs, 15,000 idle connections (the figures of
#          docs/benchmarks.md), 10 s appends and wrk.
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-quick}
case "$mode" in
  quick) subscribers=1000; seconds=5; connections=2000 ;;
  full) subscribers=5000; seconds=10; connections=15000 ;;
  *) echo "usage: ./bench.sh quick|full"; exit 2 ;;
esac
results=${RESULTS:-$(mktemp -d /tmp/herald-bench-XXXX)}
mkdir -p "$results"

echo "# Herald benchmarks ($mode), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, .NET $(dotnet --version)"
echo "pinning: servers on core 0, load generators on core 1 (taskset)"
echo

dotnet build -c Release Herald.slnx -nologo -v:q >/dev/null
[ -f bench/peers/socketio/package-lock.json ] && (cd bench/peers/socketio && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error)

echo "## Fan-out: Herald (WebSocket, SSE) vs SignalR vs Socket.IO, $subscribers subscribers, ${seconds} s at full rate"
SUBSCRIBERS=$subscribers SECONDS_=$seconds TRANSPORTS="ws sse" OUT="$results/herald.jsonl" bench/loadgen.sh fanout 2>/dev/null | grep -E '^\|'
SUBSCRIBERS=$subscribers SECONDS_=$seconds IDLE=0 OUT="$results/compare.jsonl" bench/compare.sh 2>/dev/null | grep -E '^\|'
SUBSCRIBERS=$subscribers SECONDS_=$seconds bench/compare-socketio.sh 2>/dev/null | grep -E '^\|'
echo

echo "## Idle memory per connection, $connections connections"
CONNECTIONS=$connections TRANSPORTS="ws sse stream longpoll" OUT="$results/idle.jsonl" bench/loadgen.sh idle 2>/dev/null | grep -E '^\|'
echo

echo "## Durable appends (SQLite, 64 publishers, ${seconds} s)"
dotnet run -c Release --no-build --project bench/Herald.AppendBench -- --publishers 64 --seconds "$seconds" --channels 4 | tail -n 3
echo

echo "## HTTP publish vs GET /healthz (wrk, ${seconds} s)"
bench/http/run.sh "$seconds" 64 | grep -E '^\||%'
echo

if [ -d bench/Herald.Charts ]; then
  dotnet run -c Release --no-build --project bench/Herald.Charts -- "$results"/*.jsonl --out "$results/img" >/dev/null 2>&1 \
    && echo "charts: $results/img" || echo "charts: not produced"
fi
echo "results: $results"
