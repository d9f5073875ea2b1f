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
# The wineserver must outlive every test binary of the run: one that exits
# between two packages (go test compiles the next one meanwhile, which takes
# long on a loaded or cold machine) is restarted by the next wine process from
# inside go test, inherits its output pipe, and go test then waits a minute
# for that pipe and fails the package ("Test I/O incomplete"). Seen on a cold
# run. Ten minutes covers the stage; the server then exits by itself.
ose_wine_server 600
status=0
GOOS=windows GOARCH=amd64 go test -exec "$WINE" -count=1 -timeout 10m ./... || status=1
OSE_WINE_E2E=1 go test -count=1 -timeout 5m ./e2e/windows/ || status=1
exit $status
