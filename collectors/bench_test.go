package collectors

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"

	"github.com/officescan-exporter/officescan_exporter/collectors/autopcc"
	"github.com/officescan-exporter/officescan_exporter/collectors/dbserver"
	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/procs"
	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
)

// BenchmarkScrape is one whole /metrics request, as Prometheus sends it
// (gzip accepted), over every collector with its default settings; only the
// process table is synthetic, so that its size is the variable.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("procs=%d", n), func(b *testing.B) {
			app := kingpin.New("bench", "")
			opts := AddFlags(app)
			if _, err := app.Parse(nil); err != nil {
				b.Fatal(err)
			}
			table := procstest.Synthetic(n, "DbServer.exe", "AutoPcc.exe")
			src := func() (procs.Source, error) { return table, nil }
			specs := Specs(opts)
			for i, s := range specs {
				switch s.Name {
				case "dbserver":
					specs[i] = dbserver.Spec(src, &opts.Sampler)
				case "autopcc":
					specs[i] = autopcc.Spec(src)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			scraper := exporter.NewRegistry(specs...).Build(ctx, promslog.NewNopLogger(), exporter.ScrapeOptions{Timeout: DefaultScrapeTimeout})
			h := exporter.Handler(scraper, promslog.NewNopLogger(), exporter.HandlerOptions{})
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
