// Package procs reads the operating system's process table: which processes
// carry a given image name, and how much CPU time each has used.
//
// The table is read through Source so that collectors can be tested over a
// fake table and so that each OS can use its cheapest call: gopsutil on Linux,
// NtQuerySystemInformation on Windows.
package procs

import (
	"errors"
	"strings"
	"sync"
)

// Process is one running process as the table reported it.
type Process struct {
	PID  int32
	Name string
	// Started identifies this instance of the PID: its creation time in the
	// OS's own units (Linux: clock ticks since boot, from /proc/<pid>/stat;
	// Windows: 100 ns units since 1601, the process's CreateTime). A
	// different value under the same PID is a new process, whose CPU times
	// must not be subtracted from the old one's. Source.StartedNow reads the
	// same clock.
	Started int64
	// User and System are the CPU seconds the process has used since it started.
	User, System float64
}

// Source reads the process table. Implementations are safe for concurrent use.
type Source interface {
	// Find returns every process whose image name equals one of names,
	// ignoring case, with its CPU times.
	Find(names []string) ([]Process, error)
	// Refresh re-reads the CPU times of procs, keyed by PID and Started.
	// Processes that have exited, or whose PID now belongs to another
	// process, are left out.
	Refresh(procs []Process) ([]Process, error)
	// StartedNow is the current time in the units of Process.Started: a
	// process with a greater Started began after the call.
	StartedNow() int64
}

// ErrNotSupported is returned by NewSource where no process source exists.
var ErrNotSupported = errors.New("reading the process table is not supported on this OS")

// MatchName reports whether name equals one of names, ignoring case as
// Windows does for image names.
func MatchName(name string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// Shared returns a function that creates the OS's source on first use and
// hands the same one to every caller, so the collectors share one name cache
// and one buffer.
func Shared() func() (Source, error) {
	var (
		once sync.Once
		src  Source
		err  error
	)
	return func() (Source, error) {
		once.Do(func() { src, err = NewSource() })
		return src, err
	}
}
