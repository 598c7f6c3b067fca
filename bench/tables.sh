#!/usr/bin/env bash
# Markdown tables from a bench.sh results directory (the JSON lines of each phase).
# Usage: bench/tables.sh RESULTS_DIR
set -euo pipefail
dir=${1:?usage: bench/tables.sh RESULTS_DIR}
n='def n: if . == null then "—" elif (. | type) == "number" then (. * 100 | round / 100 | tostring) else tostring end;
   def k: if . == null then "—" else (round | tostring) as $s | if ($s | length) <= 3 then $s else (($s[0:($s | length) - 3] | tonumber | k) + "," + $s[-3:]) end end;
   def sat: if .saturationOffered > 0 then "**\(.saturationDeliveriesPerSecond|k)** (\(.saturationOffered|k), \(.saturationP99Ms|n))" else "none kept up" end;'

if [[ -s $dir/fanout.jsonl || -s $dir/longpoll.jsonl ]]; then
  for file in fanout longpoll; do
    [[ -s $dir/$file.jsonl ]] || continue
    for subscribers in $(jq -r 'select(.phase=="fanout-summary") | .subscribers' "$dir/$file.jsonl" | sort -un); do
      echo
      echo "### ${file/longpoll/Long polling}: 1 channel × $subscribers subscribers, 100-byte payloads"
      echo
      echo "| system | saturation: deliveries/s (offered publishes/s, p99 ms) | server µs/delivery there | peak deliveries/s (rate, p99 ms) | generator CPU at peak | clean |"
      echo "|---|---|---|---|---|---|"
      jq -r --argjson s "$subscribers" "$n"' select(.phase=="fanout-summary" and .subscribers >= ($s * 0.98) and .subscribers <= $s) |
        "| \(.system) | \(sat) | \(.saturationServerCpuMicrosPerDelivery|n) | \(.peakDeliveriesPerSecond|k) (\(.peakRate), \(.peakP99Ms|n)) | \(.peakGeneratorCpuPercent|n) % | \(if .clean then "yes" else "**no**" end) |"' "$dir/$file.jsonl"
      if [[ $file == fanout && -n $(jq -c --argjson s "$subscribers" 'select(.phase=="fanout-summary" and .system=="herald-ws" and .subscribers >= ($s * 0.98) and .subscribers <= $s)' "$dir/$file.jsonl") ]]; then
        echo
        echo "Targets (issue 4), Herald over WebSocket against each system in the same run:"
        echo
        echo "| against | saturation ratio (target) | peak ratio | p99 at half of SignalR's saturation rate: Herald / SignalR |"
        echo "|---|---|---|---|"
        jq -rs --argjson s "$subscribers" "$n"'
          [.[] | select(.subscribers >= ($s * 0.98) and .subscribers <= $s)] as $all
          | ($all | map(select(.phase=="fanout-summary")) | map({key: .system, value: .}) | from_entries) as $sum
          | (($sum["signalr"].saturationOffered // 0) / 2) as $half
          | def at($sys): [$all[] | select(.phase=="fanout" and .system==$sys and .offered > 0 and .offered <= $half)] | max_by(.offered);
          def ratio($a; $b): if ($b // 0) > 0 and ($a // 0) > 0 then ($a / $b * 100 | round / 100 | tostring) + "×" else "—" end;
          ["signalr", "socketio", "raw", "raw-pack"][] as $peer | select($sum[$peer] != null)
          | {"signalr": "≥ 2.5×", "socketio": "≥ 10×", "raw": "≥ 1.3×", "raw-pack": "—"}[$peer] as $target
          | "| \($peer) | \(ratio($sum["herald-ws"].saturationDeliveriesPerSecond; $sum[$peer].saturationDeliveriesPerSecond)) (\($target)) | \(ratio($sum["herald-ws"].peakDeliveriesPerSecond; $sum[$peer].peakDeliveriesPerSecond)) | "
            + (if $peer == "signalr" and $half > 0 then "\(at("herald-ws").latencyP99Ms | n) / \(at("signalr").latencyP99Ms | n) ms at \(at("signalr").offered | k)/s" else "" end) + " |"' "$dir/$file.jsonl"
      fi
      echo
      echo "<details><summary>every step</summary>"
      echo
      echo "| system | offered/s | published/s | deliveries/s | p50 / p99 / p99.9 / max ms | per frame | server CPU % | µs/delivery | RSS MiB | generator CPU % (µs/delivery) | gaps/dups/missing | kept up |"
      echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
      jq -r --argjson s "$subscribers" "$n"' select(.phase=="fanout" and .subscribers >= ($s * 0.98) and .subscribers <= $s) |
        "| \(.system) | \(.rate) | \(.publishedPerSecond|k) | \(.deliveriesPerSecond|k) | \(.latencyP50Ms|n) / \(.latencyP99Ms|n) / \(.latencyP999Ms|n) / \(.latencyMaxMs|n) | \(.publicationsPerFrame|n) | \(.serverCpuPercent|n) | \(.serverCpuMicrosPerDelivery|n) | \(.serverRssMiB|n) | \(.generatorCpuPercent|n) (\(.generatorCpuMicrosPerDelivery|n)) | \(.gaps)/\(.duplicates)/\(.missing)\(if (.resets // 0) > 0 then " (\(.resets|k) resets)" else "" end) | \(if .keptUp then "yes" else "no" end) |"' "$dir/$file.jsonl"
      echo
      echo "</details>"
    done
  done
fi

if [[ -s $dir/chat.jsonl ]]; then
  echo
  echo "### Chat: rooms × 10 members, each member 1 message/s over its own connection"
  echo
  echo "| system | rooms | connections | sent/s | deliveries/s | p50 / p99 / p99.9 / max ms | server CPU % | µs/delivery | RSS MiB | generator CPU % | gaps/dups/missing |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  jq -r "$n"' select(.phase=="chat") | "| \(.system) | \(.rooms|k) | \(.connections|k) | \(.sentPerSecond|k) | **\(.deliveriesPerSecond|k)** | \(.latencyP50Ms|n) / \(.latencyP99Ms|n) / \(.latencyP999Ms|n) / \(.latencyMaxMs|n) | \(.serverCpuPercent|n) | \(.serverCpuMicrosPerDelivery|n) | \(.serverRssMiB|n) | \(.generatorCpuPercent|n) | \(.gaps)/\(.duplicates)/\(.missing) |"' "$dir/chat.jsonl"
fi

if [[ -s $dir/idle.jsonl ]]; then
  echo
  echo "### Idle connections: server memory per connection (RSS growth after an induced GC)"
  echo
  echo "| system | connections open | server RSS before → after (MiB) | **KiB per connection** (without the induced GC) | projected RSS for 1 M per node (GiB) | GC |"
  echo "|---|---|---|---|---|---|"
  jq -r "$n"' select(.phase=="idle") | "| \(.system) | \(.stillOpen|k) / \(.requested|k) | \(.rssBeforeKiB/1024|n) → \(.rssAfterGcKiB/1024|n) | **\(.kiBPerConnection|n)** (\(.kiBPerConnectionNoGc|n)) | \(.projectedGiBPerMillion|n) | \(.gcMode) |"' "$dir/idle.jsonl"
fi

if [[ -s $dir/poll.jsonl ]]; then
  echo
  echo "### Short polling: 64 clients back to back, publisher at 100/s"
  echo
  echo "| system | requests/s (304s) | messages/s | request p50 / p99 ms | message p50 / p99 ms | server CPU % | µs/request | generator CPU % | gaps/dups |"
  echo "|---|---|---|---|---|---|---|---|---|"
  jq -r "$n"' select(.phase=="shortpoll") | "| \(.system) | **\(.requestsPerSecond|k)** (\(if .requests > 0 then (100 * .notModified / .requests | round) else 0 end) %) | \(.messagesPerSecond|k) | \(.requestP50Ms|n) / \(.requestP99Ms|n) | \(.latencyP50Ms|n) / \(.latencyP99Ms|n) | \(.serverCpuPercent|n) | \(.serverCpuMicrosPerRequest|n) | \(.generatorCpuPercent|n) | \(.gaps)/\(.duplicates) |"' "$dir/poll.jsonl"
fi

for file in durable append; do
  if [[ -s $dir/$file.txt ]]; then
    echo
    [[ $file == durable ]] && echo "### Durable publish over HTTP (SQLite, wrk -c64)" || echo "### Durable appends through SqliteChannelLog (64 publishers)"
    echo
    grep -E '^\||%|stored|appends' "$dir/$file.txt" || true
  fi
done
