// Package check runs `officescan_exporter check` against a running
// exporter over fixture servers: real processes named DbServer.exe and
// AutoPcc.exe (tools/fakeproc) and a PCCSRV folder with an Ofcscan.ini. check
// judges the exporter's recorded history, so these tests shorten the idle
// window to 3 s with the exporter's hidden test flag (the page and check then
// say so); the shipped 5 minutes are covered by alerts/scenarios.yaml, which
// readiness' tests run through check too. It runs in
// scripts/test.d/25-e2e.sh, inside a private PID namespace.
package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
)

// idleWindow is the test's idle window; the exporter records every second.
const idleWindow = 3 * time.Second

var fast = []string{"--collector.dbserver.window=1s", "--collector.dbserver.interval=250ms", "--collector.dbserver.rediscover=250ms",
	"--web.readiness-interval=1s", "--readiness.idle-window=" + idleWindow.String()}

type result struct {
	exit           int
	stdout, stderr string
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.exit, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// exporter starts the exporter over a fixture server and lets it record a
// whole idle window and a little more.
func exporter(t *testing.T, s fixture.Settings, o fixture.Options, extra ...string) *e2eutil.Exporter {
	t.Helper()
	srv := fixture.New(t, s, o)
	exp := e2eutil.StartExporter(t, append(append(srv.Args(), fast...), extra...)...)
	time.Sleep(idleWindow + 3*time.Second)
	return exp
}

func check(t *testing.T, url string, args ...string) result {
	t.Helper()
	bin := e2eutil.Build(t, "cmd/officescan_exporter")
	cmd := exec.Command(bin, append([]string{"check", "--exporter-url=" + url, "--interval=1s"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("running check: %v", err)
	}
	return r
}

// row returns the checklist line of a hazard: "  <state>  <hazard>  <evidence>".
func row(t *testing.T, r result, hazard string) (state, rest string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  (\w+(?: monitored)?)\s+` + regexp.QuoteMeta(hazard) + `\s+(.*)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no line for %s in the checklist\n%s", hazard, r)
	}
	return m[1], m[2]
}

func wantRows(t *testing.T, r result, states map[string]string) {
	t.Helper()
	for name, want := range states {
		if got, rest := row(t, r, name); got != want {
			t.Errorf("%s is %s (%s), want %s", name, got, rest, want)
		}
	}
}

var waiveShare = fixture.Options{Waivers: fixture.WaiveShare()}

func TestClearServer(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	exp := exporter(t, fixture.AllGood, waiveShare)
	r := check(t, exp.URL)
	if r.exit != 0 {
		t.Fatalf("clear server: %s", r)
	}
	wantRows(t, r, map[string]string{"dbserver": "clear", "autopcc": "clear", "share": "waived", "firewall_driver": "clear",
		"restart_notification": "clear", "agents": "not monitored"})
	for _, want := range []string{"SAFE to upgrade", "waived: " + fixture.ShareReason, "The idle window is 3s here, not the 5m of the shipped rules",
		"Evidence: the exporter at " + exp.URL} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r)
		}
	}
	if _, ev := row(t, r, "dbserver"); !strings.Contains(ev, "CPU-seconds") {
		t.Errorf("dbserver evidence %q does not say how much CPU was measured", ev)
	}
}

// TestShareNotWaivedIsUnknown: on Linux the share collector does not exist;
// switching it off (here: it cannot run) is no waiver, so check cannot tell.
func TestShareNotWaivedIsUnknown(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	r := check(t, exporter(t, fixture.AllGood, fixture.Options{}).URL)
	if r.exit != 2 || !strings.Contains(r.stdout, "COULD NOT TELL") {
		t.Fatalf("share neither watched nor waived: %s", r)
	}
	if state, ev := row(t, r, "share"); state != "unknown" || !strings.Contains(ev, "share collector is off") {
		t.Errorf("share line: %s %s", state, ev)
	}
}

func TestLoginScriptRunning(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	r := check(t, exporter(t, fixture.AllGood, waiveShare).URL)
	if r.exit != 1 {
		t.Fatalf("AutoPcc.exe running: %s", r)
	}
	state, ev := row(t, r, "autopcc")
	if state != "blocked" || !strings.Contains(ev, "AutoPcc") || !strings.Contains(ev, "To do: Wait for the Login Script") {
		t.Errorf("autopcc line: %s %s", state, ev)
	}
	wantRows(t, r, map[string]string{"dbserver": "clear"})
}

func TestDatabaseBusy(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", true)
	r := check(t, exporter(t, fixture.AllGood, waiveShare).URL, "--output=json")
	if r.exit != 1 {
		t.Fatalf("DbServer.exe spinning: %s", r)
	}
	var rep struct {
		Verdict  string `json:"verdict"`
		ExitCode int    `json:"exit_code"`
		Checks   []struct {
			Hazard, State, Evidence string
			Reasons                 []string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--output=json: %v\n%s", err, r)
	}
	if rep.Verdict != "blocked" || rep.ExitCode != 1 {
		t.Errorf("verdict %q exit_code %d", rep.Verdict, rep.ExitCode)
	}
	for _, c := range rep.Checks {
		if c.Hazard == "dbserver" {
			if c.State != "blocked" || strings.Join(c.Reasons, " ") != `{hazard="dbserver",reason="database_busy"}` {
				t.Errorf("dbserver: %+v; want blocked, database_busy", c)
			}
			return
		}
	}
	t.Errorf("no dbserver check in %s", r.stdout)
}

func TestSettingOff(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	r := check(t, exporter(t, fixture.Settings{"firewall": "1", "firewall_driver_update_after_reboot": "0", "kernel_driver_restart_notification": "1"}, waiveShare).URL)
	if r.exit != 1 {
		t.Fatalf("firewall driver update not deferred: %s", r)
	}
	if state, ev := row(t, r, "firewall_driver"); state != "blocked" || !strings.Contains(ev, "only after a system reboot") {
		t.Errorf("line: %s %s", state, ev)
	}
}

func TestSettingUnknown(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	// No mapping for the restart notification: its state is unknown, and the
	// other settings are still judged.
	o := waiveShare
	o.Mapped = []string{"firewall", "firewall_driver_update_after_reboot"}
	r := check(t, exporter(t, fixture.AllGood, o).URL)
	if r.exit != 2 || !strings.Contains(r.stdout, "COULD NOT TELL") {
		t.Fatalf("a setting without mapping: %s", r)
	}
	if state, ev := row(t, r, "restart_notification"); state != "unknown" || !strings.Contains(ev, "kernel_driver_restart_notification") {
		t.Errorf("line: %s %s", state, ev)
	}
	wantRows(t, r, map[string]string{"firewall_driver": "clear", "dbserver": "clear", "autopcc": "clear"})
}

func TestServerFolderMissing(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	srv := fixture.New(t, fixture.AllGood, waiveShare)
	missing := filepath.Join(srv.Dir, "no-such-PCCSRV")
	exp := e2eutil.StartExporter(t, append([]string{"--config.file=" + srv.Config, "--officescan.server-dir=" + missing}, fast...)...)
	time.Sleep(idleWindow + 3*time.Second)
	r := check(t, exp.URL)
	if r.exit != 2 {
		t.Fatalf("server folder missing: %s", r)
	}
	for _, name := range []string{"firewall_driver", "restart_notification"} {
		state, ev := row(t, r, name)
		if state != "unknown" || !strings.Contains(ev, "collector settings failed") || !strings.Contains(ev, "no-such-PCCSRV") {
			t.Errorf("%s: %s %s; want unknown, naming the missing folder", name, state, ev)
		}
	}
}

func TestNoExporterCouldNotTell(t *testing.T) {
	e2eutil.Require(t)
	r := check(t, "http://"+e2eutil.FreeAddr(t)+"/")
	if r.exit != 2 || !strings.Contains(r.stdout, "no exporter answered") || !strings.Contains(r.stdout, "--wait=") {
		t.Fatalf("no exporter: %s", r)
	}
}

func TestWaitReturnsOnceTheLoginScriptEnds(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	autopcc := e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	exp := exporter(t, fixture.AllGood, waiveShare)
	const endAfter, settle = 3 * time.Second, 3 * time.Second
	go func() {
		time.Sleep(endAfter)
		e2eutil.Stop(autopcc)
	}()
	r := check(t, exp.URL, "--wait=60s", "--settle="+settle.String())
	if r.exit != 0 {
		t.Fatalf("--wait after AutoPcc.exe ended: %s", r)
	}
	if r.took < endAfter+settle {
		t.Errorf("returned after %s, before AutoPcc.exe ended (%s) plus the settle time (%s)", r.took, endAfter, settle)
	}
	if r.took > endAfter+settle+15*time.Second {
		t.Errorf("returned only after %s", r.took)
	}
	for _, want := range []string{"blocked: autopcc blocked (gives up in", "safe at every evaluation for 3s: done"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, r)
		}
	}
	wantRows(t, r, map[string]string{"autopcc": "clear"})
}

func TestWaitGivesUp(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	exp := exporter(t, fixture.AllGood, waiveShare)
	r := check(t, exp.URL, "--wait=3s", "--settle=1s")
	if r.exit != 1 || !strings.Contains(r.stderr, "gave up after 3s") {
		t.Fatalf("--wait with AutoPcc.exe running throughout: %s", r)
	}
	if state, _ := row(t, r, "autopcc"); state != "blocked" {
		t.Errorf("final checklist: autopcc %s", state)
	}
	if r := check(t, exp.URL, "--wait=1s", "--settle=5s"); r.exit != 2 || !strings.Contains(r.stderr, "shorter than --settle") {
		t.Errorf("--wait shorter than --settle: %s", r)
	}
}
