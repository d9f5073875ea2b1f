package verdict

import (
	"sort"
	"strings"
)

// series is one series of the history, ready for lookups: points sorted by
// time, one per millisecond.
type series struct {
	metric string
	labels map[string]string
	// sig is the label set as text, the series' identity besides the name.
	sig string
	// key is the values of the target labels: PromQL's on (instance, job).
	key    string
	points []point
}

// index holds the history by metric name, built once and read by every
// evaluation (WindowOpen evaluates many times over one index).
type index struct {
	byMetric map[string][]*series
}

func newIndex(h History, targetLabels []string) *index {
	ix := &index{byMetric: map[string][]*series{}}
	bySig := map[string]*series{}
	for _, hs := range h.Series {
		labels := make(map[string]string, len(hs.Labels))
		for k, v := range hs.Labels {
			// An empty label is no label in Prometheus; __name__ is Metric.
			if v != "" && k != "__name__" {
				labels[k] = v
			}
		}
		sig := signature(labels, "")
		id := hs.Metric + sig
		s, ok := bySig[id]
		if !ok {
			s = &series{metric: hs.Metric, labels: labels, sig: sig, key: targetKey(labels, targetLabels)}
			bySig[id] = s
			ix.byMetric[hs.Metric] = append(ix.byMetric[hs.Metric], s)
		}
		for _, p := range hs.Samples {
			s.points = append(s.points, point{t: toMillis(p.T), v: p.V, stale: p.Stale})
		}
	}
	for _, list := range ix.byMetric {
		for _, s := range list {
			s.points = tidy(s.points)
		}
		// Series in label order, as Prometheus returns them: sums add in
		// the same order, and verdicts come out in a stable one.
		sort.Slice(list, func(i, j int) bool { return list[i].sig < list[j].sig })
	}
	return ix
}

// tidy sorts points by time and keeps the first of each millisecond, as the
// TSDB rejects a second sample with the same timestamp.
func tidy(pts []point) []point {
	sorted := sort.SliceIsSorted(pts, func(i, j int) bool { return pts[i].t < pts[j].t })
	if !sorted {
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].t < pts[j].t })
	}
	out := pts[:0]
	for i, p := range pts {
		if i > 0 && p.t == out[len(out)-1].t {
			continue
		}
		out = append(out, p)
	}
	return out
}

// signature renders labels (all but skip) sorted, as one string.
func signature(labels map[string]string, skip string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != skip {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(labels[k])
		b.WriteByte('\xff')
	}
	return b.String()
}

func targetKey(labels map[string]string, targetLabels []string) string {
	var b strings.Builder
	for _, l := range targetLabels {
		b.WriteString(labels[l])
		b.WriteByte('\xff')
	}
	return b.String()
}

// matches is a set of equality matchers; a missing label is the empty value,
// as in PromQL.
func matches(labels, sel map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
