#!/usr/bin/env bash
# The comparison table of docs/transports.md, from a `./bench.sh transports` results directory.
# Usage: bench/transports/table.sh RESULTS_DIR
set -euo pipefail
dir=${1:?usage: bench/transports/table.sh RESULTS_DIR}
jq -rs '
  def r(x): if x == null then "—" else ((x * 10 | round) / 10 | tostring) end;
  def i(x): if x == null then "—" else (x | round | tostring) end;
  (map(select(.phase == "idle")) | map({key: .system, value: .}) | from_entries) as $idle
  | (map(select(.phase == "fanout")) | group_by(.system) | map({key: .[0].system, value: (map(select(.clean)) | last // .[-1])}) | from_entries) as $fan
  | (map(select(.phase == "shortpoll")) | map({key: .system, value: .}) | from_entries) as $poll
  | (map(select(.phase == "transport-wire")) | map({key: .technique, value: .}) | from_entries) as $wire
  | ["ws", "sse", "stream", "longpoll", "shortpoll"] as $order
  | {ws: "WebSocket", sse: "Server-Sent Events", stream: "HTTP streaming (NDJSON)", longpoll: "Long polling", shortpoll: "Short polling"} as $name
  | "| technique | idle memory / connection | server CPU / delivery | publish → delivery p50 / p99 | requests / s | bytes / message |",
    "|---|---|---|---|---|---|",
    ($order[] as $t
      | ("herald-" + $t) as $s
      | "| \($name[$t]) | \(if $idle[$s] then r($idle[$s].kiBPerConnection) + " KiB" else "—" end) | \(if $fan[$s] then r($fan[$s].serverCpuMicrosPerDelivery) + " µs" elif $poll[$s] then "\(r($poll[$s].serverCpuPercent)) % of a core for \(i($poll[$s].pollers)) pollers" else "—" end) | \(if $fan[$s] then r($fan[$s].latencyP50Ms) + " / " + r($fan[$s].latencyP99Ms) + " ms" elif $poll[$s] then r($poll[$s].latencyP50Ms) + " / " + r($poll[$s].latencyP99Ms) + " ms" else "—" end) | \(if $poll[$s] then i($poll[$s].requestsPerSecond) elif $t == "longpoll" and $fan[$s] then "≈ " + i($fan[$s].deliveriesPerSecond) + " (one per delivery)" else "— (pushed)" end) | \(if $wire[$t] then i($wire[$t].bytesPerMessage) else "—" end) |")
' "$dir"/transports.jsonl
