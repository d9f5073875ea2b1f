package grafana

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// The series the rules in alerts/ record that the dashboard reads. A test
// checks each against alerts/*.rules.yml.
const (
	recSafe          = "officescan:upgrade_window_safe"
	recClear         = "officescan:hazard_clear"
	recBlocker       = "officescan:upgrade_blocker"
	recWaitingTarget = "officescan:agent_reboot_pending:waiting_by_target"
	// recAgentsCount is absent exactly when no agent is monitored at all;
	// recAgentsWaiting is absent then too, and 0 when agents report and
	// none waits.
	recAgentsCount   = "officescan:agent_reboot_pending:count"
	recAgentsWaiting = "officescan:agent_reboot_pending:waiting"
)

const (
	// notMonitored stands in for "no agent data at all" in the agents
	// panels: a count is never negative, so it cannot be mistaken for a
	// real value, and it is mapped to the words "agents not monitored" in
	// a color of its own. A panel with no value at all would take its base
	// threshold color, green for a count.
	notMonitored = -1
	// unknownSetting stands in for a console setting with no sample: the
	// exporter leaves a setting it cannot read out rather than guessing.
	unknownSetting = -1
	// notMonitoredText is what the agents panels say without agent data.
	notMonitoredText = "agents not monitored"
)

// unproven is the rules' catch-all reason: a hazard not proven clear that
// no other reason of the hazard explains. It is one of the table's
// ExporterReasons but carries the hazard it leaves unproven, so every
// hazard's blockers table words it too.
const unproven = "hazard_unproven"

// hazardReasons are the reasons the blockers of h may carry.
func hazardReasons(h hazard.Hazard) []hazard.Reason {
	out := append([]hazard.Reason{}, h.Reasons...)
	for _, r := range hazard.ExporterReasons {
		if r.Name == unproven {
			out = append(out, r)
		}
	}
	return out
}

// exporterReasons are the reasons that carry hazard="exporter".
func exporterReasons() []hazard.Reason {
	var out []hazard.Reason
	for _, r := range hazard.ExporterReasons {
		if r.Name != unproven {
			out = append(out, r)
		}
	}
	return out
}

// gen holds one rendering's options and its PromQL vocabulary.
type gen struct {
	o Options
	// on joins a target's series: on (instance, job).
	on string
	// reasons are the words of every blocker reason, by name.
	reasons map[string]hazard.Reason
	// titles seen so far: a title repeated by another row gets the
	// hazard's name, so that every panel title stays unique.
	titles map[string]bool
}

func newGen(o Options) (gen, error) {
	g := gen{o: o, on: "on (" + strings.Join(hazard.DefaultTargetLabels, ", ") + ")",
		reasons: map[string]hazard.Reason{}, titles: map[string]bool{}}
	all := append([]hazard.Reason{}, hazard.ExporterReasons...)
	for _, h := range o.Hazards {
		all = append(all, h.Reasons...)
	}
	for _, r := range all {
		if prev, ok := g.reasons[r.Name]; ok && (prev.Summary != r.Summary || prev.Action != r.Action) {
			// A value mapping gives a reason one text on the dashboard.
			return g, fmt.Errorf("blocker reason %q has two different wordings in the table of hazards", r.Name)
		}
		g.reasons[r.Name] = r
	}
	return g, nil
}

// sel returns metric{<target selector>, instance=~"$instance", extra...}:
// the chosen servers' series.
func (g gen) sel(metric string, extra ...string) string {
	return metric + "{" + strings.Join(append([]string{g.o.Selector, `instance=~"$` + instanceVar + `"`}, extra...), ", ") + "}"
}

// agent returns an agent metric with the agent selector.
func (g gen) agent(metric string) string {
	if g.o.AgentSelector == "" {
		return metric
	}
	return metric + "{" + g.o.AgentSelector + "}"
}

// title makes a panel title unique: the second panel of the same title
// (a hazard reading a metric another hazard shows too) names its hazard.
func (g gen) title(h hazard.Hazard, t string) string {
	if g.titles[t] {
		t += " (" + h.Name + ")"
	}
	g.titles[t] = true
	return t
}

type row struct {
	title  string
	panels []cog.Builder[dashboard.Panel]
}

// rows are the fleet, the verdict of the servers picked, then one row per
// hazard of the table in its order, then the exporter's own health.
func (g gen) rows() []row {
	out := []row{g.fleetRow(),
		{"Verdict", []cog.Builder[dashboard.Panel]{g.verdictPanel(), g.hazardsPanel(), g.blockersPanel(nil), g.serverHistoryPanel()}}}
	for _, h := range g.o.Hazards {
		panels := []cog.Builder[dashboard.Panel]{g.statePanel(h), g.blockersPanel(&h)}
		out = append(out, row{HazardRowTitle(h), append(panels, g.evidence(h)...)})
	}
	return append(out, row{"Exporter health", []cog.Builder[dashboard.Panel]{
		g.exporterUpPanel(), g.exporterBlockersPanel(), g.collectorHealthPanel(), g.collectorDurationPanel()}})
}

// HazardRowTitle is the title of a hazard's row: its name and, as a
// checklist line, what must hold.
func HazardRowTitle(h hazard.Hazard) string { return h.Name + ": " + h.Title }

func (g gen) verdictPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(g.title(hazard.Hazard{}, "Upgrade verdict")).
		Description(fmt.Sprintf("%s per server, right now. SAFE: every one of the %d hazards below is proven clear from fresh data, or explicitly waived, and no blocker stands. "+
			"BLOCKED: at least one hazard is active or cannot be judged; the tables beside it say which and why. "+
			"UNKNOWN: there is no verdict at all (the rules in alerts/ are not loaded, or the server is not scraped). Nothing but a 1 reads SAFE.", recSafe, len(g.o.Hazards))).
		Span(6).Height(8).
		WithTarget(instantQuery("A", g.sel(recSafe), "{{instance}}")).
		Unit("none").Decimals(0).Min(0).Max(1).
		Thresholds(thresholds("red", step{1, "green"})).
		Mappings([]dashboard.ValueMapping{
			valueMap(
				valueText{"1", "SAFE", "green"},
				valueText{"0", "BLOCKED", "red"},
			),
			specialMap(dashboard.SpecialValueMatchNullAndNan, "UNKNOWN", "red"),
		}).
		NoValue("UNKNOWN").
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(lastValue())
}

// waiverExpr adds to clear (per target, or per target and hazard) the
// reason of a waiver, as the label waiver="waived: <reason>". A waived
// hazard reads clear; this keeps it from reading clear unseen.
func (g gen) waiverExpr(clear, waived string, by ...string) string {
	on := "on (" + strings.Join(append(append([]string{}, hazard.DefaultTargetLabels...), by...), ", ") + ")"
	return fmt.Sprintf(`label_replace(
  %s
  * %s group_left (reason) (%s == 1)
  or %s
  %s,
  "waiver", "waived: $1", "reason", "(.+)"
)`, clear, on, waived, on, clear)
}

// stateTable is a table of hazard_clear values: CLEAR or NOT CLEAR, with the
// waiver beside it.
func stateTable(title, description, expr string, exclude, columns []string, rename map[string]string) *table.PanelBuilder {
	return newTable().
		Title(title).
		Description(description).
		WithTarget(instantQuery("A", expr, "")).
		Unit("none").
		Thresholds(thresholds("red", step{1, "green"})).
		Mappings([]dashboard.ValueMapping{valueMap(
			valueText{"1", "CLEAR", "green"},
			valueText{"0", "NOT CLEAR", "red"},
		)}).
		NoValue("UNKNOWN: no verdict (rules not loaded, or no such server)").
		WithTransformation(organize(append([]string{"Time", "__name__", "job", "reason"}, exclude...), rename, columns)).
		OverrideByName("State", []dashboard.DynamicConfigValue{
			{Id: "custom.cellOptions", Value: common.TableColoredBackgroundCellOptions{Type: common.TableCellDisplayModeColorBackground}},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Server"),
		})
}

// hazardsPanel is every hazard's state per server at a glance.
func (g gen) hazardsPanel() *table.PanelBuilder {
	names := make([]string, len(g.o.Hazards))
	for i, h := range g.o.Hazards {
		names[i] = h.Name
	}
	return stateTable(g.title(hazard.Hazard{}, "Hazards"),
		fmt.Sprintf("%s per server and hazard (%s): CLEAR when the hazard is proven clear from fresh data or waived, NOT CLEAR otherwise. "+
			"A waived hazard reads CLEAR and its Waiver column says \"waived: <reason>\" (officescan_hazard_waived, from the exporter's config file). Each hazard has a row below.",
			recClear, strings.Join(names, ", ")),
		g.waiverExpr(g.sel(recClear), g.sel(hazard.MetricHazardWaived), "hazard"),
		nil,
		[]string{"instance", "hazard", "Value", "waiver"},
		map[string]string{"instance": "Server", "hazard": "Hazard", "Value": "State", "waiver": "Waiver"}).
		Span(8).Height(8)
}

// statePanel is one hazard's state per server, with its waiver.
func (g gen) statePanel(h hazard.Hazard) *table.PanelBuilder {
	clear := g.sel(recClear, fmt.Sprintf("hazard=%q", h.Name))
	expr, waiver := clear, "It cannot be waived."
	if h.Waivable {
		expr = g.waiverExpr(clear, g.sel(hazard.MetricHazardWaived, fmt.Sprintf("hazard=%q", h.Name)))
		waiver = fmt.Sprintf("Waiver: \"waived: <reason>\" when the exporter's config file waives it (officescan_hazard_waived{hazard=%q}); a waived hazard reads CLEAR, and shows as waived here.", h.Name)
	}
	optional := ""
	if h.Optional {
		optional = " No data at all does not block: see \"" + notMonitoredText + "\" beside it."
	}
	return stateTable(g.title(h, h.Name+": state per server"),
		fmt.Sprintf("%s{hazard=%q} per server: CLEAR when \"%s\" is proven from fresh data, NOT CLEAR otherwise. %s%s %s",
			recClear, h.Name, h.Title, waiver, optional, h.Why),
		expr,
		[]string{"hazard"},
		[]string{"instance", "Value", "waiver"},
		map[string]string{"instance": "Server", "Value": "State", "waiver": "Waiver"}).
		Span(8).Height(7)
}

// blockerLabels are the extra labels (collector, metric, setting) the
// reasons carry, in the order first seen.
func blockerLabels(reasons []hazard.Reason) []string {
	var out []string
	for _, r := range reasons {
		if r.Label != "" && !contains(out, r.Label) {
			out = append(out, r.Label)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// blockersTable lists officescan:upgrade_blocker series matching extra, one
// row each, with the reason and what to do in the table's words. The query
// copies the reason into an action label, so that one value mapping per
// column turns the same name into the Summary and the Action.
func (g gen) blockersTable(title, description, noValue string, reasons []hazard.Reason, showHazard bool, extra ...string) *table.PanelBuilder {
	expr := fmt.Sprintf(`label_replace(%s == 1, "action", "$1", "reason", "(.*)")`, g.sel(recBlocker, extra...))
	summaries, actions := g.reasonWords(reasons)
	labels := blockerLabels(reasons)
	columns := []string{"instance"}
	rename := map[string]string{"instance": "Server", "reason": "Blocker", "action": "What to do"}
	exclude := []string{"Time", "Value", "__name__", "job"}
	if showHazard {
		columns = append(columns, "hazard")
		rename["hazard"] = "Hazard"
	} else {
		exclude = append(exclude, "hazard")
	}
	columns = append(columns, "reason")
	for _, l := range labels {
		columns = append(columns, l)
		rename[l] = strings.ToUpper(l[:1]) + l[1:]
	}
	columns = append(columns, "action")
	return newTable().
		Title(title).
		Description(description).
		WithTarget(instantQuery("A", expr, "")).
		Unit("none").
		Thresholds(thresholds("red")).
		NoValue(noValue).
		WithTransformation(organize(exclude, rename, columns)).
		OverrideByName("Blocker", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: []dashboard.ValueMapping{valueMap(summaries...)}},
			{Id: "custom.cellOptions", Value: common.TableColorTextCellOptions{Type: common.TableCellDisplayModeColorText}},
		}).
		OverrideByName("What to do", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: []dashboard.ValueMapping{valueMap(actions...)}},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Server"),
		})
}

// blockersPanel lists the blockers of h, or of every hazard and the
// exporter when h is nil.
func (g gen) blockersPanel(h *hazard.Hazard) *table.PanelBuilder {
	if h == nil {
		reasons := append([]hazard.Reason{}, hazard.ExporterReasons...)
		for _, hz := range g.o.Hazards {
			reasons = append(reasons, hz.Reasons...)
		}
		return g.blockersTable(g.title(hazard.Hazard{}, "Active blockers"),
			recBlocker+": one row per reason a server is not safe right now, of any hazard or of the exporter itself: the hazard, the reason in the words of the table of hazards, "+
				"the collector, metric or console setting concerned where the reason names one, and what to do. Empty while the verdict is SAFE; empty too when the verdict reads UNKNOWN (no rules).",
			"No blocker reported", reasons, true).
			Span(10).Height(8)
	}
	reasons := hazardReasons(*h)
	return g.blockersTable(g.title(*h, h.Name+": blockers"),
		fmt.Sprintf("%s{hazard=%q}: why this hazard is not clear on a server right now, with what to do. Empty while the hazard is clear or waived.", recBlocker, h.Name),
		"No blocker for "+h.Name, reasons, false, fmt.Sprintf("hazard=%q", h.Name)).
		Span(16).Height(7)
}

// evidence returns the panels of the metrics a hazard reads, in the order
// of its Metrics. A metric with no panel of its own gets a generic time
// series, so a hazard added to the table shows its inputs without a change
// here.
func (g gen) evidence(h hazard.Hazard) []cog.Builder[dashboard.Panel] {
	var out []cog.Builder[dashboard.Panel]
	done := map[string]bool{}
	for _, m := range h.Metrics {
		key := m
		switch m {
		case hazard.MetricDBCPUSeconds, hazard.MetricDBUtilization, hazard.MetricLogicalCPUs:
			key = "database CPU panel"
		case hazard.MetricAgentRebootPending, hazard.MetricAgentInfo, hazard.MetricServerAddressInfo:
			key = "agents panels"
		}
		if done[key] {
			continue
		}
		done[key] = true
		switch key {
		case "database CPU panel":
			out = append(out, g.dbCPUPanel(h))
		case hazard.MetricDBProcesses:
			out = append(out, g.dbProcessesPanel(h))
		case hazard.MetricAutoPccProcesses:
			out = append(out, g.countPanel(h, m, "AutoPcc.exe / AutoPccP.exe processes on the server",
				m+": local AutoPcc.exe / AutoPccP.exe processes, seen when the Login Script runs on the server itself or on a terminal server. Anything above 0 blocks."))
		case hazard.MetricShareOpenFiles:
			out = append(out, g.countPanel(h, m, "Login Script files open on the ofcscan share",
				m+": files on the server's ofcscan share opened by clients running the Login Script (Windows: SMB open files). Anything above 0 blocks."))
		case hazard.MetricSettingEnabled:
			out = append(out, g.settingsPanel(h))
		case "agents panels":
			out = append(out, g.agentsPanels(h)...)
		default:
			out = append(out, g.countPanel(h, m, h.Name+": "+m,
				fmt.Sprintf("%s per server: an input of the hazard %q (%s), from the table of hazards.", m, h.Name, h.Title)))
		}
	}
	return out
}

func (g gen) dbCPUPanel(h hazard.Hazard) *timeseries.PanelBuilder {
	window := promDuration(hazard.IdleWindow)
	cpus := g.sel(hazard.MetricLogicalCPUs)
	counter := g.sel(hazard.MetricDBCPUSeconds)
	return timeseries.NewPanelBuilder().
		Title(g.title(h, "DbServer.exe CPU (share of all logical CPUs)")).
		Description(fmt.Sprintf("The database's CPU as a share of all logical CPUs, as Task Manager shows it. "+
			"Counter: the rate of %s divided by %s. Ratio: the exporter's own %s. Window: the CPU-seconds used over the last %s divided by %s × %s, the measure the verdict uses. "+
			"The vendor's note says not to upgrade until Task Manager reads 00, i.e. under %g %% (the dashed line, hazard.IdleRatio): the verdict wants both the ratio now and the window under it, "+
			"from a whole window of unbroken measurement.",
			hazard.MetricDBCPUSeconds, hazard.MetricLogicalCPUs, hazard.MetricDBUtilization, window, hazard.MetricLogicalCPUs, window, hazard.IdleRatio*100)).
		Span(16).Height(8).
		WithTarget(rangeQuery("A", fmt.Sprintf("sum without (mode) (rate(%s[$__rate_interval]))\n/ %s\n%s", counter, g.on, cpus), "{{instance}} counter")).
		WithTarget(rangeQuery("B", g.sel(hazard.MetricDBUtilization), "{{instance}} ratio")).
		WithTarget(rangeQuery("C", fmt.Sprintf("sum without (mode) (%s - %s offset %s)\n/ %s\n(%s * %s)", counter, counter, window, g.on, cpus, num(hazard.IdleWindow.Seconds())), "{{instance}} "+window+" window")).
		Unit("percentunit").Decimals(2).Min(0).
		// Keeps the idle line in view while the database idles near 0.
		AxisSoftMax(2 * hazard.IdleRatio).
		Thresholds(thresholds("green", step{hazard.IdleRatio, "red"})).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
		Legend(tableLegend()).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

func (g gen) dbProcessesPanel(h hazard.Hazard) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(g.title(h, "DbServer.exe processes")).
		Description(hazard.MetricDBProcesses + " right now. 0 blocks the upgrade: the database service is down or not visible to the exporter. " +
			"No value: the dbserver collector is off, which blocks too; a server whose database is not DbServer.exe waives the hazard in the exporter's config file instead.").
		Span(8).Height(8).
		WithTarget(instantQuery("A", g.sel(hazard.MetricDBProcesses), "{{instance}}")).
		Unit("none").Decimals(0).
		Thresholds(thresholds("red", step{1, "green"})).
		Mappings([]dashboard.ValueMapping{valueMap(valueText{"0", "NOT RUNNING", "red"})}).
		NoValue("not collected").
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(lastValue())
}

// countPanel draws a count that blocks above 0.
func (g gen) countPanel(h hazard.Hazard, metric, title, description string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(g.title(h, title)).
		Description(description).
		Span(24).Height(7).
		WithTarget(rangeQuery("A", g.sel(metric), "{{instance}}")).
		Unit("short").Decimals(0).Min(0).
		Thresholds(thresholds("green", step{1, "red"})).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
		LineInterpolation(common.LineInterpolationStepAfter).
		Legend(tableLegend()).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

// settingsExpr lists the settings of every server whose collector runs, with
// the unknown ones made visible: the exporter leaves out a setting it cannot
// read, so each one is also derived from the collector's success series with
// the value unknownSetting, and `or` keeps that only where no real sample
// exists. That is exactly when the rules' setting_unknown (or
// collector_failed) blocks.
func (g gen) settingsExpr(h hazard.Hazard) string {
	parts := []string{g.sel(hazard.MetricSettingEnabled, fmt.Sprintf("setting=~%q", regexAlternatives(h.Settings)))}
	if len(h.Collectors) > 0 {
		success := g.sel(hazard.MetricCollectorSuccess, fmt.Sprintf("collector=~%q", regexAlternatives(h.Collectors)))
		for _, s := range h.Settings {
			parts = append(parts, fmt.Sprintf(`label_replace(group without (collector) (%s) * (%d), "setting", %q, "", "")`, success, unknownSetting, s))
		}
	}
	return strings.Join(parts, "\nor\n")
}

// regexAlternatives matches exactly one of names.
func regexAlternatives(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = regexp.QuoteMeta(n)
	}
	return strings.Join(q, "|")
}

func (g gen) settingsPanel(h hazard.Hazard) *table.PanelBuilder {
	var words []string
	for _, name := range h.Settings {
		w := name
		for _, s := range hazard.Settings {
			if s.Name == name {
				w = fmt.Sprintf("%s: \"%s\" (console: %s)", name, s.Option, s.ConsolePath)
			}
		}
		words = append(words, w)
	}
	return newTable().
		Title(g.title(h, "Console settings: "+strings.Join(h.Settings, ", "))).
		Description(fmt.Sprintf("%s per server, read from the server's ini files through the mapping in the exporter's config file: enabled, disabled, or unknown (no mapping, or a value that could not be read; unknown blocks). %s. "+
			"No rows for a server whose settings collector is off or whose exporter is down.", hazard.MetricSettingEnabled, strings.Join(words, "; "))).
		Span(24).Height(6).
		WithTarget(instantQuery("A", g.settingsExpr(h), "")).
		Unit("none").
		Thresholds(thresholds("red", step{0, "blue"})).
		Mappings([]dashboard.ValueMapping{valueMap(
			valueText{"1", "enabled", "blue"},
			valueText{"0", "disabled", "purple"},
			valueText{fmt.Sprint(unknownSetting), "unknown", "red"},
		)}).
		NoValue("No settings collector running").
		CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{Type: common.TableCellDisplayModeColorBackground}}).
		WithTransformation(organize(
			[]string{"Time", "__name__", "job"},
			map[string]string{"instance": "Server", "setting": "Setting", "Value": "State"},
			[]string{"instance", "setting", "Value"},
		)).
		OverrideByName("Server", []dashboard.DynamicConfigValue{{Id: "custom.cellOptions", Value: common.TableAutoCellOptions{Type: "auto"}}}).
		OverrideByName("Setting", []dashboard.DynamicConfigValue{{Id: "custom.cellOptions", Value: common.TableAutoCellOptions{Type: "auto"}}}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Server"),
		})
}

// agentsStat is a count of agents that reads "agents not monitored", never
// 0 or green, while no agent reports at all.
func agentsStat(title, description, expr string, thresholdSteps ...step) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Span(5).Height(7).
		WithTarget(instantQuery("A", expr, "")).
		Unit("none").Decimals(0).
		// Blue below 0: notMonitored, and no value at all, never read green.
		Thresholds(thresholds("blue", append([]step{{0, "green"}}, thresholdSteps...)...)).
		Mappings([]dashboard.ValueMapping{valueMap(valueText{fmt.Sprint(notMonitored), notMonitoredText, "blue"})}).
		NoValue(notMonitoredText).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValue).
		ReduceOptions(lastValue())
}

// orNotMonitored stands in notMonitored for a fleet-wide agents series while
// the rules' agent count is absent. `sum without ()` only drops the metric
// name, so that the value and its stand-in are one series over time.
func orNotMonitored(expr string) string {
	return fmt.Sprintf("sum without () (%s)\nor\n(absent(%s) * %d)", expr, recAgentsCount, notMonitored)
}

func (g gen) agentsPanels(h hazard.Hazard) []cog.Builder[dashboard.Panel] {
	notMon := fmt.Sprintf("\"%s\": no agent reports %s at all (%s is absent), so nothing is known about the agents; it never means 0, and it does not block: agent monitoring is optional. ",
		notMonitoredText, hazard.MetricAgentRebootPending, recAgentsCount)
	perServer := fmt.Sprintf("(\n  sum without () (%s)\n  and on () %s\n)\nor %s\ngroup without () (%s) * %d",
		g.sel(recWaitingTarget), recAgentsCount, g.on, g.sel(hazard.MetricUp), notMonitored)
	pending := fmt.Sprintf("(%s != 0)", g.agent(hazard.MetricAgentRebootPending))
	list := fmt.Sprintf("(\n  %s\n  * %s group_left (version, build, server)\n  %s\n)\nor %s\n%s",
		pending, g.on, g.agent(hazard.MetricAgentInfo), g.on, pending)
	return []cog.Builder[dashboard.Panel]{
		agentsStat(g.title(h, "Agents of the server waiting for a restart"),
			recWaitingTarget+" per server: its agents (matched by officescan_agent_info's server to the server's officescan_server_address_info) that must restart to load a new OfficeScan driver, "+
				"plus every waiting agent matched to no server. "+notMon,
			perServer, step{1, "red"}).Span(6),
		agentsStat(g.title(h, "Agents waiting for a restart (all servers)"),
			recAgentsWaiting+": agents whose "+hazard.MetricAgentRebootPending+" is not 0 (NaN included), across all servers. "+notMon+"The Server picker does not apply.",
			orNotMonitored(recAgentsWaiting), step{1, "orange"}),
		agentsStat(g.title(h, "Agents reporting"),
			recAgentsCount+": agents reporting "+hazard.MetricAgentRebootPending+" right now, the population the counts beside it cover. "+notMon,
			orNotMonitored(recAgentsCount)).Span(5),
		newTable().
			Title(g.title(h, "Names the server is known by")).
			Description(hazard.MetricServerAddressInfo + ": each name (host name, FQDN, IP address) the server is known by. An agent counts for this server when its officescan_agent_info's server label equals one of them; " +
				"a waiting agent whose server matches no server's name blocks every server.").
			Span(8).Height(7).
			WithTarget(instantQuery("A", g.sel(hazard.MetricServerAddressInfo), "")).
			Unit("none").
			Thresholds(thresholds("text")).
			NoValue("No address reported").
			WithTransformation(organize(
				[]string{"Time", "Value", "__name__", "job"},
				map[string]string{"instance": "Server", "address": "Known as"},
				[]string{"instance", "address"},
			)).
			SortBy([]cog.Builder[common.TableSortByFieldState]{
				common.NewTableSortByFieldStateBuilder().DisplayName("Server"),
			}),
		newTable().
			Title(g.title(h, "Agents that wait for a restart")).
			Description(fmt.Sprintf("Each agent whose %s is not 0 right now, joined with its %s on instance and job: its version, build and the server it reports to (no Server: the agent has no info series and blocks every server). "+
				"Restart them (or let users restart) before upgrading. All servers: the Server picker does not apply.", hazard.MetricAgentRebootPending, hazard.MetricAgentInfo)).
			Span(24).Height(7).
			WithTarget(instantQuery("A", list, "")).
			Unit("none").
			Thresholds(thresholds("orange")).
			NoValue("No agent waits for a restart, or " + notMonitoredText).
			WithTransformation(organize(
				[]string{"Time", "Value", "__name__"},
				map[string]string{"instance": "Agent", "job": "Job", "server": "Server", "version": "Version", "build": "Build"},
				[]string{"instance", "server", "version", "build", "job"},
			)).
			SortBy([]cog.Builder[common.TableSortByFieldState]{
				common.NewTableSortByFieldStateBuilder().DisplayName("Server"),
			}),
	}
}

func (g gen) exporterUpPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(g.title(hazard.Hazard{}, "Exporter reachable")).
		Description("Prometheus' up for each exporter target. DOWN blocks the upgrade: nothing about that server is known.").
		Span(4).Height(7).
		WithTarget(instantQuery("A", g.sel(hazard.MetricUp), "{{instance}}")).
		Unit("none").Decimals(0).
		Thresholds(thresholds("red", step{1, "green"})).
		Mappings([]dashboard.ValueMapping{valueMap(
			valueText{"1", "UP", "green"},
			valueText{"0", "DOWN", "red"},
		)}).
		NoValue("No target").
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(lastValue())
}

func (g gen) exporterBlockersPanel() *table.PanelBuilder {
	return g.blockersTable(g.title(hazard.Hazard{}, "Exporter blockers"),
		fmt.Sprintf("%s{hazard=%q}: reasons about the exporter target itself rather than one hazard (down, stale scrapes, an agent exporter scraped as a server, a failing collector that feeds no hazard).", recBlocker, hazard.ExporterHazard),
		"No exporter blocker", exporterReasons(), false, fmt.Sprintf("hazard=%q", hazard.ExporterHazard)).
		Span(8).Height(7)
}

func (g gen) collectorHealthPanel() *table.PanelBuilder {
	return newTable().
		Title(g.title(hazard.Hazard{}, "Collector health")).
		Description(hazard.MetricCollectorSuccess+" per server and collector on the last scrape. FAILED blocks the hazards the collector feeds; the exporter's log says why. "+
			"A collector that is off has no row, and blocks its hazards too (collector_off): switching a collector off is never a waiver.").
		Span(6).Height(7).
		WithTarget(instantQuery("A", g.sel(hazard.MetricCollectorSuccess), "")).
		Unit("none").
		Thresholds(thresholds("red", step{1, "green"})).
		Mappings([]dashboard.ValueMapping{valueMap(
			valueText{"1", "OK", "green"},
			valueText{"0", "FAILED", "red"},
		)}).
		NoValue("No exporter data").
		WithTransformation(organize(
			[]string{"Time", "__name__", "job"},
			map[string]string{"instance": "Server", "collector": "Collector", "Value": "Status"},
			[]string{"instance", "collector", "Value"},
		)).
		OverrideByName("Status", []dashboard.DynamicConfigValue{
			{Id: "custom.cellOptions", Value: common.TableColoredBackgroundCellOptions{Type: common.TableCellDisplayModeColorBackground}},
		})
}

func (g gen) collectorDurationPanel() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(g.title(hazard.Hazard{}, "Collector run time")).
		Description("officescan_scrape_collector_duration_seconds: how long each collector's last run took. A collector reaching the exporter's --collector.timeout (10 s by default) fails.").
		Span(6).Height(7).
		WithTarget(rangeQuery("A", g.sel("officescan_scrape_collector_duration_seconds"), "{{instance}} {{collector}}")).
		Unit("s").Min(0).
		Thresholds(thresholds("green", step{5, "orange"}, step{10, "red"})).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeOff)).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

// newTable starts a table panel. The footer's reducer list is set because
// the SDK's default leaves it null, which its own strict parse (and
// Grafana's schema) rejects.
func newTable() *table.PanelBuilder {
	return table.NewPanelBuilder().
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}))
}

// rangeQuery is a query drawn over time.
func rangeQuery(ref, expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().Datasource(datasource()).RefId(ref).Expr(expr).Range()
	if legend != "" {
		q = q.LegendFormat(legend)
	}
	return q
}

// instantQuery is a query for the value right now: a stale "safe" from
// earlier in the time range must never show as the current state.
func instantQuery(ref, expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().Datasource(datasource()).RefId(ref).Expr(expr).Instant().Format(prometheus.PromQueryFormatTable)
	if legend != "" {
		q = q.Format(prometheus.PromQueryFormatTimeSeries).LegendFormat(legend)
	}
	return q
}

type step struct {
	value float64
	color string
}

// thresholds starts at base and changes color at each step.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	all := []dashboard.Threshold{{Value: nil, Color: base}}
	for _, s := range steps {
		all = append(all, dashboard.Threshold{Value: cog.ToPtr(s.value), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(all)
}

type valueText struct{ value, text, color string }

func valueMap(values ...valueText) dashboard.ValueMapping {
	opts := make(map[string]dashboard.ValueMappingResult, len(values))
	for i, v := range values {
		r := dashboard.ValueMappingResult{Text: cog.ToPtr(v.text), Index: cog.ToPtr(int32(i))}
		if v.color != "" {
			r.Color = cog.ToPtr(v.color)
		}
		opts[v.value] = r
	}
	return dashboard.ValueMapping{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}
}

func specialMap(match dashboard.SpecialValueMatch, text, color string) dashboard.ValueMapping {
	return dashboard.ValueMapping{SpecialValueMap: &dashboard.SpecialValueMap{
		Type: dashboard.MappingTypeSpecialValue,
		Options: dashboard.DashboardSpecialValueMapOptions{
			Match:  match,
			Result: dashboard.ValueMappingResult{Text: cog.ToPtr(text), Color: cog.ToPtr(color), Index: cog.ToPtr(int32(0))},
		},
	}}
}

// lastValue shows the newest sample, never an older non-null one.
func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"last"}).Values(false)
}

func tableLegend() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().
		DisplayMode(common.LegendDisplayModeTable).
		Placement(common.LegendPlacementRight).
		ShowLegend(true).
		Calcs([]string{"lastNotNull", "max"})
}

// organize hides, renames and orders a table's columns.
func organize(exclude []string, rename map[string]string, order []string) dashboard.DataTransformerConfig {
	excludeByName := make(map[string]bool, len(exclude))
	for _, e := range exclude {
		excludeByName[e] = true
	}
	indexByName := make(map[string]int, len(order))
	for i, o := range order {
		indexByName[o] = i
	}
	return dashboard.DataTransformerConfig{
		Id: "organize",
		Options: map[string]any{
			"excludeByName": excludeByName,
			"renameByName":  rename,
			"indexByName":   indexByName,
		},
	}
}

// promDuration writes d as a Prometheus duration (5m, 1h30m, 90s).
func promDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		unit string
		d    time.Duration
	}{{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.unit)
			d -= n * u.d
		}
	}
	return b.String()
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
