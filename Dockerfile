# officescan_exporter container image: a static binary on an empty base,
# run as an unprivileged user.
#
# The exporter's real home is the Windows OfficeScan server (see
# docs/install-windows.md); the image suits the Linux demo and the test stack.
# Build: docker build -t officescan_exporter .
# Where no base image can be pulled (this project's CI), scripts/container.sh
# provides the build stage's image from the locally installed Go toolchain.
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION}" \
      -o /out/officescan_exporter ./cmd/officescan_exporter

FROM scratch
COPY --from=build /out/officescan_exporter /bin/officescan_exporter
# nobody:nogroup; the exporter needs no privileges on Linux.
USER 65534:65534
EXPOSE 9745
ENTRYPOINT ["/bin/officescan_exporter"]
