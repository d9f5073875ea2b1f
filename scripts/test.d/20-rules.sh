#!/usr/bin/env bash
# The Prometheus rules and the Alertmanager example, with the real tools:
# the committed rules equal the generator's output, promtool checks and
# unit-tests them (alerts/tests, and every row of alerts/scenarios.yaml),
# amtool checks the example, then the whole path runs end to end: exporter
# -> Prometheus 3 -> Alertmanager -> the test's webhook receiver
# (e2e/stack, in a private PID namespace so that only the test's own
# DbServer.exe and AutoPcc.exe exist). About 1 minute with a warm build cache.
set -euo pipefail
cd "$ROOT"
go test -count=1 -run 'TestCommittedRulesMatchGenerator' ./alerts/
promtool check rules alerts/officescan.rules.yml
promtool test rules alerts/tests/*.yml
amtool check-config alerts/alertmanager.yml
go test -count=1 ./alerts/...
OSE_STACK_E2E=1 unshare --pid --fork --mount-proc go test -count=1 -timeout 5m -v ./e2e/stack/ 2>&1 | grep -v '^=== \(RUN\|PAUSE\|CONT\)'
