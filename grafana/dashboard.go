// Package grafana generates the "OfficeScan upgrade readiness" Grafana
// dashboard from Go with the Grafana Foundation SDK's typed builders.
//
// The dashboard is generated from the table of hazards (package hazard):
// one row per hazard, in the table's order, with the hazard's state per
// server (officescan:hazard_clear), its waiver, its blockers
// (officescan:upgrade_blocker) and the evidence panels of the metrics it
// reads. A hazard added to the table gets its row without a change here.
//
// The generated JSON is committed as officescan-upgrade.json so that users
// can import it without Go; `go generate ./grafana` rewrites it, and a test
// fails when the committed file and the generator disagree. A site with
// another job name generates its own copy with grafana/cmd/gen's -job,
// -selector and -agent-selector flags, the same flags as alerts/gen.
package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	promql "github.com/prometheus/prometheus/promql/parser"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

//go:generate go run ./cmd/gen -o officescan-upgrade.json

const (
	// UID is the dashboard's stable identifier: links and provisioning keep
	// working across re-imports.
	UID = "officescan-upgrade"
	// FileName is the committed dashboard, relative to this package.
	FileName = "officescan-upgrade.json"

	// The dashboard's template variables.
	datasourceVar = "datasource"
	instanceVar   = "instance"
)

// Options is what a site may change in the dashboard. The zero value is the
// committed dashboard.
type Options struct {
	// Hazards are the rows, in order; nil means hazard.Table.
	Hazards []hazard.Hazard
	// Selector picks the exporter targets: PromQL label matchers without
	// braces, e.g. `job="officescan"`, as alerts.Config.Selector. Empty
	// means JobSelector(hazard.DefaultJob).
	Selector string
	// AgentSelector picks the agents' series (officescan_agent_reboot_pending,
	// officescan_agent_info), e.g. `job="officescan_agents"`; empty means
	// every job, as in the rules.
	AgentSelector string
}

// DefaultOptions returns the options of the committed dashboard.
func DefaultOptions() Options {
	return Options{Hazards: hazard.Table, Selector: JobSelector(hazard.DefaultJob)}
}

// JobSelector returns the matcher for one job name, as alerts.JobSelector.
func JobSelector(job string) string { return fmt.Sprintf("job=%q", job) }

// complete fills in the defaults and checks the selectors with Prometheus'
// own parser, so that a mistake fails here rather than in every panel.
func (o *Options) complete() error {
	if o.Hazards == nil {
		o.Hazards = hazard.Table
	}
	if len(o.Hazards) == 0 {
		return fmt.Errorf("no hazards: the dashboard has a row per hazard")
	}
	seen := map[string]bool{}
	for _, h := range o.Hazards {
		if h.Name == "" || h.Name == hazard.ExporterHazard || seen[h.Name] {
			return fmt.Errorf("hazard name %q: empty, reserved or repeated", h.Name)
		}
		seen[h.Name] = true
	}
	if o.Selector == "" {
		o.Selector = JobSelector(hazard.DefaultJob)
	}
	if err := checkSelector(o.Selector); err != nil {
		return fmt.Errorf("target selector %q: %w; want label matchers such as job=\"officescan\"", o.Selector, err)
	}
	if o.AgentSelector != "" {
		if err := checkSelector(o.AgentSelector); err != nil {
			return fmt.Errorf("agent selector %q: %w; want label matchers such as job=\"officescan_agents\", or nothing", o.AgentSelector, err)
		}
	}
	return nil
}

// checkSelector accepts label matchers (no braces) that Prometheus parses
// as a series selector, one of which needs a non-empty label.
func checkSelector(s string) error {
	matchers, err := promql.NewParser(promql.Options{}).ParseMetricSelector("{" + s + "}")
	if err != nil {
		return err
	}
	for _, m := range matchers {
		if !m.Matches("") {
			return nil
		}
	}
	return fmt.Errorf("it matches series without any of these labels")
}

// datasource is the Prometheus data source chosen in the datasource variable.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{
		Type: cog.ToPtr("prometheus"),
		Uid:  cog.ToPtr("${" + datasourceVar + "}"),
	}
}

// Build returns the dashboard for o.
func Build(o Options) (dashboard.Dashboard, error) {
	if err := o.complete(); err != nil {
		return dashboard.Dashboard{}, err
	}
	g, err := newGen(o)
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	agents := "any job"
	if o.AgentSelector != "" {
		agents = o.AgentSelector
	}
	b := dashboard.NewDashboardBuilder("OfficeScan upgrade readiness").
		Uid(UID).
		Description(fmt.Sprintf("Before upgrading a Trend Micro OfficeScan / Apex One server: is it safe right now (SAFE/BLOCKED per server), and if not, why: one row per hazard of the table of hazards. "+
			"Data from officescan_exporter and the recording rules in alerts/. Exporter targets: %s; agent data: %s.", o.Selector, agents)).
		Tags([]string{"officescan", "apex-one", "upgrade"}).
		Editable().
		Timezone(common.TimeZoneBrowser).
		Time("now-6h", "now").
		Refresh("30s").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVariable()).
		WithVariable(g.instanceVariable()).
		WithVariable(utcOffsetVariable()).
		Annotation(alertAnnotations())

	for _, r := range g.rows() {
		b = b.WithRow(dashboard.NewRowBuilder(r.title))
		for _, p := range r.panels {
			b = b.WithPanel(p)
		}
	}
	d, err := b.Build()
	if err != nil {
		return d, err
	}
	// Panels are numbered in layout order, so the committed JSON changes
	// only where the panels do.
	for i, p := range d.Panels {
		id := uint32(i + 1)
		switch {
		case p.Panel != nil:
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
	return d, nil
}

// JSON returns the dashboard for o as it is committed: indented, with a
// final newline.
func JSON(o Options) ([]byte, error) {
	d, err := Build(o)
	if err != nil {
		return nil, fmt.Errorf("building the dashboard: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// PromQL's <, > and & must stay readable in the committed file.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encoding the dashboard: %w", err)
	}
	return buf.Bytes(), nil
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(datasourceVar).
		Label("Data source").
		Description("The Prometheus that scrapes officescan_exporter and evaluates the rules in alerts/.").
		Type("prometheus")
}

// instanceVariable lists the exporter targets from the exporter's own build
// info, which every running exporter exposes whatever collectors are on.
func (g gen) instanceVariable() *dashboard.QueryVariableBuilder {
	query := "label_values(officescan_exporter_build_info{" + g.o.Selector + "}, instance)"
	return dashboard.NewQueryVariableBuilder(instanceVar).
		Label("Server").
		Description("OfficeScan / Apex One servers running officescan_exporter (the instance label of the exporter's targets).").
		Datasource(datasource()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		// ".*" rather than a list of the values seen: a server whose
		// exporter stopped reporting still shows (as BLOCKED), instead of
		// dropping out of "All".
		AllValue(".*")
}

// alertAnnotations marks the times the project's alerts fired. It is not
// limited to the target selector: the fleet-wide agents alert carries no
// job label.
func alertAnnotations() *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("OfficeScan alerts").
		Datasource(datasource()).
		Enable(true).
		IconColor("red").
		Expr(`ALERTS{alertname=~"OfficeScan.*", alertstate="firing"}`).
		Step("60s").
		TitleFormat("{{alertname}}").
		TextFormat("{{instance}} ({{severity}})").
		TagKeys("alertname,severity,instance")
}
