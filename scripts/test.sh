#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine as root: it
# installs what it needs (scripts/deps.sh), then runs each stage in
# scripts/test.d in order. A stage is a small script; any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
export ROOT=$PWD
export TOOLS_BIN OSE_CACHE
failed=()
start=$SECONDS
for stage in scripts/test.d/*.sh; do
  name=$(basename "$stage" .sh)
  printf '\n=== stage %s\n' "$name"
  t=$SECONDS
  if bash "$stage"; then
    printf '=== stage %s ok (%ds)\n' "$name" $((SECONDS - t))
  else
    printf '=== stage %s FAILED (%ds)\n' "$name" $((SECONDS - t))
    failed+=("$name")
  fi
done
total=$(ls scripts/test.d/*.sh | wc -l)
printf '\nall stages took %ds\n' $((SECONDS - start))
printf 'stages: %d passed, %d failed\n' $((total - ${#failed[@]})) "${#failed[@]}"
if ((${#failed[@]})); then
  printf 'failed: %s\n' "${failed[*]}"
  exit 1
fi
