#!/usr/bin/env bash
# Release binaries: one self-contained, single-file `herald` per platform (no .NET install needed
# on the target), each in an archive with the appsettings.json that holds its defaults, and
# SHA256SUMS over the archives.
#
#   ./release.sh                          every platform below, into artifacts/release/
#   RIDS=linux-x64 ./release.sh           one platform
#   VERSION=1.2.3 OUT=/tmp/r ./release.sh
#
# The builds go to their own artifacts path, so a release never touches the bin/ and obj/ of the
# development build (./test.sh can run beside it).
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

RIDS=${RIDS:-linux-x64 linux-arm64 osx-x64 osx-arm64 win-x64}
VERSION=${VERSION:-$(sed -nE 's|.*<Version>(.*)</Version>.*|\1|p' src/Herald.Server/Herald.Server.csproj)}
OUT=${OUT:-artifacts/release}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
build=$(mktemp -d "${TMPDIR:-/tmp}/herald-release.XXXXXX")
trap 'rm -rf "$build"' EXIT

archives=()
for rid in $RIDS; do
  name="herald-$VERSION-$rid"
  echo "== $name"
  # Single file with SQLite's native library inside it (IncludeNativeLibrariesForSelfExtract):
  # .NET extracts that one library on the first start, to $DOTNET_BUNDLE_EXTRACT_BASE_DIR
  # (default ~/.net), see docs/deploy.md. Not trimmed: configuration binding and the JSON
  # options reflect over types the trimmer cannot see. Without the analyzers (they change no
  # output; ./test.sh builds every project with them, warnings as errors): 39 CPU-s, not 100.
  dotnet publish src/Herald.Server -c Release -r "$rid" --self-contained -p:RunAnalyzers=false \
    -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none \
    -p:Version="$VERSION" --artifacts-path "$build/artifacts" -o "$build/$name" -nologo -v:q -clp:NoSummary
  # The Development settings are for `dotnet run` from the source tree, not for a release; the
  # static web assets manifest is empty (the pages are embedded in the binary), web.config is IIS's.
  rm -f "$build/$name/appsettings.Development.json" "$build/$name/herald.staticwebassets.endpoints.json" "$build/$name/web.config"
  case "$rid" in
    win-*) archive="$name.zip"; (cd "$build" && zip -qr "$OUT/$archive" "$name") ;;
    *) archive="$name.tar.gz"; tar -C "$build" -czf "$OUT/$archive" "$name" ;;
  esac
  archives+=("$archive")
done

(cd "$OUT" && sha256sum "${archives[@]}" > SHA256SUMS)
echo "== $OUT"
(cd "$OUT" && ls -l "${archives[@]}" SHA256SUMS)
