//go:build linux

// Package windows runs the Windows build of the exporter under Wine against
// Windows processes named DbServer.exe and AutoPcc.exe, as it runs on an
// OfficeScan server. scripts/test.d/30-windows.sh runs it (OSE_WINE_E2E=1,
// after sourcing scripts/wine-env.sh).
//
// Each test gets a private Wine prefix: its own wineserver, so its process
// table holds only the test's processes (never those of another test run
// sharing the cached prefix), and "wineserver -k" at the end kills only what
// the test started. The private prefix shares the cached prefix's drive_c
// through a symlink and copies the registry files wineboot wrote (2 MB,
// kept aside by scripts/wine-env.sh), so it costs
// milliseconds instead of a 700 MB copy or a 7 s wineboot.
package windows

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
)

// wine is a private prefix and the tools to run programs in it.
type wine struct {
	loader, server, prefix string
}

// newWine fails, never skips, when the stage asked for the test and
// something it needs is missing.
func newWine(t *testing.T) *wine {
	t.Helper()
	if os.Getenv("OSE_WINE_E2E") != "1" {
		t.Skip("Windows end-to-end test: runs under Wine in scripts/test.d/30-windows.sh (OSE_WINE_E2E=1)")
	}
	w := &wine{loader: os.Getenv("WINE"), server: os.Getenv("WINESERVER")}
	shared := os.Getenv("WINEPREFIX")
	for name, path := range map[string]string{"WINE": w.loader, "WINESERVER": w.server, "WINEPREFIX": shared} {
		if path == "" {
			t.Fatalf("%s is not set: source scripts/wine-env.sh first", name)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s: %v (source scripts/wine-env.sh to build the prefix)", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(shared, ".ose-ready")); err != nil {
		t.Fatalf("Wine prefix %s is not ready: %v", shared, err)
	}

	// The registry as wineboot left it, not as tests sharing the prefix
	// have changed it since.
	pristine := filepath.Join(shared, ".ose-pristine")
	w.prefix = t.TempDir()
	for _, f := range []string{"system.reg", "user.reg", "userdef.reg", ".update-timestamp"} {
		data, err := os.ReadFile(filepath.Join(pristine, f))
		if err != nil {
			t.Fatalf("copying the Wine prefix: %v", err)
		}
		if err := os.WriteFile(filepath.Join(w.prefix, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(w.prefix, "dosdevices"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"drive_c":       filepath.Join(shared, "drive_c"),
		"dosdevices/c:": "../drive_c",
		"dosdevices/z:": "/",
	} {
		if err := os.Symlink(target, filepath.Join(w.prefix, name)); err != nil {
			t.Fatal(err)
		}
	}
	// Programs started together in a prefix whose server is not running yet
	// may each start one, and some of them vanish: start it first. It stays
	// up until the cleanup below kills it, or 5 s after the last program in
	// the prefix ends. Its output goes nowhere: the server keeps it open.
	server := exec.Command(w.server, "-p5")
	server.Env = w.env()
	if err := server.Run(); err != nil {
		t.Fatalf("starting the wineserver for %s: %v", w.prefix, err)
	}
	// Registered after TempDir, so it runs before the folder is removed:
	// kill whatever is left in the prefix (Wine's own services included) and
	// wait for its wineserver to write the registry and exit.
	t.Cleanup(func() {
		for _, arg := range []string{"-k", "-w"} {
			cmd := exec.Command(w.server, arg)
			cmd.Env = w.env()
			if out, err := cmd.CombinedOutput(); err != nil && arg == "-w" {
				t.Errorf("wineserver %s: %v\n%s", arg, err, out)
			}
		}
	})
	return w
}

func (w *wine) env() []string {
	return append(os.Environ(), "WINEPREFIX="+w.prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
}

// command returns the command that runs a Windows program in the prefix.
// Wine runs it in the process it starts, so the command's PID is the
// program's on the Linux side too.
func (w *wine) command(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(w.loader, append([]string{exe}, args...)...)
	cmd.Env = w.env()
	return cmd
}

// start runs a Windows program in the prefix, its output going to out (nil:
// discarded); the test kills it by PID when it ends.
func (w *wine) start(t *testing.T, out *os.File, exe string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := w.command(exe, args...)
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	return e2eutil.Start(t, cmd)
}

// windowsBinary cross-compiles the main package pkg and copies it to dir under name.
func windowsBinary(t *testing.T, pkg, dir, name string) string {
	t.Helper()
	bin := e2eutil.Build(t, pkg, "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, name)
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestWindowsExporterUnderWine(t *testing.T) {
	w := newWine(t)
	dir := t.TempDir()
	exporter := windowsBinary(t, "cmd/officescan_exporter", dir, "officescan_exporter.exe")
	dbserver := windowsBinary(t, "tools/fakeproc", dir, "DbServer.exe")
	autopcc := windowsBinary(t, "tools/fakeproc", dir, "AutoPcc.exe")

	// The spinner runs at a raised priority (the stage runs as root), so it
	// gets its core even while the rest of the machine is busy; the check
	// against /proc below does not depend on that, the absolute one does.
	spinLog := logFile(t, dir, "DbServer.log")
	// Each program also ends on its own after 3 minutes, should the test
	// die before its cleanup.
	spin := w.command(dbserver, "-spin", "-for=3m")
	spin.Args = append([]string{"nice", "-n", "-10"}, spin.Args...)
	spin.Path = mustLookPath(t, "nice")
	spin.Stdout, spin.Stderr = spinLog, spinLog
	e2eutil.Start(t, spin)
	w.start(t, nil, autopcc, "-for=3m")
	w.start(t, nil, autopcc, "-for=3m")

	addr := e2eutil.FreeAddr(t)
	logf := logFile(t, dir, "exporter.log")
	w.start(t, logf, exporter, "--web.listen-address="+addr,
		"--collector.dbserver.window=3s", "--collector.dbserver.interval=500ms", "--collector.dbserver.rediscover=1s",
		// The page and check judge a recorded history; a 3 s idle window
		// (a test setting, which they then name) keeps this test short.
		"--web.readiness-interval=1s", "--readiness.idle-window=3s")
	url := "http://" + addr + "/metrics"
	e2eutil.WaitHTTP(t, url, 30*time.Second)

	// The exporter sees the host's CPUs through Wine, as this test does.
	oneCore := 1 / float64(runtime.NumCPU())
	e2eutil.Eventually(t, 30*time.Second, func() error {
		m := e2eutil.Metrics(t, url)
		if _, ok := e2eutil.Value(m, "officescan_exporter_build_info", "goos=windows"); !ok {
			return e2eutil.Errorf("officescan_exporter_build_info has no goos=windows series: not the Windows build?")
		}
		for _, c := range []string{"dbserver", "autopcc"} {
			if v, _ := e2eutil.Value(m, "officescan_scrape_collector_success", "collector="+c); v != 1 {
				return e2eutil.Errorf("collector %s failing (success %v)", c, v)
			}
		}
		if v, ok := e2eutil.Value(m, "officescan_dbserver_processes"); v != 1 {
			state := "running"
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", spin.Process.Pid)); err != nil {
				state = "gone"
			}
			return e2eutil.Errorf("officescan_dbserver_processes = %v (present %v), want 1; DbServer.exe's process %d is %s", v, ok, spin.Process.Pid, state)
		}
		if v, ok := e2eutil.Value(m, "officescan_autopcc_processes"); v != 2 {
			return e2eutil.Errorf("officescan_autopcc_processes = %v (present %v), want 2", v, ok)
		}
		u, ok := e2eutil.Value(m, "officescan_dbserver_cpu_utilization_ratio")
		if !ok {
			return e2eutil.Errorf("no utilization yet")
		}
		if math.Abs(u-oneCore) > 0.2 {
			return e2eutil.Errorf("officescan_dbserver_cpu_utilization_ratio = %v, want within 0.2 of one core's share %v", u, oneCore)
		}
		t.Logf("utilization %.3f (one core's share %.3f)", u, oneCore)
		return nil
	})

	// The counter grows with the spinner's CPU time as Linux accounts it.
	m0, p0 := e2eutil.Metrics(t, url), linuxCPUSeconds(t, spin.Process.Pid)
	time.Sleep(3 * time.Second)
	m1, p1 := e2eutil.Metrics(t, url), linuxCPUSeconds(t, spin.Process.Pid)
	exported, used := cpuSeconds(m1)-cpuSeconds(m0), p1-p0
	t.Logf("over 3 s: officescan_dbserver_cpu_seconds_total grew by %.2f s, Linux accounted %.2f s to DbServer.exe", exported, used)
	if exported < 1 {
		t.Fatalf("officescan_dbserver_cpu_seconds_total grew by %.2f s in 3 s of a spinning DbServer.exe; want about 3", exported)
	}
	// The exporter samples every 500 ms, so each end of the interval may lag
	// by up to half a second of CPU.
	if math.Abs(exported-used) > 0.6 {
		t.Fatalf("officescan_dbserver_cpu_seconds_total grew by %.2f s while Linux accounted %.2f s to the DbServer.exe process", exported, used)
	}

	// The Windows build's own verdict, as an administrator asks it at the
	// server console: the Login Script and the busy database both block.
	// check judges the running exporter's recorded history.
	chk := w.command(exporter, "check", "--exporter-url=http://"+addr+"/")
	out, err := chk.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("check under Wine: %v, want exit code 1 (blocked)\n%s", err, out)
	}
	for _, row := range []string{`blocked\s+autopcc\s`, `blocked\s+dbserver\s`} {
		if !regexp.MustCompile(row).Match(out) {
			t.Errorf("check output has no row matching %q:\n%s", row, out)
		}
	}
}

// linuxCPUSeconds reads the user and system time of a Linux process, all its
// threads included, from /proc/PID/stat (in USER_HZ ticks, 100 a second).
func linuxCPUSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		t.Fatalf("%s: %d fields after the name, want at least 13: %q", path, len(f), s)
	}
	var ticks float64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15 of stat
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ticks += float64(n)
	}
	return ticks / 100
}

// logFile creates dir/name for a program's output and shows it when the test fails.
func logFile(t *testing.T, dir, name string) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			t.Logf("%s:\n%s", name, b)
		}
	})
	return f
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func cpuSeconds(m map[string]*dto.MetricFamily) float64 {
	user, _ := e2eutil.Value(m, "officescan_dbserver_cpu_seconds_total", "mode=user")
	system, _ := e2eutil.Value(m, "officescan_dbserver_cpu_seconds_total", "mode=system")
	return user + system
}
