#!/usr/bin/env bash
# The Windows build's agent mode under Wine, end to end: a driver swap queued
# in the (Wine) registry the way Windows queues it, then
# `officescan_exporter.exe agent --textfile=...`, whose file must say 1 for
# OfficeScan's tmtdi.sys, 0 for another vendor's driver, 0 with nothing
# queued, and pass `promtool check metrics` each time. About 25 s, most of it
# the Windows build.
set -euo pipefail
cd "$ROOT"
. scripts/wine-env.sh

work=$(mktemp -d)
sm='HKLM\SYSTEM\CurrentControlSet\Control\Session Manager'
queue=PendingFileRenameOperations
reg() { "$WINE" reg "$@" >/dev/null 2>&1; }
cleanup() {
  reg delete "$sm" /v "$queue" /f || true
  rm -rf "$work"
}

# The queue is the Wine prefix's own; never overwrite one this stage did not write.
if reg query "$sm" /v "$queue"; then
  echo "the Wine prefix already has $queue queued; refusing to overwrite it" >&2
  exit 1
fi
trap cleanup EXIT

GOOS=windows GOARCH=amd64 go build -o "$work/officescan_exporter.exe" ./cmd/officescan_exporter
prom=$work/officescan.prom
winprom="Z:${prom//\//\\}"

# check NAME WANT [QUEUE]: queue QUEUE (strings separated by \0; none: an
# empty queue), run the agent, and check its file.
check() {
  local name=$1 want=$2 queued=0 rc=0
  reg delete "$sm" /v "$queue" /f || true
  if (($# > 2)); then
    reg add "$sm" /v "$queue" /t REG_MULTI_SZ /d "$3" /f
    queued=1
  fi
  "$WINE" "$work/officescan_exporter.exe" agent --log.level=warn --textfile="$winprom" || rc=$?
  if ((rc != 0)); then
    echo "FAIL $name: agent exited $rc" >&2; return 1
  fi
  promtool check metrics <"$prom" || { echo "FAIL $name: promtool check metrics" >&2; cat "$prom" >&2; return 1; }
  # pending_file_rename shows the queue was read, so a 0 is not a read that failed.
  for line in "officescan_agent_reboot_pending $want" 'officescan_scrape_collector_success{collector="reboot"} 1' \
    "officescan_agent_windows_reboot_required{reason=\"pending_file_rename\"} $queued"; do
    grep -qxF "$line" "$prom" || { echo "FAIL $name: no line '$line' in" >&2; cat "$prom" >&2; return 1; }
  done
  echo "ok   $name: officescan_agent_reboot_pending $want, lints clean"
}

check "queued tmtdi.sys replacement" 1 '\??\C:\Windows\system32\drivers\tmtdi.sys.new\0!\??\C:\Windows\system32\drivers\tmtdi.sys'
check "another vendor's driver" 0 '\??\C:\Windows\system32\drivers\SysmonDrv.sys.tmp\0!\??\C:\Windows\system32\drivers\SysmonDrv.sys'
check "nothing queued" 0
