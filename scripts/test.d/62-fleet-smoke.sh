#!/usr/bin/env bash
# Keeps the fleet benchmark from rotting: scripts/fleet-bench.sh at 10 servers
# and 1,000 agents in its smoke mode (5 s intervals, 1 h of history), against
# the real Prometheus 3. It must run, find the rules' verdicts equal to the
# simulated fleet's, and print its tables. No timing is asserted: CI machines
# are shared. Real numbers: docs/scaling.md. About 20 s with a warm build cache.
set -euo pipefail
cd "$ROOT"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bash scripts/fleet-bench.sh 10 1000 -smoke >"$out"
cat "$out"
for row in '^\| servers SAFE \| 6 \| 6 \|' '^\| agents waiting \| 3 \| 3 \|' \
  '^\| officescan\.verdict \| [0-9]+ \| [0-9]+ \| [0-9.]+ \|' '^\| officescan\.history \| 1 \|' \
  '^\| Servers by verdict \(A\) \| instant \| [0-9.]+ \|' '^\| DbServer\.exe CPU .* \| range \|  \| [0-9.]+ \|' \
  '^\| after the dashboard queries \| [0-9]+ MiB \|'; do
  grep -Eq "$row" "$out" || { echo "fleet-bench.sh printed no row matching $row" >&2; exit 1; }
done
