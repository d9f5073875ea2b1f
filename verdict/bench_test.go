package verdict

import (
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// ownHistory is what the exporter keeps of itself for the page and check:
// one target, every series the verdict reads, one sample a second for d.
func ownHistory(d time.Duration) (History, time.Time) {
	labels := func(extra ...string) map[string]string {
		l := map[string]string{"job": hazard.DefaultJob, "instance": "localhost:9745"}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	type def struct {
		metric string
		labels map[string]string
		v      func(i int) float64
	}
	constant := func(v float64) func(int) float64 { return func(int) float64 { return v } }
	defs := []def{
		{"up", labels(), constant(1)},
		{hazard.MetricDBProcesses, labels(), constant(1)},
		{hazard.MetricDBCPUSeconds, labels("mode", "user"), func(i int) float64 { return 100 + 0.001*float64(i) }},
		{hazard.MetricDBCPUSeconds, labels("mode", "system"), func(i int) float64 { return 50 + 0.0005*float64(i) }},
		{hazard.MetricDBUtilization, labels(), constant(0.0004)},
		{hazard.MetricLogicalCPUs, labels(), constant(4)},
		{hazard.MetricAutoPccProcesses, labels(), constant(0)},
		{hazard.MetricShareOpenFiles, labels(), constant(0)},
		{hazard.MetricServerAddressInfo, labels("address", "localhost"), constant(1)},
	}
	for _, c := range []string{"dbserver", "autopcc", "share", "settings", "serverinfo"} {
		defs = append(defs, def{hazard.MetricCollectorSuccess, labels("collector", c), constant(1)})
	}
	for _, s := range hazard.SettingNames() {
		defs = append(defs, def{hazard.MetricSettingEnabled, labels("setting", s), constant(1)})
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := int(d / time.Second)
	var h History
	for _, df := range defs {
		s := Series{Metric: df.metric, Labels: df.labels, Samples: make([]Sample, 0, n+1)}
		for i := 0; i <= n; i++ {
			s.Samples = append(s.Samples, Sample{T: start.Add(time.Duration(i) * time.Second), V: df.v(i)})
		}
		h.Series = append(h.Series, s)
	}
	return h, start.Add(d)
}

var ownOptions = Options{ScrapeInterval: time.Second, EvaluationInterval: time.Second}

func TestOwnHistoryIsSafe(t *testing.T) {
	h, at := ownHistory(10 * time.Minute)
	vs, err := Evaluate(h, at, ownOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || !vs[0].Safe {
		t.Fatalf("%+v", vs)
	}
}

// BenchmarkEvaluate: one target, 10 minutes of 1 s samples (the exporter's
// own history), one verdict.
func BenchmarkEvaluate(b *testing.B) {
	h, at := ownHistory(10 * time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(h, at, ownOptions); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWindowOpen: the same history, 20 minutes long, asked whether
// the window is open (a verdict every evaluation interval of the last 15
// minutes; 1 s here, the exporter's own pace).
func BenchmarkWindowOpen(b *testing.B) {
	h, at := ownHistory(20 * time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WindowOpen(h, at, ownOptions, nil); err != nil {
			b.Fatal(err)
		}
	}
}
