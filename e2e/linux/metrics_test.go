// Package linux runs the real Linux exporter against real processes named
// DbServer.exe and AutoPcc.exe, and checks /metrics against a golden file and
// promtool. Run it with scripts/test.d/25-e2e.sh; -update rewrites the golden file.
package linux

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

func TestBusyDatabaseAndLoginScripts(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", true)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	e := e2eutil.StartExporter(t, "--collector.dbserver.window=3s", "--collector.dbserver.rediscover=1s")

	oneCore := 1 / float64(runtime.NumCPU())
	var firstCPU float64
	e2eutil.Eventually(t, 20*time.Second, func() error {
		m := e2eutil.Metrics(t, e.URL+"/metrics")
		if v, _ := e2eutil.Value(m, "officescan_dbserver_processes"); v != 1 {
			return e2eutil.Errorf("officescan_dbserver_processes = %v, want 1", v)
		}
		if v, _ := e2eutil.Value(m, "officescan_autopcc_processes"); v != 2 {
			return e2eutil.Errorf("officescan_autopcc_processes = %v, want 2", v)
		}
		u, ok := e2eutil.Value(m, "officescan_dbserver_cpu_utilization_ratio")
		if !ok {
			return e2eutil.Errorf("no utilization yet")
		}
		if math.Abs(u-oneCore) > 0.15 {
			return e2eutil.Errorf("utilization %v, want within 0.15 of one core's share %v", u, oneCore)
		}
		if v, _ := e2eutil.Value(m, "officescan_logical_cpus"); v != float64(runtime.NumCPU()) {
			return e2eutil.Errorf("officescan_logical_cpus = %v, want %d, the ratio's denominator", v, runtime.NumCPU())
		}
		user, _ := e2eutil.Value(m, "officescan_dbserver_cpu_seconds_total", "mode=user")
		sys, _ := e2eutil.Value(m, "officescan_dbserver_cpu_seconds_total", "mode=system")
		firstCPU = user + sys
		return nil
	})
	time.Sleep(2 * time.Second)
	m := e2eutil.Metrics(t, e.URL+"/metrics")
	user, _ := e2eutil.Value(m, "officescan_dbserver_cpu_seconds_total", "mode=user")
	sys, _ := e2eutil.Value(m, "officescan_dbserver_cpu_seconds_total", "mode=system")
	if user+sys < firstCPU+1 {
		t.Fatalf("CPU counter went from %v to %v in 2 s of a spinning process; want it to grow by about 2", firstCPU, user+sys)
	}
}

// volatile are the series whose values change between runs; the golden file
// keeps their names and labels, not their values.
var volatile = regexp.MustCompile(`^(officescan_dbserver_cpu_seconds_total|officescan_dbserver_cpu_utilization_ratio|officescan_scrape_collector_duration_seconds|officescan_exporter_build_info|officescan_logical_cpus)\b`)

func TestGoldenMetricsAndPromtool(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	e2eutil.FakeProcess(t, "AutoPccP.exe", false)
	// Two settings mapped, one not: an unmapped setting has no sample and does not fail the collector.
	srv := fixture.New(t, fixture.AllGood, fixture.Options{Mapped: []string{"firewall", "kernel_driver_restart_notification"}})
	e := e2eutil.StartExporter(t, append(srv.Args(), "--web.disable-exporter-metrics", "--collector.dbserver.window=2s", "--collector.dbserver.rediscover=1s")...)

	var body []byte
	e2eutil.Eventually(t, 15*time.Second, func() error {
		body = e2eutil.Get(t, e.URL+"/metrics")
		if !strings.Contains(string(body), "officescan_dbserver_cpu_utilization_ratio ") || !strings.Contains(string(body), "officescan_dbserver_processes 1") {
			return e2eutil.Errorf("window not complete yet")
		}
		return nil
	})

	lint := exec.Command(e2eutil.Tool(t, "promtool"), "check", "metrics")
	lint.Stdin = strings.NewReader(string(body))
	if out, err := lint.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}

	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if line := fmt.Sprintf("officescan_server_address_info{address=%q} 1\n", strings.ToLower(host)); !strings.Contains(string(body), line) {
		t.Errorf("/metrics lacks the host name: %s", line)
	}

	got := normalize(string(body))
	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		diff := exec.Command("diff", "-u", golden, "-")
		diff.Stdin = strings.NewReader(got)
		out, _ := diff.CombinedOutput()
		t.Fatalf("/metrics differs from %s (rerun with -update if the change is intended):\n%s", golden, out)
	}
}

// normalize keeps the golden file the same on every machine: volatile
// values become <volatile>, and the machine's addresses (host name, FQDN,
// IP addresses: how many depends on the machine) one line.
func normalize(body string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(l, "officescan_server_address_info{") {
			l = "officescan_server_address_info{address=<each address>} 1"
			if len(lines) > 0 && lines[len(lines)-1] == l {
				continue
			}
		}
		if volatile.MatchString(l) {
			if i := strings.LastIndexByte(l, ' '); i > 0 {
				l = l[:i] + " <volatile>"
			}
			if strings.HasPrefix(l, "officescan_exporter_build_info{") {
				l = "officescan_exporter_build_info{<build labels>} 1"
			}
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n") + "\n"
}
