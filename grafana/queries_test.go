package grafana

import (
	"maps"
	"slices"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/grafana/grafanatest"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// repoRoot is the module root as seen from this package's tests.
const repoRoot = ".."

// The dashboard's queries are read with grafanatest, which the live test in
// e2e/dashboard shares; the wrappers below fail the test on its errors.

// dashboardQueries lists every PromQL expression in the committed file.
func dashboardQueries(t *testing.T) []grafanatest.Query {
	t.Helper()
	qs, err := grafanatest.Queries(committed(t))
	if err != nil {
		t.Fatalf("%s: %v", FileName, err)
	}
	return qs
}

// loadRules reads every alerts/*.rules.yml.
func loadRules(t *testing.T) (files []string, rules []grafanatest.RuleFile) {
	t.Helper()
	files, rules, err := grafanatest.LoadRules(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return files, rules
}

// recordedNames lists the metric names the rule files record.
func recordedNames(t *testing.T) map[string]bool {
	t.Helper()
	names, err := grafanatest.RecordedNames(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// exporterSourceNames lists the metric names the exporter's Go source
// defines, and the definitions whose name is not constant.
func exporterSourceNames(t *testing.T) (names map[string]string, unresolved []string) {
	t.Helper()
	names, unresolved, err := grafanatest.ExporterSourceNames(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return names, unresolved
}

// TestGrafanatestSpellsTheDashboardsNames: grafanatest spells the
// dashboard's variable names and its "agents not monitored" stand-in itself
// (it cannot import this package), so a change here must show here, not only
// as an unknown variable in every query or a failing live test.
func TestGrafanatestSpellsTheDashboardsNames(t *testing.T) {
	for _, name := range []string{instanceVar, datasourceVar, utcOffsetVar} {
		if _, ok := grafanatest.TemplateValues[name]; !ok {
			t.Errorf("grafanatest.TemplateValues has no value for the dashboard's variable %q", name)
		}
	}
	if grafanatest.NotMonitored != notMonitored {
		t.Errorf("grafanatest.NotMonitored is %d, the dashboard's stand-in %d", grafanatest.NotMonitored, notMonitored)
	}
}

func TestEveryQueryParses(t *testing.T) {
	for _, q := range dashboardQueries(t) {
		s, err := grafanatest.Substitute(q.Expr)
		if err != nil {
			t.Errorf("%s: %v", q.Where, err)
			continue
		}
		if _, err := grafanatest.ParseExpr(s); err != nil {
			t.Errorf("%s does not parse as PromQL: %v\n%s", q.Where, err, s)
		}
	}
}

// TestSubstituteRejectsUnknownVariables keeps the check above honest: a
// variable the test does not know must fail, not pass through.
func TestSubstituteRejectsUnknownVariables(t *testing.T) {
	if _, err := grafanatest.Substitute(`up{instance=~"$server"}`); err == nil {
		t.Error("an unknown $server was accepted")
	}
	got, err := grafanatest.Substitute(`rate(x{instance=~"${instance}"}[$__rate_interval])`)
	if err != nil || got != `rate(x{instance=~".*"}[1m])` {
		t.Errorf("substitute = %q, %v", got, err)
	}
}

func TestQueriesNameOnlyDefinedMetrics(t *testing.T) {
	recorded := recordedNames(t)
	exported, unresolved := exporterSourceNames(t)
	for _, u := range unresolved {
		t.Logf("metric definition with a non-constant name, not checked: %s", u)
	}
	used := map[string]bool{}
	for _, q := range dashboardQueries(t) {
		s, err := grafanatest.Substitute(q.Expr)
		if err != nil {
			t.Fatalf("%s: %v", q.Where, err)
		}
		expr, err := grafanatest.ParseExpr(s)
		if err != nil {
			t.Fatalf("%s: %v", q.Where, err)
		}
		for _, name := range grafanatest.MetricNames(expr) {
			used[name] = true
			if _, ok := exported[name]; !ok && !recorded[name] && !grafanatest.PrometheusNames[name] {
				t.Errorf("%s reads %s, which neither the exporter (%d metrics found in its source) nor alerts/*.rules.yml defines", q.Where, name, len(exported))
			}
		}
	}
	t.Logf("the dashboard reads %d metrics: %v", len(used), slices.Sorted(maps.Keys(used)))
}

// TestSourceScanFindsDefinitions checks the scan above against the
// definitions it must see, so that a broken scan cannot pass everything.
func TestSourceScanFindsDefinitions(t *testing.T) {
	exported, _ := exporterSourceNames(t)
	for _, name := range []string{"officescan_dbserver_cpu_utilization_ratio", "officescan_scrape_collector_success", "officescan_exporter_build_info"} {
		if _, ok := exported[name]; !ok {
			t.Errorf("the source scan missed %s; it found %v", name, slices.Sorted(maps.Keys(exported)))
		}
	}
}

// TestBlockerReasonsExplained: every reason the rules record reads, in the
// Active blockers table, in the table of hazards' words, and the table
// explains no reason the rules never record.
func TestBlockerReasonsExplained(t *testing.T) {
	files, rules := loadRules(t)
	reasons := map[string]bool{}
	for _, rf := range rules {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record == recBlocker {
					reasons[r.Labels["reason"]] = true
				}
			}
		}
	}
	if len(reasons) == 0 {
		t.Fatalf("%v record no %s", files, recBlocker)
	}
	words := map[string]hazard.Reason{}
	for _, r := range hazard.ExporterReasons {
		words[r.Name] = r
	}
	for _, h := range hazard.Table {
		for _, r := range h.Reasons {
			words[r.Name] = r
		}
	}
	p := loadCommitted(t).panel(t, "Active blockers")
	for r := range reasons {
		w, ok := words[r]
		if !ok {
			t.Errorf("%v record the blocker reason %q, which the table of hazards does not word", files, r)
			continue
		}
		if got, ok := p.overrideMapping(t, "Blocker", r); !ok || got != w.Summary {
			t.Errorf("Active blockers: %s reads %q, want %q", r, got, w.Summary)
		}
		if got, ok := p.overrideMapping(t, "What to do", r); !ok || got != w.Action {
			t.Errorf("Active blockers: %s's action reads %q, want %q", r, got, w.Action)
		}
	}
	for r := range words {
		if !reasons[r] {
			t.Errorf("the table words reason %q, which no rule in %v records", r, files)
		}
	}
}

// TestRecordedSeriesExist: the series the dashboard reads by name are
// recorded by alerts/*.rules.yml.
func TestRecordedSeriesExist(t *testing.T) {
	recorded := recordedNames(t)
	for _, name := range []string{recSafe, recClear, recBlocker, recWaitingTarget, recAgentsCount, recAgentsWaiting} {
		if !recorded[name] {
			t.Errorf("alerts/*.rules.yml record no %s", name)
		}
	}
}
