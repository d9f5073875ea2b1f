#!/usr/bin/env bash
# Fleet scale with a real Prometheus 3 on this machine: SERVERS OfficeScan
# servers (one exporter target each) and AGENTS agents (their
# officescan_agent_reboot_pending and officescan_agent_info), all simulated by
# one Go process (scripts/fleetbench), with hours of history backfilled by
# `promtool tsdb create-blocks-from openmetrics`. Prints Markdown: each rule
# group's evaluation time, the slowest rules, every dashboard query's time
# through the HTTP API (instant, and over 6 hours at the dashboard's step) and
# Prometheus' memory; fails when the rules' verdicts differ from the
# simulated fleet's. Method and results: docs/scaling.md.
#
#   bash scripts/fleet-bench.sh                   # 1,000 servers, 100,000 agents (about 6 minutes)
#   bash scripts/fleet-bench.sh 100 10000
#   bash scripts/fleet-bench.sh 10 1000 -smoke    # under half a minute: what scripts/test.d/62 runs
#
# Any further arguments go to scripts/fleetbench (go run ./scripts/fleetbench
# -help lists them). Prometheus and promtool come from $TOOLS_BIN, then
# /var/cache/officescan_exporter/bin (scripts/deps.sh), then PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${1:-1000}
agents=${2:-100000}
shift $(($# < 2 ? $# : 2))
exec go run ./scripts/fleetbench -servers "$servers" -agents "$agents" "$@"
