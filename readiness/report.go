package readiness

import (
	"strings"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/promfmt"
	"github.com/officescan-exporter/officescan_exporter/verdict"
)

// Outcome is the answer to "may I upgrade now?".
type Outcome string

const (
	// OutcomeSafe: every hazard proven clear (or waived), exit code 0.
	OutcomeSafe Outcome = "safe"
	// OutcomeBlocked: some hazard is seen, exit code 1. It wins over
	// unknown because it is certain: the upgrade must wait either way.
	OutcomeBlocked Outcome = "blocked"
	// OutcomeUnknown: nothing is seen but something is not proven, exit 2.
	OutcomeUnknown Outcome = "unknown"
)

// ExitCode is the check command's exit code for the outcome.
func (o Outcome) ExitCode() int {
	switch o {
	case OutcomeSafe:
		return 0
	case OutcomeBlocked:
		return 1
	}
	return 2
}

// Headline is the outcome in a person's words.
func (o Outcome) Headline() string {
	switch o {
	case OutcomeSafe:
		return "SAFE to upgrade"
	case OutcomeBlocked:
		return "BLOCKED"
	}
	return "COULD NOT TELL"
}

// Row states besides the verdict's clear and blocked.
const (
	StateClear        = "clear"
	StateBlocked      = "blocked"
	StateUnknown      = "unknown"
	StateWaived       = "waived"
	StateNotMonitored = "not monitored"
)

// Row is one line of the checklist: a hazard, or the exporter itself.
type Row struct {
	Hazard   string `json:"hazard"`
	Title    string `json:"title"`
	State    string `json:"state"`
	Evidence string `json:"evidence"`
	Action   string `json:"action,omitempty"`
	// Reasons are the blockers of the row, as PromQL labels, e.g.
	// {hazard="dbserver",reason="database_busy"}: the same series the rules
	// record as officescan:upgrade_blocker.
	Reasons []string `json:"reasons,omitempty"`
}

// Report is what the page, /readiness and `check` show.
type Report struct {
	Outcome Outcome   `json:"verdict"`
	Safe    bool      `json:"safe"`
	Time    time.Time `json:"time"`
	// ExitCode is check's exit code for this report.
	ExitCode int `json:"exit_code"`
	// SafeForSeconds is how long the verdict has been safe at every
	// evaluation; the alert OfficeScanUpgradeWindowOpen fires at
	// WindowOpenForSeconds.
	SafeForSeconds       float64  `json:"safe_for_seconds"`
	WindowOpenForSeconds float64  `json:"window_open_for_seconds"`
	Rows                 []Row    `json:"checks"`
	Notes                []string `json:"notes"`
}

// Context is what the metrics cannot say and the evidence should: each
// failing collector's error, and where each console setting is read from.
type Context struct {
	Errors  map[string]string `json:"errors,omitempty"`
	Sources map[string]string `json:"setting_sources,omitempty"`
}

// Judge evaluates the history at `at` for the target whose labels include
// target's, and words the result, with c in the evidence.
func Judge(h verdict.History, at time.Time, o verdict.Options, target map[string]string, c Context) (Report, error) {
	r := Report{Time: at, WindowOpenForSeconds: hazard.WindowOpenFor.Seconds(), Notes: []string{}}
	vs, err := verdict.Evaluate(h, at, o)
	if err != nil {
		return r, err
	}
	var v *verdict.TargetVerdict
	for i := range vs {
		if includes(vs[i].Target, target) {
			v = &vs[i]
			break
		}
	}
	if v == nil {
		r.Outcome = OutcomeUnknown
		r.ExitCode = r.Outcome.ExitCode()
		r.Rows = []Row{{Hazard: hazard.ExporterHazard, Title: "The exporter's scrapes are recorded", State: StateUnknown,
			Evidence: "no scrape of the exporter has been recorded yet", Action: "Wait for the first recording."}}
		return r, nil
	}
	safeFor, _, err := verdict.SafeFor(h, at, o, target, hazard.WindowOpenFor)
	if err != nil {
		return r, err
	}
	r.Safe = v.Safe
	if v.Safe {
		r.SafeForSeconds = safeFor.Seconds()
	}
	r.Rows = rows(*v, c)
	r.Outcome = outcomeOf(*v)
	r.ExitCode = r.Outcome.ExitCode()
	if v.Note != "" {
		r.Notes = append(r.Notes, v.Note)
	}
	return r, nil
}

func includes(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// outcomeOf: safe when the verdict is; blocked when some blocker is a
// hazard seen; unknown when every blocker is missing evidence.
func outcomeOf(v verdict.TargetVerdict) Outcome {
	if v.Safe {
		return OutcomeSafe
	}
	for _, b := range v.Blockers {
		if r, ok := hazard.FindReason(hazardsOf(v), b["reason"]); ok && !r.Missing {
			return OutcomeBlocked
		}
	}
	return OutcomeUnknown
}

func hazardsOf(v verdict.TargetVerdict) []hazard.Hazard {
	out := make([]hazard.Hazard, len(v.Hazards))
	for i, h := range v.Hazards {
		out[i] = h.Hazard
	}
	return out
}

// BlockerString renders a blocker as sorted PromQL labels.
func BlockerString(b verdict.Blocker) string { return promfmt.Labels(b) }

func rows(v verdict.TargetVerdict, c Context) []Row {
	var out []Row
	var exporterBlockers []string
	var exporterWords []string
	var exporterActions []string
	for _, b := range v.Blockers {
		if b["hazard"] != hazard.ExporterHazard {
			continue
		}
		exporterBlockers = append(exporterBlockers, BlockerString(b))
		if r, ok := hazard.FindReason(nil, b["reason"]); ok {
			w := r.Summary
			if name := b["collector"]; name != "" {
				w += " (collector " + name + collectorError(c.Errors, name) + ")"
			}
			exporterWords = append(exporterWords, w)
			exporterActions = append(exporterActions, r.Action)
		}
	}
	if len(exporterBlockers) > 0 {
		out = append(out, Row{Hazard: hazard.ExporterHazard, Title: "The exporter is scraped and works", State: StateUnknown,
			Evidence: strings.Join(exporterWords, "; "), Action: strings.Join(dedupe(exporterActions), " "), Reasons: exporterBlockers})
	}
	for _, h := range v.Hazards {
		row := Row{Hazard: h.Hazard.Name, Title: h.Hazard.Title, Evidence: h.Evidence, Action: h.Action}
		for _, b := range h.Blockers {
			row.Reasons = append(row.Reasons, BlockerString(b))
			if b["reason"] == hazard.ReasonCollectorFailed.Name {
				row.Evidence += "; collector " + b["collector"] + collectorError(c.Errors, b["collector"])
			}
		}
		for _, s := range h.Hazard.Settings {
			if src := c.Sources[s]; src != "" {
				row.Evidence += "; " + s + " " + src
			}
		}
		switch {
		case h.Waived:
			row.State = StateWaived
			row.Evidence = "waived: " + h.WaiverReason
			row.Action = ""
		case h.Hazard.Optional && !v.AgentsMonitored && h.Clear:
			row.State = StateNotMonitored
		case h.Clear:
			row.State = StateClear
		default:
			row.State = StateUnknown
			for _, b := range h.Blockers {
				if r, ok := h.Hazard.Reason(b["reason"]); ok && !r.Missing {
					row.State = StateBlocked
				}
			}
		}
		out = append(out, row)
	}
	return out
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func collectorError(errs map[string]string, collector string) string {
	if e := errs[collector]; e != "" {
		return " failed: " + e
	}
	return ""
}
