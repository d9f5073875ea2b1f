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

func TestSamplerRestartCountsFromItsStartAndNeverGoesBack(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	t0 := time.Now()
	tab.SetClock(1)
	tab.Set(db(10, 1, 100, 50))
	s.Step(t0)
	tab.Set(db(10, 1, 101, 50))
	s.Step(t0.Add(time.Second))
	before := s.Usage()
	if !near(before.User, 1) {
		t.Fatalf("user = %v, want 1 (only what was used while watched)", before.User)
	}
	// The process restarts under a new PID with a small CPU total; the
	// rediscovery at 5 s finds it. It started while watched, so its 3 s of
	// CPU since its start count, once; the old process's total is not
	// subtracted.
	tab.Set(db(20, 2, 3, 0))
	for i := 2; i <= 5; i++ {
		s.Step(t0.Add(time.Duration(i) * time.Second))
		if u := s.Usage(); u.User < before.User {
			t.Fatalf("user went from %v to %v across a restart", before.User, u.User)
		}
	}
	after := s.Usage()
	if !near(after.User, before.User+3) || !near(after.System, before.System) {
		t.Fatalf("usage %+v across a restart, want user %v (the new process's 3 s added) and system unchanged", after, before.User+3)
	}
	if after.Processes != 1 {
		t.Fatalf("processes = %d, want 1", after.Processes)
	}
	tab.Set(db(20, 2, 4, 0))
	s.Step(t0.Add(6 * time.Second))
	if got := s.Usage().User; !near(got, before.User+4) {
		t.Fatalf("user = %v, want %v after the new process used one more second", got, before.User+4)
	}
}

func TestSamplerPIDReuseIsANewProcess(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	t0 := time.Now()
	tab.SetClock(1)
	tab.Set(db(10, 1, 500, 0))
	s.Step(t0)
	// Same PID, other start time, less CPU: a new process, counted from its
	// own start, never a difference with the old one's 500 s.
	tab.Set(db(10, 2, 1, 0))
	s.Step(t0.Add(5 * time.Second))
	if got := s.Usage().User; got != 1 {
		t.Fatalf("user = %v, want 1: the new process's own second", got)
	}
}

// step is one sample of TestSamplerCountsProcessesStartedWhileWatched: the
// source's clock before the table is read, the table, and whether the read
// fails.
type step struct {
	clock int64
	procs []procs.Process
	fail  bool
}

// TestSamplerCountsProcessesStartedWhileWatched: a DbServer.exe that starts
// after the sampler's first successful sample counts from its start, on
// first sight, once; one that ran before counts from the first sample it is
// in. Samples are a second apart and the table is searched every 5 s, so a
// new process is found by the sample 5 s after the last search.
func TestSamplerCountsProcessesStartedWhileWatched(t *testing.T) {
	const rediscover = 5
	idle := func(n int, clock int64, ps ...procs.Process) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = step{clock: clock, procs: ps}
		}
		return out
	}
	seq := func(parts ...[]step) []step {
		var out []step
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name         string
		steps        []step
		user, system float64
	}{
		{"running before the first sample: a baseline",
			seq(idle(1, 100, db(10, 50, 7, 3)), idle(1, 101, db(10, 50, 8, 3))),
			1, 0},
		{"started after the clock was read, but in the first sample: a baseline",
			seq(idle(1, 100, db(10, 101, 7, 3)), idle(1, 101, db(10, 101, 8, 4))),
			1, 1},
		{"started after the first sample: all its CPU, from its start",
			// Found by the search at 5 s with 2.5 s of CPU used since it started at 2 s.
			seq(idle(1, 100, db(10, 50, 7, 3)), idle(rediscover, 102, db(10, 50, 7, 3), db(11, 102, 2, 0.5))),
			2, 0.5},
		{"started before the first sample, found later: still a baseline",
			seq(idle(1, 100), idle(rediscover, 101, db(11, 99, 2, 0.5)), idle(1, 102, db(11, 99, 3, 0.5))),
			1, 0},
		{"a failed first read does not start the watch",
			// The read at clock 100 fails; the one at 110 is the first
			// sample, and the process that started at 105 was running before it.
			seq([]step{{clock: 100, fail: true}}, idle(1, 110, db(10, 105, 4, 1)), idle(1, 111, db(10, 105, 5, 1))),
			1, 0},
		{"a process a read misses for a while is not counted from its start twice",
			seq(idle(1, 100),
				idle(rediscover, 101, db(11, 101, 2, 0)), // found at 5 s: 2 s
				idle(rediscover, 102),                    // missed at 10 s
				idle(rediscover, 103, db(11, 101, 3, 0)), // found again at 15 s: 1 s more
			),
			3, 0},
		{"a restart counts from its start; the old process's total is never subtracted",
			seq(idle(1, 100, db(10, 50, 500, 100)), idle(1, 101, db(10, 50, 501, 100)),
				idle(rediscover, 102, db(20, 102, 0.25, 0.25))),
			1.25, 0.25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := &procstest.Table{}
			s := newSampler(tab, 1)
			t0 := time.Now()
			for i, st := range tc.steps {
				tab.SetClock(st.clock)
				tab.Set(st.procs...)
				if st.fail {
					tab.Fail(procstest.ErrBroken)
				}
				s.Step(t0.Add(time.Duration(i) * time.Second))
				tab.Fail(nil)
			}
			u := s.Usage()
			if !near(u.User, tc.user) || !near(u.System, tc.system) {
				t.Fatalf("user %v system %v, want %v and %v", u.User, u.System, tc.user, tc.system)
			}
		})
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
