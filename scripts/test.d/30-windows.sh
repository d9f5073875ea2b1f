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
ose_wine_server
status=0
GOOS=windows GOARCH=amd64 go test -exec "$WINE" -count=1 -timeout 10m ./... || status=1
OSE_WINE_E2E=1 go test -count=1 -timeout 5m ./e2e/windows/ || status=1
exit $status
