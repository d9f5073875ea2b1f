//go:build !windows

// promtool is a Linux program here, as in the other rule tests.

package alerts_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/internal/promtooltest"
	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"
)

const (
	historyGroup  = "officescan.history"
	hourlyShare   = "officescan:upgrade_window_safe:avg1h"
	verdictSeries = "officescan:upgrade_window_safe"
)

// A week of synthetic verdicts (internal/promtooltest, shared with the
// dashboard's heatmap test).
type weeklyPattern = promtooltest.Pattern

// clockOf returns the weekday and hour of promtool's time t.
func clockOf(t time.Duration) (time.Weekday, int) {
	day, hour, _ := promtooltest.Clock(t)
	return day, hour
}

// sundayNight is safe only on Sundays from 02:00 to 05:00 UTC.
func sundayNight(t time.Duration) int {
	day, hour := clockOf(t)
	if day == time.Sunday && hour >= 2 && hour < 5 {
		return 1
	}
	return 0
}

// mixedWeek is safe on Mondays from 09:30 to 10:00 (half of the 09 hour),
// and on Tuesdays from 12:30 to 13:00 after half an hour without any
// verdict (Prometheus down): the hour's share is over the verdicts present.
func mixedWeek(t time.Duration) int {
	day, hour := clockOf(t)
	minute := int(t/time.Minute) % 60
	switch {
	case day == time.Monday && hour == 9 && minute >= 30:
		return 1
	case day == time.Tuesday && hour == 12 && minute < 30:
		return promtooltest.NoSample
	case day == time.Tuesday && hour == 12:
		return 1
	}
	return 0
}

// groupOnly writes the committed rules file's group called name alone, so
// that promtool evaluates a week of minutes of it and nothing else.
func groupOnly(t *testing.T, name string) (path string, interval string) {
	t.Helper()
	path, interval, err := promtooltest.GroupOnly("officescan.rules.yml", name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return path, interval
}

// TestHourlyShareIsPerClockHour runs the committed officescan.history
// group with the real promtool of Prometheus 2.x and 3.x over a week and an
// hour of synthetic verdicts, minute by minute, and checks every clock hour
// of the week, read at its start, 17 minutes and 59 minutes in (the group
// runs at an offset within the hour that depends on its name and file).
// srv1 is safe only on Sundays from 02:00 to 05:00 UTC: its Sunday 02, 03
// and 04 hours read 1 and every other hour 0. srv2 reads 0.5 for Monday
// 09 (safe from 09:30) and 1 for Tuesday 12 (no verdict until 12:30, then
// safe).
func TestHourlyShareIsPerClockHour(t *testing.T) {
	rules, interval := groupOnly(t, historyGroup)
	if interval != "1h" {
		t.Errorf("%s runs every %q, want 1h: one sample per target and clock hour", historyGroup, interval)
	}
	const week = promtooltest.Week
	end := week + 2*time.Hour
	servers := []struct {
		instance string
		pattern  weeklyPattern
	}{{"srv1:9745", sundayNight}, {"srv2:9745", mixedWeek}}
	g := ruleTestG{Name: "hourly_share_of_a_week", Interval: "1m"}
	for _, s := range servers {
		g.InputSeries = append(g.InputSeries, inputSeries{
			Series: fmt.Sprintf("%s{%s}", verdictSeries, targetLabels(s.instance)),
			Values: promtooltest.Values(s.pattern, end),
		})
	}
	ones := map[string]bool{}
	for h := time.Duration(0); h < week; h += time.Hour {
		var exp []expSample
		for _, s := range servers {
			share, ok := promtooltest.HourShare(s.pattern, h)
			if !ok {
				continue
			}
			exp = append(exp, expSample{Labels: fmt.Sprintf("%s{%s}", hourlyShare, targetLabels(s.instance)), Value: share})
			if day, hour := clockOf(h); s.instance == "srv1:9745" && share == 1 {
				ones[fmt.Sprintf("%s %02d", day, hour)] = true
			}
		}
		for _, after := range []time.Duration{0, 17 * time.Minute, 59 * time.Minute} {
			g.PromQL = append(g.PromQL, promqlTest{Expr: hourlyShare, EvalTime: alerts.Duration(h + time.Hour + after), ExpSamples: exp})
		}
	}
	// The table of expectations itself: the three Sunday hours, no other.
	if len(ones) != 3 || !ones["Sunday 02"] || !ones["Sunday 03"] || !ones["Sunday 04"] {
		t.Fatalf("srv1's expected hours at 1: %v, want Sunday 02, 03 and 04", ones)
	}
	// Before the first whole hour there is nothing to record.
	g.PromQL = append(g.PromQL, promqlTest{Expr: hourlyShare, EvalTime: "59m"})
	runPromtoolTests(t, rules, g)
}

// TestHourlyShareTestCanFail: the same week against a rule that averages
// the last hour as it stands at the group's evaluation (the obvious
// avg_over_time(...[1h]) of a group that runs at 30 minutes past) does not
// pass: so the test above tells clock hours apart.
func TestHourlyShareTestCanFail(t *testing.T) {
	naive := fmt.Sprintf("groups:\n  - name: %s\n    interval: 1h\n    rules:\n      - record: %s\n        expr: avg_over_time(%s[1h])\n",
		historyGroup, hourlyShare, verdictSeries)
	rules := filepath.Join(t.TempDir(), "naive.rules.yml")
	if err := os.WriteFile(rules, []byte(naive), 0o644); err != nil {
		t.Fatal(err)
	}
	g := ruleTestG{Name: "naive", Interval: "1m", InputSeries: []inputSeries{{
		Series: fmt.Sprintf("%s{%s}", verdictSeries, targetLabels("srv1:9745")),
		Values: promtooltest.Values(sundayNight, 80*time.Hour),
	}}}
	// Sunday 02:00 is 74h. At 02:30 the last whole clock hour, 01, was
	// never safe; the naive rule averages 01:30 to 02:30, half safe.
	g.PromQL = []promqlTest{{Expr: hourlyShare, EvalTime: "74h30m",
		ExpSamples: []expSample{{Labels: fmt.Sprintf("%s{%s}", hourlyShare, targetLabels("srv1:9745")), Value: 0}}}}
	for line, promtool := range tooltest.Promtools(t) {
		out, err := exec.Command(promtool, "test", "rules", writeRuleTest(t, rules, g)).CombinedOutput()
		switch {
		case err == nil:
			t.Errorf("promtool %s: the naive hourly average passed the clock-hour test:\n%s", line, out)
		case !strings.Contains(string(out), "got:"):
			t.Errorf("promtool %s failed for another reason than the value:\n%s", line, out)
		default:
			t.Logf("promtool %s rejects the naive rule, as it should:\n%.600s", line, out)
		}
	}
}

func writeRuleTest(t *testing.T, rules string, g ruleTestG) string {
	t.Helper()
	path, err := promtooltest.Write(ruleTestFile{RuleFiles: []string{rules}, EvaluationInterval: "1m", Tests: []ruleTestG{g}}, t.TempDir(), "history.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func runPromtoolTests(t *testing.T, rules string, g ruleTestG) {
	t.Helper()
	path := writeRuleTest(t, rules, g)
	for line, promtool := range tooltest.Promtools(t) {
		t.Run("prometheus_"+line, func(t *testing.T) {
			out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
			if err != nil {
				t.Errorf("promtool %s test rules: %v\n%.3000s", line, err, out)
			}
		})
	}
}
