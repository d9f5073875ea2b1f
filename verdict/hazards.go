package verdict

import (
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// Each hazard's clear expression and blockers, as alerts' hazardRules writes
// them. Every function here answers "given that the target is fresh"; the
// caller adds recFresh and the waiver, which every hazard shares.

// tctx is one target in one evaluation.
type tctx struct {
	e   *eval
	key string
	up  inst
	// upFresh is officescan:up:fresh for this `up` series.
	upFresh bool
}

// hazardEval is one hazard's rules for one target, before recFresh and the
// waiver: clear is the hazard's clear expression, blockers the blocker rules
// that have a series.
type hazardEval struct {
	clear    bool
	blockers []Blocker
	// numbers and observations for the words (words.go).
	db       *dbMeasure
	values   map[string][]float64 // metric or setting -> fresh values
	unknown  bool                 // a hazard this package does not know
	disabled bool                 // its rules fail in PromQL (duplicate up series)
}

func (c *tctx) evalHazard(hz hazard.Hazard) hazardEval {
	if c.e.dupUp && hz.Kind != hazard.KindAgents {
		return hazardEval{disabled: true}
	}
	if !wellFormed(hz) {
		return hazardEval{unknown: true}
	}
	switch hz.Kind {
	case hazard.KindDatabase:
		return c.dbserver(hz)
	case hazard.KindZero:
		return c.zero(hz)
	case hazard.KindFirewallDriver:
		return c.firewallDriver(hz)
	case hazard.KindEnabledSetting:
		return c.enabledSetting(hz)
	case hazard.KindAgents:
		return c.agentsHazard(hz)
	}
	return hazardEval{unknown: true}
}

// wellFormed: the row has what its kind's rules read. The rules generator
// refuses (panics on) a kind it does not know or a row without them; here
// such a hazard reads as not clear with no named reason (hazard_unproven).
func wellFormed(hz hazard.Hazard) bool {
	switch hz.Kind {
	case hazard.KindDatabase, hazard.KindFirewallDriver:
		return len(hz.Collectors) > 0 && len(hz.Reasons) > 0
	case hazard.KindZero:
		return len(hz.Collectors) > 0 && len(hz.Metrics) > 0 && len(hz.Reasons) > 0
	case hazard.KindEnabledSetting:
		return len(hz.Collectors) > 0 && len(hz.Settings) > 0 && len(hz.Reasons) > 0
	case hazard.KindAgents:
		return true
	}
	return false
}

// fresh is fresh(metric{label=value}) for this target.
func (c *tctx) fresh(metric, label, value string) []inst {
	return c.e.freshOf(c.key, metric, label, value)
}

// succeeded is the rules' succeeded(collector): a fresh success series is 1.
func (c *tctx) succeeded(collector string) bool {
	return anyOf(c.fresh(hazard.MetricCollectorSuccess, "collector", collector), func(v float64) bool { return v == 1 })
}

// collectorBlockers are collectorRules: collector_off when no fresh success
// series exists, collector_failed when one is not 1 (NaN included).
func (c *tctx) collectorBlockers(hz hazard.Hazard) []Blocker {
	var out []Blocker
	for _, col := range hz.Collectors {
		success := c.fresh(hazard.MetricCollectorSuccess, "collector", col)
		if len(success) == 0 {
			out = append(out, Blocker{"hazard": hz.Name, "reason": hazard.ReasonCollectorOff.Name, "collector": col})
		}
		if anyOf(success, func(v float64) bool { return v != 1 }) {
			out = append(out, Blocker{"hazard": hz.Name, "reason": hazard.ReasonCollectorFailed.Name, "collector": col})
		}
	}
	return out
}

func inputMissing(hz hazard.Hazard, metric string) Blocker {
	return Blocker{"hazard": hz.Name, "reason": hazard.ReasonInputMissing.Name, "metric": metric}
}

// zero is KindZero (autopcc, share): clear when the collector succeeded and
// the count is 0; blocked when it is not 0 (NaN included).
func (c *tctx) zero(hz hazard.Hazard) hazardEval {
	metric := hz.Metrics[0]
	ok := c.succeeded(hz.Collectors[0])
	m := c.fresh(metric, "", "")
	r := hazardEval{blockers: c.collectorBlockers(hz), values: map[string][]float64{metric: valuesOf(m)}}
	if ok && len(m) == 0 {
		r.blockers = append(r.blockers, inputMissing(hz, metric))
	}
	if ok && anyOf(m, func(v float64) bool { return v != 0 }) {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": hz.Reasons[len(hz.Reasons)-1].Name})
	}
	r.clear = ok && anyOf(m, func(v float64) bool { return v == 0 })
	return r
}

// firewallDriver is KindFirewallDriver: the driver update must be deferred
// while the firewall is on or unknown.
func (c *tctx) firewallDriver(hz hazard.Hazard) hazardEval {
	ok := c.succeeded(hz.Collectors[0])
	fw := c.fresh(hazard.MetricSettingEnabled, "setting", hazard.SettingFirewall)
	df := c.fresh(hazard.MetricSettingEnabled, "setting", hazard.SettingFirewallDriverDefer)
	fw0, fw1 := anyOf(fw, eq(0)), anyOf(fw, eq(1))
	df0, df1 := anyOf(df, eq(0)), anyOf(df, eq(1))
	r := hazardEval{blockers: c.collectorBlockers(hz),
		values: map[string][]float64{hazard.SettingFirewall: valuesOf(fw), hazard.SettingFirewallDriverDefer: valuesOf(df)}}
	if ok && !(df0 || df1 || fw0) {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": "setting_unknown", "setting": hazard.SettingFirewallDriverDefer})
	}
	if ok && !(fw0 || fw1 || df1) {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": "setting_unknown", "setting": hazard.SettingFirewall})
	}
	if ok && df0 && !fw0 {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": "firewall_driver_update_not_deferred"})
	}
	r.clear = ok && (fw0 || df1)
	return r
}

// enabledSetting is KindEnabledSetting (restart_notification): the
// setting must be enabled.
func (c *tctx) enabledSetting(hz hazard.Hazard) hazardEval {
	ok := c.succeeded(hz.Collectors[0])
	setting := hz.Settings[0]
	s := c.fresh(hazard.MetricSettingEnabled, "setting", setting)
	s0, s1 := anyOf(s, eq(0)), anyOf(s, eq(1))
	r := hazardEval{blockers: c.collectorBlockers(hz), values: map[string][]float64{setting: valuesOf(s)}}
	if ok && !(s0 || s1) {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": "setting_unknown", "setting": setting})
	}
	if ok && s0 {
		r.blockers = append(r.blockers, Blocker{"hazard": hz.Name, "reason": hz.Reasons[len(hz.Reasons)-1].Name})
	}
	r.clear = ok && s1
	return r
}

// agentsHazard compares the target's waiting agents with the tolerance, as
// agentsWithin: clear within it, blocked beyond.
func (c *tctx) agentsHazard(hz hazard.Hazard) hazardEval {
	waiting, agents := c.e.agents.byTarget(c.key)
	w, a := float64(waiting), float64(agents)
	n, ratio := float64(c.e.o.AgentTolerance), c.e.o.AgentToleranceRatio
	within, beyond := w <= n, w > n
	if ratio != 0 {
		within = within || w <= a*ratio
		beyond = beyond && w > a*ratio
	}
	r := hazardEval{clear: within}
	if beyond {
		r.blockers = []Blocker{{"hazard": hz.Name, "reason": "agents_reboot_pending"}}
	}
	return r
}

// waived is the rules' waived(h): a fresh officescan_hazard_waived{hazard}
// is 1. reason is its reason label, for people.
func (c *tctx) waived(h string) (bool, string) {
	for _, x := range c.fresh(hazard.MetricHazardWaived, "hazard", h) {
		if x.p.v == 1 {
			return true, x.s.labels["reason"]
		}
	}
	return false, ""
}

// exporterReasons are the exporter's own reasons that need a fresh target:
// not_a_server (an exporter in agent mode scraped as a server) and
// collector_failed for a collector that feeds no hazard.
func (c *tctx) exporterReasons() []Blocker {
	var out []Blocker
	server := map[string]bool{}
	for _, col := range serverCollectors(c.e.o.Hazards) {
		server[col] = true
	}
	agentMode := len(c.e.byKey[hazard.MetricAgentRebootPending][c.key]) > 0 || len(c.e.byKey[hazard.MetricAgentInfo][c.key]) > 0
	anyServer := false
	var failed []Blocker
	for _, x := range c.fresh(hazard.MetricCollectorSuccess, "", "") {
		col := x.s.labels["collector"]
		if server[col] {
			anyServer = true
			continue
		}
		if x.p.v != 1 {
			b := Blocker{"hazard": hazard.ExporterHazard, "reason": hazard.ReasonCollectorFailed.Name}
			if col != "" {
				b["collector"] = col
			}
			failed = append(failed, b)
		}
	}
	if agentMode && !anyServer {
		out = append(out, Blocker{"hazard": hazard.ExporterHazard, "reason": "not_a_server"})
	}
	return append(out, failed...)
}

// serverCollectors are the collectors that feed a hazard of the table.
func serverCollectors(table []hazard.Hazard) []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range table {
		for _, c := range h.Collectors {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

func anyOf(xs []inst, f func(float64) bool) bool {
	for _, x := range xs {
		if f(x.p.v) {
			return true
		}
	}
	return false
}

// eq is PromQL's == against a number: NaN equals nothing.
func eq(n float64) func(float64) bool { return func(v float64) bool { return v == n } }

func valuesOf(xs []inst) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x.p.v
	}
	return out
}
