#!/usr/bin/env bash
# Usage: bench/churn/gc-churn.sh (after dotnet build src/Herald.Server -c Release). Loopback only.
# Each GC setting: a fresh node (memory store, no per-address limit), 2 rounds of 10,000 WebSocket
# connections (handshake + subscribe, 200 at a time) opened, held and closed, then RSS 20 s later.
root=$(cd "$(dirname "$0")/../.." && pwd)
dll=${HERALD_SERVER:-$root/src/Herald.Server/bin/Release/net10.0/herald.dll}
port=18600
for cfg in "DOTNET_gcServer=1" "DOTNET_gcServer=1 DOTNET_GCConserveMemory=5" "DOTNET_gcServer=0" "DOTNET_gcServer=0 DOTNET_GCConserveMemory=5"; do
  port=$((port+1)); data=$(mktemp -d /tmp/gcm-XXXX)
  read -ra envs <<<"$cfg"
  env "${envs[@]}" dotnet "$dll" serve --urls http://127.0.0.1:$port --data "$data" --store memory --Herald:Connections:MaxConnectionsPerIp=0 --Logging:LogLevel:Default=Warning > "$data.log" 2>&1 &
  pid=$!
  for i in $(seq 1 60); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 1; done
  rss0=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
  python3 "$root/bench/churn/churn.py" 127.0.0.1 $port 10000 2 >/dev/null
  peak=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
  sleep 20
  rss1=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
  echo "$cfg: RSS before ${rss0} KiB, peak ${peak} KiB, 20 s after churn ${rss1} KiB"
  kill $pid; wait $pid 2>/dev/null; rm -rf "$data" "$data.log"
done
