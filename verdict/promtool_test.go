//go:build !windows

// The evaluator must give the rules' answer. These tests let the real
// Prometheus decide: for every case and every minute they write what the
// evaluator says (verdict, exact blocker set, each hazard's clear, the
// window alert) as a promtool unit test of the generated rules, and run it
// with Prometheus 3 and 2.x. promtool is a Linux program here, as in alerts'
// own rule tests.

package verdict

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/alerts/scenario"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/promtooltest"
	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"

	"github.com/officescan-exporter/officescan_exporter/internal/promfmt"
)

// promCase is one history to compare: series with points at whole minutes,
// evaluated each minute from 0 to end.
type promCase struct {
	name   string
	series []scenario.Series
	end    int
}

// The promtool unit test file format (internal/promtooltest).
type (
	ptFile   = promtooltest.File
	ptTest   = promtooltest.Group
	ptSeries = promtooltest.Series
	ptExpr   = promtooltest.Expr
	ptSample = promtooltest.Sample
)

// renderRules writes the rules alerts/gen makes today (the working tree's
// generator, not a committed file that may lag behind it).
func renderRules(t *testing.T, dir string, args ...string) string {
	t.Helper()
	path := filepath.Join(dir, "officescan.rules.yml")
	cmd := exec.Command("go", append([]string{"run", "../alerts/gen", "-o", path}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ../alerts/gen: %v\n%s", err, out)
	}
	return path
}

// values writes a series' points in promtool's notation, one token a
// minute, each number exact (promtool's own "a+bxn" adds repeatedly, which
// rounds differently from the scenario parser's a+i*b).
func values(pts []scenario.Point, end int) string {
	tokens := make([]string, end+1)
	for i := range tokens {
		tokens[i] = "_"
	}
	for _, p := range pts {
		i := int(p.At / scenario.Interval)
		if i > end {
			continue
		}
		switch {
		case p.Stale:
			tokens[i] = "stale"
		case math.IsNaN(p.Value):
			tokens[i] = "NaN"
		default:
			tokens[i] = strconv.FormatFloat(p.Value, 'g', -1, 64)
		}
	}
	return strings.Join(tokens, " ")
}

func promLabels(metric string, labels map[string]string) string {
	return metric + promfmt.Labels(labels)
}

func merged(a, b map[string]string) map[string]string {
	out := copyLabels(a)
	for k, v := range b {
		out[k] = v
	}
	return out
}

// expectations are what the evaluator says at minute m, as promtool checks.
func expectations(t *testing.T, h History, m int, o Options) []ptExpr {
	t.Helper()
	at := epoch.Add(time.Duration(m) * time.Minute)
	vs, err := Evaluate(h, at, o)
	if err != nil {
		t.Fatal(err)
	}
	evalTime := fmt.Sprintf("%dm", m)
	safe := ptExpr{Expr: "officescan:upgrade_window_safe", EvalTime: evalTime}
	blockers := ptExpr{Expr: "officescan:upgrade_blocker", EvalTime: evalTime}
	clear := ptExpr{Expr: "officescan:hazard_clear", EvalTime: evalTime}
	window := ptExpr{Expr: fmt.Sprintf(`ALERTS{alertname=%q, alertstate="firing"}`, hazard.WindowOpenAlert), EvalTime: evalTime}
	for _, v := range vs {
		safe.ExpSamples = append(safe.ExpSamples, ptSample{Labels: promLabels("officescan:upgrade_window_safe", v.Target), Value: float64(boolInt(v.Safe))})
		for _, b := range v.Blockers {
			blockers.ExpSamples = append(blockers.ExpSamples, ptSample{Labels: promLabels("officescan:upgrade_blocker", merged(v.Target, b)), Value: 1})
		}
		for _, st := range v.Hazards {
			clear.ExpSamples = append(clear.ExpSamples, ptSample{
				Labels: promLabels("officescan:hazard_clear", merged(v.Target, map[string]string{"hazard": st.Hazard.Name})),
				Value:  float64(boolInt(st.Clear))})
		}
		open, err := WindowOpen(h, at, o, v.Target)
		if err != nil {
			t.Fatal(err)
		}
		if open {
			window.ExpSamples = append(window.ExpSamples, ptSample{
				Labels: promLabels("ALERTS", merged(v.Target, map[string]string{"alertname": hazard.WindowOpenAlert, "alertstate": "firing", "severity": "info"})),
				Value:  1})
		}
	}
	return []ptExpr{safe, blockers, clear, window}
}

// comparePromtool runs every case through each Prometheus line's promtool,
// with the rules alerts/gen writes for genArgs and the evaluator's options
// that say the same.
func comparePromtool(t *testing.T, cases []promCase, o Options, genArgs ...string) {
	t.Helper()
	tools := tooltest.Promtools(t)
	dir := t.TempDir()
	rules := renderRules(t, dir, genArgs...)
	// The files are written first and both lines' promtool run at once:
	// promtool tests its files one after the other on one core, and this
	// comparison is the longest part of the rules' stage.
	lines := []string{"3", "2"}
	files := map[string][]string{}
	for _, line := range lines {
		o.closedLeft = line == "2"
		start := time.Now()
		for _, c := range cases {
			h := historyOf(c.series)
			test := ptTest{Name: c.name, Interval: "1m"}
			for _, s := range c.series {
				test.InputSeries = append(test.InputSeries, ptSeries{Series: promLabels(s.Metric, s.Labels), Values: values(s.Points, c.end)})
			}
			for m := 0; m <= c.end; m++ {
				test.PromQL = append(test.PromQL, expectations(t, h, m, o)...)
			}
			data, err := yaml.Marshal(ptFile{RuleFiles: []string{rules}, EvaluationInterval: "1m", Tests: []ptTest{test}})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprintf("prom%s_%s.yml", line, c.name))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			files[line] = append(files[line], path)
		}
		t.Logf("evaluator, Prometheus %s's ranges: %d cases in %s", line, len(cases), time.Since(start).Round(time.Millisecond))
	}
	type result struct {
		out  []byte
		err  error
		took time.Duration
	}
	results := make([]result, len(lines))
	var wg sync.WaitGroup
	for i, line := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			out, err := exec.Command(tools[line], append([]string{"test", "rules"}, files[line]...)...).CombinedOutput()
			results[i] = result{out, err, time.Since(start)}
		}()
	}
	wg.Wait()
	for i, line := range lines {
		r := results[i]
		t.Logf("Prometheus %s: %d cases in %s", line, len(files[line]), r.took.Round(time.Millisecond))
		if r.err != nil {
			t.Errorf("Prometheus %s disagrees with the evaluator (%v):\n%s", line, r.err, clip(failures(string(r.out)), 12000))
		}
	}
}

// failures keeps promtool's report of the failing files only.
func failures(out string) string {
	var keep []string
	for _, block := range strings.Split(out, "Processing test file: ") {
		if strings.Contains(block, "FAILED") {
			keep = append(keep, block)
		}
	}
	if len(keep) == 0 {
		return out
	}
	return strings.Join(keep, "\n")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n... (clipped)"
}

// TestScenariosAgainstPromtool: every scenario, every minute, not only the
// moments the scenario file checks.
func TestScenariosAgainstPromtool(t *testing.T) {
	if testing.Short() {
		t.Skip("runs promtool")
	}
	var cases []promCase
	for file, scenarios := range scenarioFiles(t) {
		prefix := strings.TrimSuffix(filepath.Base(filepath.Dir(file)), ".") + "_"
		for _, sc := range scenarios {
			series, err := sc.Expand()
			if err != nil {
				t.Fatal(err)
			}
			end := 0
			for _, s := range series {
				for _, p := range s.Points {
					end = max(end, int(p.At/scenario.Interval))
				}
			}
			// Past the data's end, so that the lookback's edge is compared.
			cases = append(cases, promCase{name: prefix + sc.Name, series: series, end: end + 6})
		}
	}
	comparePromtool(t, cases, Options{})
}
