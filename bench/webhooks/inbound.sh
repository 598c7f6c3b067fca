#!/usr/bin/env bash
# Inbound webhook throughput with wrk: GitHub-scheme deliveries to POST /v1/webhooks/in/gh, each
# verified on its raw body and appended (with its delivery id for dedupe) to the durable SQLite
# log. The server runs on core 0 and wrk on core 1 (bench/lib.sh), as in bench/http/run.sh.
# Usage: bench/webhooks/inbound.sh [seconds=10] [connections=64]
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$root"
wrk_setup "$@"

secret='bench-github-secret'
export BODY='{"ref":"refs/heads/main","repository":{"full_name":"octo/bench"},"head_commit":{"id":"4b825dc642cb6eb9a060e54bf8d69288fbee4904","message":"benchmark"}}'
export SIGNATURE="sha256=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$secret" | awk '{print $NF}')"
start_server herald-sqlite --Herald:Webhooks:Sources:gh:Scheme=GitHub --Herald:Webhooks:Sources:gh:Secrets:0="$secret" \
  --Herald:Webhooks:Sources:gh:Channel='notify:{repository.full_name}'

# One delivery by hand first: it must be accepted (202), or the run measures refusals.
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/webhooks/in/gh" -H 'Content-Type: application/json' \
  -H "X-Hub-Signature-256: $SIGNATURE" -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: check-1' --data-raw "$BODY")
[ "$status" = 202 ] || { echo "the signed delivery was answered $status, not 202"; exit 1; }

run() { local duration=$1; shift; wrk_run "$duration" -s bench/webhooks/inbound.lua "$@"; }
# The server's CPU time (utime + stime, clock ticks) from /proc: CPU per request is steadier than requests/s when other work shares the cores.
cpu() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
echo "warm-up: ${warmup}s"; run "$warmup" "http://127.0.0.1:$port/v1/webhooks/in/gh" >/dev/null
before=$(cpu)
result=$(run "$seconds" "http://127.0.0.1:$port/v1/webhooks/in/gh")
after=$(cpu)
echo "$result"
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$result"); non2xx=${non2xx:-0}
stored=$(curl -s "http://127.0.0.1:$port/v1/channels/notify:octo-bench/messages?reverse=true&limit=1" | sed -E 's/.*"top":([0-9]+).*/\1/')
echo
echo "| endpoint | requests/s | p99 latency | non-2xx |"
echo "|---|---|---|---|"
echo "| POST /v1/webhooks/in/{source} (GitHub HMAC, SQLite, durable) | $rps | $(awk '/ 99%/ {print $2}' <<<"$result") | $non2xx |"
requests=$(awk '/requests in/ {print $1}' <<<"$result")
awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" -v s="$seconds" \
  'BEGIN { printf "server CPU: %.0f %% of a core, %.0f µs per request\n", 100 * t / hz / s, 1e6 * t / hz / n }'
echo "publications stored on notify:octo-bench (check + warm-up + run): $stored"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
