#!/usr/bin/env bash
# govulncheck over the whole module: fails when the code calls a function
# with a known vulnerability, in a dependency or in the Go standard library
# of the toolchain scripts/deps.sh installs.
#
# The database govulncheck reads by default (vuln.go.dev) is not reachable
# from this project's machines. Its entries are also published, as OSV JSON
# files under data/osv, in the Go module golang.org/x/vulndb, which the module
# proxy serves; that module's own cmd/indexdb builds from them the layout
# govulncheck reads with -db file://. The newest version is taken at each run
# (new advisories are the point), and the database built from it is cached by
# version. About 20 s with the database cached, 60 s without.
set -euo pipefail
cd "$ROOT"
VULNDB_MODULE=golang.org/x/vulndb
cache=${OSE_CACHE:-/var/cache/officescan_exporter}/vulndb
version=$(go list -m -json "$VULNDB_MODULE@latest" | sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p')
[[ -n $version ]] || { echo "cannot resolve $VULNDB_MODULE@latest" >&2; exit 1; }
db=$cache/$version
if [[ ! -e $db/index/db.json ]]; then
  echo "building the vulnerability database from $VULNDB_MODULE@$version"
  src=$(go mod download -json "$VULNDB_MODULE@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$db.tmp"
  mkdir -p "$cache"
  go run "$VULNDB_MODULE/cmd/indexdb@$version" -vulns "$src/data/osv" -out "$db.tmp"
  mv "$db.tmp" "$db"
  # Keep only the newest database.
  find "$cache" -mindepth 1 -maxdepth 1 ! -name "$version" -exec rm -rf {} +
fi
echo "govulncheck $(go env GOVERSION), database $VULNDB_MODULE@$version ($(ls "$db/ID" | wc -l) entries)"
govulncheck -db "file://$db" ./...
