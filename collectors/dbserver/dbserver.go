// Package dbserver watches the OfficeScan database process, DbServer.exe.
//
// The vendor's upgrade note says not to upgrade while the database works and
// to wait until Task Manager shows its CPU as 00, i.e. under 0.5 % of all
// logical CPUs. A background sampler measures that share over a short window
// so that a scrape only reads the result and never waits a window itself.
package dbserver

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/procs"
)

// ProcessNames are the database's image names, matched ignoring case.
var ProcessNames = []string{"DbServer.exe"}

const subsystem = "dbserver"

var (
	processesDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "processes"),
		"Running processes named DbServer.exe (case-insensitive); 0 when none.",
		nil, nil)
	cpuSecondsDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "cpu_seconds_total"),
		"CPU seconds used by DbServer.exe processes while the exporter watched them, by mode; a process that starts while the exporter runs counts from its own start, one already running at the exporter's start from the exporter's first sample.",
		[]string{"mode"}, nil)
	utilizationDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "cpu_utilization_ratio"),
		"CPU used by DbServer.exe processes as a share of all logical CPUs (0..1, as Task Manager shows it), averaged over the sampling window; absent until the first window is complete.",
		nil, nil)
	logicalCPUsDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, "", "logical_cpus"),
		"Logical CPUs of this machine: the denominator of officescan_dbserver_cpu_utilization_ratio, and the number the idle threshold on officescan_dbserver_cpu_seconds_total is scaled by.",
		nil, nil)
)

// Usage is what the collector needs from a sampler.
type Usage interface {
	Usage() procs.Usage
}

// Collector reports the database process's count and CPU use.
type Collector struct {
	usage Usage
	// stale bounds the age of the last sample: a sampler that stopped
	// sampling must not keep reporting an old "idle".
	stale time.Duration
}

// New returns a collector reading from usage.
func New(usage Usage, stale time.Duration) *Collector {
	return &Collector{usage: usage, stale: stale}
}

// Update sends the last sample's values.
func (c *Collector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	u := c.usage.Usage()
	if u.Err != nil {
		return fmt.Errorf("sampling %v: %w", ProcessNames, u.Err)
	}
	if u.Sampled.IsZero() {
		return fmt.Errorf("sampling %v: no sample taken yet", ProcessNames)
	}
	if age := time.Since(u.Sampled); age > c.stale {
		return fmt.Errorf("sampling %v: last sample is %s old", ProcessNames, age.Round(time.Second))
	}
	ch <- prometheus.MustNewConstMetric(processesDesc, prometheus.GaugeValue, float64(u.Processes))
	ch <- prometheus.MustNewConstMetric(cpuSecondsDesc, prometheus.CounterValue, u.User, "user")
	ch <- prometheus.MustNewConstMetric(cpuSecondsDesc, prometheus.CounterValue, u.System, "system")
	if u.UtilizationValid {
		ch <- prometheus.MustNewConstMetric(utilizationDesc, prometheus.GaugeValue, u.Utilization)
	}
	// The sampler's own denominator, so that the ratio times this is the
	// number of CPUs DbServer.exe kept busy.
	ch <- prometheus.MustNewConstMetric(logicalCPUsDesc, prometheus.GaugeValue, float64(u.NumCPU))
	return nil
}

// Spec registers the collector. The sampler starts with the collector and
// stops with ctx; src is shared with the other process collectors.
func Spec(src func() (procs.Source, error), cfg *procs.SamplerConfig) exporter.Spec {
	return exporter.Spec{
		Name:           "dbserver",
		Help:           "DbServer.exe process count and CPU use",
		DefaultEnabled: procs.Supported,
		New: func(ctx context.Context, _ *slog.Logger) (exporter.Collector, error) {
			s, err := src()
			if err != nil {
				return nil, err
			}
			c := *cfg
			c.Names = ProcessNames
			sampler := procs.NewSampler(s, c)
			go sampler.Run(ctx)
			// Three missed samples mean the sampler is stuck, not just late.
			return New(sampler, 3*c.Interval+time.Second), nil
		},
	}
}
