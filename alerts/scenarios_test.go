//go:build !windows

// The rules are the same whatever OS the exporter runs on, and these tests
// run promtool, a Linux program here; stage 30 builds every other package's
// tests for Windows and runs them under Wine.

package alerts_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/alerts/scenario"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/promtooltest"
	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"
)

// promtool's unit-test file format (internal/promtooltest), by the names
// these tests use.
type (
	ruleTestFile = promtooltest.File
	ruleTestG    = promtooltest.Group
	inputSeries  = promtooltest.Series
	promqlTest   = promtooltest.Expr
	expSample    = promtooltest.Sample
	alertTest    = promtooltest.AlertTest
	expAlert     = promtooltest.ExpAlert
)

// windowOpenAnnotations are the alert's annotations as the committed rules
// write them, expanded for a target.
func windowOpenAnnotations(t *testing.T, instance string) map[string]string {
	t.Helper()
	data, err := os.ReadFile("officescan.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range parseRules(t, data).Groups {
		for _, r := range g.Rules {
			if r.Alert == hazard.WindowOpenAlert {
				out := map[string]string{}
				for k, v := range r.Annot {
					out[k] = strings.ReplaceAll(v, "{{ $labels.instance }}", instance)
				}
				return out
			}
		}
	}
	t.Fatalf("no %s alert in the rules", hazard.WindowOpenAlert)
	return nil
}

func targetLabels(instance string) string {
	return fmt.Sprintf("instance=%q, job=%q", instance, scenario.Job)
}

// promtoolValues writes the points one by one, so that both promtool lines
// read the same samples whatever shorthand each of them accepts.
func promtoolValues(points []scenario.Point) string {
	var parts []string
	next := time.Duration(0)
	for _, p := range points {
		for ; next < p.At; next += scenario.Interval {
			parts = append(parts, "_")
		}
		switch {
		case p.Stale:
			parts = append(parts, "stale")
		default:
			parts = append(parts, strconv.FormatFloat(p.Value, 'g', -1, 64))
		}
		next += scenario.Interval
	}
	return strings.Join(parts, " ")
}

// scenarioTest turns one scenario into a promtool test group.
func scenarioTest(t *testing.T, sc scenario.Scenario) ruleTestG {
	series, err := sc.Expand()
	if err != nil {
		t.Fatal(err)
	}
	g := ruleTestG{Name: sc.Name, Interval: "1m"}
	for _, s := range series {
		g.InputSeries = append(g.InputSeries, inputSeries{Series: s.Selector(), Values: promtoolValues(s.Points)})
	}
	for _, e := range sc.Expect {
		target := targetLabels(e.Target())
		sel := fmt.Sprintf("{instance=%q}", e.Target())
		g.PromQL = append(g.PromQL, promqlTest{
			Expr: "officescan:upgrade_window_safe" + sel, EvalTime: e.At,
			ExpSamples: []expSample{{Labels: "officescan:upgrade_window_safe{" + target + "}", Value: float64(e.Safe)}},
		})
		if e.Blockers != nil {
			var exp []expSample
			for _, b := range e.Blockers {
				labels := target
				keys := make([]string, 0, len(b))
				for k := range b {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					labels += fmt.Sprintf(", %s=%q", k, b[k])
				}
				exp = append(exp, expSample{Labels: "officescan:upgrade_blocker{" + labels + "}", Value: 1})
			}
			g.PromQL = append(g.PromQL, promqlTest{Expr: "officescan:upgrade_blocker" + sel, EvalTime: e.At, ExpSamples: exp})
		}
		if e.WindowOpen != nil {
			at := alertTest{EvalTime: e.At, Alertname: hazard.WindowOpenAlert}
			if *e.WindowOpen {
				at.ExpAlerts = []expAlert{{
					Labels:      map[string]string{"instance": e.Target(), "job": scenario.Job, "severity": "info"},
					Annotations: windowOpenAnnotations(t, e.Target()),
				}}
			}
			g.Alerts = append(g.Alerts, at)
		}
	}
	return g
}

// TestScenariosAgainstRules runs every scenario of scenarios.yaml through
// the real promtool of Prometheus 2.x and 3.x against the committed rules.
func TestScenariosAgainstRules(t *testing.T) {
	rules, err := filepath.Abs("officescan.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	scenarios, err := scenario.Load("scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(scenarios) < 30 {
		t.Fatalf("only %d scenarios; the table shrank", len(scenarios))
	}
	f := ruleTestFile{RuleFiles: []string{rules}, EvaluationInterval: "1m"}
	for _, sc := range scenarios {
		f.Tests = append(f.Tests, scenarioTest(t, sc))
	}
	data, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "scenarios.test.yml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for line, promtool := range tooltest.Promtools(t) {
		t.Run("prometheus_"+line, func(t *testing.T) {
			out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
			if err != nil {
				t.Errorf("promtool %s test rules: %v\n%s", line, err, out)
			}
		})
	}
}

// TestScenariosCoverEveryReason keeps the table and the rules in step: every
// reason the rules can record appears in some scenario, and no scenario
// expects a reason the rules never record.
func TestScenariosCoverEveryReason(t *testing.T) {
	data, err := os.ReadFile("officescan.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	inRules := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+reason: "(\S+)"$`).FindAllStringSubmatch(string(data), -1) {
		inRules[m[1]] = true
	}
	scenarios, err := scenario.Load("scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	for _, sc := range scenarios {
		for _, e := range sc.Expect {
			for _, b := range e.Blockers {
				inTable[b["reason"]] = true
			}
		}
	}
	// hazard_unproven is the rules' safety net for a cause no rule names; a
	// scenario that reached it would be a missing rule.
	delete(inRules, "hazard_unproven")
	for r := range inRules {
		if !inTable[r] {
			t.Errorf("reason %q is recorded by the rules but no scenario expects it", r)
		}
	}
	for r := range inTable {
		if !inRules[r] {
			t.Errorf("reason %q is expected by a scenario but the rules never record it", r)
		}
	}
	if len(inRules) < 12 {
		t.Fatalf("found only %d reasons in the rules file: %v", len(inRules), inRules)
	}
}

func TestParseScenariosRejectsBadTables(t *testing.T) {
	const ok = "scenarios:\n- name: a\n  series: {up: 1x3}\n  expect: [{at: 1m, safe: 0}]\n"
	if _, err := scenario.Parse("x.yaml", []byte(ok)); err != nil {
		t.Fatalf("a good table is refused: %v", err)
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":     {"scenarios:\n- name: a\n  inputs: {}\n", "field inputs not found"},
		"no series":       {"scenarios:\n- name: a\n  expect: [{at: 1m, safe: 0}]\n", "no series"},
		"bad values":      {"scenarios:\n- name: a\n  series: {up: 1y3}\n  expect: [{at: 1m, safe: 0}]\n", `value "1y3"`},
		"bad selector":    {"scenarios:\n- name: a\n  series: {'up{job=x}': 1}\n  expect: [{at: 1m, safe: 0}]\n", `label "job=x"`},
		"instance no job": {"scenarios:\n- name: a\n  series: {'up{instance=\"x\"}': 1}\n  expect: [{at: 1m, safe: 0}]\n", "instance without a job"},
		"bad time":        {"scenarios:\n- name: a\n  series: {up: 1}\n  expect: [{at: 90s, safe: 0}]\n", "whole minutes"},
		"safe blockers":   {"scenarios:\n- name: a\n  series: {up: 1}\n  expect: [{at: 1m, safe: 1, blockers: [{hazard: a, reason: b}]}]\n", "safe is 1 but blockers"},
		"blocker labels":  {"scenarios:\n- name: a\n  series: {up: 1}\n  expect: [{at: 1m, safe: 0, blockers: [{reason: b}]}]\n", "needs hazard and reason"},
		"duplicate names": {ok + "- name: a\n  series: {up: 1}\n  expect: [{at: 1m, safe: 0}]\n", "used twice"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := scenario.Parse("x.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestScenarioValuesNotation pins the promtool notation the Go side expands.
func TestScenarioValuesNotation(t *testing.T) {
	pts, err := scenario.ParseValues("1x2 _x2 stale 5-1x1 NaN")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pts {
		v := fmt.Sprint(p.Value)
		if p.Stale {
			v = "stale"
		}
		got = append(got, fmt.Sprintf("%s=%s", p.At, v))
	}
	want := "0s=1 1m0s=1 2m0s=1 5m0s=stale 6m0s=5 7m0s=4 8m0s=NaN"
	if strings.Join(got, " ") != want {
		t.Fatalf("expanded to %s, want %s", strings.Join(got, " "), want)
	}
}
