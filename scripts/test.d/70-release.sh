#!/usr/bin/env bash
# The release command builds both targets, stamps version, revision and date,
# and writes checksums that verify.
set -euo pipefail
cd "$ROOT"
bash scripts/release.sh 0.0.0-test >/dev/null
cd dist
sha256sum -c sha256sums.txt
rev=$(git -C "$ROOT" rev-parse HEAD)
out=$(./officescan_exporter-0.0.0-test.linux-amd64 --version 2>&1)
echo "$out"
grep -q "version 0.0.0-test" <<<"$out"
grep -q "revision: $rev" <<<"$out"
grep -Eq "build date: +[0-9]{8}-" <<<"$out"
file_out=$(od -An -c -N2 officescan_exporter-0.0.0-test.windows-amd64.exe | tr -d ' ')
[[ $file_out == MZ ]] || { echo "windows binary is not a PE file"; exit 1; }
# The stamp is in the Windows binary too.
grep -aq "0.0.0-test" officescan_exporter-0.0.0-test.windows-amd64.exe
grep -aq "$rev" officescan_exporter-0.0.0-test.windows-amd64.exe
echo "release builds stamped and checksummed"
