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
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/officescan-exporter/officescan_exporter/exporter"
)

// docsURL is where the landing page sends readers for documentation.
const docsURL = "https://github.com/officescan-exporter/officescan_exporter/blob/main/docs/check.md"

type serveCommand struct {
	a              *app
	cmd            *kingpin.CmdClause
	web            *web.FlagConfig
	metricsPath    string
	noExporterMets bool
	maxRequests    int
	pageRefresh    time.Duration
}

func newServeCommand(a *app) *serveCommand {
	s := &serveCommand{a: a}
	s.cmd = a.kp.Command("serve", "Serve metrics for Prometheus (the default).").Default()
	s.web = webflag.AddFlags(a.kp, ":9745")
	a.kp.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&s.metricsPath)
	a.kp.Flag("web.disable-exporter-metrics", "Leave out the exporter's own go_* and process_* metrics.").Default("false").BoolVar(&s.noExporterMets)
	a.kp.Flag("web.max-requests", "Most concurrent scrapes; more get 503. 0 means no limit.").Default("40").IntVar(&s.maxRequests)
	a.kp.Flag("web.page-refresh", "How often the landing page reloads itself in the browser; 0 never.").Default("15s").DurationVar(&s.pageRefresh)
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
	if s.metricsPath != "/" {
		// The page shares the collectors with /metrics: a page load that
		// overlaps a scrape joins its run instead of starting another.
		readiness := exporter.NewReadiness(scraper, s.a.evaluateOptions())
		mux.Handle("/readiness", readiness.JSONHandler(logger))
		mux.Handle("/", readiness.PageHandler(logger, exporter.PageOptions{
			MetricsPath:   s.metricsPath,
			ReadinessPath: "/readiness",
			DocsURL:       docsURL,
			Version:       version.Version,
			Refresh:       s.pageRefresh,
		}))
	}

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, s.web, logger) }()
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
	own.MustRegister(versioncollector.NewCollector(name), exporter.NewWaiverCollector(s.a.opts.Waivers))
	if !s.noExporterMets {
		own.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	}
	return own
}
