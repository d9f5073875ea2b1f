package dbserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/procs"
)

type fixed procs.Usage

func (f fixed) Usage() procs.Usage { return procs.Usage(f) }

type adapter struct{ c exporter.Collector }

func (adapter) Describe(chan<- *prometheus.Desc) {}
func (a adapter) Collect(ch chan<- prometheus.Metric) {
	if err := a.c.Update(context.Background(), ch); err != nil {
		panic(err)
	}
}

func TestCollectorReportsUsage(t *testing.T) {
	c := New(fixed{Processes: 2, User: 3, System: 1, Utilization: 0.25, UtilizationValid: true, Sampled: time.Now()}, time.Minute)
	want := `
# HELP officescan_dbserver_cpu_seconds_total CPU seconds used by DbServer.exe processes since the exporter started watching them, by mode.
# TYPE officescan_dbserver_cpu_seconds_total counter
officescan_dbserver_cpu_seconds_total{mode="system"} 1
officescan_dbserver_cpu_seconds_total{mode="user"} 3
# HELP officescan_dbserver_cpu_utilization_ratio CPU used by DbServer.exe processes as a share of all logical CPUs (0..1, as Task Manager shows it), averaged over the sampling window; absent until the first window is complete.
# TYPE officescan_dbserver_cpu_utilization_ratio gauge
officescan_dbserver_cpu_utilization_ratio 0.25
# HELP officescan_dbserver_processes Running processes named DbServer.exe (case-insensitive); 0 when none.
# TYPE officescan_dbserver_processes gauge
officescan_dbserver_processes 2
`
	if err := testutil.CollectAndCompare(adapter{c}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorNoneRunningIsZeroNotAbsent(t *testing.T) {
	c := New(fixed{Sampled: time.Now()}, time.Minute)
	n, err := testutil.GatherAndCount(gatherer(t, c), "officescan_dbserver_processes", "officescan_dbserver_cpu_utilization_ratio")
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("got %d series, want only officescan_dbserver_processes (utilization absent until a window is complete)", n)
	}
	if v := testutil.ToFloat64(onlyProcesses{c}); v != 0 {
		t.Fatalf("officescan_dbserver_processes = %v, want 0", v)
	}
}

func TestCollectorFailsOnErrorMissingOrStaleSample(t *testing.T) {
	for name, u := range map[string]fixed{
		"error":     {Err: context.DeadlineExceeded, Sampled: time.Now()},
		"no sample": {},
		"stale":     {Sampled: time.Now().Add(-time.Hour)},
	} {
		ch := make(chan prometheus.Metric, 10)
		if err := New(u, time.Minute).Update(context.Background(), ch); err == nil {
			t.Errorf("%s: Update succeeded, want an error", name)
		} else if !strings.Contains(err.Error(), "DbServer.exe") {
			t.Errorf("%s: error %q does not say what was read", name, err)
		}
		if len(ch) != 0 {
			t.Errorf("%s: sent %d metrics with a failure; a failed read must not look like data", name, len(ch))
		}
	}
}

func gatherer(t *testing.T, c exporter.Collector) prometheus.Gatherer {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(adapter{c})
	return reg
}

// onlyProcesses narrows the collector to one metric for testutil.ToFloat64.
type onlyProcesses struct{ c exporter.Collector }

func (onlyProcesses) Describe(chan<- *prometheus.Desc) {}
func (o onlyProcesses) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 10)
	_ = o.c.Update(context.Background(), all)
	close(all)
	for m := range all {
		if m.Desc() == processesDesc {
			ch <- m
		}
	}
}
