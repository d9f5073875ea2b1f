package grafana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	promql "github.com/prometheus/prometheus/promql/parser"

	"github.com/officescan-exporter/officescan_exporter/grafana/grafanatest"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

func committed(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(FileName)
	if err != nil {
		t.Fatalf("reading the committed dashboard: %v", err)
	}
	return b
}

// TestCommittedDashboardIsUpToDate is the drift check: the JSON users import
// must be what the generator writes now.
func TestCommittedDashboardIsUpToDate(t *testing.T) {
	want, err := JSON(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	got := committed(t)
	if bytes.Equal(got, want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	line := 0
	for line < len(gotLines) && line < len(wantLines) && gotLines[line] == wantLines[line] {
		line++
	}
	at := func(lines []string) string {
		if line < len(lines) {
			return strings.TrimSpace(lines[line])
		}
		return "<end of file>"
	}
	t.Fatalf("grafana/%s is out of date with the generator (grafana/*.go).\n"+
		"Run `go generate ./grafana` and commit the result.\n"+
		"First difference at line %d:\n  committed: %s\n  generated: %s",
		FileName, line+1, at(gotLines), at(wantLines))
}

// buildErrors returns the problems an SDK call reported. A successful strict
// parse returns a non-nil error holding an empty cog.BuildErrors, so the
// list's length, not err != nil, tells success.
func buildErrors(err error) cog.BuildErrors {
	if err == nil {
		return nil
	}
	var be cog.BuildErrors
	if errors.As(err, &be) {
		return be
	}
	return cog.BuildErrors{{Path: "(json)", Message: err.Error()}}
}

// strictParse checks raw the way the SDK's strict parser does and validates
// the result.
//
// SDK v0.0.22 checks every panel strictly but then drops it: for a panel
// that parses cleanly, PanelOrRowPanel.UnmarshalJSONStrict returns the
// panel's empty (non-nil) error list before storing the panel. So the
// dashboard to Validate comes from the SDK's ordinary decoder, which keeps
// the panels and their typed options and queries.
func strictParse(raw []byte) (*dashboard.Dashboard, cog.BuildErrors) {
	plugins.RegisterDefaultPlugins()
	if errs := buildErrors((&dashboard.Dashboard{}).UnmarshalJSONStrict(raw)); len(errs) > 0 {
		return nil, errs
	}
	d := &dashboard.Dashboard{}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, buildErrors(err)
	}
	return d, buildErrors(d.Validate())
}

func TestCommittedDashboardParsesStrictlyAndValidates(t *testing.T) {
	d, errs := strictParse(committed(t))
	if len(errs) > 0 {
		t.Fatalf("strict parse / validate of %s: %d problem(s):\n%v", FileName, len(errs), errs)
	}
	if d.Uid == nil || *d.Uid != UID {
		t.Errorf("uid = %v, want %q", d.Uid, UID)
	}
	built, err := Build(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Panels) != len(built.Panels) {
		t.Fatalf("parsed %d panels, the generator builds %d", len(d.Panels), len(built.Panels))
	}
	for _, p := range d.Panels {
		if p.Panel == nil {
			continue
		}
		if len(p.Panel.Targets) == 0 {
			t.Errorf("panel %q: no query", deref(p.Panel.Title))
		}
	}
}

// TestStrictParseCatchesMistakes proves the check above can fail: fields
// Grafana does not know, on the dashboard and on a panel, and a required
// field left null (the SDK's own default table footer has one) are reported.
// The SDK checks fieldConfig.defaults leniently, which is why units and
// thresholds have a test of their own below.
func TestStrictParseCatchesMistakes(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(committed(t), &doc); err != nil {
		t.Fatal(err)
	}
	doc["refreshEvery"] = "30s"
	panel := doc["panels"].([]any)[1].(map[string]any)
	panel["titel"] = "typo"
	table := doc["panels"].([]any)[2].(map[string]any)
	table["options"].(map[string]any)["footer"].(map[string]any)["reducer"] = nil
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, errs := strictParse(raw)
	msg := errs.Error()
	for _, want := range []string{"refreshEvery", "titel", "footer.reducer: required field is null"} {
		if !strings.Contains(msg, want) {
			t.Errorf("strict parse did not report the unexpected field %q; it said:\n%s", want, msg)
		}
	}
}

// jsonPanel is what the tests read of a panel, from the committed file.
type jsonPanel struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Targets     []struct {
		RefID      string            `json:"refId"`
		Expr       string            `json:"expr"`
		Datasource map[string]string `json:"datasource"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit       string `json:"unit"`
			Thresholds struct {
				Steps []struct {
					Value *float64 `json:"value"`
					Color string   `json:"color"`
				} `json:"steps"`
			} `json:"thresholds"`
			Mappings []struct {
				Type string `json:"type"`
				// A value map's options are keyed by value; a special
				// value map's are not, so they are decoded on demand.
				Options json.RawMessage `json:"options"`
			} `json:"mappings"`
			NoValue string `json:"noValue"`
		} `json:"defaults"`
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options string `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Transformations []struct {
		ID      string `json:"id"`
		Options struct {
			RenameByName map[string]string `json:"renameByName"`
		} `json:"options"`
	} `json:"transformations"`
}

type jsonDashboard struct {
	Panels     []jsonPanel `json:"panels"`
	Templating struct {
		List []struct {
			Type       string            `json:"type"`
			Name       string            `json:"name"`
			Query      string            `json:"query"`
			Datasource map[string]string `json:"datasource"`
			Multi      bool              `json:"multi"`
			IncludeAll bool              `json:"includeAll"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name       string            `json:"name"`
			Expr       string            `json:"expr"`
			Datasource map[string]string `json:"datasource"`
		} `json:"list"`
	} `json:"annotations"`
}

func loadCommitted(t *testing.T) jsonDashboard {
	t.Helper()
	return decodeDashboard(t, committed(t))
}

func decodeDashboard(t *testing.T, raw []byte) jsonDashboard {
	t.Helper()
	var d jsonDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("decoding the dashboard: %v", err)
	}
	return d
}

// build returns the dashboard for o as decoded JSON.
func build(t *testing.T, o Options) jsonDashboard {
	t.Helper()
	raw, err := JSON(o)
	if err != nil {
		t.Fatal(err)
	}
	return decodeDashboard(t, raw)
}

func (d jsonDashboard) panel(t *testing.T, title string) jsonPanel {
	t.Helper()
	for _, p := range d.Panels {
		if p.Title == title && p.Type != "row" {
			return p
		}
	}
	t.Fatalf("no panel titled %q", title)
	return jsonPanel{}
}

func TestEveryPanelHasUnitThresholdsDescriptionAndDatasource(t *testing.T) {
	for _, p := range loadCommitted(t).Panels {
		if p.Type == "row" {
			continue
		}
		if p.Title == "" {
			t.Errorf("a %s panel has no title", p.Type)
		}
		if len(p.Description) < 40 {
			t.Errorf("panel %q: description %q is missing or too short to tell the reader anything", p.Title, p.Description)
		}
		if p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("panel %q: no unit", p.Title)
		}
		steps := p.FieldConfig.Defaults.Thresholds.Steps
		if len(steps) == 0 || steps[0].Value != nil || steps[0].Color == "" {
			t.Errorf("panel %q: thresholds %+v must start with a colored base step", p.Title, steps)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Datasource["uid"] != "${"+datasourceVar+"}" || q.Datasource["type"] != "prometheus" {
				t.Errorf("panel %q query %s: datasource %v, want the ${%s} variable", p.Title, q.RefID, q.Datasource, datasourceVar)
			}
		}
	}
}

func TestVariables(t *testing.T) {
	d := loadCommitted(t)
	if len(d.Templating.List) != 3 {
		t.Fatalf("got %d variables, want datasource, instance and %s", len(d.Templating.List), utcOffsetVar)
	}
	ds, inst, zone := d.Templating.List[0], d.Templating.List[1], d.Templating.List[2]
	if zone.Type != "custom" || zone.Name != utcOffsetVar || zone.Multi || zone.IncludeAll {
		t.Errorf("third variable = %+v, want a single-value custom variable %q", zone, utcOffsetVar)
	}
	for _, want := range []string{"UTC : 0", "UTC+1 : 60", "UTC-5 : -300", "UTC+5:30 : 330", "UTC-3:30 : -210", "UTC+14 : 840", "UTC-12 : -720"} {
		if !slices.Contains(strings.Split(zone.Query, ","), want) {
			t.Errorf("%s offers no %q: %s", utcOffsetVar, want, zone.Query)
		}
	}
	if ds.Type != "datasource" || ds.Name != datasourceVar || ds.Query != "prometheus" {
		t.Errorf("first variable = %+v, want a prometheus datasource variable named %q", ds, datasourceVar)
	}
	if inst.Type != "query" || inst.Name != instanceVar || !inst.Multi || !inst.IncludeAll {
		t.Errorf("second variable = %+v, want a multi-select query variable %q with All", inst, instanceVar)
	}
	if inst.Datasource["uid"] != "${"+datasourceVar+"}" {
		t.Errorf("instance variable queries %v, want ${%s}", inst.Datasource, datasourceVar)
	}
	if !regexp.MustCompile(`^label_values\(officescan_[a-z_]+\{[^}]*\}, instance\)$`).MatchString(inst.Query) {
		t.Errorf("instance variable query %q does not take instance from an exporter metric", inst.Query)
	}
	if len(d.Annotations.List) != 1 || !strings.HasPrefix(d.Annotations.List[0].Expr, `ALERTS{alertname=~"OfficeScan.*"`) {
		t.Errorf("annotations = %+v, want the OfficeScan alerts from ALERTS", d.Annotations.List)
	}
}

// mapped returns what a value shows as in a panel's value mappings.
func (p jsonPanel) mapped(value string) (text, color string, ok bool) {
	for _, m := range p.FieldConfig.Defaults.Mappings {
		if m.Type != "value" {
			continue
		}
		var opts map[string]struct{ Text, Color string }
		if err := json.Unmarshal(m.Options, &opts); err != nil {
			return "", "", false
		}
		if r, found := opts[value]; found {
			return r.Text, r.Color, true
		}
	}
	return "", "", false
}

func TestVerdictReadsSafeOnlyForOne(t *testing.T) {
	p := loadCommitted(t).panel(t, "Upgrade verdict")
	for value, want := range map[string][2]string{"1": {"SAFE", "green"}, "0": {"BLOCKED", "red"}} {
		text, color, ok := p.mapped(value)
		if !ok || text != want[0] || color != want[1] {
			t.Errorf("verdict %s shows %q in %q, want %q in %q", value, text, color, want[0], want[1])
		}
	}
	steps := p.FieldConfig.Defaults.Thresholds.Steps
	if steps[0].Color != "red" || len(steps) != 2 || *steps[1].Value != 1 || steps[1].Color != "green" {
		t.Errorf("verdict thresholds %+v: anything below 1, and no data, must be red", steps)
	}
	if p.FieldConfig.Defaults.NoValue != "UNKNOWN" {
		t.Errorf("no data reads %q, want UNKNOWN", p.FieldConfig.Defaults.NoValue)
	}
	special := false
	for _, m := range p.FieldConfig.Defaults.Mappings {
		if m.Type == "special" {
			var opts struct {
				Match  string
				Result struct{ Text, Color string }
			}
			if err := json.Unmarshal(m.Options, &opts); err != nil {
				t.Fatal(err)
			}
			special = opts.Match == "null+nan" && opts.Result.Text == "UNKNOWN" && opts.Result.Color == "red"
		}
	}
	if !special {
		t.Error("null and NaN are not mapped to a red UNKNOWN")
	}
	want := `officescan:upgrade_window_safe{job="officescan", instance=~"$instance"}`
	if len(p.Targets) != 1 || p.Targets[0].Expr != want {
		t.Errorf("verdict queries %+v, want %s", p.Targets, want)
	}
}

// jsonRow is a row panel's title and the panels under it.
type jsonRow struct {
	title  string
	panels []jsonPanel
}

func (d jsonDashboard) rows(t *testing.T) []jsonRow {
	t.Helper()
	var rows []jsonRow
	for _, p := range d.Panels {
		if p.Type == "row" {
			rows = append(rows, jsonRow{title: p.Title})
			continue
		}
		if len(rows) == 0 {
			t.Fatalf("panel %q comes before the first row", p.Title)
		}
		rows[len(rows)-1].panels = append(rows[len(rows)-1].panels, p)
	}
	return rows
}

func (r jsonRow) exprs() []string {
	var out []string
	for _, p := range r.panels {
		for _, q := range p.Targets {
			out = append(out, q.Expr)
		}
	}
	return out
}

// overrideMapping returns what value shows as in the value mapping that
// overrides the column named column.
func (p jsonPanel) overrideMapping(t *testing.T, column, value string) (string, bool) {
	t.Helper()
	for _, o := range p.FieldConfig.Overrides {
		if o.Matcher.ID != "byName" || o.Matcher.Options != column {
			continue
		}
		for _, prop := range o.Properties {
			if prop.ID != "mappings" {
				continue
			}
			var ms []struct {
				Type    string
				Options map[string]struct{ Text string }
			}
			if err := json.Unmarshal(prop.Value, &ms); err != nil {
				t.Fatalf("panel %q column %s: %v", p.Title, column, err)
			}
			for _, m := range ms {
				if r, ok := m.Options[value]; ok {
					return r.Text, true
				}
			}
		}
	}
	return "", false
}

// renamed returns the column a table's organize transformation gives label.
func (p jsonPanel) renamed(label string) string {
	for _, tr := range p.Transformations {
		if tr.ID == "organize" {
			return tr.Options.RenameByName[label]
		}
	}
	return ""
}

func containsExpr(exprs []string, sub string) bool {
	for _, e := range exprs {
		if strings.Contains(e, sub) {
			return true
		}
	}
	return false
}

// checkHazardRow checks one hazard's row: its state per server, its waiver,
// its blockers worded from the table, and a query for each metric it reads.
func checkHazardRow(t *testing.T, r jsonRow, h hazard.Hazard, selector string) {
	t.Helper()
	if r.title != HazardRowTitle(h) {
		t.Errorf("row %q, want %q", r.title, HazardRowTitle(h))
		return
	}
	sel := selector + `, instance=~"$instance", hazard="` + h.Name + `"`
	exprs := r.exprs()
	for _, want := range []string{"officescan:hazard_clear{" + sel + "}", "officescan:upgrade_blocker{" + sel + "}"} {
		if !containsExpr(exprs, want) {
			t.Errorf("row %s: no query reads %s; queries:\n%s", h.Name, want, strings.Join(exprs, "\n"))
		}
	}
	var state, blockers *jsonPanel
	for i, p := range r.panels {
		switch p.Title {
		case h.Name + ": state per server":
			state = &r.panels[i]
		case h.Name + ": blockers":
			blockers = &r.panels[i]
		}
	}
	if state == nil || blockers == nil {
		t.Fatalf("row %s: no state or no blockers panel", h.Name)
	}
	if text, _, ok := state.mapped("1"); !ok || text != "CLEAR" {
		t.Errorf("row %s: state 1 shows %q, want CLEAR", h.Name, text)
	}
	if text, _, ok := state.mapped("0"); !ok || text != "NOT CLEAR" {
		t.Errorf("row %s: state 0 shows %q, want NOT CLEAR", h.Name, text)
	}
	if h.Waivable {
		waived := "officescan_hazard_waived{" + sel + "}"
		if !strings.Contains(state.Targets[0].Expr, waived) || !strings.Contains(state.Targets[0].Expr, `"waiver", "waived: $1", "reason", "(.+)"`) {
			t.Errorf("row %s: the state does not show %s as \"waived: <reason>\":\n%s", h.Name, waived, state.Targets[0].Expr)
		}
		if state.renamed("waiver") != "Waiver" {
			t.Errorf("row %s: the state table has no Waiver column", h.Name)
		}
	}
	for _, r := range hazardReasons(h) {
		if got, ok := blockers.overrideMapping(t, "Blocker", r.Name); !ok || got != r.Summary {
			t.Errorf("row %s: reason %s reads %q, want the table's summary %q", h.Name, r.Name, got, r.Summary)
		}
		if got, ok := blockers.overrideMapping(t, "What to do", r.Name); !ok || got != r.Action {
			t.Errorf("row %s: reason %s's action reads %q, want the table's %q", h.Name, r.Name, got, r.Action)
		}
	}
	for _, m := range h.Metrics {
		if !containsExpr(exprs, m) {
			t.Errorf("row %s: no evidence panel reads %s", h.Name, m)
		}
	}
	for _, s := range h.Settings {
		if !containsExpr(exprs, `"setting", "`+s+`"`) {
			t.Errorf("row %s: the settings table does not make an unknown %s visible", h.Name, s)
		}
	}
}

// TestRowPerHazardInTableOrder: the committed dashboard has one row per
// hazard of hazard.Table, in its order, between the verdict and the
// exporter's health.
func TestRowPerHazardInTableOrder(t *testing.T) {
	rows := loadCommitted(t).rows(t)
	want := []string{fleetRowTitle, "Verdict"}
	for _, h := range hazard.Table {
		want = append(want, HazardRowTitle(h))
	}
	want = append(want, "Exporter health")
	var got []string
	for _, r := range rows {
		got = append(got, r.title)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rows:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for i, h := range hazard.Table {
		checkHazardRow(t, rows[i+2], h, `job="officescan"`)
	}
}

// TestNewHazardGetsItsRow: a hazard added to the table, and nowhere else,
// gets its row, its queries and its reasons' words.
func TestNewHazardGetsItsRow(t *testing.T) {
	fake := hazard.Hazard{
		Name:       "fake_hazard",
		Title:      "No fake thing is in the way",
		Collectors: []string{"fake"},
		Metrics:    []string{"officescan_fake_things", hazard.MetricAutoPccProcesses},
		Waivable:   true,
		Why:        "Fake things block upgrades.",
		Reasons: []hazard.Reason{hazard.ReasonCollectorOff, hazard.ReasonCollectorFailed,
			{Name: "fake_things_present", Summary: "fake things are in the way", Action: "Remove the fake things."}},
	}
	table := append(slices.Clone(hazard.Table), fake)
	d := build(t, Options{Hazards: table})
	rows := d.rows(t)
	if len(rows) != len(table)+3 {
		t.Fatalf("%d rows for %d hazards, want one per hazard plus the fleet, the verdict and the exporter", len(rows), len(table))
	}
	for i, h := range table {
		checkHazardRow(t, rows[i+2], h, `job="officescan"`)
	}
	last := rows[len(table)+1]
	if !containsExpr(last.exprs(), `officescan_fake_things{job="officescan", instance=~"$instance"}`) {
		t.Errorf("the new hazard's metric has no panel; queries:\n%s", strings.Join(last.exprs(), "\n"))
	}
	// A metric another row shows too gets its panel again, under a title
	// of its own.
	titles := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type != "row" && titles[p.Title] {
			t.Errorf("two panels titled %q", p.Title)
		}
		titles[p.Title] = true
	}
	if got, ok := d.panel(t, "Active blockers").overrideMapping(t, "Blocker", "fake_things_present"); !ok || got != "fake things are in the way" {
		t.Errorf("the new reason reads %q in Active blockers", got)
	}
	if !strings.Contains(d.panel(t, "Upgrade verdict").Description, fmt.Sprintf("%d hazards", len(table))) {
		t.Errorf("the verdict's description does not count the new hazard")
	}
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			s, err := grafanatest.Substitute(q.Expr)
			if err == nil {
				_, err = grafanatest.ParseExpr(s)
			}
			if err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
			}
		}
	}
	// The table itself is untouched, and so is the default dashboard.
	if len(hazard.Table) != len(table)-1 || strings.Contains(string(committed(t)), fake.Name) {
		t.Error("the fake hazard leaked into hazard.Table or the committed dashboard")
	}
}

// TestIdleLineFromHazardTable: the database's threshold and window are the
// table's, not the dashboard's own.
func TestIdleLineFromHazardTable(t *testing.T) {
	p := loadCommitted(t).panel(t, "DbServer.exe CPU (share of all logical CPUs)")
	steps := p.FieldConfig.Defaults.Thresholds.Steps
	if len(steps) != 2 || steps[1].Value == nil || *steps[1].Value != hazard.IdleRatio {
		t.Errorf("idle line %+v, want one step at hazard.IdleRatio = %g", steps, hazard.IdleRatio)
	}
	window := promDuration(hazard.IdleWindow)
	var exprs []string
	for _, q := range p.Targets {
		exprs = append(exprs, q.Expr)
	}
	for _, want := range []string{
		"rate(officescan_dbserver_cpu_seconds_total{",
		"officescan_dbserver_cpu_utilization_ratio{",
		"offset " + window + ")",
		fmt.Sprintf("* %s)", num(hazard.IdleWindow.Seconds())),
		"/ on (instance, job)\nofficescan_logical_cpus{",
	} {
		if !containsExpr(exprs, want) {
			t.Errorf("the CPU panel has no %q; queries:\n%s", want, strings.Join(exprs, "\n"))
		}
	}
}

// TestNoFactsOfItsOwn: the dashboard's Go source holds no number and no
// hazard, reason, setting or hazard-metric name as a literal: those come
// from package hazard.
func TestNoFactsOfItsOwn(t *testing.T) {
	names := map[string]bool{}
	for _, h := range hazard.Table {
		names[h.Name] = true
		for _, r := range h.Reasons {
			names[r.Name] = true
		}
		for _, m := range h.Metrics {
			names[m] = true
		}
	}
	for _, r := range hazard.ExporterReasons {
		if r.Name != unproven {
			names[r.Name] = true
		}
	}
	for _, s := range hazard.Settings {
		names[s.Name] = true
	}
	names[hazard.MetricCollectorSuccess], names[hazard.MetricHazardWaived], names[hazard.MetricUp] = true, true, true
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok {
				return true
			}
			switch lit.Kind {
			case token.FLOAT:
				t.Errorf("%s: the number %s: thresholds come from package hazard", fset.Position(lit.Pos()), lit.Value)
			case token.STRING:
				if s, err := strconv.Unquote(lit.Value); err == nil && names[s] {
					t.Errorf("%s: %s is written here; take it from package hazard", fset.Position(lit.Pos()), lit.Value)
				}
			}
			return true
		})
	}
}

// TestAgentsNotMonitored: without agent data the agents panels say "agents
// not monitored", never 0 and never green; a real 0 reads 0.
func TestAgentsNotMonitored(t *testing.T) {
	d := loadCommitted(t)
	for title, fallback := range map[string]string{
		"Agents of the server waiting for a restart": "group without () (up{job=\"officescan\", instance=~\"$instance\"}) * -1",
		"Agents waiting for a restart (all servers)": "(absent(officescan:agent_reboot_pending:count) * -1)",
		"Agents reporting":                           "(absent(officescan:agent_reboot_pending:count) * -1)",
	} {
		p := d.panel(t, title)
		if len(p.Targets) != 1 || !strings.HasSuffix(p.Targets[0].Expr, fallback) {
			t.Errorf("%s: query %+v does not end in the stand-in %s", title, p.Targets, fallback)
		}
		if text, color, ok := p.mapped(fmt.Sprint(notMonitored)); !ok || text != "agents not monitored" || color == "green" {
			t.Errorf("%s: %d shows %q in %q, want \"agents not monitored\", not green", title, notMonitored, text, color)
		}
		if text, _, ok := p.mapped("0"); ok {
			t.Errorf("%s: 0 is mapped to %q; it must read as the number", title, text)
		}
		if p.FieldConfig.Defaults.NoValue != "agents not monitored" {
			t.Errorf("%s: no value reads %q", title, p.FieldConfig.Defaults.NoValue)
		}
		if steps := p.FieldConfig.Defaults.Thresholds.Steps; steps[0].Color == "green" {
			t.Errorf("%s: thresholds %+v: a value below 0, or none, would read green", title, steps)
		}
	}
	if !strings.Contains(d.panel(t, "Agents of the server waiting for a restart").Targets[0].Expr, "and on () officescan:agent_reboot_pending:count") {
		t.Error("the per-server agents count is not limited to monitored agents: it would read 0 with no agent data")
	}
}

// TestAgentsTableJoinsInfo: the waiting agents come with the version and
// server of their officescan_agent_info, joined on instance and job.
func TestAgentsTableJoinsInfo(t *testing.T) {
	p := loadCommitted(t).panel(t, "Agents that wait for a restart")
	want := "(officescan_agent_reboot_pending != 0)\n  * on (instance, job) group_left (version, build, server)\n  officescan_agent_info\n"
	if len(p.Targets) != 1 || !strings.Contains(p.Targets[0].Expr, want) {
		t.Errorf("agents table query %+v, want the join %q", p.Targets, want)
	}
	for label, column := range map[string]string{"instance": "Agent", "server": "Server", "version": "Version"} {
		if got := p.renamed(label); got != column {
			t.Errorf("agents table: %s is column %q, want %q", label, got, column)
		}
	}
}

func TestSettingsTablesShowUnknown(t *testing.T) {
	d := loadCommitted(t)
	for _, h := range hazard.Table {
		if len(h.Settings) == 0 {
			continue
		}
		p := d.panel(t, "Console settings: "+strings.Join(h.Settings, ", "))
		for value, want := range map[string]string{"1": "enabled", "0": "disabled", fmt.Sprint(unknownSetting): "unknown"} {
			if text, _, ok := p.mapped(value); !ok || text != want {
				t.Errorf("%s: setting value %s shows %q, want %q", p.Title, value, text, want)
			}
		}
		for _, s := range h.Settings {
			if !strings.Contains(p.Targets[0].Expr, `"setting", "`+s+`"`) {
				t.Errorf("settings query does not make an unknown %s visible:\n%s", s, p.Targets[0].Expr)
			}
		}
	}
}

// TestSelectorsReachEveryQuery: a site's selectors are in every query that
// reads exporter targets or agents; only fleet-wide series go without.
func TestSelectorsReachEveryQuery(t *testing.T) {
	o := Options{Selector: `job="osc_prod", env="prod"`, AgentSelector: `job="osc_agents"`}
	raw, err := JSON(o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `job="officescan"`) {
		t.Error(`the default job="officescan" is left in a dashboard for job="osc_prod"`)
	}
	if _, errs := strictParse(raw); len(errs) > 0 {
		t.Fatalf("strict parse: %v", errs)
	}
	fleet := map[string]bool{recAgentsCount: true, recAgentsWaiting: true, "ALERTS": true}
	agents := map[string]bool{hazard.MetricAgentRebootPending: true, hazard.MetricAgentInfo: true}
	queries, err := grafanatest.Queries(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		e := q.Expr
		s, err := grafanatest.Substitute(e)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := grafanatest.ParseExpr(s)
		if err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
		promql.Inspect(parsed, func(n promql.Node, _ []promql.Node) error {
			vs, ok := n.(*promql.VectorSelector)
			if !ok {
				return nil
			}
			has := map[string]string{}
			for _, m := range vs.LabelMatchers {
				has[m.Name+m.Type.String()] = m.Value
			}
			switch {
			case fleet[vs.Name]:
			case agents[vs.Name]:
				if has["job="] != "osc_agents" {
					t.Errorf("%s lacks the agent selector in\n%s", vs, e)
				}
			default:
				if has["job="] != "osc_prod" || has["env="] != "prod" {
					t.Errorf("%s lacks the target selector in\n%s", vs, e)
				}
			}
			return nil
		})
	}
}

func TestOptionsRejectBadSelectors(t *testing.T) {
	for _, o := range []Options{
		{Selector: `{job="x"}`},
		{Selector: `job=x`},
		{Selector: `up{job="x"}`},
		{Selector: `job="a"} or vector(1) or up{x="y"`},
		{Selector: `job=""`},
		{AgentSelector: `job=agents`},
		{Hazards: []hazard.Hazard{}},
		{Hazards: []hazard.Hazard{hazard.Table[0], hazard.Table[0]}},
	} {
		if _, err := Build(o); err == nil {
			t.Errorf("Build(%+v) accepted it", o)
		}
	}
	if _, err := Build(Options{}); err != nil {
		t.Errorf("the zero Options: %v", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
