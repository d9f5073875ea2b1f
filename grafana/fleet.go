package grafana

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// The fleet row: every server of the target selector at once, whatever the
// Server picker says, with links into each server's own view (the same
// dashboard with the picker set to that server).

const (
	// topBlockers is how many (hazard, reason) pairs the fleet lists.
	topBlockers = 10
	// topWaiting is how many servers the waiting agents chart shows.
	topWaiting = 20
)

// noHazard titles panels that belong to no hazard's row.
var noHazard = hazard.Hazard{}

// fleetSel returns metric{<target selector>, extra...}: every server, not
// only those picked.
func (g gen) fleetSel(metric string, extra ...string) string {
	return metric + "{" + strings.Join(append([]string{g.o.Selector}, extra...), ", ") + "}"
}

// serverLink opens this dashboard for one server: the Server picker set to
// value (a data link variable such as ${__value.raw}), with the same data
// source, zone and time range.
func serverLink(value string) string {
	return fmt.Sprintf("/d/%s/?${%s:queryparam}&var-%s=%s&${%s:queryparam}&${__url_time_range}",
		UID, datasourceVar, instanceVar, value, utcOffsetVar)
}

// fleetRowTitle is the first row's title.
const fleetRowTitle = "Fleet: all servers (the Server picker does not apply)"

func (g gen) fleetRow() row {
	return row{fleetRowTitle, []cog.Builder[dashboard.Panel]{
		g.fleetVerdictPanel(), g.fleetBlockersPanel(), g.fleetWaitingPanel(),
		g.fleetServersPanel(), g.fleetHistoryPanel(),
	}}
}

// fleetVerdictPanel counts the servers by verdict.
func (g gen) fleetVerdictPanel() *stat.PanelBuilder {
	safe := g.fleetSel(recSafe)
	return stat.NewPanelBuilder().
		Title(g.title(noHazard, "Servers by verdict")).
		Description(fmt.Sprintf("How many servers of the fleet (%s) read SAFE and BLOCKED right now (%s 1 and 0), and how many exporter targets have no verdict at all "+
			"(the rules in alerts/ are not loaded where this Prometheus evaluates rules). The Server picker does not apply.", g.o.Selector, recSafe)).
		Span(6).Height(8).
		WithTarget(instantQuery("A", fmt.Sprintf("count(%s == 1) or vector(0)", safe), "SAFE")).
		WithTarget(instantQuery("B", fmt.Sprintf("count(%s == 0) or vector(0)", safe), "BLOCKED")).
		WithTarget(instantQuery("C", fmt.Sprintf("count(group without () (%s) unless %s %s) or vector(0)", g.fleetSel(hazard.MetricUp), g.on, safe), "NO VERDICT")).
		Unit("none").Decimals(0).Min(0).
		Thresholds(thresholds("blue")).
		OverrideByQuery("A", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]string{"mode": "fixed", "fixedColor": "green"}}}).
		OverrideByQuery("B", []dashboard.DynamicConfigValue{{Id: "thresholds", Value: thresholdsValue("green", step{1, "red"})}}).
		OverrideByQuery("C", []dashboard.DynamicConfigValue{{Id: "thresholds", Value: thresholdsValue("green", step{1, "orange"})}}).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(lastValue())
}

// thresholdsValue is a thresholds config for an override.
func thresholdsValue(base string, steps ...step) dashboard.ThresholdsConfig {
	t, err := thresholds(base, steps...).Build()
	if err != nil {
		panic(err) // the builder only fails on a nil step list
	}
	return t
}

// fleetBlockersPanel: the reasons that block the most servers.
func (g gen) fleetBlockersPanel() *table.PanelBuilder {
	reasons := append([]hazard.Reason{}, hazard.ExporterReasons...)
	for _, h := range g.o.Hazards {
		reasons = append(reasons, h.Reasons...)
	}
	summaries, actions := g.reasonWords(reasons)
	expr := fmt.Sprintf(`label_replace(
  topk(%d, count by (hazard, reason) (%s == 1)),
  "action", "$1", "reason", "(.*)"
)`, topBlockers, g.fleetSel(recBlocker))
	return newTable().
		Title(g.title(noHazard, "Most common blockers")).
		Description(fmt.Sprintf("The %d reasons that block the most servers of the fleet right now: how many servers each (hazard, reason) of %s blocks, in the words of the table of hazards, and what to do. "+
			"One fix here may open the window on many servers. The Server picker does not apply.", topBlockers, recBlocker)).
		Span(10).Height(8).
		WithTarget(instantQuery("A", expr, "")).
		Unit("none").Decimals(0).
		Thresholds(thresholds("red")).
		NoValue("No blocker on any server").
		WithTransformation(organize([]string{"Time"},
			map[string]string{"hazard": "Hazard", "reason": "Blocker", "Value": "Servers", "action": "What to do"},
			[]string{"Value", "hazard", "reason", "action"})).
		OverrideByName("Blocker", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: []dashboard.ValueMapping{valueMap(summaries...)}},
		}).
		OverrideByName("What to do", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: []dashboard.ValueMapping{valueMap(actions...)}},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Servers").Desc(true),
		})
}

// reasonWords maps each reason's name to its summary and to its action.
func (g gen) reasonWords(reasons []hazard.Reason) (summaries, actions []valueText) {
	seen := map[string]bool{}
	for _, r := range reasons {
		if seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		w := g.reasons[r.Name]
		summaries = append(summaries, valueText{r.Name, w.Summary, ""})
		actions = append(actions, valueText{r.Name, w.Action, ""})
	}
	return summaries, actions
}

// fleetWaitingPanel: the servers with the most agents waiting for a restart.
func (g gen) fleetWaitingPanel() *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Title(g.title(noHazard, "Agents waiting for a restart, per server")).
		Description(fmt.Sprintf("The %d servers of the fleet with the most agents waiting for a restart right now (%s, from the rules' per-server aggregates: "+
			"the server's own agents plus every waiting agent matched to no server). Each bar opens that server's view. Empty when no agent waits, or when agents are not monitored. The Server picker does not apply.",
			topWaiting, recWaitingTarget)).
		Span(8).Height(8).
		WithTarget(instantQuery("A", fmt.Sprintf("topk(%d, %s > 0)", topWaiting, g.fleetSel(recWaitingTarget)), "{{instance}}")).
		Unit("none").Decimals(0).Min(0).
		Thresholds(thresholds("green", step{1, "red"})).
		NoValue("No agent waits for a restart, or " + notMonitoredText).
		DataLinks([]cog.Builder[dashboard.DashboardLink]{dataLink("Open ${__field.labels.instance}", serverLink("${__field.labels.instance}"))}).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		Orientation(common.VizOrientationHorizontal).
		ReduceOptions(lastValue())
}

// dataLink is a link from a value to a URL. The SDK types a field's links
// as dashboard links; Grafana reads their title and url.
func dataLink(title, url string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).Type(dashboard.DashboardLinkTypeLink).Url(url)
}

// fleetServersPanel lists every server with its verdict, its blockers and
// its waiting agents, each server linked to its own view.
func (g gen) fleetServersPanel() *table.PanelBuilder {
	safe := g.fleetSel(recSafe)
	return newTable().
		Title(g.title(noHazard, "Servers")).
		Description(fmt.Sprintf("Every server of the fleet right now: its verdict (%s), how many blockers it has (%s) and its agents waiting for a restart (%s). "+
			"Click a server to open its own view: this dashboard with the Server picker set to it. Blocked servers first. The Server picker does not apply.", recSafe, recBlocker, recWaitingTarget)).
		Span(12).Height(12).
		WithTarget(instantQuery("A", safe, "")).
		WithTarget(instantQuery("B", fmt.Sprintf("count by (%s) (%s == 1)\nor %s\n(%s * 0)", strings.Join(hazard.DefaultTargetLabels, ", "), g.fleetSel(recBlocker), g.on, safe), "")).
		WithTarget(instantQuery("C", g.fleetSel(recWaitingTarget), "")).
		Unit("none").Decimals(0).
		Thresholds(thresholds("text")).
		NoValue("No server: no verdict recorded (rules not loaded, or no target)").
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize([]string{"Time", "__name__", "job"},
			map[string]string{"instance": "Server", "Value #A": "Verdict", "Value #B": "Blockers", "Value #C": "Agents waiting"},
			[]string{"instance", "Value #A", "Value #B", "Value #C"})).
		OverrideByName("Server", []dashboard.DynamicConfigValue{
			{Id: "links", Value: []map[string]any{{"title": "Open ${__value.raw}", "url": serverLink("${__value.raw}")}}},
		}).
		OverrideByName("Verdict", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: []dashboard.ValueMapping{valueMap(
				valueText{"1", "SAFE", "green"},
				valueText{"0", "BLOCKED", "red"},
			)}},
			{Id: "custom.cellOptions", Value: common.TableColoredBackgroundCellOptions{Type: common.TableCellDisplayModeColorBackground}},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Verdict"),
		})
}
