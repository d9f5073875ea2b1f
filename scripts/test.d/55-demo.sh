#!/usr/bin/env bash
# The README's demo command, first two steps (a Login Script alert and a busy
# database alert delivered to the webhook receiver), on ports of its own and in
# a private PID namespace. The last step needs 5 idle minutes and is left to
# e2e/stack (20-rules), which proves the window-open notification.
set -euo pipefail
cd "$ROOT"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
OSE_DEMO_STEPS=2 EXPORTER_PORT=29745 PROMETHEUS_PORT=29090 ALERTMANAGER_PORT=29093 CONTROL_PORT=29799 WEBHOOK_PORT=29798 \
  OSE_DEMO_DIR=$dir unshare --pid --fork --mount-proc bash scripts/demo.sh
