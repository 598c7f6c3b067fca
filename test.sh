#!/usr/bin/env bash
# Installs what the tests need when it is missing, builds with warnings as errors, runs every
# test suite, and ends with one summary line: "Tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n== %s\n' "$*"; }

# --- prerequisites -------------------------------------------------------------------------
# Debian packages the suites use; each is installed only when its command is missing.
apt_updated=0
need_apt() { # need_apt <command> <package>
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
command -v dotnet >/dev/null 2>&1 || { echo "dotnet (the .NET 10 SDK) is required"; exit 1; }
need_apt curl curl
need_apt node nodejs   # third-party clients (ws, eventsource) run under node
need_apt npm npm
need_apt jq jq           # the load generator's scripts
need_apt taskset util-linux
need_apt pgrep procps     # bench/lib.sh finds the server process under its timeout

# npm packages, from the lock files, for every package that has one.
for lock in $(git ls-files '*package-lock.json' 2>/dev/null); do
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
  fi
done

# --- build ---------------------------------------------------------------------------------
log "build (Release, warnings as errors)"
dotnet build Herald.slnx -c Release -warnaserror -nologo -clp:NoSummary -v:q || { echo "Tests: 0 passed, 1 failed (build)"; exit 1; }

# --- tests ---------------------------------------------------------------------------------
passed=0; failed=0; skipped=0; status=0
results=$(mktemp)
for project in tests/Herald.Tests tests/Herald.Specification tests/Herald.IntegrationTests; do
  log "test $project"
  dotnet test "$project" -c Release --no-build --nologo -v:q --blame-hang-timeout 5m 2>&1 | tee "$results"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  line=$(grep -E '(Passed|Failed)! +- +Failed: +[0-9]+' "$results" | tail -n 1)
  if [ -z "$line" ]; then status=1; failed=$((failed + 1)); continue; fi
  f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
rm -f "$results"

# The benchmark must stay correct too: a few-second smoke run of the append benchmark.
if [ -d bench/Herald.AppendBench ]; then
  log "bench smoke (append, 2 s)"
  if ! dotnet run -c Release --no-build --project bench/Herald.AppendBench -- --publishers 8 --seconds 2 --channels 2; then
    status=1; failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
fi

# And the load generator: a few seconds of WebSocket and SSE fan-out against a real server,
# failing on any gap, duplicate or loss.
if [ -x bench.sh ]; then
  log "bench smoke (load generator, ws + sse)"
  if NO_BUILD=1 ./bench.sh smoke >/dev/null; then passed=$((passed + 1)); else status=1; failed=$((failed + 1)); fi
fi

[ "$failed" = 0 ] || status=1
echo
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
