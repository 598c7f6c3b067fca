#!/usr/bin/env bash
# Installs what the tests need when it is missing, builds with warnings as errors, runs every
# test suite, and ends with one summary line: "Tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n== %s (at %d s)\n' "$*" "$SECONDS"; }

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
need_apt chromium chromium # the browser end-to-end tests (tests/e2e) drive Debian's chromium
need_apt pgrep procps     # bench/lib.sh finds the server process under its timeout
need_apt redis-server redis-server # the Redis engine's tests start their own redis-server on a free port
need_apt nginx nginx      # tests/deploy/nginx.test.sh runs deploy/nginx/herald.conf in front of herald
need_apt openssl openssl  # … with a throwaway TLS certificate

# npm packages, from the lock files, for every package that has one.
for lock in $(git ls-files '*package-lock.json' 2>/dev/null); do
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
  fi
done

# --- build ---------------------------------------------------------------------------------
# Every project builds with warnings as errors. What the suite runs (tests/suite.slnf: the
# server, the client, the test projects and the bench tools of the smoke runs below) builds first;
# the rest of the solution (the BenchmarkDotNet suite, the chaos and chart tools, the peers, the
# sample) builds in the background at the lowest priority, on the CPU the tests leave idle (the
# browser tests leave a quarter of it), against the outputs already built, and counts as one check.
log "build (Release, warnings as errors): what the suite runs"
dotnet restore Herald.slnx -nologo -v:q || { echo "Tests: 0 passed, 1 failed (restore)"; exit 1; }
dotnet build tests/suite.slnf -c Release --no-restore -warnaserror -nologo -clp:NoSummary -v:q || { echo "Tests: 0 passed, 1 failed (build)"; exit 1; }
rest_log=$(mktemp)
rest_projects=$(dotnet sln Herald.slnx list 2>/dev/null | grep '\.csproj$' | grep -vxFf <(jq -r '.solution.projects[]' tests/suite.slnf))
# In dependency order (a peer before the chaos tool that references it); each its own process,
# compiling in-process (no shared compiler server, no reused build node: both would run un-niced).
(
  for project in $(grep peers/ <<<"$rest_projects") $(grep -v peers/ <<<"$rest_projects"); do
    echo "-- $project"
    nice -n 19 dotnet build "$project" -c Release --no-restore -warnaserror -nologo -clp:NoSummary -v:q \
      -p:BuildProjectReferences=false -p:UseSharedCompilation=false -nodeReuse:false -m:1 || exit 1
  done
  echo "built by $SECONDS s"
) >"$rest_log" 2>&1 &
rest_pid=$!

# Deployment: the .NET tool packed and installed with dotnet tool install, the release binary,
# and nginx in front of herald (tests/deploy/*.test.sh: exit 0 passed, 77 skipped, else failed).
# They run in the background from here, beside each other and the .NET suites below (which mostly
# wait on processes, sockets and timers) — the nginx test spends a minute holding a long poll
# open, the others mostly pack and publish — each into its own log, printed after the SDK's tests.
log "test tests/deploy (in the background, beside the .NET suites)"
deploy_logs=$(mktemp -d)
deploy_pids=()
for script in tests/deploy/*.test.sh; do
  bash "$script" >"$deploy_logs/$(basename "$script").log" 2>&1 &
  deploy_pids+=("$!:$script")
done

# --- tests ---------------------------------------------------------------------------------
# The three .NET suites run side by side (the integration tests, the longest, mostly wait on
# processes, sockets and timers), each into its own log, printed and counted as each ends.
passed=0; failed=0; skipped=0; status=0
# The name of every failing test, gathered from each suite's output and listed again just above
# the summary line, where a CI log cut to its end still shows them.
failures=$(mktemp)
# A failed check: counted, and named in that recap.
fail_check() { status=1; failed=$((failed + 1)); echo "$1" >>"$failures"; }
# One check made by one command: passed when it exits 0.
check() { # check <name> <command...>
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else fail_check "$name"; fi
}
dotnet_logs=$(mktemp -d)
dotnet_pids=()
log "test tests/Herald.Tests, tests/Herald.Specification and tests/Herald.IntegrationTests (side by side)"
for project in tests/Herald.Tests tests/Herald.Specification tests/Herald.IntegrationTests; do
  dotnet test "$project" -c Release --no-build --nologo -v:q --logger "console;verbosity=minimal" --blame-hang-timeout 5m \
    >"$dotnet_logs/$(basename "$project").log" 2>&1 &
  dotnet_pids+=("$!:$project")
done
for entry in "${dotnet_pids[@]}"; do
  pid=${entry%%:*}; project=${entry#*:}
  wait "$pid" || status=1
  results="$dotnet_logs/$(basename "$project").log"
  echo "-- $project (at $SECONDS s)"; cat "$results"
  grep -E '^ +Failed ' "$results" | sed -E "s|^ +Failed +|$project: |" >>"$failures"
  line=$(grep -E '(Passed|Failed)! +- +Failed: +[0-9]+' "$results" | tail -n 1)
  if [ -z "$line" ]; then fail_check "$project (no summary line)"; continue; fi
  f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
rm -rf "$dotnet_logs"

# The TypeScript SDK: type check, then vitest — unit tests and integration tests against the
# Release herald built above — counted from vitest's JSON report.
if [ -f clients/js/package.json ]; then
  log "test clients/js (typecheck + vitest)"
  (cd clients/js && npm run --silent typecheck) || fail_check "clients/js: typecheck"
  report=$(mktemp)
  (cd clients/js && npx vitest run --reporter=default --reporter=json --outputFile="$report")
  vitest_status=$?
  if counts=$(jq -er '"\(.numPassedTests) \(.numFailedTests) \(.numPendingTests + .numTodoTests)"' "$report" 2>/dev/null); then
    read -r p f s <<<"$counts"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    # A file that failed to load counts no test, but vitest still exits non-zero.
    if [ "$vitest_status" != 0 ] && [ "$f" = 0 ]; then fail_check "clients/js: a test file that did not load (see above)"; fi
  else
    fail_check "clients/js: no vitest report"
  fi
  [ "$vitest_status" = 0 ] || status=1
  jq -r '.testResults[] | .name as $file | .assertionResults[] | select(.status == "failed") | "clients/js: \($file | sub(".*/clients/js/"; "")) > \(.fullName)"' "$report" >>"$failures" 2>/dev/null
  rm -f "$report"
fi

# The deployment tests started before the .NET suites: their results.
log "results of tests/deploy"
for entry in "${deploy_pids[@]}"; do
  pid=${entry%%:*}; script=${entry#*:}
  wait "$pid"; code=$?
  echo "-- $script (exit $code, at $SECONDS s)"; cat "$deploy_logs/$(basename "$script").log"
  case $code in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)) ;;
    *) fail_check "$script (exit $code)" ;;
  esac
done
rm -rf "$deploy_logs"

# Browser end-to-end tests: Debian's chromium driven by playwright-core against the herald just
# built (tests/e2e/README.md), one file at a time; node:test's TAP summary is counted like the
# suites above.
if [ -f tests/e2e/package.json ]; then
  log "test tests/e2e (chromium)"
  tap=$(mktemp)
  (cd tests/e2e && node --test --test-concurrency=1 --test-timeout=600000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" tests/) || status=1
  count() { sed -nE "s/^# $1 ([0-9]+)$/\1/p" "$tap" | tail -n 1; }
  p=$(count pass); f=$(count fail); c=$(count cancelled); s=$(count skipped); t=$(count todo)
  if [ -z "$p" ] || [ -z "$f" ]; then
    fail_check "tests/e2e: no TAP summary"
  else
    passed=$((passed + p)); failed=$((failed + f + ${c:-0})); skipped=$((skipped + ${s:-0} + ${t:-0}))
  fi
  sed -nE 's/^ *not ok [0-9]+ - (.*)$/tests\/e2e: \1/p' "$tap" >>"$failures"
  rm -f "$tap"
fi

# The saved fuzz corpora (bench/fuzz/corpus/<target>/, what AFL++ found and the crashes it found)
# replayed in-process through every parser target: a second or two, no AFL needed.
if [ -d bench/fuzz/corpus ]; then
  log "fuzz corpora replay"
  check "fuzz corpora replay" dotnet run -c Release --no-build --project bench/Herald.Fuzz -- replay-all bench/fuzz/corpus
fi

# The benchmark must stay correct too: a few-second smoke run of the append benchmark.
if [ -d bench/Herald.AppendBench ]; then
  log "bench smoke (append, 2 s)"
  check "bench smoke (append)" dotnet run -c Release --no-build --project bench/Herald.AppendBench -- --publishers 8 --seconds 2 --channels 2
fi

# The webhook benchmark: a real herald delivering to a verifying receiver for a few seconds,
# failing on any lost delivery, bad signature or reused webhook-id.
if [ -d bench/Herald.WebhookBench ]; then
  log "bench smoke (outbound webhooks, 2 s)"
  check "bench smoke (outbound webhooks)" \
    dotnet run -c Release --no-build --project bench/Herald.WebhookBench -- --seconds 2 --warmup 1 --rate 500 --publishers 4 --drain 60 --check
fi

# The unread benchmark: a real herald answering GET /v1/me/unread over 50 channels while messages
# arrive, failing when a count differs from the history's.
if [ -d bench/Herald.UnreadBench ]; then
  log "bench smoke (unread counts, 50 channels)"
  check "bench smoke (unread counts)" \
    dotnet run -c Release --no-build --project bench/Herald.UnreadBench -- --channels 50 --messages 3 --requests 50 --warmup 10 --rate 20 --check
fi

# And the load generator: a few seconds of WebSocket and SSE fan-out against a real server,
# failing on any gap, duplicate or loss.
if [ -x bench.sh ]; then
  log "bench smoke (load generator, ws + sse)"
  check "bench smoke (load generator)" env NO_BUILD=1 ./bench.sh smoke >/dev/null
fi

# The rest of the solution, built in the background since the build above.
log "results of the background build (the rest of the solution)"
if wait "$rest_pid"; then
  passed=$((passed + 1)); echo "ok: $(grep -c '^-- ' "$rest_log") projects built with warnings as errors, $(tail -n 1 "$rest_log")"
else
  cat "$rest_log"; fail_check "background build of the rest of the solution"
fi
rm -f "$rest_log"

[ "$failed" = 0 ] || status=1
if [ -s "$failures" ]; then
  echo; echo "Failed:"; sed 's/^/  /' "$failures"
fi
rm -f "$failures"
echo
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
