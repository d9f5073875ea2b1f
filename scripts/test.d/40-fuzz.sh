#!/usr/bin/env bash
# Runs every fuzz target for a few seconds beyond its committed corpus
# (testdata/fuzz/, which stage 10 already replays as ordinary tests): the ini
# reader, the config loader, the PendingFileRenameOperations parser, the
# /proc stat parser and the share's Login Script matcher. 4 s each (about 25 s
# in all, once compiled) keeps the test command short; fuzz longer by hand with
# FUZZTIME=5m bash scripts/test.d/40-fuzz.sh (ROOT set to the checkout).
set -euo pipefail
cd "$ROOT"
for target in ini:FuzzParse config:FuzzParse collectors/reboot:FuzzParse procs:FuzzParseStat collectors/share:FuzzMatch; do
  pkg=${target%%:*} fn=${target#*:}
  echo "fuzzing ./$pkg $fn for ${FUZZTIME:-4s}"
  go test -run='^$' -fuzz="^${fn}\$" -fuzztime="${FUZZTIME:-4s}" -parallel=2 "./$pkg/"
done
