package exporter

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Observation is one scrape as /metrics would expose it, with each failed
// collector's error: the readiness page shows the error where the metrics
// only say that the collector failed.
type Observation struct {
	Families []*dto.MetricFamily
	Errors   map[string]error
}

// Observe scrapes every enabled collector once, together with extra
// collectors (the build info and the waivers, which belong to no
// switchable collector).
func (s *Scraper) Observe(ctx context.Context, extra ...prometheus.Collector) (Observation, error) {
	obs := Observation{Errors: map[string]error{}}
	rc := &resultCollector{s: s, ctx: ctx}
	reg := prometheus.NewRegistry()
	for _, c := range append([]prometheus.Collector{rc}, extra...) {
		if err := reg.Register(c); err != nil {
			return obs, fmt.Errorf("registering the scrape: %w", err)
		}
	}
	fams, err := reg.Gather()
	obs.Families = fams
	for _, r := range rc.results {
		if r.Err != nil {
			obs.Errors[r.Name] = r.Err
		}
	}
	if err != nil {
		return obs, fmt.Errorf("gathering the scrape: %w", err)
	}
	return obs, nil
}

// resultCollector is a scrape that also keeps each collector's result.
type resultCollector struct {
	s       *Scraper
	ctx     context.Context
	results []Result
}

func (*resultCollector) Describe(chan<- *prometheus.Desc) {}

func (c *resultCollector) Collect(ch chan<- prometheus.Metric) {
	c.results = c.s.Scrape(c.ctx, ch)
}
