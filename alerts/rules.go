// Package alerts generates the Prometheus recording and alerting rules that
// give the upgrade verdict, from the table of hazards (package hazard).
//
// The rules are written by Go code, not by hand: each hazard's inputs,
// thresholds, reasons and alerts come from the table, and a site's selectors
// are given once to Render, so a site with another job name regenerates the
// file instead of editing a dozen expressions:
//
//	go run ./alerts/gen -job=my_officescan_job -o officescan.rules.yml
//
// The verdict rests on positive proof: a target is safe only when, for every
// hazard, present and fresh data prove it clear, or the exporter's config
// file waives it (officescan_hazard_waived). The blocker series explain why
// a target is not safe; the verdict itself never relies on a blocker being
// present, so a cause nobody foresaw still reads as not safe
// (reason="hazard_unproven").
package alerts

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/promfmt"
)

//go:generate go run ./gen -o officescan.rules.yml

// DefaultRunbookBase is where runbook_url annotations point: the runbooks
// page that every exporter serves itself, on the target that raised the alert.
const DefaultRunbookBase = "http://{{ $labels.instance }}/runbooks"

// Config is what a site may change in the rules.
type Config struct {
	// Selector picks the exporter targets: PromQL label matchers without
	// braces, e.g. `job="officescan"`. Required.
	Selector string
	// AgentSelector picks the agents' series (officescan_agent_reboot_pending,
	// officescan_agent_info), e.g. `job="officescan_agents"`; empty means
	// every job, which suits both a job scraping agents directly and
	// windows_exporter's textfile collector.
	AgentSelector string
	// Hazards is the table of hazards; empty means hazard.Table. (Tests add
	// a hazard to a copy to show what a new row brings.)
	Hazards []hazard.Hazard
	// TargetLabels tell targets apart; the rules join a target's series on
	// them. Empty means hazard.DefaultTargetLabels.
	TargetLabels []string
	// ScrapeInterval is the targets' scrape interval; evidence older than
	// hazard.MaxSampleAge of it is stale. Zero means hazard.ScrapeInterval.
	ScrapeInterval time.Duration
	// IdleWindow replaces hazard.IdleWindow (live tests shorten it; the
	// shipped rules never do).
	IdleWindow time.Duration
	// AgentTolerance is how many waiting agents a server may have and still
	// be upgraded; AgentToleranceRatio the share of its agents. With
	// thousands of agents some machine always waits. Both default to 0.
	AgentTolerance      int
	AgentToleranceRatio float64
	// For overrides alerts' `for` durations by alert name (tests shorten them).
	For map[string]time.Duration
	// RunbookBase is the runbooks page URL; empty means DefaultRunbookBase.
	RunbookBase string
	// Args is shown in the generated file's header: how it was generated.
	Args string
	// HistoryInterval is how often the officescan.history group runs; zero
	// means HistoryInterval (1h). Its expressions do not depend on it: any
	// interval up to an hour records every clock hour's share at least once
	// (tests and the fleet benchmark shorten it to see it evaluated).
	HistoryInterval time.Duration
}

// HistoryInterval is the shipped interval of the officescan.history group:
// one sample per target and clock hour.
const HistoryInterval = time.Hour

// DefaultConfig returns the configuration of the committed rules file.
func DefaultConfig() Config {
	return Config{Selector: JobSelector(hazard.DefaultJob)}
}

// JobSelector returns the matcher for one job name.
func JobSelector(job string) string { return fmt.Sprintf("job=%q", job) }

// A selector is a comma-separated list of label matchers; this catches the
// usual mistakes (braces, a metric name, stray quotes) before Prometheus would.
var matchersRE = regexp.MustCompile(`^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*(,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*)*$`)

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (c *Config) complete() error {
	if !matchersRE.MatchString(c.Selector) {
		return fmt.Errorf("target selector %q: want label matchers such as job=\"officescan\"", c.Selector)
	}
	if c.AgentSelector != "" && !matchersRE.MatchString(c.AgentSelector) {
		return fmt.Errorf("agent selector %q: want label matchers such as job=\"officescan_agents\", or nothing", c.AgentSelector)
	}
	if len(c.Hazards) == 0 {
		c.Hazards = hazard.Table
	}
	if len(c.TargetLabels) == 0 {
		c.TargetLabels = hazard.DefaultTargetLabels
	}
	for _, l := range c.TargetLabels {
		if !labelNameRE.MatchString(l) {
			return fmt.Errorf("target label %q is not a Prometheus label name", l)
		}
	}
	if c.ScrapeInterval == 0 {
		c.ScrapeInterval = hazard.ScrapeInterval
	}
	if c.ScrapeInterval < time.Second {
		return fmt.Errorf("scrape interval %s: want at least 1s", c.ScrapeInterval)
	}
	if c.IdleWindow == 0 {
		c.IdleWindow = hazard.IdleWindow
	}
	if c.IdleWindow < time.Second || c.IdleWindow%time.Second != 0 {
		return fmt.Errorf("idle window %s: want whole seconds, at least 1s", c.IdleWindow)
	}
	if c.AgentTolerance < 0 {
		return fmt.Errorf("agent tolerance %d: want 0 or more waiting agents", c.AgentTolerance)
	}
	if c.AgentToleranceRatio < 0 || c.AgentToleranceRatio >= 1 {
		return fmt.Errorf("agent tolerance ratio %g: want a share from 0 up to (not including) 1", c.AgentToleranceRatio)
	}
	known := map[string]bool{hazard.WindowOpenAlert: true}
	for _, a := range hazard.AllAlerts(c.Hazards) {
		known[a.Name] = true
	}
	for k, v := range c.For {
		if !known[k] {
			return fmt.Errorf("for: unknown alert %q", k)
		}
		if v < 0 || v%time.Second != 0 {
			return fmt.Errorf("for %s: %s is not whole seconds", k, v)
		}
	}
	if c.RunbookBase == "" {
		c.RunbookBase = DefaultRunbookBase
	}
	if c.HistoryInterval == 0 {
		c.HistoryInterval = HistoryInterval
	}
	if c.HistoryInterval < time.Second || c.HistoryInterval > time.Hour || c.HistoryInterval%time.Second != 0 {
		return fmt.Errorf("history interval %s: want whole seconds from 1s up to 1h (a longer one would skip clock hours)", c.HistoryInterval)
	}
	return nil
}

// Duration writes d as a Prometheus duration (5m, 1h30m, 90s).
func Duration(d time.Duration) string { return promfmt.Duration(d) }

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// rule is one recording or alerting rule, written in the order given.
type rule struct {
	comment     string
	record      string
	alert       string
	expr        string
	forDur      string
	labels      [][2]string
	annotations [][2]string
}

// gen holds the PromQL vocabulary of one rendering.
type gen struct {
	c      Config
	on     string // on (instance, job)
	labels string // instance, job
}

// sel returns metric{<target selector>, extra...}.
func (g gen) sel(metric string, extra ...string) string {
	return metric + "{" + strings.Join(append([]string{g.c.Selector}, extra...), ", ") + "}"
}

// agent returns an agent metric with the agent selector.
func (g gen) agent(metric string) string {
	if g.c.AgentSelector == "" {
		return metric
	}
	return metric + "{" + g.c.AgentSelector + "}"
}

// fresh keeps the series of s that came with the target's newest scrape:
// a series the exporter stopped exposing, or one left over from before a gap,
// is no evidence. Prometheus stamps every series of one scrape with the
// scrape's time, and `up` with the same time.
//
// The right-hand side is made one series per target (max by), so that two
// `up` series of one target (federation without a distinguishing label)
// cannot make the rule fail: a failed rule writes no staleness markers, and
// its last result would stay readable.
func (g gen) fresh(s string) string {
	return fmt.Sprintf("(%s and (timestamp(%s) >= %s group_left () max by (%s) (timestamp(%s))))", s, s, g.on, g.labels, g.sel(hazard.MetricUp))
}

// succeeded: the collector's success series is fresh and 1.
func (g gen) succeeded(collector string) string {
	return "(" + g.fresh(g.sel(hazard.MetricCollectorSuccess, fmt.Sprintf("collector=%q", collector))) + " == 1)"
}

func (g gen) setting(name string) string {
	return g.fresh(g.sel(hazard.MetricSettingEnabled, fmt.Sprintf("setting=%q", name)))
}

func (g gen) waived(h string) string {
	return "(" + g.fresh(g.sel(hazard.MetricHazardWaived, fmt.Sprintf("hazard=%q", h))) + " == 1)"
}

const (
	recFreshName = "officescan:up:fresh"
	// recFresh reads it: the series is always written (0 or 1) for every
	// target, and read as == 1, because a recorded series that a rule stops
	// writing stays readable through the lookback after Prometheus restarts
	// (no staleness markers cross a restart): an absent "fresh" would let
	// the verdict recorded before the stop be read again.
	recFresh         = "(officescan:up:fresh == 1)"
	recClear         = "officescan:hazard_clear"
	recBlocker       = "officescan:upgrade_blocker"
	recSafe          = "officescan:upgrade_window_safe"
	recWaitingServer = "officescan:agent_reboot_pending:waiting_by_server"
	recAgentsServer  = "officescan:agent_reboot_pending:agents_by_server"
	recUnmatched     = "officescan:agent_reboot_pending:waiting_unmatched"
	recWaitingTarget = "officescan:agent_reboot_pending:waiting_by_target"
	recAgentsTarget  = "officescan:agent_reboot_pending:agents_by_target"
	recAgentsCount   = "officescan:agent_reboot_pending:count"
	recAgentsWaiting = "officescan:agent_reboot_pending:waiting"
	recSafeHourly    = "officescan:upgrade_window_safe:avg1h"
)

// RecordedSeries lists every series the rules record, for the docs and the
// dashboard.
var RecordedSeries = []string{recFreshName, recClear, recBlocker, recSafe, recWaitingServer, recAgentsServer,
	recUnmatched, recWaitingTarget, recAgentsTarget, recAgentsCount, recAgentsWaiting, recSafeHourly}

// base is every target of the selector seen within hazard.TargetMemory,
// value 1 with the target's labels.
func (g gen) base() string {
	return "group without () (last_over_time(" + g.sel(hazard.MetricUp) + "[" + Duration(hazard.TargetMemory) + "]))"
}

// perTarget keeps the fresh targets for which cond has a series.
func (g gen) perTarget(cond string) string {
	return recFresh + " and " + g.on + " (" + cond + ")"
}

func blocker(h, reason string, expr string, extra ...string) rule {
	labels := [][2]string{{"hazard", h}, {"reason", reason}}
	if len(extra) == 2 {
		labels = append(labels, [2]string{extra[0], extra[1]})
	}
	return rule{record: recBlocker, expr: expr, labels: labels}
}

// collectorRules are the reasons every collector-fed hazard shares.
func (g gen) collectorRules(h hazard.Hazard, unlessWaived string) []rule {
	var out []rule
	for _, c := range h.Collectors {
		success := g.fresh(g.sel(hazard.MetricCollectorSuccess, fmt.Sprintf("collector=%q", c)))
		out = append(out,
			blocker(h.Name, hazard.ReasonCollectorOff.Name,
				recFresh+" unless "+g.on+" "+success+unlessWaived, "collector", c),
			blocker(h.Name, hazard.ReasonCollectorFailed.Name,
				g.perTarget(success+" != 1")+unlessWaived, "collector", c))
	}
	return out
}

// inputMissing: the collector works but a metric is missing or stale.
func (g gen) inputMissing(h hazard.Hazard, metric, unlessWaived string) rule {
	return blocker(h.Name, hazard.ReasonInputMissing.Name,
		g.perTarget(g.succeeded(h.Collectors[0]))+" unless "+g.on+" "+g.fresh(g.sel(metric))+unlessWaived,
		"metric", metric)
}

// hazardRules returns, for one hazard, the expression proving it clear and
// the blockers that explain why it is not.
func (g gen) hazardRules(h hazard.Hazard) (clear string, blockers []rule) {
	unlessWaived := ""
	if h.Waivable {
		unlessWaived = "\nunless " + g.on + " " + g.waived(h.Name)
	}
	on := g.on
	switch h.Kind {
	case hazard.KindDatabase:
		ok := g.succeeded(h.Collectors[0])
		procs := g.fresh(g.sel(hazard.MetricDBProcesses))
		ratio := g.fresh(g.sel(hazard.MetricDBUtilization))
		cpus := g.fresh(g.sel(hazard.MetricLogicalCPUs))
		counter := g.sel(hazard.MetricDBCPUSeconds)
		w := Duration(g.c.IdleWindow)
		idleRatio := num(hazard.IdleRatio)
		budget := num(hazard.IdleRatio * g.c.IdleWindow.Seconds())
		// CPU seconds from the sample at or before now-window to the newest,
		// summed per target whatever other labels the counter carries.
		used := fmt.Sprintf("sum by (%s) (%s - %s offset %s)", g.labels, g.fresh(counter), counter, w)
		// One series per target, however many the relabelling left.
		allowed := fmt.Sprintf("(min by (%s) (%s) * %s)", g.labels, cpus, budget)
		// The counter proves nothing across a reset (exporter restart) or
		// where a series has no sample a window ago: the difference would
		// miss CPU that was used.
		incomplete := fmt.Sprintf(`(
    (%[1]s unless %[1]s offset %[2]s)
  or
    (%[1]s offset %[2]s unless %[1]s)
  or
    (resets(%[1]s[%[2]s]) > 0)
  or
    (min_over_time(%[1]s[%[2]s]) < %[1]s offset %[2]s)
)`, counter, w)
		clear = fmt.Sprintf(`%s
and %s (%s >= 1)
and %s (%s < %s)
and %s (%s < %s group_left () %s)
unless %s %s`, ok, on, procs, on, ratio, idleRatio, on, used, on, allowed, on, incomplete)
		running := fmt.Sprintf("%s and %s (%s >= 1)", ok, on, procs)
		blockers = append(g.collectorRules(h, unlessWaived),
			g.inputMissing(h, hazard.MetricDBProcesses, unlessWaived),
			g.inputMissing(h, hazard.MetricDBCPUSeconds, unlessWaived),
			g.inputMissing(h, hazard.MetricLogicalCPUs, unlessWaived),
			blocker(h.Name, "database_not_running",
				g.perTarget(fmt.Sprintf("%s and %s (%s unless %s >= 1)", ok, on, procs, procs))+unlessWaived),
			blocker(h.Name, "database_history_incomplete",
				g.perTarget(fmt.Sprintf("%s\nand %s (\n  %s\n  or\n  (%s unless %s %s)\n)", running, on, incomplete, recFresh, on, ratio))+unlessWaived),
			blocker(h.Name, "database_busy",
				g.perTarget(fmt.Sprintf("%s\nand %s (\n  (%s unless %s < %s)\n  or\n  (%s unless %s %s < %s group_left () %s) and %s %s\n)",
					running, on, ratio, ratio, idleRatio, used, on, used, on, allowed, on, allowed))+unlessWaived),
		)
	case hazard.KindZero:
		metric := h.Metrics[0]
		ok := g.succeeded(h.Collectors[0])
		m := g.fresh(g.sel(metric))
		clear = fmt.Sprintf("%s and %s (%s == 0)", ok, on, m)
		blockers = append(g.collectorRules(h, unlessWaived),
			g.inputMissing(h, metric, unlessWaived),
			// != 0 so that NaN blocks.
			blocker(h.Name, h.Reasons[len(h.Reasons)-1].Name, g.perTarget(fmt.Sprintf("%s and %s (%s != 0)", ok, on, m))+unlessWaived))
	case hazard.KindFirewallDriver:
		ok := g.succeeded(h.Collectors[0])
		fw, defer_ := g.setting(hazard.SettingFirewall), g.setting(hazard.SettingFirewallDriverDefer)
		// The update must be deferred while the firewall is on or unknown.
		clear = fmt.Sprintf("%s and %s ((%s == 0) or (%s == 1))", ok, on, fw, defer_)
		blockers = append(g.collectorRules(h, unlessWaived),
			blocker(h.Name, "setting_unknown", g.perTarget(fmt.Sprintf(
				"%s unless %s ((%s == 0) or (%s == 1) or (%s == 0))", ok, on, defer_, defer_, fw))+unlessWaived,
				"setting", hazard.SettingFirewallDriverDefer),
			blocker(h.Name, "setting_unknown", g.perTarget(fmt.Sprintf(
				"%s unless %s ((%s == 0) or (%s == 1) or (%s == 1))", ok, on, fw, fw, defer_))+unlessWaived,
				"setting", hazard.SettingFirewall),
			blocker(h.Name, "firewall_driver_update_not_deferred", g.perTarget(fmt.Sprintf(
				"%s and %s (%s == 0) unless %s (%s == 0)", ok, on, defer_, on, fw))+unlessWaived),
		)
	case hazard.KindEnabledSetting:
		ok := g.succeeded(h.Collectors[0])
		s := g.setting(h.Settings[0])
		clear = fmt.Sprintf("%s and %s (%s == 1)", ok, on, s)
		blockers = append(g.collectorRules(h, unlessWaived),
			blocker(h.Name, "setting_unknown", g.perTarget(fmt.Sprintf(
				"%s unless %s ((%s == 0) or (%s == 1))", ok, on, s, s))+unlessWaived,
				"setting", h.Settings[0]),
			blocker(h.Name, h.Reasons[len(h.Reasons)-1].Name, g.perTarget(fmt.Sprintf("%s and %s (%s == 0)", ok, on, s))+unlessWaived),
		)
	case hazard.KindAgents:
		clear = g.agentsWithin("<=")
		blockers = []rule{blocker(h.Name, "agents_reboot_pending", g.perTarget(g.agentsWithin(">")))}
	default:
		panic(fmt.Sprintf("alerts: hazard %q is of kind %d, which hazardRules does not know", h.Name, h.Kind))
	}
	if h.Waivable {
		clear = "(\n" + indent(clear, "  ") + "\n)\nor " + on + " " + g.waived(h.Name)
	}
	return clear, blockers
}

// agentsWithin compares a target's waiting agents with the tolerance: a
// number of agents, or a share of the target's agents, whichever is larger.
func (g gen) agentsWithin(op string) string {
	n := strconv.Itoa(g.c.AgentTolerance)
	if g.c.AgentToleranceRatio == 0 {
		return fmt.Sprintf("%s %s %s", recWaitingTarget, op, n)
	}
	join := " or "
	if op == ">" {
		join = " and "
	}
	return fmt.Sprintf("(%s %s %s)%s(%s %s %s * %s)", recWaitingTarget, op, n, join, recWaitingTarget, op, recAgentsTarget, num(g.c.AgentToleranceRatio))
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// agentRules aggregate the agents per server name, so that no per-target
// expression reads every agent's series.
func (g gen) agentRules() []rule {
	pending := g.agent(hazard.MetricAgentRebootPending)
	info := g.agent(hazard.MetricAgentInfo)
	on := g.on
	waiting := fmt.Sprintf("(%s != 0)", pending) // != 0: NaN waits too
	addresses := fmt.Sprintf(`label_replace(group without () (%s), "server", "$1", "address", "(.*)")`, g.sel(hazard.MetricServerAddressInfo))
	byTarget := func(byServer string) string {
		return fmt.Sprintf("(\n  sum by (%s) (\n    %s\n    * on (server) group_left ()\n    %s\n  )\n  or %s\n  %s * 0\n)", g.labels, addresses, byServer, on, g.base())
	}
	return []rule{
		{comment: "Agents, per server name they report to (officescan_agent_info{server}).",
			record: recWaitingServer, expr: fmt.Sprintf("count by (server) (%s and %s %s)", info, on, waiting)},
		{record: recAgentsServer, expr: fmt.Sprintf("count by (server) (%s and %s %s)", info, on, pending)},
		{comment: "Waiting agents that block every server: no info series, or a server that is no server's address.",
			record: recUnmatched, expr: fmt.Sprintf(`(count(%[1]s unless %[2]s %[3]s) or vector(0))
+
(count((%[3]s and %[2]s %[1]s) unless on (server) %[4]s) or vector(0))`, waiting, on, info, addresses)},
		{comment: "Agents reporting, and waiting, across all servers; absent when no agent is monitored.",
			record: recAgentsCount, expr: fmt.Sprintf("count(%s)", pending)},
		{record: recAgentsWaiting, expr: fmt.Sprintf("count(%s) or (%s * 0)", waiting, recAgentsCount)},
		{comment: "Per exporter target: its own waiting agents plus every unmatched one.",
			record: recWaitingTarget, expr: byTarget(recWaitingServer) + "\n+ on () group_left ()\n" + recUnmatched},
		{record: recAgentsTarget, expr: byTarget(recAgentsServer) + "\n+ on () group_left ()\n" + recUnmatched},
	}
}

// Render returns the rules file for c.
func Render(c Config) ([]byte, error) {
	if err := c.complete(); err != nil {
		return nil, err
	}
	g := gen{c: c, on: "on (" + strings.Join(c.TargetLabels, ", ") + ")", labels: strings.Join(c.TargetLabels, ", ")}
	on := g.on
	up := g.sel(hazard.MetricUp)
	maxAge := hazard.MaxSampleAge(c.ScrapeInterval).Seconds()

	verdict := []rule{{
		comment: fmt.Sprintf("Targets whose newest scrape succeeded and is younger than %s (1.5 scrape intervals).", Duration(hazard.MaxSampleAge(c.ScrapeInterval))),
		record:  recFreshName,
		expr:    fmt.Sprintf("group without () (%s == 1 and (time() - timestamp(%s) < %s))\nor %s\n%s * 0", up, up, num(maxAge), g.on, g.base()),
	}}
	verdict = append(verdict, g.agentRules()...)

	var clears, blockers []rule
	for _, h := range c.Hazards {
		clear, bl := g.hazardRules(h)
		waiver := ""
		if h.Waivable {
			waiver = " or waived"
		}
		clears = append(clears, rule{
			comment: fmt.Sprintf("%s: 1 when proven clear from fresh data%s, 0 otherwise.", h.Name, waiver),
			record:  recClear,
			expr:    fmt.Sprintf("(\n  %s\n  and %s (\n%s\n  )\n)\nor %s\n%s * 0", recFresh, on, indent(clear, "    "), on, g.base()),
			labels:  [][2]string{{"hazard", h.Name}},
		})
		blockers = append(blockers, bl...)
	}
	verdict = append(verdict, clears...)
	verdict = append(verdict,
		rule{comment: "Why a target is not safe. The exporter itself first.",
			record: recBlocker, expr: fmt.Sprintf("%s and %s (%s != 1)", g.base(), on, up),
			labels: [][2]string{{"hazard", hazard.ExporterHazard}, {"reason", "exporter_down"}}},
		rule{comment: "Not scraped lately (Prometheus missed scrapes, or restarted), and not down either.",
			record: recBlocker, expr: fmt.Sprintf("%s unless %s %s unless %s (%s != 1)", g.base(), on, recFresh, on, up),
			labels: [][2]string{{"hazard", hazard.ExporterHazard}, {"reason", "scrape_stale"}}},
		rule{comment: "An exporter in agent mode scraped as a server.",
			record: recBlocker, expr: g.perTarget(fmt.Sprintf("%s or %s", g.sel(hazard.MetricAgentRebootPending), g.sel(hazard.MetricAgentInfo))) +
				fmt.Sprintf("\nunless %s %s", on, g.fresh(g.sel(hazard.MetricCollectorSuccess, `collector=~"`+strings.Join(g.serverCollectors(), "|")+`"`))),
			labels: [][2]string{{"hazard", hazard.ExporterHazard}, {"reason", "not_a_server"}}},
		rule{comment: "A failing collector that feeds no hazard still makes the exporter's evidence suspect.",
			record: recBlocker, expr: fmt.Sprintf("group without () (\n  %s\n  and %s %s\n)",
				g.fresh(g.sel(hazard.MetricCollectorSuccess, `collector!~"`+strings.Join(g.serverCollectors(), "|")+`"`))+" != 1", on, recFresh),
			labels: [][2]string{{"hazard", hazard.ExporterHazard}, {"reason", "collector_failed"}}},
	)
	verdict = append(verdict, blockers...)
	for i, h := range c.Hazards {
		comment := ""
		if i == 0 {
			comment = "A hazard not proven clear for a reason no rule above names."
		}
		verdict = append(verdict, rule{
			comment: comment,
			record:  recBlocker,
			expr: fmt.Sprintf("(%s{hazard=%q} == 0) and %s %s\nunless %s %s{hazard=~%q}",
				recClear, h.Name, on, recFresh, on, recBlocker, h.Name+"|"+hazard.ExporterHazard),
			labels: [][2]string{{"hazard", h.Name}, {"reason", "hazard_unproven"}},
		})
	}
	verdict = append(verdict, rule{
		comment: fmt.Sprintf("The verdict: 1 when the target is fresh and all %d hazards are proven clear or waived, with no blocker; 0 otherwise, never absent while `up` is.", len(hazard.Table)),
		record:  recSafe,
		expr: fmt.Sprintf("(\n  %s\n  and %s (count without (hazard) (%s == 1) == %d)\n  unless %s %s\n)\nor %s\n%s * 0",
			recFresh, on, recClear, len(c.Hazards), on, recBlocker, on, g.base()),
	})

	alerts, err := g.alertRules()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	g.header(&b)
	b.WriteString("groups:\n")
	// One group, alerts last: rules of a group run in order, so every alert
	// reads the verdict of the same evaluation, not the previous one. Groups
	// run independently in Prometheus, and promtool test rules runs them in
	// no set order unless a test file lists group_eval_order (Prometheus
	// 3.16's orderedGroups sorts only by that list): a verdict split over
	// groups would read its inputs one evaluation late, and differently in
	// tests. This is why the agents' aggregates stay in this group.
	writeGroup(&b, "officescan.verdict", "", append(verdict, alerts...))
	writeGroup(&b, "officescan.history", Duration(c.HistoryInterval), historyRules())
	return []byte(b.String()), nil
}

// historyRules keep, per target, the share of each clock hour (UTC) its
// verdict read safe: the input of the dashboard's "when is the window
// usually open" heatmaps. They read only officescan:upgrade_window_safe, a
// series per target, and run in a group of their own, once an hour.
//
// Prometheus runs a group at an offset within its interval that depends on
// the group's name and file, so a plain avg_over_time(...[1h]) run hourly
// would average two clock hours in a proportion that differs from site to
// site. The subquery [1h:1h] is aligned to whole hours (Prometheus aligns a
// subquery's steps to multiples of its step): it evaluates the average at
// the newest hour boundary H at or before the evaluation, over [H-1h, H),
// whatever the group's offset. `offset 1ms` leaves a verdict recorded at H
// itself to the hour it opens (Prometheus 3 ranges are open on the left,
// 2.x closed; with the offset both read [H-1h, H) for verdicts on whole
// milliseconds, 2.x also a sample at exactly H-1h-1ms).
//
// The sample is written at H plus the group's offset, so a reader finds the
// share of [t-2h, t-1h) as the newest sample in [t-1h, t) (the heatmaps use
// last_over_time(...[1h] offset 1ms) at whole hours t).
func historyRules() []rule {
	return []rule{{
		comment: "The share of the previous whole clock hour [H-1h, H) (UTC) that each target's verdict read safe, " +
			"written once an hour at H plus the group's offset; the aligned subquery makes the hour a clock hour whatever that offset is.",
		record: recSafeHourly,
		expr:   fmt.Sprintf("last_over_time(avg_over_time(%s[1h] offset 1ms)[1h:1h])", recSafe),
	}}
}

// serverCollectors are the collectors that feed a server hazard.
func (g gen) serverCollectors() []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range g.c.Hazards {
		for _, c := range h.Collectors {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (g gen) forOf(a hazard.Alert) string {
	if d, ok := g.c.For[a.Name]; ok {
		return Duration(d)
	}
	return Duration(a.For)
}

func (g gen) alertRules() ([]rule, error) {
	window := hazard.Alert{Name: hazard.WindowOpenAlert, For: hazard.WindowOpenFor}
	out := []rule{{
		alert: hazard.WindowOpenAlert, expr: recSafe + " == 1", forDur: g.forOf(window),
		labels: [][2]string{{"severity", "info"}},
		annotations: [][2]string{
			{"summary", "OfficeScan server upgrade window is open."},
			// The words of earlier releases, kept: receivers and tests match on them.
			{"description", fmt.Sprintf("Every upgrade hazard on {{ $labels.instance }} has been clear for %s: "+
				"no Login Script, the database idle, safe console settings, no monitored agent waiting for a restart.", g.forOf(window))},
			{"runbook_url", g.c.RunbookBase + "#" + strings.ToLower(hazard.WindowOpenAlert)},
		},
	}}
	for _, a := range hazard.AllAlerts(g.c.Hazards) {
		reasons := a.Reasons
		expr := fmt.Sprintf("%s{reason=%q}", recBlocker, reasons[0])
		if len(reasons) > 1 {
			expr = fmt.Sprintf("%s{reason=~%q}", recBlocker, strings.Join(reasons, "|"))
		}
		if a.Name == "OfficeScanAgentsWaitingForRestart" {
			expr = recAgentsWaiting + " > 0"
		}
		desc, err := g.alertDescription(a)
		if err != nil {
			return nil, err
		}
		out = append(out, rule{
			alert: a.Name, expr: expr, forDur: g.forOf(a),
			labels: [][2]string{{"severity", a.Severity}},
			annotations: [][2]string{
				{"summary", a.Summary},
				{"description", desc},
				{"runbook_url", g.c.RunbookBase + "#" + strings.ToLower(a.Name)},
			},
		})
	}
	return out, nil
}

// alertDescription words an alert from its reasons' summaries in the table.
func (g gen) alertDescription(a hazard.Alert) (string, error) {
	if a.Name == "OfficeScanAgentsWaitingForRestart" {
		return "{{ $value }} agents wait for a restart to load a new OfficeScan driver, and some agent has waited at every moment of the last " +
			Duration(a.For) + "; users who postpone the prompt are never asked again.", nil
	}
	var parts []string
	for _, r := range a.Reasons {
		reason, ok := hazard.FindReason(g.c.Hazards, r)
		s := reason.Summary
		if !ok {
			return "", fmt.Errorf("alert %s: reason %q is in no hazard of the table", a.Name, r)
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("On {{ $labels.instance }} (hazard {{ $labels.hazard }}, reason {{ $labels.reason }}) for %s: %s. The upgrade window reads blocked.",
		Duration(a.For), strings.Join(parts, "; or ")), nil
}

func (g gen) header(b *strings.Builder) {
	agents := "any job"
	if g.c.AgentSelector != "" {
		agents = g.c.AgentSelector
	}
	fmt.Fprintf(b, `# Generated by `+"`go run ./alerts/gen%s`"+` from the table of hazards (hazard/hazard.go). DO NOT EDIT.
#
# Exporter targets are selected by: %s (joined on %s)
# Agent data is selected by: %s
# Scrape interval assumed: %s; idle window: %s; waiting agents allowed per server: %d (share %s)
#
# The verdict, per exporter target:
#   officescan:hazard_clear{hazard}          1 when the hazard is proven clear from fresh data (or waived), else 0
#   officescan:upgrade_blocker{hazard,reason} 1 per reason the target is not safe (see docs/runbooks.md)
#   officescan:upgrade_window_safe           1 when every hazard is clear and no blocker stands, else 0;
#                                            never absent while `+"`up`"+` is
#
# History (group officescan.history, every %s):
#   officescan:upgrade_window_safe:avg1h     the share of the previous clock hour (UTC) the verdict read safe
`, g.c.Args, g.c.Selector, strings.Join(g.c.TargetLabels, ", "), agents, Duration(g.c.ScrapeInterval), Duration(g.c.IdleWindow),
		g.c.AgentTolerance, num(g.c.AgentToleranceRatio), Duration(g.c.HistoryInterval))
}

// writeGroup writes one group; interval empty means the global
// evaluation_interval.
func writeGroup(b *strings.Builder, name, interval string, rules []rule) {
	fmt.Fprintf(b, "  - name: %s\n", name)
	if interval != "" {
		fmt.Fprintf(b, "    interval: %s\n", interval)
	}
	fmt.Fprintf(b, "    rules:\n")
	for _, r := range rules {
		if r.comment != "" {
			fmt.Fprintf(b, "      # %s\n", r.comment)
		}
		if r.record != "" {
			fmt.Fprintf(b, "      - record: %s\n", r.record)
		} else {
			fmt.Fprintf(b, "      - alert: %s\n", r.alert)
		}
		if strings.Contains(r.expr, "\n") {
			fmt.Fprintf(b, "        expr: |-\n%s\n", indent(r.expr, "          "))
		} else {
			fmt.Fprintf(b, "        expr: %s\n", r.expr)
		}
		if r.forDur != "" {
			fmt.Fprintf(b, "        for: %s\n", r.forDur)
		}
		writeMap(b, "labels", r.labels)
		writeMap(b, "annotations", r.annotations)
	}
}

func writeMap(b *strings.Builder, key string, kv [][2]string) {
	if len(kv) == 0 {
		return
	}
	fmt.Fprintf(b, "        %s:\n", key)
	for _, p := range kv {
		fmt.Fprintf(b, "          %s: %s\n", p[0], strconv.Quote(p[1]))
	}
}
