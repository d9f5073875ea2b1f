package textfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

func sampleGatherer() prometheus.Gatherer {
	r := prometheus.NewPedanticRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "test_info", Help: "Label values as Windows has them."}, []string{"path", "server"})
	g.WithLabelValues(`C:\Program Files (x86)\Trend Micro\OfficeScan Client\`, `osce "01"`).Set(1)
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_runs_total", Help: "Runs."})
	c.Add(3)
	r.MustRegister(g, c)
	return r
}

const want = `# HELP test_info Label values as Windows has them.
# TYPE test_info gauge
test_info{path="C:\\Program Files (x86)\\Trend Micro\\OfficeScan Client\\",server="osce \"01\""} 1
# HELP test_runs_total Runs.
# TYPE test_runs_total counter
test_runs_total 3
`

// onlyFile fails unless dir holds exactly the one file name: no temporary
// file may be left behind.
func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != name {
		t.Errorf("folder holds %q, want only %q", names, name)
	}
}

func TestWriteReplaces(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "officescan.prom")
	if err := os.WriteFile(path, []byte("old_metric 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, sampleGatherer()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// windows_exporter wants the file to end with a line feed.
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	onlyFile(t, dir, "officescan.prom")
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v (%v), want 0644 so another user's exporter can read it", fi.Mode(), err)
		}
	}
}

type failingGatherer struct{}

func (failingGatherer) Gather() ([]*dto.MetricFamily, error) {
	return nil, errors.New("collected metric x was collected before")
}

// A failed gather must leave the previous file as it was.
func TestWriteKeepsOldFileOnGatherError(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "officescan.prom")
	if err := os.WriteFile(path, []byte("old_metric 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(path, failingGatherer{})
	if err == nil || !strings.Contains(err.Error(), "gathering metrics for "+path) {
		t.Fatalf("Write = %v, want a gathering error naming the file", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old_metric 1\n" {
		t.Errorf("old file changed to %q", got)
	}
	onlyFile(t, dir, "officescan.prom")
}

func TestWriteErrors(t *testing.T) {
	dir := testdir.New(t)
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "officescan.txt"), "only read *.prom files"},
		{filepath.Join(dir, "officescan.prom.tmp"), "only read *.prom files"},
		{filepath.Join(dir, "missing", "officescan.prom"), "creating a temporary file next to " + filepath.Join(dir, "missing", "officescan.prom")},
	} {
		err := Write(tc.path, sampleGatherer())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Write(%s) = %v, want an error containing %q", tc.path, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d files behind", len(entries))
	}
}
