#!/usr/bin/env bash
# Service mode for real: the Windows exporter installed, started, interrogated
# and stopped through Wine's service manager (services.exe), then a service
# whose flags are wrong, which must stop with its exit code. Wine runs
# services like Windows (a console process started by services.exe that
# connects through StartServiceCtrlDispatcher), so this exercises detection,
# Running, Stop and Stopped end to end. About 15 s with a warm build cache.
set -euo pipefail
cd "$ROOT"
. scripts/wine-env.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
GOOS=windows GOARCH=amd64 go build -o "$dir/officescan_exporter.exe" ./cmd/officescan_exporter
OSE_SERVICE_EXE=$("$WINE" winepath -w "$dir/officescan_exporter.exe" | tr -d '\r')
export OSE_SERVICE_EXE
GOOS=windows GOARCH=amd64 go test -exec "$WINE" -count=1 -timeout 5m -v \
  -run '^(TestRunsUnderServiceManager|TestBadFlagStopsWithExitCode)$' ./winservice/
