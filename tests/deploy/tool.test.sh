#!/usr/bin/env bash
# `herald` on the PATH in one command: the server packed as a .NET tool, installed from that
# folder with `dotnet tool install` (into a tool path of its own, not the machine's global one),
# then used as the README says: --help, serve, publish, history.
source "$(dirname "$0")/lib.sh"
version=$(herald_version)

dotnet pack "$ROOT/src/Herald.Server" -c Release --no-build -nologo -v:q -o "$WORK/packages" >"$WORK/pack.log" 2>&1 \
  || { cat "$WORK/pack.log" >&2; fail "dotnet pack"; }
dotnet tool install herald --version "$version" --tool-path "$WORK/tools" --add-source "$WORK/packages" --ignore-failed-sources \
  >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "dotnet tool install"; }

herald="$WORK/tools/herald"
"$herald" --help | grep -q '^  serve' || fail "herald --help lists no serve command"

mkdir "$WORK/cwd" && cd "$WORK/cwd"
start_herald "$WORK/serve.log" "$herald" serve --urls http://127.0.0.1:0 --data "$WORK/data"
smoke "$WORK/data" "$herald"
echo "ok: herald $version packed, installed with dotnet tool install, served, published to and read back"
