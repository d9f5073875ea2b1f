#!/usr/bin/env bash
# The Windows build under Wine: every package's tests compiled for
# windows/amd64 and run by Wine's loader, then the end-to-end test (the Windows
# exporter watching Windows processes named DbServer.exe and AutoPcc.exe, in a
# private Wine prefix of its own). scripts/wine-env.sh builds the Wine prefix
# and the bcryptprimitives.dll stub Go needs under Wine 8.0 on first use
# (about 10 s) and caches them. Both steps always run; either failing fails
# the stage.
set -euo pipefail
cd "$ROOT"
. scripts/wine-env.sh
# Wine's own background programs (services.exe, winedevice.exe, ...) start
# with the first Windows program of a session and keep its output open. If
# that program is a test binary, go test waits a minute for its output and
# fails the package ("Test I/O incomplete", seen on every run of a new
# machine). So the session is started here, by a program whose output goes
# nowhere, and the server is kept up for the whole stage (ten minutes; it
# then exits by itself) so that no test binary starts a new one.
ose_wine_server 600
"$WINE" cmd.exe /c exit 0 </dev/null >/dev/null 2>&1 || { echo "wine: cannot start a Windows program" >&2; exit 1; }
status=0
GOOS=windows GOARCH=amd64 go test -exec "$WINE" -count=1 -timeout 10m ./... || status=1
OSE_WINE_E2E=1 go test -count=1 -timeout 5m ./e2e/windows/ || status=1
exit $status
