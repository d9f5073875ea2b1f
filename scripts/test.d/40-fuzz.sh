#!/usr/bin/env bash
# Runs every fuzz target for a few seconds beyond its committed corpus
# (testdata/fuzz/, which stage 10 already replays as ordinary tests): the ini
# reader, the config loader, the PendingFileRenameOperations parser, the
# /proc stat parser and the share's Login Script matcher. 8 s each (about 45 s
# in all, once compiled; at 4 s go test -fuzz sometimes ends a run with its own
# "context deadline exceeded", seen here). Fuzz longer by hand with
# FUZZTIME=5m bash scripts/test.d/40-fuzz.sh (ROOT set to the checkout).
set -euo pipefail
cd "$ROOT"
for target in ini:FuzzParse config:FuzzParse collectors/reboot:FuzzParse procs:FuzzParseStat collectors/share:FuzzMatch; do
  pkg=${target%%:*} fn=${target#*:}
  echo "fuzzing ./$pkg $fn for ${FUZZTIME:-8s}"
  go test -run='^$' -fuzz="^${fn}\$" -fuzztime="${FUZZTIME:-8s}" -parallel=2 "./$pkg/"
done
