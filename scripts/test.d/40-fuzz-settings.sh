#!/usr/bin/env bash
# Runs each fuzz target of the settings path (the ini reader and the config
# loader) for a short while beyond its committed corpus, which stage 10
# already replays. About 25 s in all.
set -euo pipefail
cd "$ROOT"
for target in ini:FuzzParse config:FuzzParse; do
  pkg=${target%%:*} fn=${target#*:}
  echo "fuzzing ./$pkg $fn for 10s"
  go test -run='^$' -fuzz="^${fn}\$" -fuzztime=10s -parallel=2 "./$pkg/"
done
