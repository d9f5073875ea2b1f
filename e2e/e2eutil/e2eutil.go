// Package e2eutil runs the real binaries for end-to-end tests: the exporter,
// processes named like OfficeScan's, and the tools of the monitoring stack.
//
// Tests that start processes named DbServer.exe or AutoPcc.exe see every such
// process on the machine, so they run only in scripts/test.d/25-e2e.sh, one
// package at a time inside a private PID namespace (unshare --pid
// --mount-proc), where the only processes are the test's own. Require gates
// them on OSE_E2E=1, which that stage sets.
package e2eutil

import (
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/officescan-exporter/officescan_exporter/internal/promfmt"
	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"
)

// Require skips unless the end-to-end stage runs the test.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("OSE_E2E") != "1" {
		t.Skip("end-to-end test: runs in scripts/test.d/25-e2e.sh (OSE_E2E=1, private PID namespace)")
	}
}

// Root is the repository's top folder.
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Build compiles the main package at pkg (relative to the repository) once
// per test binary and returns the executable's path.
func Build(t testing.TB, pkg string, env ...string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	k := pkg + strings.Join(env, " ")
	if p, ok := built[k]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "ose-build-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = Root(t)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[k] = out
	return out
}

// Tool finds an installed tool (prometheus, promtool, alertmanager, ...) as
// internal/tooltest.Find does: in $TOOLS_BIN, then where scripts/deps.sh
// installs the Prometheus 3 line (/var/cache/officescan_exporter/bin), then
// on PATH. The cache comes before PATH because Debian's prometheus package
// puts the 2.x line's prometheus and promtool on PATH; tests that mean the
// 2.x line ask for it by name (StackLines). A missing tool fails the test:
// the stage that runs it installs it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	return tooltest.Find(t, name)
}

// StackTools are one Prometheus line's server, promtool and Alertmanager.
type StackTools struct {
	// Line is "2" or "3".
	Line                               string
	Prometheus, Promtool, Alertmanager string
}

// Debian 12's packages: Prometheus 2.42 (prometheus, promtool) and
// Alertmanager 0.25 (prometheus-alertmanager), installed by scripts/deps.sh.
var debianLine = StackTools{Line: "2",
	Prometheus: "/usr/bin/prometheus", Promtool: "/usr/bin/promtool", Alertmanager: "/usr/bin/prometheus-alertmanager"}

// StackLines returns the tools of each Prometheus line a stack test runs
// on, by line: "2" is Debian's Prometheus 2.42 with Alertmanager 0.25, "3"
// the Prometheus 3 and Alertmanager 0.31 that scripts/deps.sh builds
// (Tool's order). A missing binary fails the test. Debian's 2.42 promtool
// lacks some service discovery (consul, for one), so tests of the docs'
// configurations keep to Tool("promtool").
func StackLines(t testing.TB) map[string]StackTools {
	t.Helper()
	for _, p := range []string{debianLine.Prometheus, debianLine.Promtool, debianLine.Alertmanager} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s (the Prometheus 2.x line) not found; scripts/deps.sh installs Debian's prometheus and prometheus-alertmanager packages", p)
		}
	}
	three := StackTools{Line: "3", Prometheus: Tool(t, "prometheus"), Promtool: Tool(t, "promtool"), Alertmanager: Tool(t, "alertmanager")}
	// Without the cache, Tool falls back to PATH, where Debian's 2.x is.
	if three.Prometheus == debianLine.Prometheus || three.Promtool == debianLine.Promtool {
		t.Fatalf("the Prometheus 3 line resolves to Debian's 2.x binaries (%s, %s); scripts/deps.sh installs Prometheus 3 in %s", three.Prometheus, three.Promtool, tooltest.CacheBin)
	}
	return map[string]StackTools{"2": debianLine, "3": three}
}

// Lines returns the keys of StackLines' result in order ("2", "3").
func Lines(m map[string]StackTools) []string {
	return slices.Sorted(maps.Keys(m))
}

// Start runs cmd and kills it when the test ends.
func Start(t testing.TB, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() { Stop(cmd) })
	return cmd
}

// Stop kills a started command and reaps it; safe to call twice.
func Stop(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// FakeProcess starts tools/fakeproc under the image name given, so the
// process table shows a process of that name; spin keeps one core busy.
func FakeProcess(t testing.TB, name string, spin bool) *exec.Cmd {
	t.Helper()
	bin := Build(t, "tools/fakeproc")
	dir := t.TempDir()
	exe := filepath.Join(dir, name)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{}
	if spin {
		args = append(args, "-spin")
	}
	return Start(t, exec.Command(exe, args...))
}

// FreeAddr returns a free 127.0.0.1 address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Exporter is a running officescan_exporter.
type Exporter struct {
	URL string
	Cmd *exec.Cmd
	Log *os.File
}

// StartExporter runs the exporter with args on a free port and waits until it answers.
func StartExporter(t testing.TB, args ...string) *Exporter {
	t.Helper()
	bin := Build(t, "cmd/officescan_exporter")
	addr := FreeAddr(t)
	logf, err := os.Create(filepath.Join(t.TempDir(), "exporter.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--web.listen-address=" + addr}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	Start(t, cmd)
	e := &Exporter{URL: "http://" + addr, Cmd: cmd, Log: logf}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("exporter log:\n%s", b)
		}
	})
	WaitHTTP(t, e.URL+"/metrics", 15*time.Second)
	return e
}

// WaitHTTP waits until url answers 200.
func WaitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %s (last error %v)", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Get returns url's body; a status other than 200 fails the test.
func Get(t testing.TB, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return b
}

// Metrics scrapes url and parses the text exposition.
func Metrics(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(Get(t, url))))
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return mfs
}

// Value returns the value of the series of family name whose labels include
// labels ("k=v" pairs); ok is false when there is none.
func Value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			if have[k] != v {
				continue next
			}
		}
		return promfmt.Value(m)
	}
	return 0, false
}

// Eventually retries f until it returns nil or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Errorf is fmt.Errorf, for Eventually's callbacks.
var Errorf = fmt.Errorf
