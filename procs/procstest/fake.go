// Package procstest provides a process table for tests of code that reads processes.
package procstest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/officescan-exporter/officescan_exporter/procs"
)

// Table is an in-memory procs.Source. Set its processes with Set; make it fail with Fail.
type Table struct {
	mu    sync.Mutex
	procs []procs.Process
	err   error
	// Finds counts calls to Find, so tests can check how often the whole table is searched.
	Finds int
	clock int64
}

// SetClock sets what StartedNow returns: the current time in the units of
// Process.Started, which the test chooses. It is 0 until set.
func (t *Table) SetClock(now int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clock = now
}

// StartedNow returns the clock SetClock set.
func (t *Table) StartedNow() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.clock
}

// Set replaces the table's processes.
func (t *Table) Set(ps ...procs.Process) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.procs = append([]procs.Process(nil), ps...)
}

// Fail makes every call return err until it is called with nil.
func (t *Table) Fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.err = err
}

// ErrBroken is a ready-made error for Fail.
var ErrBroken = errors.New("process table unreadable")

func (t *Table) Find(names []string) ([]procs.Process, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Finds++
	if t.err != nil {
		return nil, t.err
	}
	var out []procs.Process
	for _, p := range t.procs {
		if procs.MatchName(p.Name, names) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (t *Table) Refresh(old []procs.Process) ([]procs.Process, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	var out []procs.Process
	for _, o := range old {
		for _, p := range t.procs {
			if p.PID == o.PID && p.Started == o.Started {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Synthetic returns a table of n processes, PIDs 1 to n, as a stand-in for a
// busy machine in benchmarks. The last len(named) of them carry the given
// names (each using 1 s of CPU); the rest are named proc-<PID>.
func Synthetic(n int, named ...string) *Table {
	ps := make([]procs.Process, n)
	for i := range ps {
		pid := int32(i + 1)
		ps[i] = procs.Process{PID: pid, Name: fmt.Sprintf("proc-%d", pid), Started: int64(pid)}
		if j := i - (n - len(named)); j >= 0 {
			ps[i].Name, ps[i].User = named[j], 1
		}
	}
	t := &Table{}
	t.Set(ps...)
	return t
}
