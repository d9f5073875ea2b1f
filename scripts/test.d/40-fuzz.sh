#!/usr/bin/env bash
# Runs every fuzz target for a few seconds beyond its committed corpus
# (testdata/fuzz/, which stage 10 already replays as ordinary tests): the ini
# reader, the config loader, the PendingFileRenameOperations parser, the
# /proc stat parser and the share's Login Script matcher. About 45 s in all.
set -euo pipefail
cd "$ROOT"
for target in ini:FuzzParse config:FuzzParse collectors/reboot:FuzzParse procs:FuzzParseStat collectors/share:FuzzMatch; do
  pkg=${target%%:*} fn=${target#*:}
  echo "fuzzing ./$pkg $fn for 8s"
  go test -run='^$' -fuzz="^${fn}\$" -fuzztime=8s -parallel=2 "./$pkg/"
done
