package exporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"
)

// TestHungCollectorIsReportedAndNeverSafe: the dbserver collector hangs (a
// process table read that never returns). The timeout ends the scrape in
// time, the verdict names the timeout and is not safe, and the other
// collectors' results stand.
func TestHungCollectorIsReportedAndNeverSafe(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hung := fn(func(context.Context, chan<- prometheus.Metric) error { <-release; return nil })
	autopcc := fn(func(_ context.Context, ch chan<- prometheus.Metric) error {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(metricAutoPccProcesses, "h", nil, nil), prometheus.GaugeValue, 0)
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
	v := Evaluate(obs, EvaluateOptions{})
	if v.Outcome == OutcomeSafe || v.Safe {
		t.Fatalf("verdict %s with a hung collector", v.Outcome)
	}
	for _, c := range v.Checks {
		switch c.Name {
		case "DbServer":
			if c.State != StateUnknown || !strings.Contains(c.Evidence, "timed out") {
				t.Errorf("DbServer is %s (%s), want unknown with the timeout named", c.State, c.Evidence)
			}
		case "AutoPcc":
			if c.State != StateClear {
				t.Errorf("AutoPcc is %s (%s), want clear: its collector answered", c.State, c.Evidence)
			}
		}
	}
}
