package main

import (
	"context"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/officescan-exporter/officescan_exporter/docs"
	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/flagvalue"
	"github.com/officescan-exporter/officescan_exporter/readiness"
)

type serveCommand struct {
	a              *app
	cmd            *kingpin.CmdClause
	metricsPath    string
	noExporterMets bool
	maxRequests    int
	pageRefresh    time.Duration
	recordEvery    time.Duration
}

func newServeCommand(a *app) *serveCommand {
	s := &serveCommand{a: a}
	s.cmd = a.kp.Command("serve", "Serve metrics for Prometheus (the default).").Default()
	a.kp.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&s.metricsPath)
	a.kp.Flag("web.disable-exporter-metrics", "Leave out the exporter's own go_* and process_* metrics.").Default("false").BoolVar(&s.noExporterMets)
	flagvalue.Count(a.kp.Flag("web.max-requests", "Most concurrent scrapes; more get 503. 0 means no limit.").Default("40"), &s.maxRequests)
	flagvalue.Duration(a.kp.Flag("web.page-refresh", "How often the landing page reloads itself in the browser; 0 never.").Default("15s"), &s.pageRefresh)
	flagvalue.Duration(a.kp.Flag("web.readiness-interval", "How often the exporter records its own scrape for the landing page, /readiness and check, which judge that history as the rules judge Prometheus'.").
		Default(readiness.DefaultInterval.String()), &s.recordEvery)
	return s
}

func (s *serveCommand) clause() *kingpin.CmdClause { return s.cmd }

func (s *serveCommand) run(ctx context.Context) (int, error) {
	return 0, s.serve(ctx)
}

func (s *serveCommand) serve(ctx context.Context) error {
	logger := s.a.logger
	// The live heap is a few MB; Go's default GOGC=100 lets the process grow
	// to twice that between collections. An exporter on a production server
	// should stay small (docs/performance.md), so collect sooner unless the
	// administrator chose GOGC.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	logger.Info("starting "+name, "version", version.Info(), "build_context", version.BuildContext())
	scrapeOpts := exporter.ScrapeOptions{Timeout: s.a.timeout}
	scraper := s.a.registry.Build(ctx, logger, scrapeOpts)
	logger.Info("collectors enabled", "collectors", scraper.Names())

	mux := http.NewServeMux()
	mux.Handle(s.metricsPath, exporter.Handler(scraper, logger, exporter.HandlerOptions{
		ExporterMetrics: s.exporterMetrics(),
		MaxRequests:     s.maxRequests,
		TimeoutOffset:   500 * time.Millisecond,
	}))
	mux.Handle(docs.RunbooksPath, docs.RunbooksHandler())
	if s.metricsPath != "/" {
		// The recorder shares the collectors with /metrics: a recording that
		// overlaps a scrape joins its run instead of starting another.
		rec := s.a.recorder(ctx, logger, s.recordEvery, readiness.KeepFor(hazard.WindowOpenFor, s.recordEvery))
		mux.Handle(readiness.PathJSON, rec.JSONHandler(logger))
		mux.Handle(readiness.PathHistory, rec.HistoryHandler(logger))
		mux.Handle("/", rec.PageHandler(logger, readiness.PageOptions{
			MetricsPath: s.metricsPath,
			RunbooksURL: docs.RunbooksPath,
			Version:     version.Version,
			Refresh:     s.pageRefresh,
		}))
	}

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, s.a.web, logger) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		logger.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// exporterMetrics is the registry of what every scrape carries besides the
// collectors: the build info, the config file's waivers (never switched off
// with a collector) and, unless disabled, the go_* and process_* metrics.
func (s *serveCommand) exporterMetrics() *prometheus.Registry {
	own := prometheus.NewRegistry()
	own.MustRegister(versioncollector.NewCollector(name), exporter.NewWaiverCollector(s.a.waivers()))
	if !s.noExporterMets {
		own.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	}
	return own
}

// waivers are the config file's waivers, as the exporter exports them.
func (a *app) waivers() []exporter.Waiver {
	out := make([]exporter.Waiver, len(a.opts.Waivers))
	for i, w := range a.opts.Waivers {
		out[i] = exporter.Waiver{Hazard: w.Hazard, Reason: w.Reason}
	}
	return out
}
