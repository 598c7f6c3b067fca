#!/usr/bin/env bash
# Bytes on the wire per message for each technique, against a running Herald (bench/lib.sh's
# $port and $key): one 100-byte payload published 20 times, read by each technique, headers and
# framing included. Prints one JSON line per technique: {"phase":"transport-wire","technique",
# "bytesPerMessage","note"}. Usage (from bench.sh): wire.sh PORT API_KEY
set -euo pipefail
port=${1:?port}; key=${2:?api key}
base=http://127.0.0.1:$port
payload='{"data":"'$(printf 'x%.0s' $(seq 1 90))'"}'   # data of 100 bytes as stored JSON ("x…x" and quotes)
count=20
publish() { for _ in $(seq 1 $count); do curl -s -o /dev/null -X POST "$base/v1/channels/$1/messages" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$payload"; done; }
line() { printf '{"phase":"transport-wire","technique":"%s","bytesPerMessage":%s,"note":"%s"}\n' "$1" "$2" "$3"; }

# A pushed stream: bytes received while $count publications arrive, divided by $count.
pushed() {
  local technique=$1 path=$2 channel=bench:wire-$1-$$ out; out=$(mktemp)
  curl -sN --max-time 8 "$base$path?channel=$channel" -o "$out" &
  local reader=$!
  sleep 1; local before; before=$(stat -c %s "$out")
  publish "$channel"; sleep 1
  local after; after=$(stat -c %s "$out")
  kill "$reader" 2>/dev/null || true; wait "$reader" 2>/dev/null || true; rm -f "$out"
  line "$technique" "$(( (after - before) / count ))" "framing and the per-message cursor; the response headers are paid once per connection"
}
pushed sse /v1/sse
pushed stream /v1/stream

# WebSocket: the publication object as every transport carries it, in a frame of its own
# (a 4-byte server frame header for 126-65535 bytes; batches share one frame, '\n'-separated).
channel=bench:wire-ws-$$
publish "$channel"
object=$(curl -s "$base/v1/channels/$channel/messages?limit=1" -H "Authorization: Bearer $key" | jq -c '.publications[0]' | tr -d '\n' | wc -c)
line ws "$((object + 4))" "one message per frame (4-byte header); in a burst several share a frame"

# Polling: one request and its answer per message (request line and headers, response headers and body).
channel=bench:wire-poll-$$
publish "$channel"
first=$(curl -s "$base/v1/poll?channel=$channel&wait=0" -H "Authorization: Bearer $key" | jq -r .cursor)
read -r sent header body < <(curl -s -o /dev/null -w '%{size_request} %{size_header} %{size_download}\n' "$base/v1/poll?channel=$channel&wait=0&cursor=$first" -H "Authorization: Bearer $key")
empty=$((sent + header + body))
curl -s -o /dev/null -X POST "$base/v1/channels/$channel/messages" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$payload"
read -r sent header body < <(curl -s -o /dev/null -w '%{size_request} %{size_header} %{size_download}\n' "$base/v1/poll?channel=$channel&wait=25&cursor=$first" -H "Authorization: Bearer $key")
line longpoll "$((sent + header + body))" "a request and an answer per message at low rates (several messages share an answer at high rates)"
line shortpoll "$((sent + header + body))" "plus ${empty} bytes for every empty poll (a 304 with If-None-Match costs less)"
