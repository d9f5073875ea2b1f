// Package check runs `officescan_exporter check` against fixture servers:
// real processes named DbServer.exe and AutoPcc.exe (tools/fakeproc) and a
// PCCSRV folder with an Ofcscan.ini, and checks its exit code and checklist.
// It runs in scripts/test.d/25-e2e.sh, inside a private PID namespace.
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

type server struct{ fixture.Server }

func newServer(t *testing.T, s fixture.Settings, mapped ...string) server {
	t.Helper()
	return server{fixture.New(t, s, fixture.Options{Mapped: mapped})}
}

var allGood = fixture.AllGood

// fast keeps each check to about two seconds: a 2 s database window.
var fast = []string{"--collector.dbserver.window=2s", "--collector.dbserver.interval=500ms", "--collector.dbserver.rediscover=500ms", "--interval=250ms"}

type result struct {
	exit           int
	stdout, stderr string
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.exit, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

func (s server) check(t *testing.T, args ...string) result {
	t.Helper()
	bin := e2eutil.Build(t, "cmd/officescan_exporter")
	all := append(append(s.Args(), "check"), fast...)
	cmd := exec.Command(bin, append(all, args...)...)
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

// row returns the checklist line of a hazard: "  <state>  <name>  <evidence>".
func row(t *testing.T, r result, name string) (state, rest string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  (\w+)\s+` + regexp.QuoteMeta(name) + `\s+(.*)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no line for %s in the checklist\n%s", name, r)
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

func TestClearServer(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	r := newServer(t, allGood).check(t)
	if r.exit != 0 {
		t.Fatalf("clear server: %s", r)
	}
	wantRows(t, r, map[string]string{"DbServer": "clear", "AutoPcc": "clear", "firewall": "clear",
		"firewall_driver_update_after_reboot": "clear", "kernel_driver_restart_notification": "clear", "LoginScriptShare": "off"})
	if !strings.Contains(r.stdout, "SAFE to upgrade") || !strings.Contains(r.stdout, "measured over the last 2s only, not the 5m") {
		t.Errorf("headline or measurement note missing:\n%s", r)
	}
	if _, ev := row(t, r, "DbServer"); !strings.Contains(ev, "1 process named DbServer.exe using 0.") {
		t.Errorf("DbServer evidence %q lacks the CPU share", ev)
	}
	if _, ev := row(t, r, "kernel_driver_restart_notification"); !strings.Contains(ev, "Ofcscan.ini [Alert Setting] KernelDriverRestartNotice") {
		t.Errorf("setting evidence %q does not say where it is read from", ev)
	}
	if r.took > 10*time.Second {
		t.Errorf("a check with a 2 s window took %s", r.took)
	}
}

func TestLoginScriptRunning(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	r := newServer(t, allGood).check(t)
	if r.exit != 1 {
		t.Fatalf("AutoPcc.exe running: %s", r)
	}
	state, ev := row(t, r, "AutoPcc")
	if state != "blocked" || !strings.Contains(ev, "1 process named AutoPcc.exe") || !strings.Contains(ev, "To do: Wait for the Login Script") {
		t.Errorf("AutoPcc line: %s %s", state, ev)
	}
	wantRows(t, r, map[string]string{"DbServer": "clear"})
}

func TestDatabaseBusy(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", true)
	r := newServer(t, allGood).check(t, "--output=json")
	if r.exit != 1 {
		t.Fatalf("DbServer.exe spinning: %s", r)
	}
	var rep struct {
		Verdict  string `json:"verdict"`
		ExitCode int    `json:"exit_code"`
		Checks   []struct {
			Name, State, Evidence string
			Blocker               map[string]string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--output=json: %v\n%s", err, r)
	}
	if rep.Verdict != "blocked" || rep.ExitCode != 1 {
		t.Errorf("verdict %q exit_code %d", rep.Verdict, rep.ExitCode)
	}
	for _, c := range rep.Checks {
		if c.Name == "DbServer" {
			if c.State != "blocked" || c.Blocker["reason"] != "database_busy" || !regexp.MustCompile(`using [1-9][0-9]\.[0-9]+ % of all CPUs`).MatchString(c.Evidence) {
				t.Errorf("DbServer: %+v; want blocked at tens of percent", c)
			}
			return
		}
	}
	t.Errorf("no DbServer check in %s", r.stdout)
}

func TestSettingOff(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	r := newServer(t, fixture.Settings{Firewall: "1", DeferDriverUpdate: "0", RestartNotification: "1"}).check(t)
	if r.exit != 1 {
		t.Fatalf("firewall driver update not deferred: %s", r)
	}
	state, ev := row(t, r, "firewall_driver_update_after_reboot")
	if state != "blocked" || !strings.Contains(ev, "disabled") || !strings.Contains(ev, "FwDriverAfterReboot") || !strings.Contains(ev, "only after a system reboot") {
		t.Errorf("line: %s %s", state, ev)
	}
}

func TestSettingUnknown(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	// No mapping for the restart notification: its state is unknown.
	r := newServer(t, allGood, "firewall", "firewall_driver_update_after_reboot").check(t)
	if r.exit != 2 {
		t.Fatalf("a setting without mapping: %s", r)
	}
	state, ev := row(t, r, "kernel_driver_restart_notification")
	if state != "unknown" || !strings.Contains(ev, "no mapping") {
		t.Errorf("line: %s %s", state, ev)
	}
	wantRows(t, r, map[string]string{"firewall": "clear", "DbServer": "clear", "AutoPcc": "clear"})
	if !strings.Contains(r.stdout, "COULD NOT TELL") {
		t.Errorf("headline:\n%s", r)
	}
}

func TestServerFolderMissing(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	s := newServer(t, allGood)
	s.Dir = filepath.Join(s.Dir, "no-such-PCCSRV")
	r := s.check(t)
	if r.exit != 2 {
		t.Fatalf("server folder missing: %s", r)
	}
	for _, name := range []string{"firewall", "firewall_driver_update_after_reboot", "kernel_driver_restart_notification"} {
		state, ev := row(t, r, name)
		if state != "unknown" || !strings.Contains(ev, "collector settings failed") || !strings.Contains(ev, "no-such-PCCSRV") {
			t.Errorf("%s: %s %s; want unknown, naming the missing folder", name, state, ev)
		}
	}
}

func TestWaitReturnsOnceTheLoginScriptEnds(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	autopcc := e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	const endAfter, settle = 4 * time.Second, 3 * time.Second
	go func() {
		time.Sleep(endAfter)
		e2eutil.Stop(autopcc)
	}()
	r := newServer(t, allGood).check(t, "--wait=60s", "--settle="+settle.String())
	if r.exit != 0 {
		t.Fatalf("--wait after AutoPcc.exe ended: %s", r)
	}
	if r.took < endAfter+settle {
		t.Errorf("returned after %s, before AutoPcc.exe ended (%s) plus the settle period (%s)", r.took, endAfter, settle)
	}
	if r.took > endAfter+settle+10*time.Second {
		t.Errorf("returned only after %s", r.took)
	}
	for _, want := range []string{"blocked: AutoPcc blocked (gives up in", "safe for 0s of 3s", "safe for 3s: done"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, r)
		}
	}
	wantRows(t, r, map[string]string{"AutoPcc": "clear"})
}

func TestWaitGivesUp(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	r := newServer(t, allGood).check(t, "--wait=3s", "--settle=1s")
	if r.exit != 1 || !strings.Contains(r.stderr, "gave up after 3s") {
		t.Fatalf("--wait with AutoPcc.exe running throughout: %s", r)
	}
	if state, _ := row(t, r, "AutoPcc"); state != "blocked" {
		t.Errorf("final checklist: AutoPcc %s", state)
	}
	if r := newServer(t, allGood).check(t, "--wait=1s", "--settle=5s"); r.exit != 2 || !strings.Contains(r.stderr, "shorter than --settle") {
		t.Errorf("--wait shorter than --settle: %s", r)
	}
}
