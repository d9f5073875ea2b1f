package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	scrapeSuccessDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "scrape", "collector_success"),
		"1 when the collector's last run succeeded, 0 when it failed or timed out.",
		[]string{"collector"}, nil)
	scrapeDurationDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "scrape", "collector_duration_seconds"),
		"Duration of the collector's last run.",
		[]string{"collector"}, nil)
)

// ScrapeOptions bounds a scrape.
type ScrapeOptions struct {
	// Timeout is the most one collector may take before it is reported as
	// failed; a shorter deadline on the scrape's context wins.
	Timeout time.Duration
}

type run struct {
	name   string
	c      Collector
	logger *slog.Logger

	mu     sync.Mutex
	flight *flight
}

// flight is one run of a collector that concurrent scrapes share: two
// Prometheus servers (an HA pair) scraping at once both get its result, and a
// hung source is never started twice.
type flight struct {
	done chan struct{}
	out  outcome
}

// Result is one collector's outcome in a scrape.
type Result struct {
	Name     string
	Err      error
	Duration time.Duration
}

// Scraper runs the enabled collectors.
type Scraper struct {
	runs []*run
	opts ScrapeOptions
}

func newScraper(runs []*run, opts ScrapeOptions) *Scraper {
	return &Scraper{runs: runs, opts: opts}
}

// Names lists the enabled collectors.
func (s *Scraper) Names() []string {
	out := make([]string, len(s.runs))
	for i, r := range s.runs {
		out[i] = r.name
	}
	return out
}

// Collector returns a prometheus.Collector that scrapes once per Collect,
// bounded by ctx. Make one per request so the request's deadline applies.
func (s *Scraper) Collector(ctx context.Context) prometheus.Collector {
	return scrapeCollector{s: s, ctx: ctx}
}

type scrapeCollector struct {
	s   *Scraper
	ctx context.Context
}

// Describe sends nothing: the collectors' metrics vary (unknown settings have
// no sample), so the scrape is an unchecked collector.
func (scrapeCollector) Describe(chan<- *prometheus.Desc) {}

func (c scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.Scrape(c.ctx, ch)
}

// Scrape runs every collector concurrently, forwards the metrics of those
// that finish in time to ch, and reports each one's success and duration.
// A collector that times out contributes none of its metrics, so a scrape
// never mixes a late partial answer into the next one.
func (s *Scraper) Scrape(ctx context.Context, ch chan<- prometheus.Metric) []Result {
	if s.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
	}
	results := make([]Result, len(s.runs))
	var wg sync.WaitGroup
	for i, r := range s.runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.execute(ctx, ch)
		}()
	}
	wg.Wait()
	for _, res := range results {
		ok := 1.0
		if res.Err != nil {
			ok = 0
		}
		ch <- prometheus.MustNewConstMetric(scrapeSuccessDesc, prometheus.GaugeValue, ok, res.Name)
		ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, res.Duration.Seconds(), res.Name)
	}
	return results
}

type outcome struct {
	metrics []prometheus.Metric
	err     error
}

func (r *run) execute(ctx context.Context, ch chan<- prometheus.Metric) Result {
	start := time.Now()
	res := Result{Name: r.name}
	f := r.join(ctx)
	select {
	case <-f.done:
		res.Err = f.out.err
		if res.Err == nil {
			for _, m := range f.out.metrics {
				ch <- m
			}
		}
	case <-ctx.Done():
		res.Err = fmt.Errorf("timed out: %w", ctx.Err())
	}
	res.Duration = time.Since(start)
	if res.Err != nil {
		r.logger.Error("collector failed", "err", res.Err, "duration_seconds", res.Duration.Seconds())
	} else {
		r.logger.Debug("collector succeeded", "duration_seconds", res.Duration.Seconds())
	}
	return res
}

// join returns the run in progress, or starts one. The run gets its own
// context: the scrape that started it may give up sooner than one that
// joined later.
func (r *run) join(ctx context.Context) *flight {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flight != nil {
		return r.flight
	}
	f := &flight{done: make(chan struct{})}
	r.flight = f
	go func() {
		f.out = r.collect(context.WithoutCancel(ctx))
		r.mu.Lock()
		r.flight = nil
		r.mu.Unlock()
		close(f.done)
	}()
	return f
}

// collect buffers the collector's metrics so that nothing is sent on the
// scrape's channel after the scrape has given up on it.
func (r *run) collect(ctx context.Context) (o outcome) {
	ch := make(chan prometheus.Metric)
	drained := make(chan struct{})
	go func() {
		for m := range ch {
			o.metrics = append(o.metrics, m)
		}
		close(drained)
	}()
	defer func() {
		if p := recover(); p != nil {
			o.err = fmt.Errorf("panic: %v", p)
		}
		close(ch)
		<-drained
	}()
	o.err = r.c.Update(ctx, ch)
	return o
}
