#!/usr/bin/env bash
# End-to-end tests: the real binaries with real processes named DbServer.exe
# and AutoPcc.exe. They run one package at a time inside a private PID
# namespace, so the exporter sees only the test's own processes, never a
# stray DbServer.exe elsewhere on the machine (or another test's).
set -euo pipefail
cd "$ROOT"
export OSE_E2E=1
exec unshare --pid --fork --mount-proc go test -p 1 -count=1 -timeout 15m ./e2e/...
