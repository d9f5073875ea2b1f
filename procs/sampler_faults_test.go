package procs_test

import (
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/procs"
	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
)

// TestSamplerClockJumpsNeverGiveNegativeOrFalseIdle feeds the sampler times
// with no monotonic reading (Round(0) strips it), as a wall clock that an
// administrator or NTP sets back and forth would give, while DbServer.exe
// keeps one core of one busy. No reading may be negative, the counters may
// never go back, and no reading may call the busy database idle.
func TestSamplerClockJumpsNeverGiveNegativeOrFalseIdle(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	wall := time.Now().Round(0)
	cpu := 0.0
	var last procs.Usage
	step := func(d time.Duration) {
		wall = wall.Add(d)
		cpu++ // one CPU second per sample: the process is busy throughout
		tab.Set(db(10, 1, cpu, 0))
		s.Step(wall)
		u := s.Usage()
		if u.User < last.User || u.System < last.System {
			t.Fatalf("after a step of %s: counters went back from %v/%v to %v/%v", d, last.User, last.System, u.User, u.System)
		}
		if u.UtilizationValid && (u.Utilization < 0 || u.Utilization < 0.5) {
			t.Fatalf("after a step of %s: utilization %v of a process using a whole core", d, u.Utilization)
		}
		last = u
	}
	for range 12 {
		step(time.Second)
	}
	if !last.UtilizationValid {
		t.Fatal("no utilization after 12 regular samples")
	}
	for _, jump := range []time.Duration{-time.Hour, time.Second, time.Second, 2 * time.Hour, time.Second, -30 * time.Second, time.Second, 24 * time.Hour} {
		step(jump)
		for range 3 {
			step(time.Second)
		}
	}
	// The clock runs normally again: a whole window later the reading is back.
	for range 12 {
		step(time.Second)
	}
	if !last.UtilizationValid || last.Utilization < 0.99 || last.Utilization > 1.01 {
		t.Fatalf("utilization %v (valid %v) a window after the last jump, want 1", last.Utilization, last.UtilizationValid)
	}
}

// TestSamplerGapStartsANewWindow: the machine sleeps (or the VM is paused)
// for an hour with the monotonic clock moving on, as it does on Windows. The
// database then works flat out. The first samples after the gap must not
// average one busy second over the hour and call it idle.
func TestSamplerGapStartsANewWindow(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 1)
	t0 := time.Now()
	for i := 0; i <= 10; i++ {
		tab.Set(db(10, 1, 0, 0)) // idle before the gap
		s.Step(t0.Add(time.Duration(i) * time.Second))
	}
	if u := s.Usage(); !u.UtilizationValid || u.Utilization != 0 {
		t.Fatalf("before the gap: %+v, want a valid 0", u)
	}
	after := t0.Add(10*time.Second + time.Hour)
	for i := 1; i <= 12; i++ {
		tab.Set(db(10, 1, float64(i), 0)) // one core busy after the gap
		s.Step(after.Add(time.Duration(i) * time.Second))
		u := s.Usage()
		if u.UtilizationValid && u.Utilization < 0.5 {
			t.Fatalf("%d s after an hour's gap: utilization %v of a process using a whole core", i, u.Utilization)
		}
	}
	if u := s.Usage(); !u.UtilizationValid {
		t.Fatalf("a whole window after the gap: %+v, want a valid utilization", u)
	}
}

// TestSamplerSeveralRestartingAtOnce: three DbServer.exe processes restart at
// the same time between two samples (new PIDs and start times, small CPU
// totals), one exits for good and two PIDs are reused by other programs. The
// counters never go back; each new process counts from its own start, once,
// and no old process's total is subtracted from a new one's.
func TestSamplerSeveralRestartingAtOnce(t *testing.T) {
	tab := &procstest.Table{}
	s := newSampler(tab, 4)
	t0 := time.Now()
	tab.SetClock(5) // the old processes started at 1, the new ones at 9
	tab.Set(db(10, 1, 100, 10), db(11, 1, 200, 20), db(12, 1, 300, 30), db(13, 1, 400, 40))
	s.Step(t0)
	tab.Set(db(10, 1, 101, 10), db(11, 1, 201, 20), db(12, 1, 301, 30), db(13, 1, 401, 40))
	s.Step(t0.Add(time.Second))
	before := s.Usage()
	if before.Processes != 4 || !near(before.User, 4) {
		t.Fatalf("before: %+v, want 4 processes and 4 s user", before)
	}
	// PID 10 and 11 go to other programs; 12 restarts as 20; 13 exits.
	tab.Set(procs.Process{PID: 10, Name: "svchost.exe", Started: 9, User: 1},
		procs.Process{PID: 11, Name: "DbServer.exe", Started: 9, User: 2}, // same PID, new process
		db(20, 9, 5, 1), db(21, 9, 7, 1))
	for i := 2; i <= 5; i++ { // the rediscovery at 5 s finds the new ones
		s.Step(t0.Add(time.Duration(i) * time.Second))
		if u := s.Usage(); u.User < before.User || u.System < before.System {
			t.Fatalf("at %d s: counters went back: %+v", i, u)
		}
	}
	u := s.Usage()
	// The three new DbServer.exe used 2+5+7 s user and 0+1+1 s system since
	// they started; svchost.exe is no DbServer.exe.
	if u.Processes != 3 || !near(u.User, before.User+14) || !near(u.System, before.System+2) {
		t.Fatalf("after the restarts: %+v, want 3 processes and the new ones' 14 s user, 2 s system added", u)
	}
	tab.Set(procs.Process{PID: 11, Name: "DbServer.exe", Started: 9, User: 3}, db(20, 9, 6, 1), db(21, 9, 8, 1))
	s.Step(t0.Add(6 * time.Second))
	if u := s.Usage(); !near(u.User, before.User+14+3) {
		t.Fatalf("user %v, want %v: one second more from each of the three new processes", u.User, before.User+14+3)
	}
}
