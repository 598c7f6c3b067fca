#!/usr/bin/env bash
# The Redis engine's append rate against the floor of the same work (issue 14): for each AOF fsync
# mode a fresh redis-server (loopback, free port, its own directory) pinned to core 1, then
# Herald.AppendBench pinned to core 0 with --store redis (Herald's RedisChannelLog: batched script
# with idempotency, eras, write counters, outbox) and --store redis-raw (a minimal script: offset
# counter, XADD, PUBLISH), 64 publishers awaiting each append, 4 channels. Each run warms up for
# WARMUP_SECONDS (15): pinned to one core, the JIT is still tiering the client's hot paths after
# 3 s, which cost Herald's engine 40 % (42.6 against 26.7 µs per append).
#   bench/redis/append.sh [seconds=10] [publishers=64] [channels=4]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}; publishers=${2:-64}; channels=${3:-4}
dotnet build bench/Herald.AppendBench -c Release -nologo -v:q >/dev/null
bench=bench/Herald.AppendBench/bin/Release/net10.0/Herald.AppendBench.dll
for fsync in always everysec; do
  dir=$(mktemp -d /tmp/herald-redis-bench-XXXX)
  port=$((10000 + RANDOM % 20000))
  taskset -c 1 redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes --appendfsync "$fsync" --daemonize no >"$dir/redis.log" 2>&1 &
  redis=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  for store in redis-raw redis; do
    echo "== appendfsync $fsync, $store"
    taskset -c 0 timeout 300 dotnet "$bench" --store "$store" --redis "127.0.0.1:$port" --publishers "$publishers" --channels "$channels" --seconds "$seconds" --warmup "${WARMUP_SECONDS:-15}"
  done
  kill "$redis"; wait "$redis" 2>/dev/null || true
  rm -rf "$dir"
done
