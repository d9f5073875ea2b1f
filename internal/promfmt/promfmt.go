// Package promfmt writes values the way Prometheus writes them, so that the
// rules, the verdict's words and the tests spell durations and label sets
// alike, and reads a sample's value the way a scrape gives it.
package promfmt

import (
	"fmt"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Duration writes d as a Prometheus duration: 5m, 1h30m, 90s, 0s.
func Duration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteString("-")
		d = -d
	}
	for _, u := range []struct {
		unit string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.unit)
			d -= n * u.d
		}
	}
	return b.String()
}

// Labels writes a label set sorted by name: {hazard="x",reason="y"}.
func Labels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Value is the value of a gauge, counter or untyped sample, as the exporter
// and the scrapes the tests parse hold them; ok is false for other types
// (a summary or histogram has no single value).
func Value(m *dto.Metric) (v float64, ok bool) {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue(), true
	case m.Counter != nil:
		return m.GetCounter().GetValue(), true
	case m.Untyped != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}
