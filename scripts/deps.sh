#!/usr/bin/env bash
# Installs everything the tests and the demo need on a fresh Debian 12 machine
# (run as root), pinned, and caches it: a second run does nothing it need not.
# Source it (". scripts/deps.sh") to get PATH set for Go and the tools.
set -euo pipefail

GO_VERSION=1.26.10
PROMETHEUS_VERSION=v0.316.0   # Prometheus 3.16
ALERTMANAGER_VERSION=v0.31.1  # later versions ship no web UI files in the module
GOVULNCHECK_VERSION=v1.1.4
# OSE_DEPS=demo installs only what the demo runs (Go, Prometheus, Alertmanager).
OSE_DEPS=${OSE_DEPS:-all}
# Debian's prometheus (2.42) and prometheus-alertmanager (0.25) are the oldest
# line the rules support, prebuilt: the demo runs on them unless a Prometheus 3
# build is already cached, and the tests run the rules on both lines.
APT_PACKAGES=(git ca-certificates curl prometheus prometheus-alertmanager)
if [[ $OSE_DEPS == all ]]; then
  APT_PACKAGES+=(gcc libc6-dev wine wine64 gcc-mingw-w64-x86-64-win32 chromium podman runc uidmap busybox-static util-linux)
  APT_PACKAGES+=(tmux)  # e2e/settingslearn types into settings learn in a terminal
fi

OSE_CACHE=${OSE_CACHE:-/var/cache/officescan_exporter}
TOOLS_BIN=$OSE_CACHE/bin
mkdir -p "$TOOLS_BIN"

log() { printf '[deps] %s\n' "$*" >&2; }

# go.mod's minimum Go, e.g. 1.26.7.
GO_MOD_MIN=$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)

# version_ge A B: A >= B for dotted versions.
version_ge() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$2" ]]; }

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Debian 12 ships Go 1.19, too old for this module and for toolchain
# switching. Go's own toolchain is served by the module proxy as the module
# golang.org/toolchain, which even an old go command can download.
ensure_go() {
  local want="go$GO_VERSION"
  # The demo only builds: any installed Go that satisfies go.mod will do.
  # The tests pin GO_VERSION, whose standard library govulncheck judges.
  if [[ $OSE_DEPS == demo ]]; then
    local have
    for goc in "$(command -v go || true)" /usr/local/go/bin/go; do
      [[ -x $goc ]] || continue
      have=$("$goc" env GOVERSION 2>/dev/null | sed 's/^go//')
      if [[ -n $have ]] && version_ge "$have" "$GO_MOD_MIN"; then
        export PATH=$(dirname "$goc"):$PATH GOTOOLCHAIN=local
        return
      fi
    done
  fi
  if command -v go >/dev/null && [[ "$(go env GOVERSION 2>/dev/null)" == "$want" ]]; then return; fi
  if [[ -x /usr/local/go/bin/go && "$(/usr/local/go/bin/go env GOVERSION)" == "$want" ]]; then
    export PATH=/usr/local/go/bin:$PATH; return
  fi
  local dir=$OSE_CACHE/$want
  if [[ ! -x $dir/bin/go ]]; then
    command -v go >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null; }
    log "fetching $want from the Go module proxy"
    local tmp; tmp=$(mktemp -d)
    local src
    src=$(cd "$tmp" && GOFLAGS=-mod=mod GOPATH=$tmp/gopath go mod download -json "golang.org/toolchain@v0.0.1-$want.linux-amd64" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    rm -rf "$dir"; mkdir -p "$dir"
    cp -r "$src"/. "$dir"/
    chmod -R u+w "$dir"; chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/*
    chmod -R u+w "$tmp"; rm -rf "$tmp"
  fi
  export PATH=$dir/bin:$PATH
}

# Prometheus 3 (server and promtool) is built without the cloud and
# Kubernetes service discoveries (build tag remove_all_sd, Prometheus 3.10 and
# later), which skips the largest part of Prometheus' dependencies. What the
# tests and the docs' checked snippets use stays: static targets, file and
# HTTP discovery (always built in), and Consul (docs/scaling.md's example,
# enable_consul_sd). A snippet with another discovery fails its check with
# "field ..._sd_configs not found": add its enable_<name>_sd tag here.
PROMETHEUS_TAGS=remove_all_sd,enable_consul_sd

# go_tool PKG VERSION BIN ABOUT [TAGS]: go install, once per version and tags;
# ABOUT says how long a first build takes here, for the log.
go_tool() {
  local pkg=$1 ver=$2 bin=$3 about=$4 tags=${5:-}
  local stamp=$TOOLS_BIN/.$bin.$ver${tags:+.$tags}
  if [[ -x $TOOLS_BIN/$bin && -e $stamp ]]; then return; fi
  log "building $bin: go install ${tags:+-tags $tags }$pkg@$ver ($about on 2 cores, once; cached in $TOOLS_BIN)"
  local t=$SECONDS
  GOBIN=$TOOLS_BIN GOTOOLCHAIN=local go install ${tags:+-tags "$tags"} "$pkg@$ver"
  rm -f "$TOOLS_BIN/.$bin".*
  touch "$stamp"
  log "built $bin in $((SECONDS - t)) s"
}

install_apt
ensure_go
# Build and module caches under the project's cache folder, not $HOME.
export GOMODCACHE=${GOMODCACHE:-$OSE_CACHE/gomod} GOCACHE=${GOCACHE:-$OSE_CACHE/gobuild}
export PATH=$TOOLS_BIN:$PATH:$(go env GOPATH)/bin
if [[ $OSE_DEPS == all ]]; then
  go_tool github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" prometheus "about 5 minutes" "$PROMETHEUS_TAGS"
  go_tool github.com/prometheus/alertmanager/cmd/alertmanager "$ALERTMANAGER_VERSION" alertmanager "about 1 minute"
fi
# What the demo runs: a cached Prometheus 3 build when there is one, else
# Debian's packages (installed above in seconds).
if [[ -x $TOOLS_BIN/prometheus && -x $TOOLS_BIN/alertmanager ]]; then
  PROMETHEUS_BIN=$TOOLS_BIN/prometheus ALERTMANAGER_BIN=$TOOLS_BIN/alertmanager
else
  PROMETHEUS_BIN=/usr/bin/prometheus ALERTMANAGER_BIN=/usr/bin/prometheus-alertmanager
fi
export PROMETHEUS_BIN ALERTMANAGER_BIN
if [[ $OSE_DEPS == all ]]; then
  go_tool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION" promtool "under a minute once the server is built" "$PROMETHEUS_TAGS"
  go_tool github.com/prometheus/alertmanager/cmd/amtool "$ALERTMANAGER_VERSION" amtool "under a minute"
  go_tool golang.org/x/vuln/cmd/govulncheck "$GOVULNCHECK_VERSION" govulncheck "under a minute"
fi
export OSE_CACHE TOOLS_BIN
