package procs_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/procs"
	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
)

func db(pid int32, started int64, user, system float64) procs.Process {
	return procs.Process{PID: pid, Name: "DbServer.exe", Started: started, User: user, System: system}
}

func newSampler(t *procstest.Table, cpus int) *procs.Sampler {
	return procs.NewSampler(t, procs.SamplerConfig{
		Names:      []string{"dbserver.exe"},
		Interval:   time.Second,
		Rediscover: 5 * time.Second,
		Window:     10 * time.Second,
		NumCPU:     cpus,
	})
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSamplerUtilizationNeedsAWholeWindow(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 2)
	t0 := time.Now()
	for i := 0; i <= 10; i++ {
		// One core busy: one CPU second per wall second, split user/system.
		tab.Set(db(10, 1, 0.75*float64(i), 0.25*float64(i)))
		s.Step(t0.Add(time.Duration(i) * time.Second))
		u := s.Usage()
		if i < 10 && u.UtilizationValid {
			t.Fatalf("utilization valid after %d s of a 10 s window", i)
		}
	}
	u := s.Usage()
	if !u.UtilizationValid || !near(u.Utilization, 0.5) {
		t.Fatalf("utilization = %v (valid %v), want 0.5 (one core of two)", u.Utilization, u.UtilizationValid)
	}
	if !near(u.User, 7.5) || !near(u.System, 2.5) || u.Processes != 1 || u.NumCPU != 2 {
		t.Fatalf("usage = %+v, want user 7.5 system 2.5, 1 process, 2 CPUs", u)
	}
}

func TestSamplerSumsSeveralProcesses(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 4)
	t0 := time.Now()
	for i := 0; i <= 10; i++ {
		f := float64(i)
		tab.Set(db(10, 1, f, 0), db(11, 1, f/2, 0), procs.Process{PID: 12, Name: "other.exe", Started: 1, User: 5 * f})
		s.Step(t0.Add(time.Duration(i) * time.Second))
	}
	u := s.Usage()
	if u.Processes != 2 || !near(u.Utilization, 1.5/4) {
		t.Fatalf("usage = %+v, want 2 processes at 1.5 cores of 4", u)
	}
}

func TestSamplerRestartNeverGoesBackOrJumps(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	t0 := time.Now()
	tab.Set(db(10, 1, 100, 50))
	s.Step(t0)
	tab.Set(db(10, 1, 101, 50))
	s.Step(t0.Add(time.Second))
	before := s.Usage()
	if !near(before.User, 1) {
		t.Fatalf("user = %v, want 1 (only what was used while watched)", before.User)
	}
	// The process restarts under a new PID with a small CPU total; the
	// rediscovery at 5 s finds it. Its 3 s of CPU since start must not count
	// as a delta, and the old process's total must not be subtracted.
	tab.Set(db(20, 2, 3, 0))
	for i := 2; i <= 5; i++ {
		s.Step(t0.Add(time.Duration(i) * time.Second))
	}
	after := s.Usage()
	if after.User < before.User || !near(after.User, 1) {
		t.Fatalf("user went from %v to %v across a restart, want unchanged", before.User, after.User)
	}
	if after.Processes != 1 {
		t.Fatalf("processes = %d, want 1", after.Processes)
	}
	tab.Set(db(20, 2, 4, 0))
	s.Step(t0.Add(6 * time.Second))
	if got := s.Usage().User; !near(got, 2) {
		t.Fatalf("user = %v, want 2 after the new process used one more second", got)
	}
}

func TestSamplerPIDReuseIsANewProcess(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	t0 := time.Now()
	tab.Set(db(10, 1, 500, 0))
	s.Step(t0)
	// Same PID, other start time, less CPU: must read as a new process.
	tab.Set(db(10, 2, 1, 0))
	s.Step(t0.Add(5 * time.Second))
	if got := s.Usage().User; got != 0 {
		t.Fatalf("user = %v, want 0: a reused PID is a new baseline", got)
	}
}

func TestSamplerVanishingAndNone(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	t0 := time.Now()
	s.Step(t0)
	if u := s.Usage(); u.Processes != 0 || u.Err != nil || u.Sampled.IsZero() {
		t.Fatalf("no DbServer.exe: usage = %+v, want 0 processes and a sample", u)
	}
	tab.Set(db(10, 1, 1, 0))
	s.Step(t0.Add(5 * time.Second))
	tab.Set()
	s.Step(t0.Add(6 * time.Second))
	if u := s.Usage(); u.Processes != 0 {
		t.Fatalf("vanished process still counted: %+v", u)
	}
}

func TestSamplerRediscoversOnlyPeriodically(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	t0 := time.Now()
	for i := 0; i < 10; i++ {
		s.Step(t0.Add(time.Duration(i) * time.Second))
	}
	if tab.Finds != 2 {
		t.Fatalf("Find called %d times in 10 samples, want 2 (every 5 s)", tab.Finds)
	}
}

func TestSamplerErrorInvalidatesWindow(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	t0 := time.Now()
	for i := 0; i <= 10; i++ {
		tab.Set(db(10, 1, float64(i), 0))
		s.Step(t0.Add(time.Duration(i) * time.Second))
	}
	tab.Fail(procstest.ErrBroken)
	s.Step(t0.Add(11 * time.Second))
	u := s.Usage()
	if !errors.Is(u.Err, procstest.ErrBroken) || u.UtilizationValid {
		t.Fatalf("after a failed sample: %+v, want the error and no utilization", u)
	}
	tab.Fail(nil)
	s.Step(t0.Add(12 * time.Second))
	if u := s.Usage(); u.Err != nil || u.UtilizationValid {
		t.Fatalf("right after recovery: %+v, want no error and a window not yet complete", u)
	}
}
