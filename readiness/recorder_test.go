package readiness

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/verdict"
)

// fakeScrape answers with the gauges it holds, or fails.
type fakeScrape struct {
	gauges map[string]float64 // metric name -> value; "name|label=value" for one label
	errs   map[string]error
	fail   error
}

func (f *fakeScrape) observe(context.Context) ([]*dto.MetricFamily, map[string]error, error) {
	if f.fail != nil {
		return nil, nil, f.fail
	}
	var fams []*dto.MetricFamily
	for key, v := range f.gauges {
		name, label, _ := strings.Cut(key, "|")
		m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
		if label != "" {
			k, val, _ := strings.Cut(label, "=")
			m.Label = []*dto.LabelPair{{Name: proto.String(k), Value: proto.String(val)}}
		}
		fams = append(fams, &dto.MetricFamily{Name: proto.String(name), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{m}})
	}
	return fams, f.errs, nil
}

func seriesOf(h verdict.History, metric string) *verdict.Series {
	for i := range h.Series {
		if h.Series[i].Metric == metric {
			return &h.Series[i]
		}
	}
	return nil
}

// TestRecorderStoresScrapesAsPrometheusWould: series stamped with the
// scrape's time under the exporter's own target labels, `up` for every
// scrape, staleness markers for series a scrape no longer has and for every
// series when a scrape fails, metrics the verdict does not read left out,
// and nothing older than the verdict can read.
func TestRecorderStoresScrapesAsPrometheusWould(t *testing.T) {
	f := &fakeScrape{gauges: map[string]float64{
		hazard.MetricAutoPccProcesses:                        0,
		hazard.MetricCollectorSuccess + "|collector=autopcc": 1,
		"go_goroutines": 12,
	}}
	rec := NewRecorder(f.observe, time.Minute, 10*time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	ctx := context.Background()
	rec.Record(ctx, t0)
	delete(f.gauges, hazard.MetricAutoPccProcesses)
	rec.Record(ctx, t0.Add(time.Minute))
	f.fail = errors.New("scrape failed")
	rec.Record(ctx, t0.Add(2*time.Minute))

	h := rec.History()
	if s := seriesOf(h, "go_goroutines"); s != nil {
		t.Errorf("a metric the verdict does not read was recorded: %+v", s)
	}
	up := seriesOf(h, hazard.MetricUp)
	if up == nil || len(up.Samples) != 3 || up.Samples[0].V != 1 || up.Samples[1].V != 1 || up.Samples[2].V != 0 {
		t.Fatalf("up = %+v, want 1, 1, 0", up)
	}
	if up.Labels["job"] != Target["job"] || up.Labels["instance"] != Target["instance"] {
		t.Errorf("up's labels %v, want the target's %v", up.Labels, Target)
	}
	a := seriesOf(h, hazard.MetricAutoPccProcesses)
	if a == nil || len(a.Samples) != 2 || a.Samples[0].Stale || !a.Samples[1].Stale || !a.Samples[1].T.Equal(t0.Add(time.Minute)) {
		t.Fatalf("autopcc = %+v, want a sample then a staleness marker at the next scrape", a)
	}
	s := seriesOf(h, hazard.MetricCollectorSuccess)
	if s == nil || s.Labels["collector"] != "autopcc" || len(s.Samples) != 3 || !s.Samples[2].Stale {
		t.Fatalf("success = %+v, want two samples and a marker at the failed scrape", s)
	}

	// Much later, only what a verdict can still read is kept.
	f.fail = nil
	rec.Record(ctx, t0.Add(30*time.Minute))
	h = rec.History()
	up = seriesOf(h, hazard.MetricUp)
	if len(up.Samples) != 1 || !up.Samples[0].T.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("after 30 minutes up keeps %+v, want only the newest sample", up.Samples)
	}
	if seriesOf(h, hazard.MetricAutoPccProcesses) != nil {
		t.Error("a series that ended long ago is still kept")
	}
}

func TestHistoryDocRoundTrip(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_123)
	h := verdict.History{Series: []verdict.Series{{
		Metric: hazard.MetricAgentRebootPending, Labels: map[string]string{"job": "a", "instance": "pc1"},
		Samples: []verdict.Sample{{T: t0, V: math.NaN()}, {T: t0.Add(time.Second), V: math.Inf(1)}, {T: t0.Add(2 * time.Second), Stale: true}, {T: t0.Add(3 * time.Second), V: 0.25}},
	}}}
	doc := EncodeHistory(h, t0.Add(4*time.Second), 15*time.Second, 0, Context{Errors: map[string]string{"share": "access denied"}})
	got, interval, err := doc.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if interval != 15*time.Second || len(got.Series) != 1 {
		t.Fatalf("interval %s, %d series", interval, len(got.Series))
	}
	s := got.Series[0].Samples
	if len(s) != 4 || !math.IsNaN(s[0].V) || !math.IsInf(s[1].V, 1) || !s[2].Stale || s[3].V != 0.25 || !s[0].T.Equal(t0) {
		t.Fatalf("samples after a round trip: %+v", s)
	}
	for name, bad := range map[string]HistoryDoc{
		"no time":     {IntervalSeconds: 15},
		"no interval": {Time: t0},
		"no metric":   {Time: t0, IntervalSeconds: 15, Series: []SeriesDoc{{}}},
	} {
		if _, _, err := bad.Decode(); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}
