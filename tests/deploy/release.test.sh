#!/usr/bin/env bash
# release.sh for this machine's platform: the archive matches SHA256SUMS, holds the single-file
# binary and its appsettings.json, and that binary serves (in Production) and
# publishes and reads back as the CLI, from a directory of its own.
source "$(dirname "$0")/lib.sh"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 ;;
  Linux-aarch64) rid=linux-arm64 ;;
  *) skip "no release platform for $(uname -s)-$(uname -m) in this test" ;;
esac
version=$(herald_version)

RIDS=$rid OUT="$WORK/release" "$ROOT/release.sh" >"$WORK/release.log" 2>&1 || { cat "$WORK/release.log" >&2; fail "release.sh"; }
(cd "$WORK/release" && sha256sum --quiet -c SHA256SUMS) || fail "the archive does not match SHA256SUMS"
mkdir "$WORK/install"
tar -C "$WORK/install" -xzf "$WORK/release/herald-$version-$rid.tar.gz"
bin="$WORK/install/herald-$version-$rid"
[ -x "$bin/herald" ] && [ -f "$bin/appsettings.json" ] || fail "the archive lacks herald or appsettings.json: $(ls "$bin")"

mkdir "$WORK/cwd" && cd "$WORK/cwd"
export DOTNET_BUNDLE_EXTRACT_BASE_DIR="$WORK/extract"
start_herald "$WORK/serve.log" "$bin/herald" serve --urls http://127.0.0.1:0 --data "$WORK/data"
grep -q "Hosting environment: Production" "$WORK/serve.log" || fail "the release binary does not run in Production: $(cat "$WORK/serve.log")"
smoke "$WORK/data" "$bin/herald"
echo "ok: herald-$version-$rid.tar.gz ($(du -h "$WORK/release/herald-$version-$rid.tar.gz" | cut -f1)) matches SHA256SUMS; its binary served, published and read back"
