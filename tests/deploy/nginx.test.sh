#!/usr/bin/env bash
# deploy/nginx/herald.conf, the very file docs/deploy.md tells people to install, run by a real
# nginx on loopback ports (TLS with a throwaway certificate) in front of a real herald, and each
# transport used through it: the HTTP → HTTPS redirect, a WebSocket (npm ws), Server-Sent Events
# and an NDJSON stream whose events arrive while the response is still open (not buffered), and a
# long poll held for MaxPollWaitSeconds (60 s) that nginx must not cut with a 504.
source "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || skip "nginx is not installed (apt-get install nginx; ./test.sh installs it)"
command -v openssl >/dev/null || skip "openssl is not installed"
command -v node >/dev/null && [ -d "$ROOT/tests/node/node_modules/ws" ] || skip "node and tests/node's npm packages are needed (npm ci in tests/node)"
dll="$ROOT/src/Herald.Server/bin/Release/net10.0/herald.dll"
[ -f "$dll" ] || fail "$dll is missing: build first (dotnet build Herald.slnx -c Release)"

key="deploy-test-key-0123456789"
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# Heartbeats every minute only: an event that arrives within seconds was not held back waiting
# for more bytes to fill a buffer.
start_herald "$WORK/herald.log" dotnet "$dll" serve --urls http://127.0.0.1:0 --data "$WORK/data" --store memory \
  --Herald:ApiKeys:0="$key" --Herald:Transports:HeartbeatInterval=00:01:00 --Herald:Transports:WebSocketIdleTimeout=00:02:00
herald_port=${HERALD_URL##*:}

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a certificate"

# The site file with this machine's ports and certificate; every substitution must take, or the
# file changed shape and this test no longer tests it.
http_port=$(free_port)
https_port=$(free_port)
site="$WORK/herald.conf"
sed -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$herald_port;|" \
    -e "s|^\( *\)listen 80;|\1listen 127.0.0.1:$http_port;|" \
    -e "s|^\( *\)listen 443 ssl http2;|\1listen 127.0.0.1:$https_port ssl http2;|" \
    -e '/listen \[::\]/d' \
    -e "s|/etc/letsencrypt/live/herald.example.com/fullchain.pem|$WORK/cert.pem|" \
    -e "s|/etc/letsencrypt/live/herald.example.com/privkey.pem|$WORK/key.pem|" \
    "$ROOT/deploy/nginx/herald.conf" >"$site"
for expected in "server 127.0.0.1:$herald_port;" "listen 127.0.0.1:$http_port;" "listen 127.0.0.1:$https_port ssl http2;" "$WORK/cert.pem" "$WORK/key.pem"; do
  grep -qF "$expected" "$site" || fail "deploy/nginx/herald.conf no longer has the line this test rewrites to: $expected"
done

mkdir -p "$WORK/nginx-temp"
cat >"$WORK/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log info;
events { worker_connections 256; }
http {
    access_log $WORK/nginx-access.log;
    client_body_temp_path $WORK/nginx-temp/body;
    proxy_temp_path $WORK/nginx-temp/proxy;
    fastcgi_temp_path $WORK/nginx-temp/fastcgi;
    uwsgi_temp_path $WORK/nginx-temp/uwsgi;
    scgi_temp_path $WORK/nginx-temp/scgi;
    include $site;
}
CONF
nginx -t -q -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" || { cat "$WORK/nginx-error.log" >&2; fail "nginx -t refused the configuration"; }
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" &
PIDS+=($!)

base="https://127.0.0.1:$https_port"
for _ in $(seq 1 100); do
  curl -sk -o /dev/null "$base/healthz" && break
  kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$WORK/nginx-error.log" >&2; fail "nginx exited"; }
  sleep 0.1
done
[ "$(curl -sk -o /dev/null -w '%{http_code}' "$base/healthz")" = 200 ] || fail "GET /healthz through nginx"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/v1/stats")" = 301 ] || fail "port 80 does not redirect to HTTPS"

publish() { # publish <channel> <text>
  local status
  status=$(curl -sk -o /dev/null -w '%{http_code}' -X POST "$base/v1/channels/$1/messages" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "{\"data\":{\"text\":\"$2\"}}")
  [ "$status" = 201 ] || fail "publish to $1 through nginx answered $status"
}
wait_for() { # wait_for <file> <text> <seconds> <what>
  for _ in $(seq 1 $(($3 * 10))); do
    grep -qF "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$1" >&2
  fail "$4"
}

# The long poll first, since it takes a minute: held the whole 60 s, then answered 200 by Herald.
curl -sk --max-time 120 -o "$WORK/poll.json" -w '%{http_code}' "$base/v1/poll?channel=news:idle&wait=60" >"$WORK/poll.status" &
poll=$!
poll_started=$SECONDS

# Server-Sent Events and NDJSON streaming: the event arrives while the response is still open.
for transport in sse stream; do
  curl -skN --max-time 100 "$base/v1/$transport?channel=news:$transport" >"$WORK/$transport.out" &
  PIDS+=($!)
  wait_for "$WORK/$transport.out" subscribed 30 "no subscribed event on /v1/$transport through nginx"
  publish "news:$transport" "through nginx over $transport"
  wait_for "$WORK/$transport.out" "through nginx over $transport" 10 "the $transport event did not come through nginx while the response was open (buffered?)"
  kill -0 "${PIDS[-1]}" || fail "the $transport response ended"
done

# WebSocket: upgrade through nginx, subscribe, three publications, requests and replies, a ping answered.
summary=$(cd "$ROOT/tests/node" && NODE_TLS_REJECT_UNAUTHORIZED=0 node ws-client.mjs "wss://127.0.0.1:$https_port/v1/ws" "$base/" "$key" news:ws 3 2>/dev/null) \
  || fail "WebSocket through nginx: $summary"
grep -q '"offsets":\[1,2,3\]' <<<"$summary" && grep -q '"pong":4' <<<"$summary" && grep -q '"error":null' <<<"$summary" \
  || fail "WebSocket through nginx: $summary"

wait "$poll" || fail "the long poll through nginx failed (curl $?)"
held=$((SECONDS - poll_started))
[ "$(cat "$WORK/poll.status")" = 200 ] || fail "the 60 s long poll through nginx answered $(cat "$WORK/poll.status") after ${held} s: $(cat "$WORK/poll.json")"
grep -q '"publications":\[\]' "$WORK/poll.json" || fail "the long poll answered $(cat "$WORK/poll.json")"
[ "$held" -ge 55 ] || fail "the long poll came back after ${held} s, not held for its 60 s"

echo "ok: nginx $(nginx -v 2>&1 | sed 's|.*/||') in front of herald: redirect, WebSocket, SSE and NDJSON unbuffered, a ${held} s long poll"
