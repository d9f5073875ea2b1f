package verdict

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// inst is a series as an instant query sees it: its sample at the time.
type inst struct {
	s *series
	p point
}

// eval is one evaluation of the rules at one time.
type eval struct {
	o        *Options
	w        window
	t        int64
	lookback int64
	// ups are the up{selector} series the query sees, in label order.
	ups []inst
	// gone are the targets whose `up` has no instant value (a staleness
	// marker, or older than the lookback) but a sample within
	// hazard.TargetMemory: scrape_stale, never safe.
	gone []inst
	// upsByKey: PromQL joins a target's series to its `up` on the target
	// labels.
	upsByKey map[string][]inst
	// byKey holds the target selector's series of each metric the rules
	// read at t, by target key.
	byKey map[string]map[string][]inst
	// counters are all series of the CPU counter by target key, seen now or
	// not: the history checks look at their past too.
	counters map[string][]*series
	// dupUp: two `up` series share the target labels, so every rule that
	// joins a series to its target's `up` (fresh()) fails in PromQL.
	dupUp bool
	// dupCPUs: a target has two fresh officescan_logical_cpus series, so the
	// dbserver rules that compare with the CPU budget fail in PromQL.
	dupCPUs bool
	agents  agentCounts
}

// The target metrics the rules read with the target selector.
var targetMetrics = []string{
	hazard.MetricCollectorSuccess, hazard.MetricDBProcesses, hazard.MetricDBCPUSeconds,
	hazard.MetricDBUtilization, hazard.MetricLogicalCPUs, hazard.MetricAutoPccProcesses,
	hazard.MetricShareOpenFiles, hazard.MetricSettingEnabled, hazard.MetricHazardWaived,
	hazard.MetricServerAddressInfo, hazard.MetricAgentRebootPending, hazard.MetricAgentInfo,
}

// metricsOf is targetMetrics and every metric a hazard of the table reads,
// so that a hazard added to the table is judged with no change here.
func metricsOf(table []hazard.Hazard) []string {
	out := append([]string(nil), targetMetrics...)
	seen := map[string]bool{}
	for _, m := range out {
		seen[m] = true
	}
	for _, h := range table {
		for _, m := range h.Metrics {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

func (ix *index) evaluate(t int64, o *Options) []TargetVerdict {
	e := &eval{o: o, w: window{closedLeft: o.closedLeft}, t: t, lookback: millis(o.Lookback),
		upsByKey: map[string][]inst{}, byKey: map[string]map[string][]inst{}, counters: map[string][]*series{}}
	for _, s := range ix.byMetric[hazard.MetricUp] {
		if !matches(s.labels, o.Selector) {
			continue
		}
		if p, ok := e.w.instant(s.points, t, e.lookback); ok {
			e.ups = append(e.ups, inst{s, p})
			e.upsByKey[s.key] = append(e.upsByKey[s.key], inst{s, p})
			e.dupUp = e.dupUp || len(e.upsByKey[s.key]) > 1
		} else if p, ok := e.w.lastOverTime(s.points, t, millis(hazard.TargetMemory)); ok {
			// The rules' base is last_over_time(up[TargetMemory]): a target
			// whose `up` went stale keeps a verdict of 0.
			e.gone = append(e.gone, inst{s, p})
		}
	}
	for _, m := range metricsOf(o.Hazards) {
		byKey := map[string][]inst{}
		for _, s := range ix.byMetric[m] {
			if !matches(s.labels, o.Selector) {
				continue
			}
			if m == hazard.MetricDBCPUSeconds {
				e.counters[s.key] = append(e.counters[s.key], s)
			}
			if p, ok := e.w.instant(s.points, t, e.lookback); ok {
				byKey[s.key] = append(byKey[s.key], inst{s, p})
			}
		}
		e.byKey[m] = byKey
	}
	if !e.dupUp {
		for key := range e.byKey[hazard.MetricLogicalCPUs] {
			if len(e.freshOf(key, hazard.MetricLogicalCPUs, "", "")) > 1 {
				e.dupCPUs = true
			}
		}
	}
	e.agents = e.countAgents(ix)
	out := make([]TargetVerdict, 0, len(e.ups)+len(e.gone))
	for _, u := range e.ups {
		out = append(out, e.target(u))
	}
	for _, g := range e.gone {
		if len(e.upsByKey[g.s.key]) == 0 {
			out = append(out, e.goneTarget(g))
		}
	}
	sort.Slice(out, func(i, j int) bool { return joinTarget(out[i].Target) < joinTarget(out[j].Target) })
	return out
}

// freshOf is the rules' fresh(): the target's series of metric (with
// label=value when label is set) whose sample came with the target's newest
// scrape, timestamp(x) >= timestamp(up).
func (e *eval) freshOf(key, metric, label, value string) []inst {
	ups := e.upsByKey[key]
	if len(ups) != 1 {
		return nil
	}
	var out []inst
	for _, x := range e.byKey[metric][key] {
		if label != "" && x.s.labels[label] != value {
			continue
		}
		if x.p.t >= ups[0].p.t {
			out = append(out, x)
		}
	}
	return out
}

// maxAgeSeconds is the rules' literal for hazard.MaxSampleAge.
func (e *eval) maxAgeSeconds() float64 {
	return hazard.MaxSampleAge(e.o.ScrapeInterval).Seconds()
}

// isFresh is officescan:up:fresh for one `up` series:
// up == 1 and (time() - timestamp(up) < max age), in PromQL's float seconds.
func (e *eval) isFresh(u inst) bool {
	return u.p.v == 1 && float64(e.t)/1000-float64(u.p.t)/1000 < e.maxAgeSeconds()
}

// target evaluates the rules for one `up` series.
func (e *eval) target(u inst) TargetVerdict {
	key := u.s.key
	c := &tctx{e: e, key: key, up: u, upFresh: e.isFresh(u)}
	keyFresh, keyUp1, keyNot1 := false, false, false
	for _, x := range e.upsByKey[key] {
		keyFresh = keyFresh || e.isFresh(x)
		keyUp1 = keyUp1 || x.p.v == 1
		// != 1 so that NaN is down too.
		keyNot1 = keyNot1 || x.p.v != 1
	}
	v := TargetVerdict{Target: copyLabels(u.s.labels), Fresh: c.upFresh,
		AgentsMonitored: e.agents.monitored}
	v.AgentsWaiting, _ = e.agents.byTarget(key)

	// The exporter's own reasons.
	var exporter []Blocker
	if keyNot1 {
		exporter = append(exporter, Blocker{"hazard": hazard.ExporterHazard, "reason": "exporter_down"})
	}
	if keyUp1 && !keyFresh {
		exporter = append(exporter, Blocker{"hazard": hazard.ExporterHazard, "reason": "scrape_stale"})
	}
	if c.upFresh && !e.dupUp {
		exporter = append(exporter, c.exporterReasons()...)
	}
	v.Blockers = append(v.Blockers, exporter...)

	allClear := true
	evals := make([]hazardEval, 0, len(e.o.Hazards))
	for _, hz := range e.o.Hazards {
		st, r, clearAbsent := c.hazardState(hz)
		evals = append(evals, r)
		v.Hazards = append(v.Hazards, st)
		v.Blockers = append(v.Blockers, st.Blockers...)
		allClear = allClear && st.Clear && !clearAbsent
	}
	// hazard_unproven: a hazard not clear for a reason no rule names. The
	// rule sees every blocker recorded before it in the group: the exporter's
	// and the hazard's own.
	for i := range v.Hazards {
		st := &v.Hazards[i]
		if !c.upFresh || st.Clear || len(st.Blockers) > 0 || len(exporter) > 0 || c.clearAbsent(st.Hazard) {
			continue
		}
		b := Blocker{"hazard": st.Hazard.Name, "reason": reasonUnproven}
		st.Blockers = append(st.Blockers, b)
		v.Blockers = append(v.Blockers, b)
	}
	for i := range v.Hazards {
		words(c, &v.Hazards[i], evals[i], exporter)
	}
	sortBlockers(v.Blockers, e.o.Hazards)
	v.Safe = c.upFresh && allClear && len(v.Blockers) == 0
	switch {
	case e.dupUp:
		v.Note = "several up series share the target labels " + joinLabels(e.o.TargetLabels) + "; the rules cannot join a target's series to it and judge no hazard but the agents"
	case e.dupCPUs:
		v.Note = "some target has several fresh " + hazard.MetricLogicalCPUs + " series; the rules cannot compare the database's CPU with its budget on any target"
	}
	return v
}

// reasonUnproven is the rules' reason for a hazard not proven clear that no
// other reason explains.
const reasonUnproven = "hazard_unproven"

// hazardState evaluates one hazard of the table: officescan:hazard_clear and
// its blockers. clearAbsent: the hazard's clear rule fails in PromQL, so no
// hazard_clear series exists and no hazard_unproven follows from it.
func (c *tctx) hazardState(hz hazard.Hazard) (st HazardState, r hazardEval, clearAbsent bool) {
	st.Hazard = hz
	r = c.evalHazard(hz)
	if hz.Waivable && !c.e.dupUp {
		st.Waived, st.WaiverReason = c.waived(hz.Name)
	}
	clearAbsent = c.clearAbsent(hz)
	// hazard_clear: (recFresh and on(T) (clear or on(T) waived)) or base*0.
	st.Clear = c.upFresh && !clearAbsent && (r.clear || st.Waived)
	// Every hazard's blocker is recFresh and on(T) (...), unless waived.
	if c.upFresh && !st.Waived {
		st.Blockers = r.blockers
	}
	return st, r, clearAbsent
}

// clearAbsent reports whether the hazard's clear rule fails in PromQL.
func (c *tctx) clearAbsent(hz hazard.Hazard) bool {
	if hz.Kind == hazard.KindAgents {
		return false
	}
	return c.e.dupUp || (hz.Kind == hazard.KindDatabase && c.e.dupCPUs)
}

// The order blockers are listed in: the exporter's first, then the table's
// hazards, each hazard's reasons in the table's order, then the extra label.
func sortBlockers(bs []Blocker, table []hazard.Hazard) {
	rank := func(b Blocker) (int, int) {
		if b["hazard"] == hazard.ExporterHazard {
			for j, r := range hazard.ExporterReasons {
				if r.Name == b["reason"] {
					return 0, j
				}
			}
			return 0, len(hazard.ExporterReasons)
		}
		for i, h := range table {
			if h.Name != b["hazard"] {
				continue
			}
			for j, r := range h.Reasons {
				if r.Name == b["reason"] {
					return i + 1, j
				}
			}
			return i + 1, len(h.Reasons)
		}
		return len(table) + 1, 0
	}
	sort.SliceStable(bs, func(i, j int) bool {
		hi, ri := rank(bs[i])
		hj, rj := rank(bs[j])
		if hi != hj {
			return hi < hj
		}
		if ri != rj {
			return ri < rj
		}
		return signature(bs[i], "") < signature(bs[j], "")
	})
}

func copyLabels(l map[string]string) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// goneTarget is the verdict of a target whose `up` is gone: 0, with
// scrape_stale, and no hazard judged.
func (e *eval) goneTarget(g inst) TargetVerdict {
	v := TargetVerdict{Target: copyLabels(g.s.labels), AgentsMonitored: e.agents.monitored}
	v.AgentsWaiting, _ = e.agents.byTarget(g.s.key)
	b := Blocker{"hazard": hazard.ExporterHazard, "reason": "scrape_stale"}
	v.Blockers = []Blocker{b}
	why := fmt.Sprintf("not judged: the exporter has not been scraped for %s", dur(time.Duration(e.t-g.p.t)*time.Millisecond))
	for _, hz := range e.o.Hazards {
		v.Hazards = append(v.Hazards, HazardState{Hazard: hz, Evidence: why,
			Action: "Check that Prometheus scrapes the exporter; the verdict returns once fresh scrapes arrive."})
	}
	return v
}

func joinTarget(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\xff" + l[k] + "\xfe")
	}
	return b.String()
}
