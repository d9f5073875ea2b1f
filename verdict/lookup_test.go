package verdict

import (
	"math"
	"testing"
	"time"
)

func pts(vs ...float64) []point {
	out := make([]point, len(vs))
	for i, v := range vs {
		out[i] = point{t: int64(i) * 60_000, v: v}
	}
	return out
}

const minute = int64(60_000)

func TestInstantLookbackIsLeftOpen(t *testing.T) {
	p := pts(1, 2) // at 0 and 1m
	w3, w2 := window{}, window{closedLeft: true}
	lb := millis(5 * time.Minute)
	for _, c := range []struct {
		at     int64
		w      window
		want   float64
		wantOK bool
	}{
		{at: -1, w: w3},                                  // before the first sample
		{at: 0, w: w3, want: 1, wantOK: true},            // a sample at t is seen
		{at: minute - 1, w: w3, want: 1, wantOK: true},   // the newest at or before t
		{at: 6*minute - 1, w: w3, want: 2, wantOK: true}, // just inside the lookback
		{at: 6 * minute, w: w3},                          // exactly 5m old: gone in Prometheus 3
		{at: 6 * minute, w: w2, want: 2, wantOK: true},   // and still there in 2.x
		{at: 6*minute + 1, w: w2},
	} {
		got, ok := c.w.instant(p, c.at, lb)
		if ok != c.wantOK || (ok && got.v != c.want) {
			t.Errorf("instant at %dms (closed %v) = %v %v, want %v %v", c.at, c.w.closedLeft, got.v, ok, c.want, c.wantOK)
		}
	}
}

func TestInstantStaleMarkerHidesOlderSamples(t *testing.T) {
	p := pts(1, 2, 3)
	p[1].stale = true
	lb := millis(5 * time.Minute)
	if _, ok := (window{}).instant(p, minute, lb); ok {
		t.Error("a staleness marker as newest sample must make the series absent")
	}
	if _, ok := (window{}).instant(p, 2*minute-1, lb); ok {
		t.Error("the marker stays newest until the next sample")
	}
	if got, ok := (window{}).instant(p, 2*minute, lb); !ok || got.v != 3 {
		t.Errorf("after the marker the next sample is seen, got %v %v", got.v, ok)
	}
}

func TestOffsetIsTheSampleAtOrBefore(t *testing.T) {
	// Samples at 0, 1m, 2m, 3m; `x offset 5m` at 7m30s reads the sample at or
	// before 2m30s: the one at 2m.
	p := pts(10, 11, 12, 13)
	at := 7*minute + 30_000
	got, ok := (window{}).instant(p, at-millis(5*time.Minute), millis(5*time.Minute))
	if !ok || got.v != 12 {
		t.Errorf("offset lookup = %v %v, want 12", got.v, ok)
	}
}

func TestRangeStats(t *testing.T) {
	p := pts(5, 7, 3, 4, 1, 2) // 0..5m
	w := millis(5 * time.Minute)
	// (0, 5m]: 7 3 4 1 2 → resets 2 (7>3, 4>1), min 1. The sample at 0 is
	// outside in Prometheus 3 and inside in 2.x.
	if n, resets, min := (window{}).rangeStats(p, 5*minute, w); n != 5 || resets != 2 || min != 1 {
		t.Errorf("Prometheus 3: n %d resets %d min %v, want 5 2 1", n, resets, min)
	}
	if n, resets, _ := (window{closedLeft: true}).rangeStats(p, 5*minute, w); n != 6 || resets != 2 {
		t.Errorf("Prometheus 2: n %d resets %d, want 6 2", n, resets)
	}
	// Staleness markers are no samples: 7 [stale] 4 is two samples, one
	// reset.
	q := pts(7, 0, 4)
	q[1].stale = true
	if n, resets, min := (window{}).rangeStats(q, 2*minute, w); n != 2 || resets != 1 || min != 4 {
		t.Errorf("with a marker: n %d resets %d min %v, want 2 1 4", n, resets, min)
	}
	if n, _, _ := (window{}).rangeStats(q, -minute, w); n != 0 {
		t.Errorf("an empty range has %d samples", n)
	}
}

func TestMinOverTimeNaN(t *testing.T) {
	nan := math.NaN()
	w := millis(time.Hour)
	for _, c := range []struct {
		vs   []float64
		want float64
	}{
		{[]float64{nan, 5, nan}, 5}, // a NaN so far gives way to any later value
		{[]float64{5, nan}, 5},      // a later NaN is not smaller
		{[]float64{nan}, nan},
		{[]float64{3, nan, 1}, 1},
	} {
		_, _, got := (window{}).rangeStats(pts(c.vs...), int64(len(c.vs)-1)*minute, w)
		if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("min_over_time%v = %v, want %v", c.vs, got, c.want)
		}
	}
}

func TestNeumaierSumLikePromQL(t *testing.T) {
	var s neumaierSum
	for _, v := range []float64{1e16, 1, -1e16} {
		s.add(v)
	}
	if s.value() != 1 {
		t.Errorf("compensated sum = %v, want 1 (a plain sum gives 0)", s.value())
	}
	var one neumaierSum
	one.add(0.1)
	if one.value() != 0.1 {
		t.Errorf("one value = %v", one.value())
	}
}

func TestTidySortsAndKeepsTheFirstOfAMillisecond(t *testing.T) {
	got := tidy([]point{{t: 2, v: 1}, {t: 1, v: 2}, {t: 2, v: 3}, {t: 1, v: 4}})
	if len(got) != 2 || got[0].v != 2 || got[1].v != 1 {
		t.Errorf("tidy = %+v", got)
	}
}
