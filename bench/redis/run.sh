#!/usr/bin/env bash
# The Redis engine's benchmarks (docs/benchmarks.md, "Several nodes on Redis"), loopback only:
#   fanout   one node, 1 x 1,000 and 1 x 5,000 WebSocket fan-out, --store redis next to --store sqlite
#   latency  two nodes on one Redis: subscribers on node B (LATENCY_SUBSCRIBERS, default 1,000),
#            publishes through node A, then through node B itself for comparison; the publish ->
#            delivery latency at rising rates (the saturation step tells where 10 % is)
# A fresh redis-server (AOF, appendfsync REDIS_FSYNC (always), no snapshots) per phase, pinned with the servers
# to core 0; the load generator on core 1 (PIN=0: nothing pinned, every process on both cores as the
# OS schedules it — the server-core CPU figures then mean nothing).   bench/redis/run.sh [fanout|latency|all]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
# PIN=0: taskset -c CORE CMD... runs CMD... unpinned. In a background job or a pipeline (a
# subshell) the function execs it, so $! is the process itself and stopping it stops it.
if [[ ${PIN:-1} == 0 ]]; then
  taskset() { shift 2; if (( BASH_SUBSHELL > 0 )); then exec "$@"; else "$@"; fi; }
fi
phase=${1:-all}
step=${STEP_SECONDS:-5}; warmup=${WARMUP_SECONDS:-10}
[[ ${NO_BUILD:-} == 1 ]] || build_all

redis_pid=""; redis_dir=""
start_redis() {
  stop_redis
  redis_dir=$(mktemp -d /tmp/herald-redis-XXXX)
  local redis_port=$((10000 + RANDOM % 20000))
  taskset -c "$SERVER_CORE" redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" --save "" \
    --appendonly yes --appendfsync "${REDIS_FSYNC:-always}" --daemonize no >"$redis_dir/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export HERALD_REDIS="127.0.0.1:$redis_port"
}
stop_redis() {
  [[ -n $redis_pid ]] && { kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; }
  [[ -n $redis_dir ]] && rm -rf "$redis_dir"
  redis_pid=""; redis_dir=""
}
node_b_pid=""; node_b_data=""
stop_all() { stop_server; [[ -n $node_b_pid ]] && { kill "$node_b_pid" 2>/dev/null || true; wait "$node_b_pid" 2>/dev/null || true; }; [[ -n $node_b_data ]] && rm -rf "$node_b_data"; stop_redis; }
trap stop_all EXIT INT TERM
machine
if [[ ${PIN:-1} == 0 ]]; then echo "PIN=0: nothing pinned after all (the line above does not hold)"; fi

if [[ $phase == fanout || $phase == all ]]; then
  for subscribers in 1000 5000; do
    rates=50,100,200,400,800,1600,max; [[ $subscribers == 5000 ]] && rates=20,50,100,200,400,max
    for system in herald-sqlite herald-redis; do
      [[ $system == herald-redis ]] && start_redis
      echo "== fan-out $system ws: $subscribers subscribers" >&2
      start_server "$system"
      loadgen fanout --target herald --transport ws --subscribers "$subscribers" --rates "$rates" --seconds "$step" \
        --payload 100 --connections 64 --warmup-seconds "$warmup" --api-key $key | jq -c --arg s "$system" '. + {system: $s}' || true
      stop_server; stop_redis
    done
  done
fi

if [[ $phase == latency || $phase == all ]]; then
  start_redis
  start_server herald-redis    # node A: publishes go here
  node_a=$port
  node_b_data=$(mktemp -d /tmp/herald-bench-XXXX)
  port_b=$((10000 + RANDOM % 20000))
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CORE" timeout "$SERVER_TIMEOUT" env ${SERVER_ENV-} dotnet "${HERALD_SERVER:-$root/src/Herald.Server/$release/herald.dll}" serve \
    --urls "http://127.0.0.1:$port_b" --data "$node_b_data" --Herald:ApiKeys:0=$key --Logging:LogLevel:Default=Warning \
    --Herald:Connections:MaxConnectionsPerIp=0 --store redis --redis "$HERALD_REDIS" >"$node_b_data.log" 2>&1 &
  node_b_pid=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port_b/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  latency_subscribers=${LATENCY_SUBSCRIBERS:-1000}
  latency_rates=${LATENCY_RATES:-20,50,100,200,400,800,max}
  node_b_server=$(pgrep -P "$node_b_pid" | head -n 1 || echo "$node_b_pid")
  echo "== cross-node latency: $latency_subscribers ws subscribers on node B (:$port_b), publishes through node A (:$node_a)" >&2
  port=$port_b server_pid=$node_b_server \
    loadgen fanout --target herald --transport ws --subscribers "$latency_subscribers" --rates "$latency_rates" --seconds "$step" \
      --payload 100 --connections 64 --warmup-seconds "$warmup" --api-key $key --publish-url "http://127.0.0.1:$node_a" | jq -c '. + {system: "cross-node"}' || true
  echo "== same-node latency: the same subscribers, publishes through node B" >&2
  port=$port_b server_pid=$node_b_server \
    loadgen fanout --target herald --transport ws --subscribers "$latency_subscribers" --rates "$latency_rates" --seconds "$step" \
      --payload 100 --connections 64 --warmup-seconds "$warmup" --api-key $key | jq -c '. + {system: "same-node"}' || true
fi
