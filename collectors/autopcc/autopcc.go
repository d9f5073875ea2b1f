// Package autopcc counts local Login Script processes.
//
// The Login Script (AutoPcc.exe, or the 32-bit AutoPccP.exe) normally runs on
// clients from the server's ofcscan share; it is a local process on the server
// only when the script runs there or on a terminal server. Clients are seen by
// the share collector instead. The server cannot be upgraded while any runs.
package autopcc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/procs"
)

// ProcessNames are the Login Script's image names, matched ignoring case.
var ProcessNames = []string{"AutoPcc.exe", "AutoPccP.exe"}

var processesDesc = prometheus.NewDesc(
	prometheus.BuildFQName(exporter.Namespace, "autopcc", "processes"),
	"Local processes named AutoPcc.exe or AutoPccP.exe (case-insensitive); 0 when none.",
	nil, nil)

// Collector counts the processes at scrape time, so a Login Script that just
// started or ended shows at once.
type Collector struct {
	src procs.Source
}

// New returns a collector over src.
func New(src procs.Source) *Collector { return &Collector{src: src} }

// Update scans the process table.
func (c *Collector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	found, err := c.src.Find(ProcessNames)
	if err != nil {
		return fmt.Errorf("listing processes %v: %w", ProcessNames, err)
	}
	ch <- prometheus.MustNewConstMetric(processesDesc, prometheus.GaugeValue, float64(len(found)))
	return nil
}

// Spec registers the collector over the shared process source.
func Spec(src func() (procs.Source, error)) exporter.Spec {
	return exporter.Spec{
		Name:           "autopcc",
		Help:           "local AutoPcc.exe / AutoPccP.exe (Login Script) process count",
		DefaultEnabled: procs.Supported,
		New: func(context.Context, *slog.Logger) (exporter.Collector, error) {
			s, err := src()
			if err != nil {
				return nil, err
			}
			return New(s), nil
		},
	}
}
