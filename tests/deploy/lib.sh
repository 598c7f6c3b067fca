# Shared by the deployment script tests (tests/deploy/*.test.sh), which ./test.sh runs after the
# Release build: a work directory removed on exit, the herald processes they started stopped,
# and start_herald, which waits for a server's listening line.
# Exit codes: 0 passed, 77 skipped (with the reason on stderr), anything else failed.
set -euo pipefail
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/herald-deploy.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# The version the server project packs and releases as.
herald_version() { sed -nE 's|.*<Version>(.*)</Version>.*|\1|p' "$ROOT/src/Herald.Server/Herald.Server.csproj"; }

# start_herald <log> <command…>: starts a `herald serve` that listens on 127.0.0.1:0 and sets
# HERALD_URL (http://127.0.0.1:port) from its listening line; 60 s to start on a busy machine.
start_herald() {
  local log=$1 url
  shift
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 600); do
    if url=$(grep -oE 'Herald listening on http://127\.0\.0\.1:[0-9]+' "$log" | head -n 1) && [ -n "$url" ]; then
      HERALD_URL=${url#Herald listening on }
      return 0
    fi
    kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$log" >&2; fail "herald exited before listening: $*"; }
    sleep 0.1
  done
  cat "$log" >&2
  fail "herald did not start within 60 s: $*"
}

# smoke <herald command…>: publish and read back through the CLI against $HERALD_URL.
smoke() {
  local out data=$1
  shift
  out=$("$@" publish news:smoke '{"text":"smoke"}' --server "$HERALD_URL" --data "$data" 2>&1) || fail "publish: $out"
  grep -q '"offset":1' <<<"$out" || fail "publish answered: $out"
  out=$("$@" history news:smoke --server "$HERALD_URL" --data "$data" 2>&1) || fail "history: $out"
  grep -q '"text":"smoke"' <<<"$out" || fail "history answered: $out"
}
