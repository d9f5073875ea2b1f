#!/usr/bin/env bash
# The Prometheus rules and the Alertmanager example, with the real tools:
# the committed rules equal the generator's output, promtool checks and
# unit-tests them (alerts/tests, and every row of alerts/scenarios.yaml, on
# Prometheus 2.x and 3.x), amtool checks the example. Then, live and on both
# Prometheus lines (Debian's 2.42 + Alertmanager 0.25, and 3.x + 0.31), in a
# private PID namespace so that only the tests' own DbServer.exe and
# AutoPcc.exe exist, one package at a time:
#   e2e/stack       exporter -> Prometheus -> Alertmanager -> the test's webhook
#                   receiver (about 75 s)
#   e2e/livewindow  the database measured idle from its CPU counter: bursts
#                   between scrapes never read safe; CPU used while Prometheus
#                   was stopped blocks for a whole window (about 110 s)
# About 5 minutes with a warm build cache.
set -euo pipefail
cd "$ROOT"
go test -count=1 -run 'TestCommittedRulesMatchGenerator' ./alerts/
promtool check rules alerts/officescan.rules.yml
/usr/bin/promtool check rules alerts/officescan.rules.yml
promtool test rules alerts/tests/*.yml
amtool check-config alerts/alertmanager.yml
go test -count=1 ./alerts/...
# The Go verdict (page and check) against promtool 2.x and 3.x, every
# scenario minute by minute and random histories (about 90 s).
go test -count=1 ./verdict/
OSE_STACK_E2E=1 unshare --pid --fork --mount-proc go test -p 1 -count=1 -timeout 8m -v ./e2e/stack/ ./e2e/livewindow/ 2>&1 | grep -v '^=== \(RUN\|PAUSE\|CONT\)'
