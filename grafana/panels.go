package grafana

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Names the dashboard shares with the exporter and the rules (see the
// contract). A test checks every metric a query names against what the
// exporter and alerts/ really define.
const (
	// dbIdleRatio is the vendor's "Task Manager shows 00": under 0.5 % of
	// all logical CPUs. The rules use the same figure.
	dbIdleRatio = 0.005

	// agentsRebootPending and agentsReporting are the rules' fleet-wide
	// sum and count of the agents' officescan_agent_reboot_pending. Being a
	// sum, the first is 0 when agents report and none waits, and absent only
	// when no agent reports at all.
	agentsRebootPending = "officescan:agent_reboot_pending:sum"
	agentsReporting     = "officescan:agent_reboot_pending:count"

	// notMonitored stands in for "no agent data" in the agents stat. A
	// count is never negative, so it cannot be mistaken for a real value.
	notMonitored = -1
	// unknownSetting stands in for a console setting with no sample: the
	// exporter leaves a setting it cannot read out rather than guessing.
	unknownSetting = -1
)

// consoleSettings are the values of officescan_setting_enabled's setting
// label, in the order the table shows them.
var consoleSettings = []string{
	"firewall",
	"firewall_driver_update_after_reboot",
	"kernel_driver_restart_notification",
}

// blockerReasons explains each reason label of officescan:upgrade_blocker
// in the words of the console and the vendor's upgrade note.
var blockerReasons = map[string]string{
	"exporter_down":                       "Exporter not reachable (up == 0): nothing is known",
	"collector_failed":                    "A collector failed: its hazard cannot be judged (see Exporter health)",
	"input_missing":                       "A metric the verdict needs is missing",
	"login_script_running":                "Login Script (AutoPcc.exe) running on the server",
	"login_script_share_sessions":         "Clients have Login Script files open on the ofcscan share",
	"database_not_running":                "DbServer.exe is not running (database down or not visible)",
	"database_busy":                       "DbServer.exe CPU at or over 0.5 % (now or on 5-minute average)",
	"database_history_incomplete":         "Under 5 minutes of DbServer.exe CPU history",
	"firewall_driver_update_not_deferred": "Firewall on and its driver update not deferred to a reboot: agents would drop off the network",
	"restart_notification_off":            "Kernel-driver restart notification off: agents would not be told to restart",
	"setting_unknown":                     "A console setting could not be read",
	"agents_reboot_pending":               "Agents still wait for a restart to load a new driver",
}

type row struct {
	title  string
	panels []cog.Builder[dashboard.Panel]
}

func rows() []row {
	return []row{
		{"Verdict", []cog.Builder[dashboard.Panel]{verdictPanel(), blockersPanel()}},
		{"Database (DbServer.exe)", []cog.Builder[dashboard.Panel]{dbCPUPanel(), dbProcessesPanel()}},
		{"Login Script", []cog.Builder[dashboard.Panel]{loginScriptPanel()}},
		{"Console settings", []cog.Builder[dashboard.Panel]{settingsPanel()}},
		{"Agents", []cog.Builder[dashboard.Panel]{agentsWaitingPanel(), agentsReportingPanel(), agentsListPanel()}},
		{"Exporter health", []cog.Builder[dashboard.Panel]{exporterUpPanel(), collectorHealthPanel(), collectorDurationPanel()}},
	}
}

func verdictPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title("Upgrade verdict").
		Description("officescan:upgrade_window_safe per server, right now. SAFE: every hazard is clear (database idle, no Login Script, console settings protect the agents, no agent waits for a restart). " +
			"BLOCKED: at least one hazard is active or cannot be judged; the table beside it says which. A server with no verdict at all reads NO VERDICT, never SAFE.").
		Span(10).Height(7).
		WithTarget(instantQuery("A", "officescan:upgrade_window_safe{instance=~\"$"+instanceVar+"\"}", "{{instance}}")).
		Unit("none").Decimals(0).Min(0).Max(1).
		Thresholds(thresholds("red", step{1, "green"})).
		Mappings([]dashboard.ValueMapping{
			valueMap(
				valueText{"1", "SAFE", "green"},
				valueText{"0", "BLOCKED", "red"},
			),
			specialMap(dashboard.SpecialValueMatchNullAndNan, "NO VERDICT", "red"),
		}).
		NoValue("NO VERDICT (no data)").
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(lastValue())
}

func blockersPanel() *table.PanelBuilder {
	reasons := make([]valueText, 0, len(blockerReasons))
	for _, r := range sortedKeys(blockerReasons) {
		reasons = append(reasons, valueText{r, blockerReasons[r], ""})
	}
	return newTable().
		Title("Active blockers").
		Description("officescan:upgrade_blocker: one row per hazard that blocks the upgrade right now, with its reason and, where the reason names one, the collector, console setting or metric concerned. "+
			"Empty while the verdict is SAFE. If the verdict reads NO VERDICT the rules are not loaded and this table is empty too.").
		Span(14).Height(7).
		WithTarget(instantQuery("A", "officescan:upgrade_blocker{instance=~\"$"+instanceVar+"\"} == 1", "")).
		Unit("none").
		Thresholds(thresholds("red")).
		NoValue("No blocker reported").
		WithTransformation(organize(
			[]string{"Time", "Value", "__name__", "job"},
			map[string]string{"instance": "Server", "reason": "Blocker", "collector": "Collector", "setting": "Setting", "metric": "Metric"},
			[]string{"instance", "reason", "collector", "setting", "metric"},
		)).
		OverrideByName("Blocker", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: []dashboard.ValueMapping{valueMap(reasons...)}},
			{Id: "custom.cellOptions", Value: common.TableColorTextCellOptions{Type: common.TableCellDisplayModeColorText}},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Server"),
		})
}

func dbCPUPanel() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title("DbServer.exe CPU (share of all logical CPUs)").
		Description(fmt.Sprintf("officescan_dbserver_cpu_utilization_ratio: the database's CPU as Task Manager shows it, averaged over the exporter's sampling window. "+
			"The vendor's note says not to upgrade until it reads 00, i.e. under %g %% (the dashed line). The verdict also needs the 5-minute average under the line.", dbIdleRatio*100)).
		Span(18).Height(8).
		WithTarget(rangeQuery("A", "officescan_dbserver_cpu_utilization_ratio{"+target+"}", "{{instance}}")).
		Unit("percentunit").Decimals(2).Min(0).
		// Keeps the 0.5 % line in view while the database idles near 0.
		AxisSoftMax(2 * dbIdleRatio).
		Thresholds(thresholds("green", step{dbIdleRatio, "red"})).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
		Legend(tableLegend()).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

func dbProcessesPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title("DbServer.exe processes").
		Description("officescan_dbserver_processes right now. 0 blocks the upgrade: the database service is down or not visible to the exporter. " +
			"A site whose database is SQL Server switches the dbserver collector off and sees no value here.").
		Span(6).Height(8).
		WithTarget(instantQuery("A", "officescan_dbserver_processes{"+target+"}", "{{instance}}")).
		Unit("none").Decimals(0).
		Thresholds(thresholds("red", step{1, "green"})).
		Mappings([]dashboard.ValueMapping{valueMap(valueText{"0", "NOT RUNNING", "red"})}).
		NoValue("not collected").
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(lastValue())
}

func loginScriptPanel() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title("Login Script activity").
		Description("The server cannot be upgraded while any client runs the Login Script (AutoPcc.exe). " +
			"Local: officescan_autopcc_processes, AutoPcc.exe/AutoPccP.exe running on the server itself (terminal server, or the script run there). " +
			"Share: officescan_share_login_script_open_files, files on the ofcscan share opened by clients running the script (Windows only; no line on Linux). Anything above 0 blocks.").
		Span(24).Height(8).
		WithTarget(rangeQuery("A", "officescan_autopcc_processes{"+target+"}", "{{instance}} local AutoPcc processes")).
		WithTarget(rangeQuery("B", "officescan_share_login_script_open_files{"+target+"}", "{{instance}} open files on the ofcscan share")).
		Unit("short").Decimals(0).Min(0).
		Thresholds(thresholds("green", step{1, "red"})).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
		LineInterpolation(common.LineInterpolationStepAfter).
		Legend(tableLegend()).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

// settingsExpr lists every console setting of every server whose settings
// collector runs, with the unknown ones made visible: the exporter leaves
// out a setting it cannot read, so each one is also derived from the
// collector's success series with the value unknownSetting, and `or` keeps
// that only where no real sample exists. That is exactly when the rules'
// setting_unknown (or collector_failed) blocks.
func settingsExpr() string {
	parts := []string{"officescan_setting_enabled{" + target + "}"}
	for _, s := range consoleSettings {
		parts = append(parts, fmt.Sprintf(`label_replace(group without (collector) (officescan_scrape_collector_success{%s, collector="settings"}) * (%d), "setting", %q, "", "")`,
			target, unknownSetting, s))
	}
	return strings.Join(parts, "\nor\n")
}

func settingsPanel() *table.PanelBuilder {
	return newTable().
		Title("Console settings").
		Description("officescan_setting_enabled per server, read from the server's ini files through the mapping in the exporter's config file. "+
			"firewall: the OfficeScan firewall is on, so the upgrade updates its driver. firewall_driver_update_after_reboot: that update waits for a reboot (must be enabled when the firewall is). "+
			"kernel_driver_restart_notification: agents are told to restart for a new kernel driver (must be enabled). unknown: no mapping in the config file, or the value could not be read; it blocks the upgrade. "+
			"No rows for a server whose settings collector is off or whose exporter is down.").
		Span(24).Height(7).
		WithTarget(instantQuery("A", settingsExpr(), "")).
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

func agentsWaitingPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title("Agents waiting for a restart").
		Description(agentsRebootPending + ": agents that must restart before the upgrade to load a new OfficeScan driver (officescan_agent_reboot_pending on the agents, the exporter's reboot collector). " +
			"\"not monitored\" means no agent reports that metric at all, so nothing is known; it does not mean 0. Fleet-wide: the Server picker does not apply.").
		Span(6).Height(6).
		WithTarget(instantQuery("A", fmt.Sprintf("%s or vector(%d)", agentsRebootPending, notMonitored), "")).
		Unit("none").Decimals(0).
		Thresholds(thresholds("green", step{1, "orange"})).
		Mappings([]dashboard.ValueMapping{valueMap(valueText{fmt.Sprint(notMonitored), "not monitored", "text"})}).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValue).
		ReduceOptions(lastValue())
}

func agentsReportingPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title("Agents reporting").
		Description(agentsReporting + ": agents whose exporter reports officescan_agent_reboot_pending right now, the population the count beside it covers. Agents that do not run the exporter with its reboot collector are not counted anywhere.").
		Span(6).Height(6).
		WithTarget(instantQuery("A", agentsReporting+" or vector(0)", "")).
		Unit("none").Decimals(0).
		Thresholds(thresholds("text")).
		ColorMode(common.BigValueColorModeNone).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValue).
		ReduceOptions(lastValue())
}

func agentsListPanel() *table.PanelBuilder {
	return newTable().
		Title("Agents that wait for a restart").
		Description("Each agent with officescan_agent_reboot_pending == 1 right now. Restart them (or let users restart) before upgrading the server.").
		Span(12).Height(6).
		WithTarget(instantQuery("A", "officescan_agent_reboot_pending == 1", "")).
		Unit("none").
		Thresholds(thresholds("orange")).
		NoValue("No agent waits for a restart, or no agent data").
		WithTransformation(organize(
			[]string{"Time", "Value", "__name__"},
			map[string]string{"instance": "Agent", "job": "Job"},
			[]string{"instance", "job"},
		))
}

func exporterUpPanel() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title("Exporter reachable").
		Description("Prometheus' up for each exporter target. DOWN blocks the upgrade: nothing about that server is known.").
		Span(6).Height(6).
		WithTarget(instantQuery("A", "up{"+target+"}", "{{instance}}")).
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

func collectorHealthPanel() *table.PanelBuilder {
	return newTable().
		Title("Collector health").
		Description("officescan_scrape_collector_success per server and collector on the last scrape. FAILED blocks the upgrade (its hazard cannot be judged); the exporter's log says why. "+
			"A collector that is switched off or not available on the OS has no row and blocks nothing.").
		Span(10).Height(6).
		WithTarget(instantQuery("A", "officescan_scrape_collector_success{"+target+"}", "")).
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

func collectorDurationPanel() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title("Collector run time").
		Description("officescan_scrape_collector_duration_seconds: how long each collector's last run took. A collector reaching the exporter's --collector.timeout (10 s by default) fails.").
		Span(8).Height(6).
		WithTarget(rangeQuery("A", "officescan_scrape_collector_duration_seconds{"+target+"}", "{{instance}} {{collector}}")).
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

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
