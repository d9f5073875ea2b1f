//go:build !windows

package reboot

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/exporter"
)

// Off by default, and switched on it fails its scrapes, saying why, without
// failing the scrape.
func TestSpecNotSupported(t *testing.T) {
	r := exporter.NewRegistry(Spec(&Options{DriverPatterns: DefaultDriverPatterns}))
	if r.Enabled("reboot") {
		t.Fatal("reboot is on by default")
	}
	if err := r.Enable("reboot", true); err != nil {
		t.Fatal(err)
	}
	s := r.Build(context.Background(), discard, exporter.ScrapeOptions{})
	ch := make(chan prometheus.Metric, 10)
	res := s.Scrape(context.Background(), ch)
	if len(res) != 1 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "not supported on this OS") {
		t.Fatalf("results %+v, want one failure saying not supported on this OS", res)
	}
}
