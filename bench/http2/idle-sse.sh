#!/usr/bin/env bash
# Server memory per idle SSE stream over HTTP/1.1 (plain and TLS) and HTTP/2 (TLS, 100 streams to a
# connection): for each, a fresh herald (memory store), a full blocking GC induced in it (as
# bench/Herald.LoadGen's probe does), RSS and the managed heap read; N streams opened and
# subscribed; 10 s; GC, read again. Per stream = growth / N. Loopback only, nice'd.
# usage: bench/http2/idle-sse.sh [N=5000] [modes="h1 h1-tls h2"]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-5000}
MODES=${2:-"h1 h1-tls h2"}
HERALD=src/Herald.Server/bin/Release/net10.0/herald.dll
LOADGEN=bench/Herald.LoadGen/bin/Release/net10.0/Herald.LoadGen.dll
[ -f "$HERALD" ] && [ -f "$LOADGEN" ] || nice -n 10 dotnet build Herald.slnx -c Release -nologo -v:q >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
dotnet "$HERALD" dev-cert --out "$work/cert" >/dev/null

probe() { # probe <pid> <url> <data dir>: "rss_kib heap_bytes", after an induced full GC
  local rss heap
  rss=$(dotnet "$LOADGEN" probe --server-pid "$1" --server-gc | jq -r .rssKiB)
  heap=$(curl -sk -H "Authorization: Bearer $(cat "$3/api-key")" "$2/metrics" | awk '/^dotnet_gc_last_collection_heap_size_bytes/ {s += $2} END {printf "%d", s}')
  echo "$rss $heap"
}

printf '| mode | streams | connections | RSS before → after (MiB) | **KiB per stream** (RSS) | managed heap before → after (MiB) | KiB per stream (heap) |\n|---|---|---|---|---|---|---|\n'
for mode in $MODES; do
  scheme=http; tls=()
  if [ "$mode" != h1 ]; then scheme=https; tls=(--tls-cert "$work/cert/cert.pem" --tls-key "$work/cert/key.pem"); fi
  log="$work/herald-$mode.log"
  nice -n 10 dotnet "$HERALD" serve --urls "$scheme://127.0.0.1:0" --store memory --data "$work/data-$mode" \
    --Herald:Connections:MaxConnectionsPerIp=0 "${tls[@]}" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q 'Herald listening on' "$log" && break; sleep 0.1; done
  url=$(grep -oE 'Herald listening on https?://127\.0\.0\.1:[0-9]+' "$log" | awk '{print $4}')
  # Warm-up: 200 streams opened and closed, so JIT, pools and TLS session state are in "before".
  EXIT_WHEN_READY=1 nice -n 10 node bench/http2/idle-sse.mjs "$mode" "$url" 200 "$work/cert/cert.pem" >/dev/null 2>&1 || true
  read -r rss0 heap0 < <(probe "$pid" "$url" "$work/data-$mode")
  fifo="$work/hold-$mode"; mkfifo "$fifo"
  nice -n 10 node bench/http2/idle-sse.mjs "$mode" "$url" "$N" "$work/cert/cert.pem" <"$fifo" >"$work/client-$mode.log" 2>&1 &
  client=$!
  exec 3>"$fifo"
  for _ in $(seq 1200); do grep -q "^ready" "$work/client-$mode.log" && break; kill -0 "$client" 2>/dev/null || break; sleep 0.1; done
  grep -q "^ready" "$work/client-$mode.log" || { cat "$work/client-$mode.log" >&2; kill "$pid"; exit 1; }
  sleep 10
  read -r rss1 heap1 < <(probe "$pid" "$url" "$work/data-$mode")
  connections=$(ss -Htn state established "( sport = :${url##*:} )" | wc -l)
  exec 3>&-; wait "$client" || true
  kill "$pid"; wait "$pid" || true
  awk -v m="$mode" -v n="$N" -v c="$connections" -v r0="$rss0" -v r1="$rss1" -v h0="$heap0" -v h1="$heap1" 'BEGIN {
    printf "| %s | %d | %d | %.1f → %.1f | **%.2f** | %.1f → %.1f | %.2f |\n", m, n, c, r0/1024, r1/1024, (r1-r0)/n, h0/1048576, h1/1048576, (h1-h0)/1024/n }'
done
