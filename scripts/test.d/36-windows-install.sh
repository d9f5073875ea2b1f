#!/usr/bin/env bash
# `officescan_exporter install` and `uninstall` for real: the Windows build
# registers itself with Wine's service manager (services.exe) and registry,
# writes its config skeleton to C:\ProgramData, starts and answers; a second
# install changes nothing, a third with another port updates and restarts;
# uninstall removes the service and the event source and keeps the config
# (install/install_windows_test.go, TestInstallUnderWine). The firewall is
# the test stand-in: Wine has no netsh advfirewall.
#
# The test registers the service officescan_exporter and writes
# C:\ProgramData\officescan_exporter, so it runs in a private prefix: its own
# registry (a copy of the pristine one wine-env.sh keeps), its own wineserver
# and services.exe, its own ProgramData; the rest of drive_c is the cached
# prefix's, through symlinks. Nothing another test run uses is touched, and
# "wineserver -k" at the end stops only this prefix's programs.
set -euo pipefail
cd "$ROOT"
. scripts/wine-env.sh
shared=$WINEPREFIX
dir=$(mktemp -d)
private=$dir/prefix
cleanup() {
  if [[ -e $private/system.reg ]]; then
    WINEPREFIX=$private "$WINESERVER" -k 2>/dev/null || true
    WINEPREFIX=$private "$WINESERVER" -w 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

mkdir -p "$private/drive_c" "$private/dosdevices"
cp "$shared"/.ose-pristine/{system.reg,user.reg,userdef.reg,.update-timestamp} "$private/"
for entry in "$shared"/drive_c/*; do
  name=$(basename "$entry")
  [[ $name == ProgramData ]] && continue
  ln -s "$entry" "$private/drive_c/$name"
done
cp -r "$shared/drive_c/ProgramData" "$private/drive_c/ProgramData"
ln -s ../drive_c "$private/dosdevices/c:"
ln -s / "$private/dosdevices/z:"
export WINEPREFIX=$private
ose_wine_server 5

# A folder with a space, like C:\Program Files: the service's command line
# must quote the program's path.
mkdir -p "$dir/Program Files/officescan_exporter"
exe="$dir/Program Files/officescan_exporter/officescan_exporter.exe"
GOOS=windows GOARCH=amd64 go build -o "$exe" ./cmd/officescan_exporter
OSE_INSTALL_EXE=$("$WINE" winepath -w "$exe" | tr -d '\r')
export OSE_INSTALL_EXE
GOOS=windows GOARCH=amd64 go test -exec "$WINE" -count=1 -timeout 5m -v \
  -run '^TestInstallUnderWine$' ./install/
