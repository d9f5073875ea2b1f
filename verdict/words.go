package verdict

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/promfmt"
)

// The words a person reads on the page and in `check`: what was seen, with
// numbers, and what to do. Reason summaries and actions come from the table
// of hazards, so the page, check, the alerts and the runbooks say the same.

// words fills in the state's evidence and action.
func words(c *tctx, st *HazardState, r hazardEval, exporter []Blocker) {
	sortBlockers(st.Blockers, c.e.o.Hazards)
	switch {
	case r.disabled || c.clearAbsent(st.Hazard):
		st.Evidence = "not judged: the rules cannot evaluate this hazard on duplicate series (see the note)"
		st.Action = "Remove the duplicate series (relabelling, or set the target labels to what tells targets apart)."
		return
	case !c.upFresh:
		st.Evidence = "not judged: " + c.staleWords()
		if len(exporter) > 0 {
			st.Action = c.action(exporter[0])
		}
		return
	case st.Waived:
		why := st.WaiverReason
		if why == "" {
			why = "no reason given"
		}
		st.Evidence = "waived: " + why
		return
	case r.unknown:
		st.Evidence = "this version of the evaluator has no rules for this hazard"
	default:
		st.Evidence = c.evidence(st.Hazard, r, st.Blockers)
	}
	switch {
	case len(st.Blockers) > 0:
		st.Action = c.action(st.Blockers[0])
	case !st.Clear && len(exporter) > 0:
		st.Action = c.action(exporter[0])
	}
}

// Summary returns the table's one-line summary of a blocker's reason.
func Summary(b Blocker) string {
	if r, ok := reasonOf(hazard.Table, b); ok {
		return r.Summary
	}
	return b["reason"]
}

// Action returns what to do about a blocker, from the table, with the
// collector and hazard named.
func Action(b Blocker) string { return action(hazard.Table, b) }

func (c *tctx) action(b Blocker) string { return action(c.e.o.Hazards, b) }

func action(table []hazard.Hazard, b Blocker) string {
	r, ok := reasonOf(table, b)
	if !ok {
		return ""
	}
	a := r.Action
	if col := b["collector"]; col != "" {
		a = strings.ReplaceAll(a, "<name>", col)
	}
	return strings.ReplaceAll(a, "<hazard>", b["hazard"])
}

// reasonOf finds a blocker's reason: the exporter's own, or its hazard's,
// or (hazard_unproven, which carries the hazard it leaves unproven) among
// the exporter's reasons.
func reasonOf(table []hazard.Hazard, b Blocker) (hazard.Reason, bool) {
	if b["hazard"] != hazard.ExporterHazard {
		for _, h := range table {
			if h.Name == b["hazard"] {
				if r, ok := h.Reason(b["reason"]); ok {
					return r, true
				}
			}
		}
	}
	for _, r := range hazard.ExporterReasons {
		if r.Name == b["reason"] {
			return r, true
		}
	}
	return hazard.Reason{}, false
}

// staleWords says why a target is not fresh.
func (c *tctx) staleWords() string {
	age := dur(time.Duration(c.e.t-c.up.p.t) * time.Millisecond)
	if c.up.p.v != 1 {
		return fmt.Sprintf("Prometheus could not scrape the exporter at its newest scrape, %s ago (up = %s)", age, num(c.up.p.v))
	}
	return fmt.Sprintf("the exporter's newest scrape is %s old; evidence must be younger than %s",
		age, dur(hazard.MaxSampleAge(c.e.o.ScrapeInterval)))
}

// evidence says what was seen for one hazard of a fresh target.
func (c *tctx) evidence(hz hazard.Hazard, r hazardEval, blockers []Blocker) string {
	// A collector that is off or failing: nothing else was seen.
	for _, b := range blockers {
		switch b["reason"] {
		case hazard.ReasonCollectorOff.Name:
			return fmt.Sprintf("the %s collector is off: no fresh %s{collector=%q}", b["collector"], hazard.MetricCollectorSuccess, b["collector"])
		case hazard.ReasonCollectorFailed.Name:
			return fmt.Sprintf("the %s collector failed its last run", b["collector"])
		}
	}
	var parts []string
	switch hz.Kind {
	case hazard.KindDatabase:
		parts = c.dbWords(r.db)
	case hazard.KindZero:
		parts = append(parts, zeroWords(hz, r.values[hz.Metrics[0]]))
	case hazard.KindFirewallDriver, hazard.KindEnabledSetting:
		for _, name := range hz.Settings {
			parts = append(parts, "setting "+name+": "+settingWords(r.values[name]))
		}
	case hazard.KindAgents:
		parts = append(parts, c.agentWords())
	}
	for _, b := range blockers {
		if b["reason"] == hazard.ReasonInputMissing.Name {
			parts = append(parts, b["metric"]+" is missing or stale")
		}
		if b["reason"] == reasonUnproven {
			parts = append(parts, "no rule names why it is not proven clear")
		}
	}
	return strings.Join(parts, "; ")
}

func (c *tctx) dbWords(m *dbMeasure) []string {
	if m == nil {
		return nil
	}
	var parts []string
	window := dur(c.e.o.IdleWindow)
	switch {
	case len(m.used) > 0 && !m.incomplete:
		used := 0.0
		for _, u := range m.used {
			used += u
		}
		s := fmt.Sprintf("DbServer.exe used %s CPU-seconds over the last %s", fixed(used), window)
		if m.hasAllowed {
			s += fmt.Sprintf(" (idle means under %s on %s CPUs)", fixed(m.allowed), num(m.cpus))
		}
		parts = append(parts, s)
	case m.counterFresh:
		parts = append(parts, fmt.Sprintf("DbServer.exe's CPU over the last %s is not measured whole", window))
	}
	if len(m.ratio) > 0 {
		parts = append(parts, fmt.Sprintf("now %s %% of all CPUs", fixed(m.ratio[0]*100)))
	}
	if len(m.procs) > 0 {
		parts = append(parts, countWords(m.procs, "DbServer.exe process", "DbServer.exe processes", "runs", "run"))
	}
	if m.noPast {
		parts = append(parts, fmt.Sprintf("the CPU counter has no sample from %s ago (too little history)", window))
	}
	if m.noNow {
		parts = append(parts, "a CPU counter series seen "+window+" ago has no current sample")
	}
	if m.reset || m.wentBelow {
		parts = append(parts, "the CPU counter went backwards within the last "+window+" (exporter restart)")
	}
	if len(m.procs) > 0 && m.procs[0] >= 1 && len(m.ratio) == 0 {
		parts = append(parts, "no CPU share measured yet (the exporter's first sampling window is not complete)")
	}
	return parts
}

func (c *tctx) agentWords() string {
	a := c.e.agents
	if !a.monitored {
		return "agents not monitored"
	}
	waiting, agents := a.byTarget(c.key)
	s := fmt.Sprintf("%d of this server's %s wait for a restart, and %s matched to no server (no info, or a server name no server target has); %d of %s wait in all",
		waiting-a.unmatched, plural(agents-a.unmatched, "agent"), plural(a.unmatched, "waiting agent"), a.waiting, plural(a.total, "monitored agent"))
	if n, r := c.e.o.AgentTolerance, c.e.o.AgentToleranceRatio; n > 0 || r > 0 {
		s += fmt.Sprintf(" (allowed: %d, or %s of this server's agents)", n, num(r))
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// zeroWords words a KindZero count: the two the table has by name, a new
// one by its metric.
func zeroWords(hz hazard.Hazard, vs []float64) string {
	switch hz.Metrics[0] {
	case hazard.MetricAutoPccProcesses:
		return countWords(vs, "AutoPcc.exe or AutoPccP.exe process", "AutoPcc.exe or AutoPccP.exe processes", "runs", "run")
	case hazard.MetricShareOpenFiles:
		return countWords(vs, "Login Script file", "Login Script files", "is open on the ofcscan share", "are open on the ofcscan share")
	}
	if len(vs) == 0 {
		return hz.Metrics[0] + " has no value"
	}
	return hz.Metrics[0] + " is " + num(vs[0])
}

// countWords: "no X runs", "1 X runs", "3 Xs run".
func countWords(vs []float64, one, many, verbOne, verbMany string) string {
	if len(vs) == 0 {
		return "no count of " + many
	}
	v := vs[0]
	switch {
	case v == 0:
		return "no " + one + " " + verbOne
	case v == 1:
		return "1 " + one + " " + verbOne
	}
	return num(v) + " " + many + " " + verbMany
}

func settingWords(vs []float64) string {
	if len(vs) == 0 {
		return "unknown"
	}
	switch vs[0] {
	case 1:
		return "on"
	case 0:
		return "off"
	}
	return "unknown (" + num(vs[0]) + ")"
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func fixed(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// dur writes d as Prometheus does: 5m, 1m30s.
func dur(d time.Duration) string { return promfmt.Duration(d) }

func joinLabels(ls []string) string { return "(" + strings.Join(ls, ", ") + ")" }
