package autopcc

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/officescan-exporter/officescan_exporter/procs"
	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
)

type adapter struct{ c *Collector }

func (adapter) Describe(chan<- *prometheus.Desc) {}
func (a adapter) Collect(ch chan<- prometheus.Metric) {
	if err := a.c.Update(context.Background(), ch); err != nil {
		panic(err)
	}
}

func TestCountsBothNamesIgnoringCase(t *testing.T) {
	tab := &procstest.Table{}
	c := New(tab)
	for _, tc := range []struct {
		procs []procs.Process
		want  float64
	}{
		{nil, 0},
		{[]procs.Process{{PID: 1, Name: "AutoPcc.exe"}}, 1},
		{[]procs.Process{{PID: 1, Name: "autopcc.EXE"}, {PID: 2, Name: "AutoPccP.exe"}, {PID: 3, Name: "AutoPcc.exe.bak"}, {PID: 4, Name: "DbServer.exe"}}, 2},
	} {
		tab.Set(tc.procs...)
		if got := testutil.ToFloat64(adapter{c}); got != tc.want {
			t.Errorf("processes %v: officescan_autopcc_processes = %v, want %v", tc.procs, got, tc.want)
		}
	}
}

func TestFailsWhenTableUnreadable(t *testing.T) {
	tab := &procstest.Table{}
	tab.Fail(procstest.ErrBroken)
	ch := make(chan prometheus.Metric, 1)
	if err := New(tab).Update(context.Background(), ch); err == nil || len(ch) != 0 {
		t.Fatalf("Update = %v with %d metrics, want an error and no zero", err, len(ch))
	}
}
