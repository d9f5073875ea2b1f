package grafana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
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
	want, err := JSON()
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
	built, err := Build()
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
	} `json:"fieldConfig"`
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
	var d jsonDashboard
	if err := json.Unmarshal(committed(t), &d); err != nil {
		t.Fatalf("decoding %s: %v", FileName, err)
	}
	return d
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
	if len(d.Templating.List) != 2 {
		t.Fatalf("got %d variables, want datasource and instance", len(d.Templating.List))
	}
	ds, inst := d.Templating.List[0], d.Templating.List[1]
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
		t.Errorf("verdict thresholds %+v: anything below 1 must be red", steps)
	}
	if strings.Contains(strings.ToUpper(p.FieldConfig.Defaults.NoValue), "SAFE") {
		t.Errorf("no data reads %q: an unknown verdict must never read safe", p.FieldConfig.Defaults.NoValue)
	}
	if len(p.Targets) != 1 || !strings.HasPrefix(p.Targets[0].Expr, "officescan:upgrade_window_safe{") {
		t.Errorf("verdict queries %+v, want officescan:upgrade_window_safe", p.Targets)
	}
}

// TestAgentsNotMonitoredIsHonest: "not monitored" stands only for the
// placeholder the query adds when the rules' sum is absent; a real 0 reads 0.
func TestAgentsNotMonitoredIsHonest(t *testing.T) {
	p := loadCommitted(t).panel(t, "Agents waiting for a restart")
	wantExpr := fmt.Sprintf("%s or vector(%d)", agentsRebootPending, notMonitored)
	if len(p.Targets) != 1 || p.Targets[0].Expr != wantExpr {
		t.Fatalf("agents query %+v, want %q", p.Targets, wantExpr)
	}
	if text, _, ok := p.mapped(fmt.Sprint(notMonitored)); !ok || text != "not monitored" {
		t.Errorf("%d shows %q, want \"not monitored\"", notMonitored, text)
	}
	if text, _, ok := p.mapped("0"); ok {
		t.Errorf("0 waiting agents is mapped to %q; it must read as the number", text)
	}
}

func TestSettingsTableShowsUnknown(t *testing.T) {
	p := loadCommitted(t).panel(t, "Console settings")
	for value, want := range map[string]string{"1": "enabled", "0": "disabled", fmt.Sprint(unknownSetting): "unknown"} {
		if text, _, ok := p.mapped(value); !ok || text != want {
			t.Errorf("setting value %s shows %q, want %q", value, text, want)
		}
	}
	for _, s := range consoleSettings {
		if !strings.Contains(p.Targets[0].Expr, `"setting", "`+s+`"`) {
			t.Errorf("settings query does not make an unknown %s visible:\n%s", s, p.Targets[0].Expr)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
