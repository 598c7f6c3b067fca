#!/usr/bin/env bash
# Profiles the load generator's receive path: a server (SYSTEM, default raw: one frame per
# message, the generator's worst case) on core 0, a fan-out at a fixed rate on core 1, and
# `perf record -e cpu-clock -g` of the generator's processes during the measured step; prints the hottest symbols.
# JIT frames are named through perf maps (DOTNET_PerfMapEnabled=1).
# Usage: bench/profile-generator.sh [SYSTEM=raw] [SUBSCRIBERS=1000] [RATE=100] [SECONDS=8]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
system=${1:-raw}; subscribers=${2:-1000}; rate=${3:-100}; seconds=${4:-8}
command -v perf >/dev/null || { echo "perf is needed (apt-get install linux-perf)"; exit 1; }
out=$(mktemp -d /tmp/herald-profile-XXXX)
case $system in herald-*) server=herald; target="--target herald --transport ${system#herald-}" ;; raw*) server=$system; target="--target raw" ;; *) server=$system; target="--target $system" ;; esac
start_server "$server"
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
# The step starts after the connections and a 2 s warm-up: record from then on.
# shellcheck disable=SC2086
loadgen fanout $target --subscribers "$subscribers" --rates "$rate" --seconds "$seconds" --warmup-seconds 2 --api-key $key \
  >"$out/steps.jsonl" 2>"$out/loadgen.log" &
generator=$!
until grep -q "warm-up" "$out/loadgen.log" 2>/dev/null; do kill -0 $generator 2>/dev/null || break; sleep 0.2; done
# Only this run's generator processes (others may share the core): they name this server's port.
pids=$(pgrep -d, -f "Herald.LoadGen.dll fanout .*127.0.0.1:$port")
timeout $((seconds + 30)) perf record -q -e cpu-clock -g -p "$pids" -o "$out/perf.data" -- sleep "$((seconds - 1))" 2>/dev/null
wait $generator || true
grep -v '^{' "$out/loadgen.log" | tail -n 3
perf report -i "$out/perf.data" --no-children -g none --sort dso,sym --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -n 40
echo "by shared object:"
perf report -i "$out/perf.data" --no-children -g none --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -n 12
echo "profile: $out/perf.data (perf report -i $out/perf.data)"
