#!/usr/bin/env bash
# The Dockerfile builds (with podman) and the image answers /metrics as a non-root user.
set -euo pipefail
exec bash "$ROOT/scripts/container.sh"
