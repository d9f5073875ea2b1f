package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/officescan-exporter/officescan_exporter/config"
)

// gauges emits each name=value as an unlabelled gauge; a name containing
// "{k=v}" gets that one label.
func gauges(values map[string]float64) fn {
	return func(_ context.Context, ch chan<- prometheus.Metric) error {
		for name, v := range values {
			var labels, lvals []string
			if base, rest, ok := strings.Cut(name, "{"); ok {
				k, val, _ := strings.Cut(strings.TrimSuffix(rest, "}"), "=")
				name, labels, lvals = base, []string{k}, []string{val}
			}
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, "test", labels, nil), prometheus.GaugeValue, v, lvals...)
		}
		return nil
	}
}

func failWith(msg string) fn {
	return func(context.Context, chan<- prometheus.Metric) error { return errors.New(msg) }
}

// sequence answers with the next collector on each call, then keeps the last.
func sequence(steps ...fn) fn {
	var n atomic.Int64
	return func(ctx context.Context, ch chan<- prometheus.Metric) error {
		i := min(int(n.Add(1))-1, len(steps)-1)
		return steps[i](ctx, ch)
	}
}

func build(specs ...Spec) *Scraper {
	return NewRegistry(specs...).Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{Timeout: time.Second})
}

var idleDB = gauges(map[string]float64{metricDBProcesses: 1, metricDBUtilization: 0.001})

func stateOf(t *testing.T, v Verdict, name string) Check {
	t.Helper()
	for _, c := range v.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, v.Checks)
	return Check{}
}

func TestEvaluateScrapeCarriesCollectorErrorsAsEvidence(t *testing.T) {
	s := build(
		spec("dbserver", true, idleDB),
		spec("autopcc", true, gauges(map[string]float64{metricAutoPccProcesses: 0})),
		spec("settings", true, failWith(`reading /srv/PCCSRV/Ofcscan.ini: no such file or directory`)),
	)
	v := EvaluateScrape(context.Background(), s, EvaluateOptions{DatabaseWindow: 10 * time.Second})
	if v.Outcome != OutcomeUnknown || v.Safe || v.Outcome.ExitCode() != 2 {
		t.Fatalf("outcome %q safe=%v, want unknown (exit 2): a failing collector never reads as safe", v.Outcome, v.Safe)
	}
	for _, name := range []string{"firewall", "firewall_driver_update_after_reboot", "kernel_driver_restart_notification"} {
		c := stateOf(t, v, name)
		if c.State != StateUnknown || !strings.Contains(c.Evidence, "Ofcscan.ini: no such file") || c.Blocker["reason"] != "collector_failed" {
			t.Errorf("%s: %+v; want unknown with the collector's error as evidence", name, c)
		}
	}
	if c := stateOf(t, v, "AutoPcc"); c.State != StateClear {
		t.Errorf("AutoPcc %+v, want clear", c)
	}
	if c := stateOf(t, v, "DbServer"); c.State != StateClear || !strings.Contains(c.Evidence, "0.10 %") || !strings.Contains(c.Evidence, "last 10s") {
		t.Errorf("DbServer %+v, want clear with its CPU share and window", c)
	}
}

func TestBlockedWinsOverUnknown(t *testing.T) {
	s := build(
		spec("autopcc", true, gauges(map[string]float64{metricAutoPccProcesses: 2})),
		spec("settings", true, failWith("broken")),
	)
	v := EvaluateScrape(context.Background(), s, EvaluateOptions{})
	if v.Outcome != OutcomeBlocked || v.Outcome.ExitCode() != 1 {
		t.Fatalf("outcome %q, want blocked: a certain blocker is the stronger answer", v.Outcome)
	}
	if c := stateOf(t, v, "AutoPcc"); !strings.Contains(c.Evidence, "2 processes named AutoPcc.exe") {
		t.Errorf("evidence %q does not name the processes", c.Evidence)
	}
}

func TestNothingCheckedIsNotSafe(t *testing.T) {
	v := EvaluateScrape(context.Background(), build(spec("autopcc", false, idleDB)), EvaluateOptions{})
	if v.Outcome != OutcomeUnknown {
		t.Fatalf("every collector off: outcome %q, want unknown", v.Outcome)
	}
}

func TestUnknownCollectorFailureBlocks(t *testing.T) {
	s := build(spec("autopcc", true, gauges(map[string]float64{metricAutoPccProcesses: 0})), spec("future", true, failWith("nope")))
	v := EvaluateScrape(context.Background(), s, EvaluateOptions{})
	if c := stateOf(t, v, "collector future"); c.State != StateUnknown || !strings.Contains(c.Evidence, "nope") || v.Safe {
		t.Fatalf("failing collector outside the hazards: %+v, verdict %q; want unknown", c, v.Outcome)
	}
}

func TestSettingEvidenceSaysWhereItIsRead(t *testing.T) {
	s := build(spec("settings", true, gauges(map[string]float64{
		metricSettingEnabled + "{setting=firewall}":                            1,
		metricSettingEnabled + "{setting=firewall_driver_update_after_reboot}": 0,
	})))
	v := EvaluateScrape(context.Background(), s, EvaluateOptions{
		ServerDir: "/srv/PCCSRV",
		Settings: map[string]config.Setting{
			"firewall_driver_update_after_reboot": {File: "Ofcscan.ini", Section: "Global Setting", Key: "FwDrvLater", Source: "/etc/ose.yml:7"},
			"kernel_driver_restart_notification":  {File: `C:\PCCSRV\x.ini`, Section: "S", Key: "K"},
		},
	})
	c := stateOf(t, v, "firewall_driver_update_after_reboot")
	for _, want := range []string{"disabled", filepath.Join("/srv/PCCSRV", "Ofcscan.ini"), "[Global Setting]", "FwDrvLater", "/etc/ose.yml:7", "the firewall is on"} {
		if !strings.Contains(c.Evidence, want) {
			t.Errorf("evidence %q lacks %q", c.Evidence, want)
		}
	}
	if c.State != StateBlocked || !strings.Contains(c.Action, "only after a system reboot") {
		t.Errorf("%+v: want blocked, saying which console option to enable", c)
	}
	k := stateOf(t, v, "kernel_driver_restart_notification")
	if k.State != StateUnknown || !strings.Contains(k.Evidence, `C:\PCCSRV\x.ini`) {
		t.Errorf("%+v: want unknown, read from the absolute Windows path as given", k)
	}
	if f := stateOf(t, v, "firewall"); !strings.Contains(f.Evidence, "no mapping") {
		t.Errorf("firewall evidence %q: want it to say there is no mapping", f.Evidence)
	}
}

func TestCheckWaitsForTheDatabaseWindow(t *testing.T) {
	measuring := gauges(map[string]float64{metricDBProcesses: 1})
	var out bytes.Buffer
	s := build(spec("dbserver", true, sequence(measuring, measuring, measuring, idleDB)))
	start := time.Now()
	rep, err := RunCheck(context.Background(), s, CheckOptions{Timeout: 5 * time.Second, Interval: 20 * time.Millisecond, Out: &out, Eval: EvaluateOptions{DatabaseWindow: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 0 || stateOf(t, rep.Verdict, "DbServer").State != StateClear {
		t.Fatalf("exit %d, want 0 once the window is measured:\n%s", rep.ExitCode, out.String())
	}
	if time.Since(start) < 60*time.Millisecond {
		t.Errorf("answered after %s, before the measurement was complete", time.Since(start))
	}
	if !strings.Contains(out.String(), "measured over the last 2s only, not the 5m") {
		t.Errorf("output does not say how long the database was measured:\n%s", out.String())
	}
}

func TestCheckTimeoutWhileMeasuringCannotTell(t *testing.T) {
	s := build(spec("dbserver", true, gauges(map[string]float64{metricDBProcesses: 1})))
	var out bytes.Buffer
	rep, err := RunCheck(context.Background(), s, CheckOptions{Timeout: 100 * time.Millisecond, Interval: 20 * time.Millisecond, Out: &out, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Verdict  string `json:"verdict"`
		ExitCode int    `json:"exit_code"`
		Checks   []struct {
			Name    string            `json:"name"`
			State   string            `json:"state"`
			Pending bool              `json:"pending"`
			Blocker map[string]string `json:"blocker"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--output=json is not JSON: %v\n%s", err, out.String())
	}
	if rep.ExitCode != 2 || got.ExitCode != 2 || got.Verdict != "unknown" {
		t.Fatalf("exit %d / JSON %+v, want 2 and unknown", rep.ExitCode, got)
	}
	if c := got.Checks[0]; c.Name != "DbServer" || c.State != "unknown" || !c.Pending || c.Blocker["reason"] != "database_history_incomplete" {
		t.Errorf("DbServer in JSON: %+v", c)
	}
}

func TestWaitReturnsOnceSafeForTheSettlePeriod(t *testing.T) {
	running := gauges(map[string]float64{metricAutoPccProcesses: 1})
	gone := gauges(map[string]float64{metricAutoPccProcesses: 0})
	// Safe once in between: the settle period must start again after it.
	s := build(spec("autopcc", true, sequence(running, running, gone, running, running, gone)))
	var out, progress bytes.Buffer
	start := time.Now()
	rep, err := RunCheck(context.Background(), s, CheckOptions{Wait: 10 * time.Second, Settle: 300 * time.Millisecond, Interval: 30 * time.Millisecond, Out: &out, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 0 || !rep.Safe || rep.SafeForSeconds < 0.3 {
		t.Fatalf("exit %d, safe for %vs; want 0 after 0.3 s of safety\n%s%s", rep.ExitCode, rep.SafeForSeconds, progress.String(), out.String())
	}
	if took := time.Since(start); took < 5*30*time.Millisecond+300*time.Millisecond-10*time.Millisecond {
		t.Errorf("returned after %s: the safe moment between the blocks must not count toward settling", took)
	}
	p := progress.String()
	for _, want := range []string{"blocked: AutoPcc blocked", "safe for 0s of 300ms", "done"} {
		if !strings.Contains(p, want) {
			t.Errorf("progress lacks %q:\n%s", want, p)
		}
	}
	if strings.Count(p, "blocked: AutoPcc blocked") != 2 {
		t.Errorf("want one progress line per change, got:\n%s", p)
	}
	if !strings.HasPrefix(out.String(), "OfficeScan upgrade readiness: SAFE to upgrade (exit code 0)") {
		t.Errorf("final checklist:\n%s", out.String())
	}
}

func TestWaitGivesUpAtTheDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    fn
		exit int
	}{
		{"blocked", gauges(map[string]float64{metricAutoPccProcesses: 1}), 1},
		{"never settles", gauges(map[string]float64{metricAutoPccProcesses: 0}), 1},
		{"could not tell", failWith("broken"), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, progress bytes.Buffer
			start := time.Now()
			rep, err := RunCheck(context.Background(), build(spec("autopcc", true, tc.c)),
				CheckOptions{Wait: 300 * time.Millisecond, Settle: time.Hour, Interval: 50 * time.Millisecond, Out: &out, Progress: &progress})
			if err != nil {
				t.Fatal(err)
			}
			if rep.ExitCode != tc.exit {
				t.Fatalf("exit %d, want %d\n%s%s", rep.ExitCode, tc.exit, progress.String(), out.String())
			}
			if took := time.Since(start); took < 300*time.Millisecond || took > 3*time.Second {
				t.Errorf("gave up after %s, want the 300ms deadline", took)
			}
			if !strings.Contains(progress.String(), "gave up after") {
				t.Errorf("progress does not say it gave up:\n%s", progress.String())
			}
		})
	}
}

func TestChecklistIsOneLinePerHazard(t *testing.T) {
	s := build(
		spec("dbserver", true, idleDB),
		spec("autopcc", true, failWith("line one\nline two")),
	)
	var out bytes.Buffer
	rep, err := RunCheck(context.Background(), s, CheckOptions{Timeout: time.Second, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// Headline, one note, then one line per check.
	if len(lines) != 2+len(rep.Checks) {
		t.Fatalf("%d lines for %d checks:\n%s", len(lines), len(rep.Checks), out.String())
	}
	var autopcc string
	for _, l := range lines {
		if strings.Contains(l, " AutoPcc ") {
			autopcc = l
		}
	}
	for _, want := range []string{"unknown", "collector autopcc failed: line one line two", "To do: Fix what the error names"} {
		if !strings.Contains(autopcc, want) {
			t.Errorf("AutoPcc line %q lacks %q", autopcc, want)
		}
	}
}
