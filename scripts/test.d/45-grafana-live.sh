#!/usr/bin/env bash
# The Grafana dashboard's queries against the real stack (e2e/dashboard): a
# real exporter over processes named DbServer.exe and AutoPcc.exe, real
# Prometheus 3 and 2.x servers scraping it every second and evaluating
# alerts/*.rules.yml, and every dashboard query run through Prometheus' HTTP
# API. Inside a private PID namespace, so the exporter sees only the test's
# own processes. About 20 s with a warm cache.
set -euo pipefail
cd "$ROOT"
export OSE_GRAFANA_LIVE=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
unshare --pid --fork --mount-proc go test -count=1 -timeout 5m -run '^TestLive' -v ./e2e/dashboard/ 2>&1 | tee "$out"
# go test passes when -run matches nothing, or when the test skips: the
# stage must have run the live test.
if ! grep -q '^--- PASS: TestLive' "$out"; then
  echo "45-grafana-live: no TestLive test ran and passed in ./e2e/dashboard/" >&2
  exit 1
fi
