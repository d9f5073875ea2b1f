#!/usr/bin/env bash
# The landing page in a real browser (Debian's headless chromium): rows and
# states as a user sees them, escaping, and a screenshot. Like the other
# end-to-end tests it runs in a private PID namespace, so the exporter sees
# only the test's own DbServer.exe and AutoPcc.exe. About 30 s on 2 cores.
set -euo pipefail
cd "$ROOT"
export OSE_E2E=1 OSE_BROWSER=1
exec unshare --pid --fork --mount-proc go test -p 1 -count=1 -timeout 5m ./e2e/browser/
