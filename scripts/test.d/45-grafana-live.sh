#!/usr/bin/env bash
# The Grafana dashboard's queries against the real stack: a real exporter over
# processes named DbServer.exe and AutoPcc.exe, a real Prometheus 3 scraping
# it every second and evaluating alerts/*.rules.yml, and every dashboard query
# run through Prometheus' HTTP API. Inside a private PID namespace, so the
# exporter sees only the test's own processes. About 20 s with a warm cache.
set -euo pipefail
cd "$ROOT"
export OSE_GRAFANA_LIVE=1
exec unshare --pid --fork --mount-proc go test -count=1 -timeout 5m -run '^TestLive' -v ./grafana/
