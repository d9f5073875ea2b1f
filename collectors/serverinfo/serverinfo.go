// Package serverinfo finds the OfficeScan / Apex One server installation:
// its PCCSRV folder, which the settings collector reads files from, and the
// version the installer recorded, exposed as officescan_server_info.
//
// The installer records both in the registry, under
// HKLM\SOFTWARE\WOW6432Node\TrendMicro\OfficeScan\service\Information
// (values Local_Path, Server_Version, ServicePack_Build), as public admin
// scripts and vulnerability-scanner plugins read them. Other systems have no
// such registry: there the folder comes from --officescan.server-dir only,
// and the collector is off.
package serverinfo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/exporter"
)

// Registry value names under the Information key.
const (
	ValueDir     = "Local_Path"
	ValueVersion = "Server_Version"
	ValueBuild   = "ServicePack_Build"
)

// Info is what the installer recorded. A value that is not there is "".
type Info struct {
	Dir, Version, Build string
	// Where names the key the values were read from, for messages.
	Where string
}

// Source reads the installation's Info. The registry is read on every call,
// so an upgrade or a first install shows without restarting the exporter.
type Source interface {
	Read() (Info, error)
}

// ErrNotSupported is returned by the source of systems with no registry.
var ErrNotSupported = errors.New("finding the OfficeScan server from the registry is not supported on this OS; give --officescan.server-dir")

// ServerDir returns flagValue when it is set, otherwise the folder the
// installer recorded.
func ServerDir(flagValue string, src Source) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	info, err := src.Read()
	if err != nil {
		return "", fmt.Errorf("finding the server folder (--officescan.server-dir is not set): %w", err)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("finding the server folder (--officescan.server-dir is not set): %s has no value %s", info.Where, ValueDir)
	}
	return info.Dir, nil
}

var infoDesc = prometheus.NewDesc(
	prometheus.BuildFQName(exporter.Namespace, "server", "info"),
	"The OfficeScan / Apex One server's version and build as the installer recorded them in the registry (Server_Version, ServicePack_Build); always 1.",
	[]string{"version", "build"}, nil)

// Collector reports officescan_server_info.
type Collector struct{ src Source }

// New returns a collector over src.
func New(src Source) *Collector { return &Collector{src: src} }

// Update reads the installation's version.
func (c *Collector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	info, err := c.src.Read()
	if err != nil {
		return fmt.Errorf("reading the server's version: %w", err)
	}
	for name, v := range map[string]string{ValueVersion: info.Version, ValueBuild: info.Build} {
		if v == "" {
			return fmt.Errorf("reading the server's version: %s has no value %s", info.Where, name)
		}
	}
	ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, info.Version, info.Build)
	return nil
}

// Spec registers the collector over the local machine's registry. It is on
// by default where there is a registry, and off (failing when switched on)
// elsewhere.
func Spec() exporter.Spec {
	return exporter.Spec{
		Name:           "serverinfo",
		Help:           "OfficeScan / Apex One server version and build from the registry (officescan_server_info)",
		DefaultEnabled: Supported,
		New: func(context.Context, *slog.Logger) (exporter.Collector, error) {
			if !Supported {
				return nil, ErrNotSupported
			}
			return New(Local()), nil
		},
	}
}
