package dbserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/procs"
	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
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
	c := New(fixed{Processes: 2, User: 3, System: 1, Utilization: 0.25, UtilizationValid: true, NumCPU: 8, Sampled: time.Now()}, time.Minute)
	want := `
# HELP officescan_dbserver_cpu_seconds_total CPU seconds used by DbServer.exe processes while the exporter watched them, by mode; a process that starts while the exporter runs counts from its own start, one already running at the exporter's start from the exporter's first sample.
# TYPE officescan_dbserver_cpu_seconds_total counter
officescan_dbserver_cpu_seconds_total{mode="system"} 1
officescan_dbserver_cpu_seconds_total{mode="user"} 3
# HELP officescan_dbserver_cpu_utilization_ratio CPU used by DbServer.exe processes as a share of all logical CPUs (0..1, as Task Manager shows it), averaged over the sampling window; absent until the first window is complete.
# TYPE officescan_dbserver_cpu_utilization_ratio gauge
officescan_dbserver_cpu_utilization_ratio 0.25
# HELP officescan_dbserver_processes Running processes named DbServer.exe (case-insensitive); 0 when none.
# TYPE officescan_dbserver_processes gauge
officescan_dbserver_processes 2
# HELP officescan_logical_cpus Logical CPUs of this machine: the denominator of officescan_dbserver_cpu_utilization_ratio, and the number the idle threshold on officescan_dbserver_cpu_seconds_total is scaled by.
# TYPE officescan_logical_cpus gauge
officescan_logical_cpus 8
`
	if err := testutil.CollectAndCompare(adapter{c}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorNoneRunningIsZeroNotAbsent(t *testing.T) {
	c := New(fixed{Sampled: time.Now(), NumCPU: 1}, time.Minute)
	n, err := testutil.GatherAndCount(gatherer(t, c), "officescan_dbserver_processes", "officescan_dbserver_cpu_utilization_ratio", "officescan_logical_cpus")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("got %d series, want officescan_dbserver_processes and officescan_logical_cpus (utilization absent until a window is complete)", n)
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

// TestLogicalCPUsIsTheSamplersDenominator builds the collector as the
// exporter does, over a fake table, and reads officescan_logical_cpus: it
// must be the NumCPU the sampler divides by, so that the ratio times it is
// the number of CPUs DbServer.exe kept busy.
func TestLogicalCPUsIsTheSamplersDenominator(t *testing.T) {
	for _, tc := range []struct {
		name       string
		configured int
		want       float64
	}{
		{"one CPU", 1, 1},
		{"a 6-CPU server", 6, 6},
		{"a large host", 128, 128},
		// NewSampler divides by at least 1; the metric says so too.
		{"unset", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := &procstest.Table{}
			tab.Set(procs.Process{PID: 7, Name: "dbserver.EXE", Started: 1, User: 2})
			cfg := procs.SamplerConfig{Interval: time.Hour, Rediscover: time.Hour, Window: time.Hour, NumCPU: tc.configured}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, err := Spec(func() (procs.Source, error) { return tab, nil }, &cfg).New(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []prometheus.Metric
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				ch := make(chan prometheus.Metric, 10)
				err := c.Update(context.Background(), ch)
				close(ch)
				if err == nil {
					for m := range ch {
						got = append(got, m)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the sampler never sampled: %v", err)
				}
			}
			var found bool
			for _, m := range got {
				if m.Desc() != logicalCPUsDesc {
					continue
				}
				found = true
				var pb dto.Metric
				if err := m.Write(&pb); err != nil {
					t.Fatal(err)
				}
				if v := pb.GetGauge().GetValue(); v != tc.want {
					t.Errorf("officescan_logical_cpus = %v with NumCPU %d, want %v", v, tc.configured, tc.want)
				}
			}
			if !found {
				t.Fatalf("no officescan_logical_cpus among %d metrics", len(got))
			}
		})
	}
}
