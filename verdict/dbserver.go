package verdict

import (
	"math"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// The database is idle when measured idle: the CPU-seconds DbServer.exe used
// from the sample at or before now-window to now are under the budget, and
// the current ratio is under hazard.IdleRatio. A counter that went backwards,
// or a series without a sample at either end, proves nothing.

// dbMeasure is what the dbserver rules compute from the CPU counter and the
// logical CPUs of one target.
type dbMeasure struct {
	// used is `sum without (mode) (fresh(counter) - counter offset W)`, one
	// value per group (normally one).
	used []float64
	// allowed is fresh(officescan_logical_cpus) * budget; hasAllowed false
	// when no fresh CPU count exists (or several, which PromQL rejects).
	allowed, cpus float64
	hasAllowed    bool
	// below: some used group is under allowed (`used < on(T) group_left()
	// allowed` has a series).
	below bool
	// incomplete is the rules' history check; the fields below say which
	// part of it holds, for people.
	incomplete                      bool
	noPast, noNow, reset, wentBelow bool
	procs, ratio                    []float64
	counterFresh                    bool
}

// budget is the rules' literal: IdleRatio * window seconds.
func (e *eval) budget() float64 { return hazard.IdleRatio * e.o.IdleWindow.Seconds() }

func (c *tctx) measureDB() *dbMeasure {
	e := c.e
	m := &dbMeasure{}
	w := millis(e.o.IdleWindow)
	cpus := c.fresh(hazard.MetricLogicalCPUs, "", "")
	if len(cpus) == 1 {
		m.cpus = cpus[0].p.v
		m.allowed, m.hasAllowed = m.cpus*e.budget(), true
	}
	upTS := int64(math.MinInt64)
	if ups := e.upsByKey[c.key]; len(ups) == 1 {
		upTS = ups[0].p.t
	}
	groups := map[string]*neumaierSum{}
	var order []string
	for _, s := range e.counters[c.key] {
		now, nowOK := e.w.instant(s.points, e.t, e.lookback)
		past, pastOK := e.w.instant(s.points, e.t-w, e.lookback)
		n, resets, min := e.w.rangeStats(s.points, e.t, w)
		// (counter unless counter offset W) or (counter offset W unless
		// counter) or (resets(counter[W]) > 0) or
		// (min_over_time(counter[W]) < counter offset W).
		switch {
		case nowOK && !pastOK:
			m.noPast = true
		case pastOK && !nowOK:
			m.noNow = true
		}
		if n > 0 && resets > 0 {
			m.reset = true
		}
		if n > 0 && pastOK && min < past.v {
			m.wentBelow = true
		}
		if nowOK && now.t >= upTS {
			m.counterFresh = true
			if pastOK {
				g := signature(s.labels, "mode")
				if groups[g] == nil {
					groups[g] = &neumaierSum{}
					order = append(order, g)
				}
				groups[g].add(now.v - past.v)
			}
		}
	}
	m.incomplete = m.noPast || m.noNow || m.reset || m.wentBelow
	for _, g := range order {
		u := groups[g].value()
		m.used = append(m.used, u)
		if m.hasAllowed && u < m.allowed {
			m.below = true
		}
	}
	return m
}

// dbserver mirrors KindDatabase of hazardRules.
func (c *tctx) dbserver(hz hazard.Hazard) hazardEval {
	ok := c.succeeded(hz.Collectors[0])
	procs := c.fresh(hazard.MetricDBProcesses, "", "")
	ratio := c.fresh(hazard.MetricDBUtilization, "", "")
	m := c.measureDB()
	m.procs, m.ratio = valuesOf(procs), valuesOf(ratio)
	r := hazardEval{blockers: c.collectorBlockers(hz), db: m}
	if ok {
		if len(procs) == 0 {
			r.blockers = append(r.blockers, inputMissing(hz, hazard.MetricDBProcesses))
		}
		if !m.counterFresh {
			r.blockers = append(r.blockers, inputMissing(hz, hazard.MetricDBCPUSeconds))
		}
		if len(c.fresh(hazard.MetricLogicalCPUs, "", "")) == 0 {
			r.blockers = append(r.blockers, inputMissing(hz, hazard.MetricLogicalCPUs))
		}
	}
	running := ok && anyOf(procs, func(v float64) bool { return v >= 1 })
	// procs unless procs >= 1: a count of 0, or NaN.
	if ok && anyOf(procs, func(v float64) bool { return !(v >= 1) }) {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": "database_not_running"})
	}
	// The ratio may be absent until the exporter's first sampling window
	// is complete: history, not a missing input.
	if running && (m.incomplete || len(ratio) == 0) {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": "database_history_incomplete"})
	}
	// (ratio unless ratio < idle) or ((used unless on(T) used < allowed)
	// and on(T) allowed): with no CPU count the window proves nothing
	// either way (input_missing says so). The rule fails in PromQL when
	// some target has two CPU counts.
	busyNow := anyOf(ratio, func(v float64) bool { return !(v < hazard.IdleRatio) })
	busyWindow := len(m.used) > 0 && !m.below && m.hasAllowed
	if running && !c.e.dupCPUs && (busyNow || busyWindow) {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": "database_busy"})
	}
	r.clear = running && anyOf(ratio, func(v float64) bool { return v < hazard.IdleRatio }) && m.below && !m.incomplete
	return r
}
