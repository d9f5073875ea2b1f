// Package grafana generates the "OfficeScan upgrade readiness" Grafana
// dashboard from Go with the Grafana Foundation SDK's typed builders.
//
// The generated JSON is committed as officescan-upgrade.json so that users
// can import it without Go; `go generate ./grafana` rewrites it, and a test
// fails when the committed file and the generator disagree.
package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

//go:generate go run ./cmd/gen -o officescan-upgrade.json

const (
	// UID is the dashboard's stable identifier: links and provisioning keep
	// working across re-imports.
	UID = "officescan-upgrade"
	// FileName is the committed dashboard, relative to this package.
	FileName = "officescan-upgrade.json"

	// JobSelector picks the exporter's scrape targets, as alerts/ does. A
	// site that names its job differently changes it here and regenerates
	// (the README says so), exactly like the rules' selector.
	JobSelector = `job="officescan"`

	// The dashboard's template variables.
	datasourceVar = "datasource"
	instanceVar   = "instance"
)

// target is every per-server selector: the exporter's job and the servers
// picked in the instance variable.
const target = JobSelector + `, instance=~"$` + instanceVar + `"`

// datasource is the Prometheus data source chosen in the datasource variable.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{
		Type: cog.ToPtr("prometheus"),
		Uid:  cog.ToPtr("${" + datasourceVar + "}"),
	}
}

// Build returns the dashboard.
func Build() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("OfficeScan upgrade readiness").
		Uid(UID).
		Description("Before upgrading a Trend Micro OfficeScan / Apex One server: is it safe right now (SAFE/BLOCKED per server), and if not, why. Data from officescan_exporter and the recording rules in alerts/.").
		Tags([]string{"officescan", "apex-one", "upgrade"}).
		Editable().
		Timezone(common.TimeZoneBrowser).
		Time("now-6h", "now").
		Refresh("30s").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVariable()).
		WithVariable(instanceVariable()).
		Annotation(alertAnnotations())

	for _, row := range rows() {
		b = b.WithRow(dashboard.NewRowBuilder(row.title))
		for _, p := range row.panels {
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

// JSON returns the dashboard as it is committed: indented, with a final
// newline.
func JSON() ([]byte, error) {
	d, err := Build()
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
func instanceVariable() *dashboard.QueryVariableBuilder {
	query := "label_values(officescan_exporter_build_info{" + JobSelector + "}, instance)"
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

// alertAnnotations marks the times the project's alerts fired.
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
