#!/usr/bin/env bash
# Shared by bench.sh: one server at a time pinned to SERVER_CORE (0), generators pinned to
# GENERATOR_CORE (1), every process under a timeout, loopback only. Source it; it sets $port,
# $server_pid (the server process itself, for /proc sampling) and stops the server on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
key=bench-key-0123456789
# 16 loopback source addresses: ~28,000 ephemeral ports each, and Herald's per-address limits
# (MaxHeldPollsPerIp 2,000) are not what an 18,000-connection run measures.
sources=$(seq -s, -f '127.0.0.%g' 2 17)
SERVER_CORE=${SERVER_CORE:-0}; GENERATOR_CORE=${GENERATOR_CORE:-1}
SERVER_TIMEOUT=${SERVER_TIMEOUT:-1200}; GENERATOR_TIMEOUT=${GENERATOR_TIMEOUT:-900}
release=bin/Release/net10.0
server=""; server_pid=""; server_log=""; server_data=""; port=0

build_all() {
  local log; log=$(mktemp)
  dotnet build "$root/Herald.slnx" -c Release -nologo -v:q -clp:NoSummary >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
  rm -f "$log"
  local io=$root/bench/peers/socketio
  [[ -d $io/node_modules/socket.io ]] || (cd "$io" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

stop_server() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [[ -n $server_data ]] && rm -rf "$server_data"
  [[ -n $server_log ]] && rm -f "$server_log"
  server=""; server_pid=""; server_data=""; server_log=""
}
trap stop_server EXIT INT TERM

# start_server SYSTEM [extra server args...]
#   herald (in-memory store) | herald-sqlite | herald-redis | signalr | socketio | socketio-polling | raw | raw-pack
#   HERALD_SERVER=path/to/herald.dll runs another build of Herald (a before/after comparison);
#   SERVER_ENV="NAME=value ..." sets environment variables for the servers only (a runtime knob comparison).
# Ports come from 10000–32767, below Linux's ephemeral range (32768–60999), so no client socket of
# this or any other run holds one; a port another server took is retried with the next pick.
start_server() {
  local attempt
  for attempt in 1 2 3 4 5; do
    port=$((10000 + RANDOM % 22768))
    start_server_on_port "$@" && return 0
    grep -q "address already in use" "$server_log" 2>/dev/null || return 1
  done
  return 1
}

start_server_on_port() {
  stop_server
  local system=$1; shift
  server_data=$(mktemp -d /tmp/herald-bench-XXXX); server_log=$server_data.log
  local cmd
  case $system in
    herald|herald-sqlite)
      cmd=(dotnet "${HERALD_SERVER:-$root/src/Herald.Server/$release/herald.dll}" serve --urls "http://127.0.0.1:$port" --data "$server_data"
           --Herald:ApiKeys:0=$key --Logging:LogLevel:Default=Warning
           --Herald:Connections:MaxConnectionsPerIp=0)  # the runs measure the server, not its per-address limit
      [[ $system == herald ]] && cmd+=(--store memory) ;;
    herald-redis)  # HERALD_REDIS: a running redis-server (bench/redis/run.sh starts one)
      cmd=(dotnet "${HERALD_SERVER:-$root/src/Herald.Server/$release/herald.dll}" serve --urls "http://127.0.0.1:$port" --data "$server_data"
           --Herald:ApiKeys:0=$key --Logging:LogLevel:Default=Warning --Herald:Connections:MaxConnectionsPerIp=0
           --store redis --redis "${HERALD_REDIS:?HERALD_REDIS names the redis-server}") ;;
    signalr) cmd=(dotnet "$root/bench/peers/SignalRPeer/$release/SignalRPeer.dll" --urls "http://127.0.0.1:$port" --Logging:LogLevel:Default=Warning) ;;
    raw) cmd=(dotnet "$root/bench/peers/RawBroadcaster/$release/RawBroadcaster.dll" --urls "http://127.0.0.1:$port" --Logging:LogLevel:Default=Warning) ;;
    raw-pack) cmd=(dotnet "$root/bench/peers/RawBroadcaster/$release/RawBroadcaster.dll" --urls "http://127.0.0.1:$port" --Logging:LogLevel:Default=Warning --pack) ;;
    socketio) cmd=(node "$root/bench/peers/socketio/server.mjs" --port "$port") ;;
    socketio-polling) cmd=(node "$root/bench/peers/socketio/server.mjs" --port "$port" --polling) ;;
    *) echo "unknown system $system" >&2; return 2 ;;
  esac
  # taskset execs timeout, which forks the server: $! is timeout, its child the server.
  # SERVER_ENV="NAME=value ...": environment for the server only (not the generator), for knob comparisons.
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CORE" timeout "$SERVER_TIMEOUT" env ${SERVER_ENV-} "${cmd[@]}" "$@" >"$server_log" 2>&1 &
  server=$!
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  server_pid=$(pgrep -P "$server" | head -n 1 || true)
  if [[ -z $server_pid ]] || ! curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    if grep -q "address already in use" "$server_log"; then
      echo "port $port is taken; trying another" >&2
    else
      echo "$system did not start:" >&2; cat "$server_log" >&2
    fi
    return 1
  fi
}

# wrk_setup [SECONDS=10] [CONNECTIONS=64]: for the wrk scripts (bench/http, bench/webhooks) — sets
# $seconds, $connections and $warmup and builds the server. The warm-up is 30 s (WARMUP_SECONDS):
# a server pinned to one core is still tiering its hot paths (JIT) 10 s in; with a 10 s warm-up the
# inbound webhook run read 83 or 164 µs per request from one run to the next, with 30 s 81-85 µs.
wrk_setup() {
  seconds=${1:-10}; connections=${2:-64}; warmup=${WARMUP_SECONDS:-30}
  command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
  dotnet build "$root/src/Herald.Server" -c Release -nologo -v:q >/dev/null
}

# wrk_run SECONDS [wrk options...] URL: wrk on the generator's core, under a timeout.
wrk_run() {
  local duration=$1; shift
  taskset -c "$GENERATOR_CORE" timeout $((duration + 30)) wrk -t1 -c"$connections" -d"${duration}s" --latency "$@"
}

# loadgen COMMAND [options...]: the generator on its core, against the running server.
loadgen() {
  local command=$1; shift
  DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 taskset -c "$GENERATOR_CORE" timeout "$GENERATOR_TIMEOUT" \
    dotnet "$root/bench/Herald.LoadGen/$release/Herald.LoadGen.dll" "$command" \
    --url "http://127.0.0.1:$port" --source-ips "$sources" --server-pid "$server_pid" \
    --server-core "$SERVER_CORE" --generator-core "$GENERATOR_CORE" "$@"
}

machine() {
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB," \
    ".NET $(dotnet --list-runtimes | awk '/NETCore.App/ {v=$2} END {print v}') (SDK $(dotnet --version)), node $(node --version)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%MZ)"
  echo "pinning: servers on core $SERVER_CORE, load generators on core $GENERATOR_CORE (taskset); loopback only"
}
