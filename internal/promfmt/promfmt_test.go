package promfmt

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 90 * time.Second: "1m30s", 5 * time.Minute: "5m",
		26 * time.Hour: "1d2h", 1500 * time.Millisecond: "1s500ms", -time.Minute: "-1m"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestLabels(t *testing.T) {
	if got := Labels(map[string]string{"reason": "b", "hazard": `a"`}); got != `{hazard="a\"",reason="b"}` {
		t.Errorf("Labels = %s", got)
	}
	if got := Labels(nil); got != "{}" {
		t.Errorf("Labels(nil) = %s", got)
	}
}

func TestValue(t *testing.T) {
	v := 2.5
	for _, c := range []struct {
		m    *dto.Metric
		want float64
		ok   bool
	}{
		{&dto.Metric{Gauge: &dto.Gauge{Value: &v}}, 2.5, true},
		{&dto.Metric{Counter: &dto.Counter{Value: &v}}, 2.5, true},
		{&dto.Metric{Untyped: &dto.Untyped{Value: &v}}, 2.5, true},
		{&dto.Metric{Summary: &dto.Summary{}}, 0, false},
	} {
		if got, ok := Value(c.m); got != c.want || ok != c.ok {
			t.Errorf("Value(%v) = %v, %v, want %v, %v", c.m, got, ok, c.want, c.ok)
		}
	}
}
