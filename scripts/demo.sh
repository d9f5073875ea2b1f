#!/usr/bin/env bash
# The whole pipeline on one machine, over a simulated OfficeScan server:
#   officescan_simulator (PCCSRV folder, DbServer.exe / AutoPcc.exe processes,
#   webhook receiver) -> officescan_exporter -> Prometheus (a cached 3.x build,
#   else Debian's 2.42) with the bundled
#   rules -> Alertmanager with the example routes -> the webhook receiver.
# Then it walks through a scenario: a Login Script runs, the database gets
# busy, everything clears. Ctrl-C stops everything it started.
#
# Ports (override with the environment): exporter 9745, Prometheus 9090,
# Alertmanager 9093, simulator control 9799, webhook receiver 9798.
# OSE_DEMO_STEPS=N runs only the first N steps and exits (used by CI).
set -euo pipefail
cd "$(dirname "$0")/.."
OSE_DEPS=demo . scripts/deps.sh

EXPORTER_PORT=${EXPORTER_PORT:-9745} PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090} ALERTMANAGER_PORT=${ALERTMANAGER_PORT:-9093}
CONTROL_PORT=${CONTROL_PORT:-9799} WEBHOOK_PORT=${WEBHOOK_PORT:-9798}
steps=${OSE_DEMO_STEPS:-0}
work=${OSE_DEMO_DIR:-$PWD/.build/demo}
rm -rf "$work" && mkdir -p "$work/bin" "$work/logs"

echo "[demo] building the exporter and the simulator (about a minute on a fresh machine, seconds after)"
go build -o "$work/bin/" ./cmd/officescan_exporter ./cmd/officescan_simulator ./tools/fakeproc

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "[demo] stopping everything it started"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

start() { # start NAME CMD...: run in the background, log to logs/NAME.log
  local name=$1; shift
  "$@" >"$work/logs/$name.log" 2>&1 &
  pids+=($!)
}
wait_http() { # wait_http URL NAME: the process started last must answer at URL
  local pid=${pids[-1]}
  for _ in $(seq 150); do
    # A process that exited (a port already taken, say) must not pass
    # because something else answers on that port.
    kill -0 "$pid" 2>/dev/null || break
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "[demo] $2 did not start; its log:"; cat "$work/logs/$2.log"; exit 1
}

sim="$work/bin/officescan_simulator"
start simulator "$sim" run --dir="$work" --control.listen=127.0.0.1:$CONTROL_PORT --webhook.listen=127.0.0.1:$WEBHOOK_PORT
wait_http "http://127.0.0.1:$CONTROL_PORT" simulator
"$sim" stack-config --dir="$work" --exporter=127.0.0.1:$EXPORTER_PORT --alertmanager=127.0.0.1:$ALERTMANAGER_PORT \
  --webhook=http://127.0.0.1:$WEBHOOK_PORT --example=alerts/alertmanager.yml

start exporter "$work/bin/officescan_exporter" --config.file="$work/officescan_exporter.yml" \
  --web.listen-address=127.0.0.1:$EXPORTER_PORT
wait_http "http://127.0.0.1:$EXPORTER_PORT/metrics" exporter
echo "[demo] Prometheus: $("$PROMETHEUS_BIN" --version 2>&1 | head -n1); Alertmanager: $("$ALERTMANAGER_BIN" --version 2>&1 | head -n1)"
start alertmanager "$ALERTMANAGER_BIN" --config.file="$work/alertmanager.yml" --storage.path="$work/alertmanager" \
  --web.listen-address=127.0.0.1:$ALERTMANAGER_PORT --cluster.listen-address=
wait_http "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" alertmanager
start prometheus "$PROMETHEUS_BIN" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address=127.0.0.1:$PROMETHEUS_PORT
wait_http "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" prometheus

cat <<TXT

[demo] running. Look at:
  exporter checklist   http://127.0.0.1:$EXPORTER_PORT/           (and /metrics, /readiness)
  Prometheus           http://127.0.0.1:$PROMETHEUS_PORT/graph?g0.expr=officescan%3Aupgrade_blocker
  Alertmanager         http://127.0.0.1:$ALERTMANAGER_PORT/
  notifications        http://127.0.0.1:$WEBHOOK_PORT/  (also in $work/logs/simulator.log)
  the server folder    $work/PCCSRV   (Ofcscan.ini is UTF-16LE, as Windows writes it)
  ask the exporter     $work/bin/officescan_exporter check --config.file=$work/officescan_exporter.yml
The demo's rules are the shipped ones with shorter alert 'for' durations; every expression is unchanged.
TXT

"$sim" scenario --prometheus=http://127.0.0.1:$PROMETHEUS_PORT --control=http://127.0.0.1:$CONTROL_PORT \
  --webhook=http://127.0.0.1:$WEBHOOK_PORT --steps="$steps"

if [[ $steps != 0 ]]; then
  echo "[demo] ran $steps step(s); done"
  exit 0
fi
echo
echo "[demo] scenario complete: the upgrade window is open. Everything keeps running; Ctrl-C stops it."
wait
