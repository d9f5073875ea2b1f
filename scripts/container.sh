#!/usr/bin/env bash
# Builds the Dockerfile with podman and checks that the image answers
# /metrics as a non-root user.
#
# No base image can be pulled here, so the build stage's image
# (docker.io/library/golang:1.26-bookworm) is made locally, once: a root file
# system holding busybox (for RUN's /bin/sh), the installed Go toolchain, and
# a module cache with exactly the modules the exporter builds from, imported
# with `podman import`. Elsewhere `docker build .` pulls the real image.
set -euo pipefail
cd "$(dirname "$0")/.."
PODMAN=(podman --storage-driver vfs)
BASE=docker.io/library/golang:1.26-bookworm
# Only the modules the exporter's packages come from; the image is remade when
# the toolchain or this list changes.
mods=$(go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}{{end}}{{end}}' ./cmd/officescan_exporter | sort -u)
stamp="$(go env GOVERSION) $(sha256sum <<<"$mods" | cut -c1-16)"

if ! "${PODMAN[@]}" image exists "$BASE" || [[ $("${PODMAN[@]}" image inspect -f '{{index .Labels "ose.stamp"}}' "$BASE" 2>/dev/null) != "$stamp" ]]; then
  echo "[container] making $BASE from the local toolchain ($stamp)"
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs"/{bin,tmp,usr/local,go/pkg/mod,root,etc}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for a in sh ls cat mkdir rm cp env; do ln -s busybox "$rootfs/bin/$a"; done
  cp -a "$(go env GOROOT)" "$rootfs/usr/local/go"
  rm -rf "$rootfs/usr/local/go/test" "$rootfs/usr/local/go/api"
  GOMODCACHE=$rootfs/go/pkg/mod GOFLAGS=-modcacherw go mod download $mods
  echo "root:x:0:0:root:/root:/bin/sh" > "$rootfs/etc/passwd"
  tar -C "$rootfs" -c . | "${PODMAN[@]}" import \
    --change 'ENV PATH=/usr/local/go/bin:/bin' --change 'ENV GOPATH=/go' --change 'ENV GOPROXY=off' \
    --change 'ENV GOTOOLCHAIN=local' --change 'ENV GOFLAGS=-mod=readonly' --change 'ENV HOME=/root' \
    --change "LABEL ose.stamp=$stamp" - "$BASE" >/dev/null
  chmod -R u+w "$rootfs"; rm -rf "$rootfs"
fi

"${PODMAN[@]}" build --isolation chroot -q -t officescan_exporter:test \
  --build-arg VERSION="$(cat VERSION)" --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" . >/dev/null
echo "[container] built officescan_exporter:test ($("${PODMAN[@]}" image inspect -f '{{.Size}}' officescan_exporter:test) bytes)"

port=$((20000 + $$ % 20000))
name=ose-test-$$
"${PODMAN[@]}" run -d --rm --name "$name" --runtime runc --network host \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
  officescan_exporter:test --web.listen-address=127.0.0.1:$port >/dev/null
trap '"${PODMAN[@]}" rm -f "$name" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 50); do
  body=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) && break
  sleep 0.2
done
grep -q '^officescan_exporter_build_info{' <<<"$body" || { echo "image did not answer /metrics"; "${PODMAN[@]}" logs "$name"; exit 1; }
grep -q "version=\"$(cat VERSION)\"" <<<"$body" || { echo "version not stamped"; exit 1; }
user=$("${PODMAN[@]}" inspect -f '{{.Config.User}}' "$name")
[[ $user == 65534:65534 ]] || { echo "image runs as '$user', want 65534:65534"; exit 1; }
echo "[container] image answers /metrics on 127.0.0.1:$port as user $user"
