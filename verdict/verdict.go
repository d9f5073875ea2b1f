// Package verdict computes the upgrade verdict of every exporter target from
// a history of samples, with the same answer the Prometheus rules of package
// alerts give on the same history: same safe/not safe, same blockers.
//
// The rules are the reference. This package mirrors their expressions one by
// one, with Prometheus' instant-query semantics (lookback, staleness
// markers, offset, range selectors, PromQL's NaN comparisons), so that the
// readiness page and `check` can judge from the exporter's own history and
// never disagree with the alert. Each rule is named in a comment where it is
// mirrored; alerts/gen shows the expressions.
//
// The package reads the table of hazards (package hazard) and nothing else of
// the project, so the page, `check` and tests may all use it.
package verdict

import (
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// Sample is one sample of a series.
type Sample struct {
	T time.Time
	V float64
	// Stale is Prometheus' staleness marker: the series ended here, and an
	// instant lookup at or after T finds nothing until the next sample.
	Stale bool
}

// Series is one time series. Labels exclude __name__ and include the target
// labels (instance, job, ...). Samples need not be sorted; of two samples
// with the same millisecond the first is kept, as Prometheus' TSDB keeps it.
type Series struct {
	Metric  string
	Labels  map[string]string
	Samples []Sample
}

// History is everything Prometheus would hold: the exporter targets' series
// and the agents' series, from any job. Two Series with the same metric and
// labels are one series.
type History struct {
	Series []Series
}

// Options are the rules generator's settings (alerts.Config) that change the
// verdict, plus Prometheus' own lookback. The zero value means the shipped
// rules on a default Prometheus.
type Options struct {
	// Selector picks the exporter targets, as equality matchers. Empty means
	// job="officescan" (hazard.DefaultJob).
	Selector map[string]string
	// AgentSelector picks the agents' series; empty means any job.
	AgentSelector map[string]string
	// Hazards is the table of hazards; empty means hazard.Table.
	Hazards []hazard.Hazard
	// TargetLabels tell targets apart; empty means hazard.DefaultTargetLabels.
	TargetLabels []string
	// ScrapeInterval of the targets; zero means hazard.ScrapeInterval. A
	// target whose newest scrape is hazard.MaxSampleAge of it old is stale.
	ScrapeInterval time.Duration
	// IdleWindow; zero means hazard.IdleWindow.
	IdleWindow time.Duration
	// AgentTolerance is how many waiting agents a server may have,
	// AgentToleranceRatio the share of its agents; the larger applies.
	AgentTolerance      int
	AgentToleranceRatio float64
	// Lookback is Prometheus' lookback delta (--query.lookback-delta); zero
	// means 5m.
	Lookback time.Duration
	// EvaluationInterval is the rules' evaluation interval, the step of
	// WindowOpen; zero means 1m (Prometheus' default).
	EvaluationInterval time.Duration

	// closedLeft selects Prometheus 2.x semantics, where the lookback and
	// range windows include their left edge. Only the tests set it, to
	// compare with promtool 2.x.
	closedLeft bool
}

// DefaultLookback is Prometheus' default lookback delta.
const DefaultLookback = 5 * time.Minute

// DefaultEvaluationInterval is Prometheus' default rule evaluation interval.
const DefaultEvaluationInterval = time.Minute

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// complete fills in the defaults and rejects what the rules generator
// rejects, so that the evaluator never judges with settings no rules file
// could have.
func (o Options) complete() (Options, error) {
	if len(o.Selector) == 0 {
		o.Selector = map[string]string{"job": hazard.DefaultJob}
	}
	for k := range o.Selector {
		if !labelNameRE.MatchString(k) {
			return o, fmt.Errorf("selector: %q is not a label name", k)
		}
	}
	for k := range o.AgentSelector {
		if !labelNameRE.MatchString(k) {
			return o, fmt.Errorf("agent selector: %q is not a label name", k)
		}
	}
	if len(o.Hazards) == 0 {
		o.Hazards = hazard.Table
	}
	if len(o.TargetLabels) == 0 {
		o.TargetLabels = hazard.DefaultTargetLabels
	}
	for _, l := range o.TargetLabels {
		if !labelNameRE.MatchString(l) {
			return o, fmt.Errorf("target label %q is not a label name", l)
		}
	}
	if o.ScrapeInterval == 0 {
		o.ScrapeInterval = hazard.ScrapeInterval
	}
	if o.ScrapeInterval < time.Second {
		return o, fmt.Errorf("scrape interval %s: want at least 1s", o.ScrapeInterval)
	}
	if o.IdleWindow == 0 {
		o.IdleWindow = hazard.IdleWindow
	}
	if o.IdleWindow < time.Second || o.IdleWindow%time.Second != 0 {
		return o, fmt.Errorf("idle window %s: want whole seconds, at least 1s", o.IdleWindow)
	}
	if o.AgentTolerance < 0 {
		return o, fmt.Errorf("agent tolerance %d: want 0 or more", o.AgentTolerance)
	}
	if math.IsNaN(o.AgentToleranceRatio) || o.AgentToleranceRatio < 0 || o.AgentToleranceRatio >= 1 {
		return o, fmt.Errorf("agent tolerance ratio %g: want a share from 0 up to (not including) 1", o.AgentToleranceRatio)
	}
	if o.Lookback == 0 {
		o.Lookback = DefaultLookback
	}
	if o.Lookback < time.Millisecond {
		return o, fmt.Errorf("lookback %s: want at least 1ms", o.Lookback)
	}
	if o.EvaluationInterval == 0 {
		o.EvaluationInterval = DefaultEvaluationInterval
	}
	if o.EvaluationInterval < time.Second {
		return o, fmt.Errorf("evaluation interval %s: want at least 1s", o.EvaluationInterval)
	}
	return o, nil
}

// Blocker is one officescan:upgrade_blocker series of a target, as its labels
// besides the target's own: hazard, reason, and collector, metric or setting
// where the reason names one.
type Blocker map[string]string

// HazardState is one hazard of the table for one target.
type HazardState struct {
	Hazard hazard.Hazard
	// Clear is officescan:hazard_clear: proven clear from fresh data, or
	// waived.
	Clear bool
	// Waived: a fresh officescan_hazard_waived{hazard} is 1; WaiverReason is
	// its reason label.
	Waived       bool
	WaiverReason string
	// Blockers of this hazard (the exporter's own are on TargetVerdict).
	Blockers []Blocker
	// Evidence says in plain words what was seen, with numbers.
	Evidence string
	// Action says what to do; empty when the hazard is clear.
	Action string
}

// TargetVerdict is the verdict of one exporter target.
type TargetVerdict struct {
	// Target is the labels of the target's `up` series.
	Target map[string]string
	// Safe is officescan:upgrade_window_safe == 1.
	Safe bool
	// Fresh is officescan:up:fresh: the newest scrape succeeded and is
	// younger than hazard.MaxSampleAge. Nothing is judged without it.
	Fresh bool
	// Hazards are the table's hazards (Options.Hazards), in its order.
	Hazards []HazardState
	// Blockers are all the target's blockers, the exporter's own
	// (hazard="exporter") first, then in the table's order.
	Blockers []Blocker
	// AgentsMonitored: some officescan_agent_reboot_pending series exists.
	// Without it the verdict does not wait on agents ("agents not
	// monitored").
	AgentsMonitored bool
	// AgentsWaiting is officescan:agent_reboot_pending:waiting_by_target:
	// this server's waiting agents plus every waiting agent matched to no
	// server.
	AgentsWaiting int
	// Note names inputs the rules cannot evaluate at all (PromQL errors on
	// duplicate series); empty normally.
	Note string
}

// Hazard returns the state of the hazard called name.
func (v TargetVerdict) Hazard(name string) (HazardState, bool) {
	for _, h := range v.Hazards {
		if h.Hazard.Name == name {
			return h, true
		}
	}
	return HazardState{}, false
}

// Evaluate returns the verdict of every target at `at`: one per `up` series
// of Options.Selector that an instant query at `at` sees, sorted by labels.
// It fails only on options no rules file could have.
func Evaluate(h History, at time.Time, o Options) ([]TargetVerdict, error) {
	o, err := o.complete()
	if err != nil {
		return nil, err
	}
	return newIndex(h, o.TargetLabels).evaluate(toMillis(at), &o), nil
}
