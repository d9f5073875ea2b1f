//go:build !windows

// promtool is a Linux program here; stage 30 runs the other tests under Wine.

package grafana

import (
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/grafana/grafanatest"
	"github.com/officescan-exporter/officescan_exporter/internal/promtooltest"
	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"
)

// A week of synthetic verdicts per minute, 1 or 0, on promtool's clock
// (internal/promtooltest, shared with the rules' history test).
type pattern = promtooltest.Pattern

const week = promtooltest.Week

var at = promtooltest.Clock

// srv1 is safe only on Sundays from 02:00 to 05:00 UTC.
func srv1(t time.Duration) int {
	d, h, _ := at(t)
	if d == time.Sunday && h >= 2 && h < 5 {
		return 1
	}
	return 0
}

// srv2 is safe on Sundays from 02:00 to 02:30, and on Wednesdays from
// 22:00 to 23:00 from its second week on (3 weeks of the 4).
func srv2(t time.Duration) int {
	d, h, w := at(t)
	minute := int(t/time.Minute) % 60
	switch {
	case d == time.Sunday && h == 2 && minute < 30:
		return 1
	case d == time.Wednesday && h == 22 && w >= 1:
		return 1
	}
	return 0
}

// heatmapCells is what a heatmap shows when evaluated at end (a whole
// hour): per local day and hour, the mean over the last historyWeeks weeks
// of the hourly shares averaged over the servers, as a person would count
// it from the patterns.
func heatmapCells(servers []pattern, end time.Duration, offset time.Duration) map[[2]int]float64 {
	sums, counts := map[[2]int]float64{}, map[[2]int]int{}
	for h := end - historyWeeks*week - 2*time.Hour + time.Hour; h <= end-2*time.Hour; h += time.Hour {
		fleet := 0.0
		for _, p := range servers {
			share, _ := promtooltest.HourShare(p, h) // every minute has a verdict
			fleet += share
		}
		d, hr, _ := at(h + offset)
		k := [2]int{int(d), hr}
		sums[k] += fleet / float64(len(servers))
		counts[k]++
	}
	for k := range sums {
		sums[k] /= float64(counts[k])
	}
	return sums
}

func expSamples(cells map[[2]int]float64) []promtooltest.Sample {
	keys := make([][2]int, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]*24+keys[i][1] < keys[j][0]*24+keys[j][1] })
	var out []promtooltest.Sample
	for _, k := range keys {
		out = append(out, promtooltest.Sample{Labels: fmt.Sprintf("{%s=%q, %s=\"%02d\"}", dayLabel, strconv.Itoa(k[0]), hourLabel, k[1]), Value: cells[k]})
	}
	return out
}

// ones lists the cells at 1 as "Sun 02".
func ones(cells map[[2]int]float64) []string {
	var out []string
	for k, v := range cells {
		if v == 1 {
			out = append(out, fmt.Sprintf("%s %02d", time.Weekday(k[0]).String()[:3], k[1]))
		}
	}
	sort.Strings(out)
	return out
}

// historyRulesOnly writes the committed rules' officescan.history group
// alone: promtool then evaluates four weeks of it and nothing else.
func historyRulesOnly(t *testing.T) string {
	t.Helper()
	path, _, err := promtooltest.GroupOnly(filepath.Join(repoRoot, "alerts", "officescan.rules.yml"), "officescan.history", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWindowHeatmapsWithPromtool evaluates both heatmaps' queries, as the
// committed dashboard writes them, with the real promtool of Prometheus
// 2.x and 3.x, on four weeks of synthetic verdicts recorded into hourly
// shares by the committed rules' officescan.history group.
//
// srv1 is safe only on Sundays from 02:00 to 05:00 UTC: its heatmap reads
// 1 in the Sunday 02, 03 and 04 cells and 0 in the other 165; in UTC+1 the
// same hours are Sunday 03 to 05, in UTC-3:30 Saturday 22 to Sunday 00.
// srv2 is safe half of the Sunday 02 hour, and on Wednesdays 22:00 to
// 23:00 in three weeks of the four: the fleet reads 0.75 for Sunday 02, 0.5
// for Sunday 03 and 04, 0.375 for Wednesday 22.
//
// The rules are evaluated every hour on the hour (a group whose offset in
// the hour is 0, the edge case of the readers' [1h] offset 1ms) and every
// 7 minutes (offsets all over the hour). A query that labels each share
// with the hour it was read in, one hour late, fails the same checks.
func TestWindowHeatmapsWithPromtool(t *testing.T) {
	d := loadCommitted(t)
	var fleetExpr, serverExpr string
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			if strings.Contains(q.Expr, recSafeHourly) {
				if strings.Contains(q.Expr, "$"+instanceVar) {
					serverExpr = q.Expr
				} else {
					fleetExpr = q.Expr
				}
			}
		}
	}
	if fleetExpr == "" || serverExpr == "" {
		t.Fatalf("the dashboard lacks a heatmap: fleet %q, server %q", fleetExpr, serverExpr)
	}
	end := historyWeeks*week + 3*time.Hour
	servers := []pattern{srv1, srv2}
	g := promtooltest.Group{Name: "four_weeks", Interval: "1m"}
	for i, p := range servers {
		g.InputSeries = append(g.InputSeries, promtooltest.Series{
			Series: fmt.Sprintf(`%s{instance="srv%d:9745", job="officescan"}`, recSafe, i+1),
			Values: promtooltest.Values(p, end),
		})
	}
	type check struct {
		name, expr string
		values     map[string]string
		servers    []pattern
		offset     time.Duration
		ones       []string
	}
	checks := []check{
		{"srv1 in UTC", serverExpr, map[string]string{instanceVar: "srv1:9745", utcOffsetVar: "0"}, []pattern{srv1}, 0, []string{"Sun 02", "Sun 03", "Sun 04"}},
		{"srv1 in UTC+1", serverExpr, map[string]string{instanceVar: "srv1:9745", utcOffsetVar: "60"}, []pattern{srv1}, time.Hour, []string{"Sun 03", "Sun 04", "Sun 05"}},
		{"srv1 in UTC-3:30", serverExpr, map[string]string{instanceVar: "srv1:9745", utcOffsetVar: "-210"}, []pattern{srv1}, -210 * time.Minute, []string{"Sat 22", "Sat 23", "Sun 00"}},
		{"fleet in UTC", fleetExpr, map[string]string{utcOffsetVar: "0"}, servers, 0, nil},
		{"both picked", serverExpr, map[string]string{instanceVar: "srv.*", utcOffsetVar: "0"}, servers, 0, nil},
	}
	for _, c := range checks {
		values := maps.Clone(grafanatest.TemplateValues)
		maps.Copy(values, c.values)
		expr, err := grafanatest.SubstituteWith(c.expr, values)
		if err != nil {
			t.Fatal(err)
		}
		cells := heatmapCells(c.servers, end, c.offset)
		if len(cells) != 7*24 {
			t.Fatalf("%s: %d cells expected, want 168", c.name, len(cells))
		}
		if got := ones(cells); c.ones != nil && !slicesEqual(got, c.ones) {
			t.Fatalf("%s: the expectation itself has %v at 1, want %v", c.name, got, c.ones)
		}
		g.PromQL = append(g.PromQL, promtooltest.Expr{Expr: expr, EvalTime: promDuration(end), ExpSamples: expSamples(cells)})
	}
	fleet := heatmapCells(servers, end, 0)
	for cell, want := range map[[2]int]float64{{0, 2}: 0.75, {0, 3}: 0.5, {0, 4}: 0.5, {3, 22}: 0.375, {1, 2}: 0} {
		if fleet[cell] != want {
			t.Fatalf("the fleet's expected cell %v is %v, want %v", cell, fleet[cell], want)
		}
	}
	rules := historyRulesOnly(t)
	for _, every := range []string{"1h", "7m"} {
		path := writePromtoolTest(t, rules, every, g)
		for line, promtool := range tooltest.Promtools(t) {
			t.Run(fmt.Sprintf("rules_every_%s/prometheus_%s", every, line), func(t *testing.T) {
				out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
				if err != nil {
					t.Errorf("promtool %s test rules: %v\n%.4000s", line, err, out)
				}
			})
		}
	}

	// The same checks fail for a query that labels each share with the
	// hour it was read in rather than the hour it describes: so they tell
	// hours apart.
	shifted := g
	shifted.PromQL = nil
	for _, q := range g.PromQL {
		q.Expr = strings.Replace(q.Expr, fmt.Sprintf("time() - %d", seconds(2*time.Hour)), fmt.Sprintf("time() - %d", seconds(time.Hour)), 2)
		shifted.PromQL = append(shifted.PromQL, q)
	}
	if shifted.PromQL[0].Expr == g.PromQL[0].Expr {
		t.Fatal("the shifted query is the query")
	}
	path := writePromtoolTest(t, rules, "1h", shifted)
	for line, promtool := range tooltest.Promtools(t) {
		out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "got:") {
			t.Errorf("promtool %s: the query shifted by an hour is not caught (%v):\n%.2000s", line, err, out)
		}
	}
}

func writePromtoolTest(t *testing.T, rules, every string, g promtooltest.Group) string {
	t.Helper()
	path, err := promtooltest.Write(promtooltest.File{RuleFiles: []string{rules}, EvaluationInterval: every, Tests: []promtooltest.Group{g}}, t.TempDir(), "heatmap.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
