#!/usr/bin/env bash
# Every benchmark of docs/benchmarks.md in one run, Herald side by side with ASP.NET Core SignalR,
# Socket.IO and a raw Kestrel broadcaster, all driven by the same load generator
# (bench/Herald.LoadGen). Servers run on core 0, generators on core 1 (taskset); each phase gets a
# fresh server; every process is under a timeout; loopback only. JSON lines go to $RESULTS
# (default a new /tmp/herald-bench-* directory), markdown tables to stdout (bench/tables.sh).
#
#   ./bench.sh quick     ≤ 5 minutes: 1,000 subscribers, short steps, 2,000 idle connections
#   ./bench.sh full      the sizes of docs/benchmarks.md (~40 minutes); CHARTS=docs/img to draw there
#   ./bench.sh smoke     a few seconds: Herald fan-out over ws and sse must have no gap, duplicate or loss
#   ./bench.sh fanout|chat|idle|poll|durable   one phase, at SIZE=quick|full (default quick)
#   ./bench.sh transports   the comparison of docs/transports.md (idle memory, CPU and latency at one
#                rate, polls, bytes per message per technique); TRANSPORT_RATE, TRANSPORT_SUBSCRIBERS
#
# Knobs (environment): SYSTEMS="herald-ws signalr ..." to restrict fan-out, RATES_1000/RATES_5000,
# STEP_SECONDS, WARMUP_SECONDS, IDLE_SIZES, SERVER_CORE/GENERATOR_CORE, SERVER_TIMEOUT/GENERATOR_TIMEOUT,
# HERALD_SERVER=path/to/herald.dll (another build of Herald, for a before/after comparison).
set -euo pipefail
cd "$(dirname "$0")"
source bench/lib.sh
mode=${1:-quick}
size=${SIZE:-$mode}
[[ $size == full ]] || size=quick
results=${RESULTS:-$(mktemp -d /tmp/herald-bench-XXXX)}
mkdir -p "$results"

if [[ $size == full ]]; then
  fanout_sizes=${FANOUT_SIZES:-1000 5000}; step=${STEP_SECONDS:-5}; warmup=${WARMUP_SECONDS:-15}
  rates_1000=${RATES_1000:-50,100,200,400,800,1600,3200,max}; rates_5000=${RATES_5000:-20,50,100,200,400,800,max}
  systems=${SYSTEMS:-herald-ws herald-sse herald-stream signalr socketio raw raw-pack}
  chat_rooms=1000; chat_seconds=10; idle_sizes=${IDLE_SIZES:-10000 18000}
  idle_systems="herald-ws herald-sse herald-stream herald-longpoll signalr socketio raw"
  poll_seconds=5; longpoll_subscribers=1000; longpoll_rates=10,50,100,200,400,800,max; durable_seconds=10
else
  fanout_sizes=${FANOUT_SIZES:-1000}; step=${STEP_SECONDS:-2}; warmup=${WARMUP_SECONDS:-3}
  rates_1000=${RATES_1000:-20,100,400,max}; rates_5000=${RATES_5000:-20,100,max}
  systems=${SYSTEMS:-herald-ws herald-sse signalr socketio raw raw-pack}
  chat_rooms=100; chat_seconds=3; idle_sizes=${IDLE_SIZES:-2000}
  idle_systems="herald-ws signalr socketio raw"
  poll_seconds=2; longpoll_subscribers=200; longpoll_rates=10,50,200,max; durable_seconds=3
fi

# system label → server to start, generator target and transport
server_of() { case $1 in herald-*) echo herald ;; *) echo "$1" ;; esac; }
target_of() { case $1 in herald-*) echo "--target herald --transport ${1#herald-}" ;; raw*) echo "--target raw" ;; socketio-polling) echo "--target socketio --transport polling" ;; *) echo "--target $1" ;; esac; }
label() { jq -c --arg s "$1" '. + {system: $s}'; }

phase_fanout() {
  for subscribers in $fanout_sizes; do
    local rates=$rates_1000; [[ $subscribers -ge 5000 ]] && rates=$rates_5000
    for system in $systems; do
      echo "== fan-out $system: $subscribers subscribers, rates $rates, $step s per step" >&2
      start_server "$(server_of "$system")"
      # shellcheck disable=SC2046
      loadgen fanout $(target_of "$system") --subscribers "$subscribers" --rates "$rates" --seconds "$step" \
        --payload 100 --connections 64 --warmup-seconds "$warmup" --api-key $key | label "$system" >>"$results/fanout.jsonl" || true
    done
  done
  stop_server
}

phase_chat() {
  for system in herald-ws signalr socketio; do
    echo "== chat $system: $chat_rooms rooms × 10 members, $chat_seconds s" >&2
    start_server "$(server_of "$system")" --Herald:Namespaces:chat:Publish=Anyone
    # shellcheck disable=SC2046
    loadgen chat $(target_of "$system") --rooms "$chat_rooms" --members 10 --seconds "$chat_seconds" --processes 2 \
      | label "$system" >>"$results/chat.jsonl" || true
  done
  stop_server
}

phase_idle() {
  for connections in $idle_sizes; do
    for system in $idle_systems; do
      echo "== idle $system: $connections connections" >&2
      start_server "$(server_of "$system")"
      # shellcheck disable=SC2046
      loadgen idle $(target_of "$system") --connections "$connections" --processes 2 --rate 2000 \
        --server-gc --warmup 100 --settle "$([[ $size == full ]] && echo 15 || echo 3)" --poll-wait 60 \
        | label "$system" >>"$results/idle.jsonl" || true
    done
  done
  stop_server
}

phase_poll() {
  echo "== short polls: Herald /v1/poll?wait=0 and history with If-None-Match, 64 clients, $poll_seconds s" >&2
  for mode in poll history; do
    start_server herald
    loadgen shortpoll --mode "$mode" --pollers 64 --rate 100 --seconds "$poll_seconds" --api-key $key \
      | label "herald-$mode" >>"$results/poll.jsonl" || true
  done
  echo "== long polls: held polls answered by publishes, $longpoll_subscribers clients" >&2
  for system in herald-longpoll socketio-polling; do
    start_server "$(server_of "$system")"
    # shellcheck disable=SC2046
    loadgen fanout $(target_of "$system") --subscribers "$longpoll_subscribers" --rates "$longpoll_rates" --seconds "$step" \
      --payload 100 --connections 64 --api-key $key | label "$system" >>"$results/longpoll.jsonl" || true
  done
  stop_server
}

# Each technique measured the same way for docs/transports.md: server memory per idle connection,
# a fan-out at one fixed rate (server CPU per delivery, publish → delivery p50/p99), short polls,
# and bytes on the wire per message; then the comparison table (bench/transports/table.sh).
phase_transports() {
  local rate=${TRANSPORT_RATE:-20} subscribers=${TRANSPORT_SUBSCRIBERS:-1000} connections
  connections=${TRANSPORT_IDLE:-$([[ $size == full ]] && echo 10000 || echo 2000)}
  for technique in ws sse stream longpoll; do
    echo "== transports $technique: $connections idle connections, fan-out 1 × $subscribers at $rate/s" >&2
    start_server herald
    loadgen idle --target herald --transport "$technique" --connections "$connections" --processes 2 --rate 2000 \
      --server-gc --warmup 100 --settle 3 --poll-wait 60 | label "herald-$technique" >>"$results/transports.jsonl" || true
    start_server herald
    loadgen fanout --target herald --transport "$technique" --subscribers "$subscribers" --rates "$rate" --seconds "$((step * 3))" \
      --payload 100 --connections 64 --warmup-seconds "$warmup" --api-key $key | label "herald-$technique" >>"$results/transports.jsonl" || true
  done
  echo "== transports shortpoll: 64 pollers, $rate publishes/s" >&2
  start_server herald
  loadgen shortpoll --mode poll --pollers 64 --rate "$rate" --seconds "$((poll_seconds * 3))" --api-key $key \
    | label herald-shortpoll >>"$results/transports.jsonl" || true
  echo "== transports: bytes on the wire per message" >&2
  start_server herald
  bench/transports/wire.sh "$port" "$key" >>"$results/transports.jsonl" || true
  stop_server
  echo; echo "## Transports (docs/transports.md)"; echo
  bench/transports/table.sh "$results"
}

phase_durable() {
  echo "== durable publish: wrk on HTTP publish (SQLite) next to GET /healthz, $durable_seconds s" >&2
  bench/http/run.sh "$durable_seconds" 64 >"$results/durable.txt" 2>&1 || true
  dotnet "bench/Herald.AppendBench/$release/Herald.AppendBench.dll" --publishers 64 --seconds "$durable_seconds" --channels 4 \
    >"$results/append.txt" 2>&1 || true
}

case $mode in
  smoke)
    [[ -n ${NO_BUILD:-} ]] || dotnet build Herald.slnx -c Release -nologo -v:q -clp:NoSummary >/dev/null
    start_server herald
    loadgen smoke --api-key $key
    exit ;;
  quick|full)
    phases="fanout chat idle poll durable" ;;
  fanout|chat|idle|poll|durable|transports)
    phases=$mode ;;
  *) sed -n '2,16p' "$0"; exit 2 ;;
esac

echo "# Herald benchmarks ($mode, $size sizes), $(date -u +%Y-%m-%dT%H:%MZ)"
machine
echo
[[ -n ${NO_BUILD:-} ]] || build_all
machine >"$results/machine.txt"
for phase in $phases; do "phase_$phase"; done
bench/tables.sh "$results"
if [[ -n ${CHARTS:-} || $mode == full ]]; then
  out=${CHARTS:-$results/img}
  dotnet "bench/Herald.Charts/$release/Herald.Charts.dll" "$results"/*.jsonl --out "$out" >&2 && echo "charts: $out" || echo "charts: not drawn"
fi
echo "results: $results"
