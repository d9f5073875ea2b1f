#!/usr/bin/env bash
# Measures the real exporter against the targets of docs/performance.md on a
# machine with N processes, for each N given (default 200 1000 5000):
#   - scrape latency (median, p95 of SCRAPES scrapes) beside a bare scan of
#     /proc/*/stat names, the two alternating so both see the same load;
#   - the background sampler's CPU: the exporter's CPU seconds over IDLE
#     seconds with no scrapes, divided by IDLE;
#   - peak RSS (VmHWM) after everything.
# N counts every process on the machine: idle `sleep` processes top the table
# up to N. One DbServer.exe and one AutoPcc.exe (tools/fakeproc) run too, so
# the collectors have something to find. Everything started here is killed by
# PID on exit, Ctrl-C included.
#
#   scripts/perf.sh              # all three sizes, about 4 minutes
#   IDLE=20 SCRAPES=100 scripts/perf.sh 200 1000
#   EXPORTER_ENV=GOGC=50 EXPORTER_ARGS=--collector.dbserver.rediscover=10s scripts/perf.sh 5000
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || . scripts/deps.sh

SIZES=(200 1000 5000)
(($#)) && SIZES=("$@")
IDLE=${IDLE:-60}
SCRAPES=${SCRAPES:-200}
MAX_PROCS=${MAX_PROCS:-12000} # refuse to fork beyond this, whatever is asked
PORT=${PORT:-19745}

work=$(mktemp -d)
idle_pids=()
own_pids=()
cleanup() {
  trap - EXIT INT TERM
  ((${#own_pids[@]})) && kill "${own_pids[@]}" 2>/dev/null || true
  ((${#idle_pids[@]})) && kill "${idle_pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

procs_now() { local n=0; for d in /proc/[0-9]*; do n=$((n + 1)); done; echo "$n"; }

# Built as scripts/release.sh builds it: static, stripped.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/officescan_exporter" ./cmd/officescan_exporter
go build -o "$work/perfprobe" ./tools/perfprobe
go build -o "$work/DbServer.exe" ./tools/fakeproc
cp "$work/DbServer.exe" "$work/AutoPcc.exe"
"$work/DbServer.exe" & own_pids+=($!)
"$work/AutoPcc.exe" & own_pids+=($!)

rows=()
verdicts=()
check() { # check N DESCRIPTION 0|1
  if [[ $3 == 1 ]]; then verdicts+=("PASS  N=$1  $2"); else verdicts+=("FAIL  N=$1  $2"); fi
}
for n in "${SIZES[@]}"; do
  if ((n > MAX_PROCS)); then echo "perf.sh: $n processes is more than MAX_PROCS=$MAX_PROCS" >&2; exit 2; fi
  have=$(procs_now)
  if ((have < n)); then
    printf 'starting %d idle processes (machine has %d)\n' $((n - have)) "$have" >&2
    for ((i = have; i < n; i++)); do sleep 3600 & idle_pids+=($!); done
  fi

  # shellcheck disable=SC2086 # word splitting of the extra settings is wanted
  env ${EXPORTER_ENV:-} "$work/officescan_exporter" ${EXPORTER_ARGS:-} --web.listen-address="127.0.0.1:$PORT" --log.level=error 2>"$work/exporter.log" &
  exporter=$!
  own_pids+=("$exporter")
  url="http://127.0.0.1:$PORT/metrics"
  up=0
  for _ in $(seq 100); do curl -fsS -o /dev/null "$url" 2>/dev/null && { up=1; break; }; sleep 0.1; done
  if ((!up)); then echo "perf.sh: the exporter did not answer on $url:" >&2; cat "$work/exporter.log" >&2; exit 1; fi
  # Let the sampler finish its first full table search and settle.
  sleep 6

  read -r cpu_line < <("$work/perfprobe" usage -pid "$exporter" -idle "${IDLE}s")
  read -r cmp_line < <("$work/perfprobe" compare -url "$url" -n "$SCRAPES")
  read -r mem_line < <("$work/perfprobe" usage -pid "$exporter" -idle 0s)
  kill "$exporter"; wait "$exporter" 2>/dev/null || true

  # Turn "k=v k=v" lines into shell variables.
  declare $cpu_line
  cpu=$cpu_percent
  declare $cmp_line $mem_line
  ratio=$(awk -v s="$scrape_p95_ms" -v b="$bare_median_ms" 'BEGIN { printf "%.2f", s / b }')
  rows+=("$(printf '| %6d | %8.2f | %8.2f | %8.2f | %8.2f | %6s | %7.3f | %6.1f |' \
    "$processes" "$scrape_median_ms" "$scrape_p95_ms" "$scrape_max_ms" "$bare_median_ms" "${ratio}x" "$cpu" "$rss_peak_mb")")

  if ((n <= 200)); then
    check "$n" "scrape p95 ${scrape_p95_ms} ms < 5 ms" "$(awk -v s="$scrape_p95_ms" 'BEGIN { print (s < 5) }')"
  fi
  if ((n >= 5000)); then
    check "$n" "scrape p95 ${ratio}x bare scan <= 1.2x" "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.2) }')"
    check "$n" "sampler CPU ${cpu} % < 0.2 % of a core" "$(awk -v c="$cpu" 'BEGIN { print (c < 0.2) }')"
    check "$n" "peak RSS ${rss_peak_mb} MB < 20 MB" "$(awk -v m="$rss_peak_mb" 'BEGIN { print (m < 20) }')"
  fi
done

printf '\n%s, %s, %d CPUs; %d scrapes, %d s idle per size\n\n' "$(uname -sr)" "$(go env GOVERSION)" "$(nproc)" "$SCRAPES" "$IDLE"
echo '| processes | scrape median ms | scrape p95 ms | scrape max ms | bare scan median ms | p95 / bare | idle CPU % of a core | peak RSS MB |'
echo '|---:|---:|---:|---:|---:|---:|---:|---:|'
printf '%s\n' "${rows[@]}"
echo
printf '%s\n' "${verdicts[@]}"
# 3, not 1: a missed target is told apart from a broken run.
if printf '%s\n' "${verdicts[@]}" | grep -q '^FAIL'; then exit 3; fi
