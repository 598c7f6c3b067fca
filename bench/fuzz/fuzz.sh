#!/usr/bin/env bash
# Fuzzes every Herald.Fuzz target with AFL++ for a set time, one after another, and prints per target:
# executions, execs/s, corpus size, crashes and hangs (from AFL's fuzzer_stats).
#
#   bench/fuzz/fuzz.sh [SECONDS] [TARGET...]      default 60 s, every target
#   SAVE=1 bench/fuzz/fuzz.sh 240                  also replace corpus/<target>/ with the minimized queue
#
# Needs afl-fuzz (apt-get install afl++) and the sharpfuzz tool (dotnet tool restore; .config/dotnet-tools.json).
# Installs nothing. Work files, findings and crashes go to artifacts/fuzz/ (ignored by git).
# Everything runs under nice: the machine is shared. Crashing inputs are kept in
# artifacts/fuzz/findings/<target>/default/crashes/; replay one (uninstrumented: the instrumented
# copy only runs under AFL) with
#   dotnet run -c Release --project bench/Herald.Fuzz -- replay <target> <file>
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
shift || true
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install -y afl++" >&2; exit 1; }
dotnet tool run sharpfuzz >/dev/null 2>&1 || { echo "sharpfuzz not found: dotnet tool restore (SharpFuzz.CommandLine 2.3.0)" >&2; exit 1; }

work=artifacts/fuzz
bin=$work/bin
rm -rf "$bin"
mkdir -p "$work/findings"
dotnet=$(command -v dotnet)
echo "building and instrumenting Herald.Core.dll in $bin"
nice -n 10 dotnet publish bench/Herald.Fuzz -c Release -o "$bin" -nologo -v:q -clp:NoSummary >/dev/null
# Only Herald's own code is instrumented: coverage of the framework would drown the parsers' own.
nice -n 10 dotnet tool run sharpfuzz "$bin/Herald.Core.dll" Herald >/dev/null

if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(dotnet "$bin/Herald.Fuzz.dll" list | awk '{print $1}'); fi

export AFL_SKIP_BIN_CHECK=1            # the target is dotnet, instrumented by SharpFuzz, not afl-cc
export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_UI=1 AFL_FORKSRV_INIT_TMOUT=60000 AFL_SKIP_CRASHES=1
export DOTNET_TieredPGO=0              # steadier coverage maps between runs of one input

stat() { sed -nE "s/^$1 +: (.*)$/\1/p" "$2" | head -n 1; }
summary=$work/summary.tsv
printf 'target\tseconds\texecs\texecs_per_sec\tcorpus\tcrashes\thangs\n' > "$summary"
for target in "${targets[@]}"; do
  seeds=bench/fuzz/corpus/$target
  out=$work/findings/$target
  [ -d "$seeds" ] || { echo "no seeds in $seeds" >&2; exit 1; }
  rm -rf "$out"
  echo "== $target: ${seconds} s"
  # -t 2000: a hang is an input that takes over 2 s (every target answers in microseconds).
  # A second try: on a loaded machine the first dry run now and then sees no coverage ("No instrumentation detected").
  for try in 1 2; do
    rm -rf "$out"
    if nice -n 10 afl-fuzz -i "$seeds" -o "$out" -V "$seconds" -t 2000 -m none -- "$dotnet" "$bin/Herald.Fuzz.dll" "$target" > "$work/$target.log" 2>&1; then
      break
    fi
    [ "$try" = 1 ] && { echo "   afl-fuzz failed; once more"; continue; }
    echo "afl-fuzz failed, see $work/$target.log" >&2; tail -n 20 "$work/$target.log" >&2; exit 1
  done
  stats=$out/default/fuzzer_stats
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$(stat run_time "$stats")" "$(stat execs_done "$stats")" "$(stat execs_per_sec "$stats")" \
    "$(stat corpus_count "$stats")" "$(stat saved_crashes "$stats")" "$(stat saved_hangs "$stats")" >> "$summary"
  for crash in "$out"/default/crashes/id*; do
    [ -e "$crash" ] && echo "   crash: $crash"
  done

  if [ "${SAVE:-0}" = 1 ]; then
    # The smallest set of queue entries that keeps AFL's coverage, then at most 200 files of at most 16 KiB.
    min=$work/min/$target
    rm -rf "$min"
    if ! nice -n 10 afl-cmin -i "$out/default/queue" -o "$min" -t 5000 -m none -- "$dotnet" "$bin/Herald.Fuzz.dll" "$target" > "$work/$target.cmin.log" 2>&1; then
      echo "   afl-cmin failed (see $work/$target.cmin.log): saving the queue as is"
      mkdir -p "$min" && cp "$out"/default/queue/id* "$min"/
    fi
    find "$seeds" -type f ! -name 'seed-*' -delete
    find "$min" -type f -size -16k | sort | head -n 200 | while read -r file; do
      cp "$file" "$seeds/$(sha1sum "$file" | cut -c1-12)"
    done
    # The hand-made seeds stay; a queue entry equal to one of them is not kept twice.
    for file in "$seeds"/seed-*; do rm -f "$seeds/$(sha1sum "$file" | cut -c1-12)"; done
    echo "   corpus: $(find "$seeds" -type f | wc -l) files, $(du -sh "$seeds" | cut -f1)"
  fi
done

echo
column -t -s $'\t' "$summary"
