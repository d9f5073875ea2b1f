// Package faults runs the real officescan_exporter through bad input,
// processes that come and go, load, and access control. It runs in
// scripts/test.d/25-e2e.sh, inside a private PID namespace, because it starts
// processes named DbServer.exe.
package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/simulator"
)

// fast makes DbServer.exe's window short, so a verdict is reached in seconds.
var fast = []string{"--collector.dbserver.window=1s", "--collector.dbserver.interval=100ms", "--collector.dbserver.rediscover=100ms"}

// run runs the exporter binary with args to its end (at most 20 s).
func run(t *testing.T, args ...string) (exit int, stderr string) {
	t.Helper()
	cmd := exec.Command(e2eutil.Build(t, "cmd/officescan_exporter"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, out.String()
}

// TestBadConfigFileIsRefusedAtStart: a config file that cannot be used stops
// the exporter at start-up (exit 2, within seconds, never a hang) with the
// file named, and `check` over it says it cannot tell (exit 2), never safe.
func TestBadConfigFileIsRefusedAtStart(t *testing.T) {
	e2eutil.Require(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo.yml")
	if out, err := exec.Command("mkfifo", fifo).CombinedOutput(); err != nil {
		t.Fatalf("mkfifo: %v %s", err, out)
	}
	loop := filepath.Join(dir, "loop.yml")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*7919 + i/13)
	}
	for name, tc := range map[string]struct {
		path string
		want []string
	}{
		"empty":        {write("empty.yml", nil), []string{"file is empty"}},
		"random bytes": {write("random.yml", random), nil},
		"100 MB":       {write("big.yml", bytes.Repeat([]byte("#"), 100<<20)), []string{"larger than"}},
		"cut mid-line": {write("cut.yml", []byte("settings:\n  firewall:\n    file: Ofcscan.ini\n    section: [Glo")), []string{"line"}},
		"UTF-16LE":     {write("utf16.yml", []byte("\x00s\x00e\x00t\x00")), nil},
		"directory":    {dir, []string{"is a directory"}},
		"fifo":         {fifo, []string{"not a regular file"}},
		"symlink loop": {loop, []string{"too many levels of symbolic links"}},
		"missing":      {filepath.Join(dir, "none.yml"), []string{"no such file"}},
		"unknown key":  {write("unknown.yml", []byte("log.level: info\nweb.listen-adress: ':1'\n")), []string{"unknown.yml:2", "web.listen-adress"}},
		"wrong type":   {write("type.yml", []byte("collector.timeout: soon\n")), []string{"type.yml:1", "collector.timeout", `"soon"`}},
		"duplicate":    {write("dup.yml", []byte("log.level: info\nlog.level: debug\n")), []string{"dup.yml:2", `"log.level" given twice`}},
	} {
		for _, args := range [][]string{{"--web.listen-address=127.0.0.1:0"}, {"check"}} {
			start := time.Now()
			exit, stderr := run(t, append([]string{"--config.file=" + tc.path}, args...)...)
			if exit != 2 {
				t.Errorf("%s, %s: exit %d, want 2\n%s", name, args[0], exit, stderr)
			}
			for _, w := range append([]string{tc.path}, tc.want...) {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s, %s: the error does not name %q:\n%s", name, args[0], w, stderr)
				}
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s, %s: took %s to give up", name, args[0], d)
			}
		}
	}
}

type readiness struct {
	Verdict string `json:"verdict"`
	Safe    bool   `json:"safe"`
	Checks  []struct {
		Hazard, State, Evidence string
	} `json:"checks"`
}

func getReadiness(t *testing.T, url string) readiness {
	t.Helper()
	var r readiness
	if err := json.Unmarshal(e2eutil.Get(t, url+"/readiness"), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBadSettingsFileKeepsServingAndIsNeverSafe runs the exporter over a
// fixture server whose verdict is safe (every hazard proven clear but the
// share, waived: Linux has no share collector; the page's idle window
// shortened to 3 s), then breaks Ofcscan.ini in turn in
// each way below: /metrics keeps answering 200, only the settings collector
// fails, /readiness and `check` are not safe and name the file, and the
// exporter recovers as soon as the file is good again.
func TestBadSettingsFileKeepsServingAndIsNeverSafe(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	srv := fixture.New(t, fixture.AllGood, fixture.Options{Waivers: fixture.WaiveShare()})
	ini := filepath.Join(srv.Dir, "Ofcscan.ini")
	good, err := os.ReadFile(ini)
	if err != nil {
		t.Fatal(err)
	}
	e := e2eutil.StartExporter(t, append(append(srv.Args(), fast...), "--web.readiness-interval=1s", "--readiness.idle-window=3s")...)
	waitVerdict := func(want string) readiness {
		var r readiness
		e2eutil.Eventually(t, 10*time.Second, func() error {
			if r = getReadiness(t, e.URL); r.Verdict != want {
				return fmt.Errorf("verdict %s, want %s: %+v", r.Verdict, want, r.Checks)
			}
			return nil
		})
		return r
	}
	waitVerdict("safe")

	replace := func(make func() error) {
		if err := os.RemoveAll(ini); err != nil {
			t.Fatal(err)
		}
		if err := make(); err != nil {
			t.Fatal(err)
		}
	}
	// One section and the firewall key, again and again: 100 MB of a file
	// that would be valid but for its size.
	fw := simulator.SettingKeys[hazard.SettingFirewall]
	bigLine := []byte("[" + fw[0] + "]\r\n" + fw[1] + "=1\r\n")
	writeINI := func(data []byte) func() error { return func() error { return os.WriteFile(ini, data, 0o644) } }
	cases := []struct {
		name string
		make func() error
	}{
		{"empty", writeINI(nil)},
		{"random bytes", writeINI(bytes.Repeat([]byte{0x00, 0xFF, 0x13, 0x37}, 1024))},
		{"100 MB", writeINI(bytes.Repeat(bigLine, 100<<20/len(bigLine)))},
		// A file cut short in one key leaves only that setting unknown; the
		// settings collector's own tests (TestBadSettingValueLeavesOnlyThatSettingUnknown)
		// cover it. Here: files that cannot be read at all.
		{"wrong encoding", writeINI(append([]byte{0xFE, 0xFF}, good...))},
		{"directory", func() error { return os.Mkdir(ini, 0o755) }},
		{"fifo", func() error { return exec.Command("mkfifo", ini).Run() }},
		{"symlink loop", func() error { return os.Symlink(ini, ini) }},
		{"missing", func() error { return nil }},
	}
	for _, tc := range cases {
		replace(tc.make)
		r := waitVerdict("unknown")
		seen := 0
		for _, c := range r.Checks {
			switch c.Hazard {
			case "firewall_driver", "restart_notification": // the settings collector's hazards
				seen++
				if c.State != "unknown" || !strings.Contains(c.Evidence, ini) {
					t.Errorf("%s: %s is %s (%s), want unknown naming %s", tc.name, c.Hazard, c.State, c.Evidence, ini)
				}
			case "dbserver":
				seen++
				if c.State != "clear" {
					t.Errorf("%s: %s is %s (%s), want clear", tc.name, c.Hazard, c.State, c.Evidence)
				}
			}
		}
		if seen != 3 {
			t.Errorf("%s: the page shows %d of the dbserver, firewall_driver and restart_notification checks: %+v", tc.name, seen, r.Checks)
		}
		mfs := e2eutil.Metrics(t, e.URL+"/metrics")
		if v, _ := e2eutil.Value(mfs, "officescan_scrape_collector_success", "collector=settings"); v != 0 {
			t.Errorf("%s: settings collector succeeded", tc.name)
		}
		if v, _ := e2eutil.Value(mfs, "officescan_scrape_collector_success", "collector=dbserver"); v != 1 {
			t.Errorf("%s: dbserver collector failed with the settings file", tc.name)
		}
		if _, ok := mfs["officescan_setting_enabled"]; ok {
			t.Errorf("%s: a setting that could not be read has a sample", tc.name)
		}
		// check judges the running exporter's history, as it does by default
		// on the server itself.
		if exit, out := run(t, append(srv.Args(), "check", "--exporter-url="+e.URL, "--readiness.idle-window=3s")...); exit != 2 || !strings.Contains(out, ini) {
			t.Errorf("%s: check exit %d, want 2 (could not tell) naming %s:\n%s", tc.name, exit, ini, out)
		}
		replace(writeINI(good))
		waitVerdict("safe")
	}
}

// TestProcessChurnDuringScrapes starts and kills DbServer.exe processes
// (several at once, some of them busy) every few milliseconds while the
// exporter is scraped as fast as it answers: every scrape answers 200, the
// dbserver collector never fails, its CPU counters never go back, and its
// utilization stays within 0..1.
func TestProcessChurnDuringScrapes(t *testing.T) {
	e2eutil.Require(t)
	exe := filepath.Join(t.TempDir(), "DbServer.exe")
	data, err := os.ReadFile(e2eutil.Build(t, "tools/fakeproc"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := fixture.New(t, fixture.AllGood, fixture.Options{})
	e := e2eutil.StartExporter(t, append(srv.Args(), "--collector.dbserver.window=500ms", "--collector.dbserver.interval=20ms", "--collector.dbserver.rediscover=20ms")...)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	started := 0
	go func() {
		defer wg.Done()
		var alive []*exec.Cmd
		defer func() {
			for _, c := range alive {
				e2eutil.Stop(c)
			}
		}()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
			}
			// Up to four at once; every third one busy; the oldest dies.
			args := []string{}
			if i%3 == 0 {
				args = append(args, "-spin")
			}
			c := exec.Command(exe, args...)
			if err := c.Start(); err != nil {
				t.Error(err)
				return
			}
			started++
			alive = append(alive, c)
			if len(alive) > 4 {
				e2eutil.Stop(alive[0])
				alive = alive[1:]
			}
		}
	}()

	deadline := time.Now().Add(6 * time.Second)
	var lastUser, lastSystem float64
	scrapes := 0
	for time.Now().Before(deadline) {
		mfs := e2eutil.Metrics(t, e.URL+"/metrics") // fails the test on anything but 200
		scrapes++
		if v, _ := e2eutil.Value(mfs, "officescan_scrape_collector_success", "collector=dbserver"); v != 1 {
			t.Fatalf("scrape %d: dbserver collector failed while processes came and went", scrapes)
		}
		user, _ := e2eutil.Value(mfs, "officescan_dbserver_cpu_seconds_total", "mode=user")
		system, _ := e2eutil.Value(mfs, "officescan_dbserver_cpu_seconds_total", "mode=system")
		if user < lastUser || system < lastSystem {
			t.Fatalf("scrape %d: CPU counters went back from %v/%v to %v/%v", scrapes, lastUser, lastSystem, user, system)
		}
		lastUser, lastSystem = user, system
		if u, ok := e2eutil.Value(mfs, "officescan_dbserver_cpu_utilization_ratio"); ok && (u < 0 || u > 1 || math.IsNaN(u)) {
			t.Fatalf("scrape %d: utilization %v outside 0..1", scrapes, u)
		}
		if n, _ := e2eutil.Value(mfs, "officescan_dbserver_processes"); n < 0 || n > 5 {
			t.Fatalf("scrape %d: %v DbServer.exe processes, want 0 to 5", scrapes, n)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d scrapes while %d DbServer.exe processes started and died; CPU counted %.2f s user, %.2f s system", scrapes, started, lastUser, lastSystem)
	if started < 100 || lastUser+lastSystem <= 0 {
		t.Fatalf("only %d processes started, %.2f CPU s seen: the churn did not happen", started, lastUser+lastSystem)
	}
	// The exporter is still there and well.
	if resp, err := http.Get(e.URL + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the churn: %v %v", resp, err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
