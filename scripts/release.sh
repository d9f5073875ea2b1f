#!/usr/bin/env bash
# Builds the release binaries (windows/amd64, the main target, and
# linux/amd64) into dist/, stamped through prometheus/common/version, with a
# SHA-256 checksum file. Usage: scripts/release.sh [VERSION]
# VERSION defaults to the VERSION file.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$(cat VERSION)}
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
branch=$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
# The commit's date, not the clock's, so two builds of one commit are identical.
date=$(git log -1 --format=%cd --date=format:%Y%m%d-%H:%M:%S 2>/dev/null || date -u +%Y%m%d-%H:%M:%S)
pkg=github.com/prometheus/common/version
ldflags="-s -w -X $pkg.Version=$version -X $pkg.Revision=$revision -X $pkg.Branch=$branch -X $pkg.BuildUser=release -X $pkg.BuildDate=$date"

rm -rf dist && mkdir -p dist
for target in windows/amd64 linux/amd64; do
  os=${target%/*} arch=${target#*/}
  ext=; [[ $os == windows ]] && ext=.exe
  out=dist/officescan_exporter-$version.$os-$arch$ext
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/officescan_exporter
  echo "built $out"
done
(cd dist && sha256sum officescan_exporter-* > sha256sums.txt)
echo "checksums in dist/sha256sums.txt"
