package exporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// TestHungCollectorIsReportedAndNeverSafe: the dbserver collector hangs (a
// process table read that never returns). The timeout ends the scrape in
// time, the hung collector fails with the timeout named (the verdict reads
// that as never safe: readiness tests), and the other collectors' results
// stand.
func TestHungCollectorIsReportedAndNeverSafe(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hung := fn(func(context.Context, chan<- prometheus.Metric) error { <-release; return nil })
	autopcc := fn(func(_ context.Context, ch chan<- prometheus.Metric) error {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(hazard.MetricAutoPccProcesses, "h", nil, nil), prometheus.GaugeValue, 0)
		return nil
	})
	reg := NewRegistry(spec("dbserver", true, hung), spec("autopcc", true, autopcc))
	s := reg.Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{Timeout: 200 * time.Millisecond})
	start := time.Now()
	obs, err := s.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the scrape took %s with a 200 ms collector timeout", d)
	}
	if err := obs.Errors["dbserver"]; err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("dbserver's error is %v, want the timeout named", err)
	}
	if _, failed := obs.Errors["autopcc"]; failed {
		t.Errorf("autopcc failed (%v) though it answered", obs.Errors["autopcc"])
	}
	success := map[string]float64{}
	autopccSeen := false
	for _, f := range obs.Families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case hazard.MetricCollectorSuccess:
				success[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			case hazard.MetricAutoPccProcesses:
				autopccSeen = true
			}
		}
	}
	if success["dbserver"] != 0 || success["autopcc"] != 1 || !autopccSeen {
		t.Errorf("success %v, autopcc metric seen %v: want dbserver 0, autopcc 1 and its metric", success, autopccSeen)
	}
}
