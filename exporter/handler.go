package exporter

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HandlerOptions tune the /metrics handler.
type HandlerOptions struct {
	// ExporterMetrics is the registry of the exporter's own go_* and
	// process_* metrics and build info; nil leaves them out.
	ExporterMetrics *prometheus.Registry
	// MaxRequests answers 503 beyond this many concurrent scrapes; 0 is no limit.
	MaxRequests int
	// TimeoutOffset is taken off Prometheus' X-Prometheus-Scrape-Timeout-Seconds
	// so the answer arrives before Prometheus gives up.
	TimeoutOffset time.Duration
}

// Handler serves /metrics: each request scrapes the collectors once.
func Handler(s *Scraper, logger *slog.Logger, opts HandlerOptions) http.Handler {
	sem := make(chan struct{}, max(opts.MaxRequests, 1))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opts.MaxRequests > 0 {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			default:
				http.Error(w, "too many concurrent scrapes; see --web.max-requests", http.StatusServiceUnavailable)
				return
			}
		}
		ctx := r.Context()
		if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
			if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
				d := time.Duration(secs*float64(time.Second)) - opts.TimeoutOffset
				if d > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, d)
					defer cancel()
				}
			}
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(s.Collector(ctx))
		gatherers := prometheus.Gatherers{reg}
		if opts.ExporterMetrics != nil {
			gatherers = append(gatherers, opts.ExporterMetrics)
		}
		promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
			ErrorHandling: promhttp.ContinueOnError,
		}).ServeHTTP(w, r)
	})
}
