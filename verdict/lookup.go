package verdict

import (
	"math"
	"sort"
	"time"
)

// The PromQL lookups on one series. Prometheus keeps timestamps in
// milliseconds, so everything here does too: two times in the same
// millisecond are the same time to Prometheus.

// point is one sample, its time in milliseconds since the epoch.
type point struct {
	t     int64
	v     float64
	stale bool
}

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func millis(d time.Duration) int64 { return d.Milliseconds() }

// window says which samples an instant lookup or a range sees. Prometheus 3
// selects (t-delta, t]; Prometheus 2.x selected [t-delta, t].
type window struct {
	closedLeft bool
}

// inside reports whether a sample at ts is in the window ending at t that is
// delta long.
func (w window) inside(ts, t, delta int64) bool {
	if w.closedLeft {
		return ts >= t-delta && ts <= t
	}
	return ts > t-delta && ts <= t
}

// last returns the index of the newest point at or before t, or -1.
func last(pts []point, t int64) int {
	return sort.Search(len(pts), func(i int) bool { return pts[i].t > t }) - 1
}

// instant is an instant vector selector at t: the newest sample within the
// lookback, unless that sample is a staleness marker (then the series is
// absent). `x offset d` is instant at t-d.
func (w window) instant(pts []point, t, lookback int64) (point, bool) {
	i := last(pts, t)
	if i < 0 || !w.inside(pts[i].t, t, lookback) || pts[i].stale {
		return point{}, false
	}
	return pts[i], true
}

// lastOverTime is last_over_time(x[r]) at t: the newest sample in the range,
// staleness markers left out (ranges never hold them).
func (w window) lastOverTime(pts []point, t, r int64) (point, bool) {
	for i := last(pts, t); i >= 0 && w.inside(pts[i].t, t, r); i-- {
		if !pts[i].stale {
			return pts[i], true
		}
	}
	return point{}, false
}

// rangeStats reads the range selector x[r] at t, staleness markers left out,
// and returns what resets() and min_over_time() make of it. n is the number
// of samples; with none, both functions return nothing.
func (w window) rangeStats(pts []point, t, r int64) (n, resets int, min float64) {
	i := last(pts, t)
	var prev float64
	// Walk back to the window's start, then forward, so that resets and min
	// see the samples in time order as Prometheus does.
	j := i
	for j >= 0 && w.inside(pts[j].t, t, r) {
		j--
	}
	for k := j + 1; k <= i; k++ {
		p := pts[k]
		if p.stale {
			continue
		}
		if n == 0 {
			min = p.v
		} else {
			if p.v < prev {
				resets++
			}
			// funcMinOverTime: a NaN so far is replaced by any later value.
			if p.v < min || math.IsNaN(min) {
				min = p.v
			}
		}
		prev = p.v
		n++
	}
	return n, resets, min
}

// neumaierSum adds like PromQL's sum (kahansum.Inc, then the compensation),
// so that a sum compared with a threshold rounds as the rules' sum does.
type neumaierSum struct {
	sum, c float64
	n      int
}

func (s *neumaierSum) add(v float64) {
	if s.n == 0 {
		s.sum, s.n = v, 1
		return
	}
	s.n++
	t := s.sum + v
	switch {
	case math.IsInf(t, 0):
		s.c = 0
	case math.Abs(s.sum) >= math.Abs(v):
		s.c += (s.sum - t) + v
	default:
		s.c += (v - t) + s.sum
	}
	s.sum = t
}

func (s *neumaierSum) value() float64 { return s.sum + s.c }
