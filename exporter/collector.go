// Package exporter runs the collectors: it owns the list of known collectors,
// their --collector.<name> flags, and the scrape that runs the enabled ones
// concurrently, each under a timeout, reporting each one's success and duration.
package exporter

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric the exporter defines.
const Namespace = "officescan"

// Collector is one source of metrics. Update sends its samples to ch; an
// error marks only this collector as failed, never the whole scrape.
type Collector interface {
	Update(ctx context.Context, ch chan<- prometheus.Metric) error
}

// Spec describes a collector the exporter can run.
type Spec struct {
	Name string
	// Help is shown with the --collector.<name> flag.
	Help string
	// DefaultEnabled is the default on the OS the binary was built for; a
	// collector that cannot work on this OS is off by default here.
	DefaultEnabled bool
	// New builds the collector once flags are parsed. Background work it
	// starts must end when ctx ends.
	New func(ctx context.Context, logger *slog.Logger) (Collector, error)
}
