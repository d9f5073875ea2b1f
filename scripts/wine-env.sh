# shellcheck shell=bash
# Source this file (". scripts/wine-env.sh") to run Windows builds of the
# project under Wine, headless:
#
#   . scripts/wine-env.sh
#   GOOS=windows GOARCH=amd64 go test -exec "$WINE" ./...
#
# It exports
#   WINE        the 64-bit loader (/usr/lib/wine/wine64; Debian puts no wine64 on PATH)
#   WINESERVER  the matching wineserver, e.g. for "$WINESERVER" -k at the end of a test
#   WINEPREFIX  a ready 64-bit prefix holding the bcryptprimitives.dll stub
#               (tools/wine/bcryptprimitives.c) without which Go 1.22+ will not start
#   WINEARCH=win64, WINEDEBUG=-all (Wine's fixme/err chatter would bury test output),
#   WINEDLLOVERRIDES="mscoree,mshtml=" (never offer to install Mono or Gecko).
#
# The prefix is built once (wineboot -i, about 7 s) and cached under
# ${OSE_CACHE:-/var/cache/officescan_exporter}/wine, keyed by a hash of the stub
# source, the Wine version and the layout, so a changed stub or a Wine upgrade gets a fresh
# prefix and an unchanged one costs only the hash. Building takes an exclusive
# lock, so concurrent first uses build it once; a prefix is used only after its
# ready mark is written. Several test runs may share the prefix at once: they
# share its wineserver, which Wine supports. Do not "wineserver -k" a shared
# prefix while others may be using it; kill your own processes by PID instead.
# The sourcing shell holds a shared lock on the prefix for its lifetime, so a
# build for another stub or Wine version removes only prefixes nobody holds.
#
# Before starting Windows programs in parallel, call ose_wine_server (below).
#
# No X display is needed: tests are console programs, and wineboot runs with
# DISPLAY unset so it cannot wait for one.

# _ose_wine_build PREFIX STUB LOADER SERVER CC CACHE builds a prefix; the caller
# holds the lock. Each step is checked by hand: set -e does not apply in a
# function whose status its caller tests.
_ose_wine_build() {
  local prefix=$1 stub=$2 loader=$3 server=$4 cc=$5 cache=$6 old log
  echo "wine-env: building Wine prefix $prefix" >&2
  # Prefixes of older stubs or Wine versions are 700 MB each: remove those
  # no shell holds (see the shared lock in ose_wine_env).
  for old in "$cache"/prefix-*; do
    [[ -e $old && $old != "$prefix" ]] || continue
    if [[ ! -e $old/.ose-ready ]] || flock -n -x "$old/.ose-ready" true; then
      rm -rf "$old" || return 1
    fi
  done
  rm -rf "$prefix" && mkdir -p "$prefix" || return 1
  log=$prefix/.ose-wineboot.log
  # wineboot's own complaints (no 32-bit Wine for syswow64, no display) are
  # expected here; keep them in a log shown only if it fails.
  if ! WINEPREFIX=$prefix DISPLAY='' WAYLAND_DISPLAY='' "$loader" wineboot -i >"$log" 2>&1; then
    cat "$log" >&2; return 1
  fi
  # wineboot returns before the prefix's wineserver has written the registry out.
  WINEPREFIX=$prefix "$server" -w || return 1
  # Tests that need a wineserver of their own (e2e/windows) build a private
  # prefix from this untouched copy of the registry, not from the live one
  # that tests sharing the prefix change.
  mkdir -p "$prefix/.ose-pristine" &&
    cp "$prefix"/{system.reg,user.reg,userdef.reg,.update-timestamp} "$prefix/.ose-pristine/" || return 1
  "$cc" -shared -O2 -Wall -Werror -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
    "$stub" -ladvapi32 -s || return 1
  touch "$prefix/.ose-ready" || return 1
  echo "wine-env: Wine prefix ready" >&2
}

# ose_wine_server [SECONDS] starts the wineserver of $WINEPREFIX now, unless
# one runs already, and keeps it up SECONDS (default 10) after the last
# program in the prefix ends. Start it before starting Windows programs in
# parallel (go test -exec runs test binaries two at a time): Wine 8 programs
# started together in a prefix whose server is not running may each start a
# server, and some of them vanish (measured: of 3 idle programs started
# together in a fresh prefix, 1 or 2 survived; with the server up, all 3).
ose_wine_server() {
  local rc=0
  # Its output goes nowhere: the server keeps it open, and a caller reading
  # it (a CI log, a pipe) would wait for the server to exit.
  "$WINESERVER" -p"${1:-10}" >/dev/null 2>&1 || rc=$?
  # 2: a server already runs for this prefix.
  if ((rc != 0 && rc != 2)); then
    echo "wine-env: starting the wineserver for $WINEPREFIX failed (exit $rc)" >&2
    return 1
  fi
}

ose_wine_env() {
  local here root
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || return 1
  root=$(dirname "$here")
  local stub=$root/tools/wine/bcryptprimitives.c
  local loader=/usr/lib/wine/wine64
  local server=/usr/lib/wine/wineserver
  local cc=x86_64-w64-mingw32-gcc

  if [[ ! -x $loader || ! -x $server ]]; then
    echo "wine-env: $loader or $server missing: install Debian's wine and wine64 (scripts/deps.sh does)" >&2
    return 1
  fi
  if ! command -v "$cc" >/dev/null; then
    echo "wine-env: $cc missing: install gcc-mingw-w64-x86-64-win32 (scripts/deps.sh does)" >&2
    return 1
  fi
  if [[ ! -r $stub ]]; then
    echo "wine-env: stub source $stub not found" >&2
    return 1
  fi

  local cache=${OSE_CACHE:-/var/cache/officescan_exporter}/wine
  local key
  # layout names what _ose_wine_build puts in a prefix: bump it when that changes.
  local layout=2
  key=$({ echo "$layout"; cat "$stub"; "$loader" --version; } | sha256sum | cut -c1-16) || return 1
  local prefix=$cache/prefix-$key

  export WINE=$loader WINESERVER=$server WINEARCH=win64 WINEDEBUG=-all \
    WINEDLLOVERRIDES="mscoree,mshtml="

  if [[ ! -e $prefix/.ose-ready ]]; then
    mkdir -p "$cache" || return 1
    (
      exec 9>"$cache/.lock" && flock 9 || exit 1
      # Someone else may have built it while we waited for the lock.
      [[ -e $prefix/.ose-ready ]] || _ose_wine_build "$prefix" "$stub" "$loader" "$server" "$cc" "$cache"
    ) || { echo "wine-env: building the Wine prefix $prefix failed" >&2; return 1; }
  fi
  # A shared lock for as long as the sourcing shell lives keeps a later build
  # (another stub) from removing this prefix under its users.
  exec {OSE_WINE_LOCK_FD}<"$prefix/.ose-ready" && flock -s "$OSE_WINE_LOCK_FD" ||
    { echo "wine-env: cannot lock $prefix" >&2; return 1; }
  export WINEPREFIX=$prefix
}

ose_wine_env
