//go:build linux

package procs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// fullRescanEvery bounds how long a cached PID->name entry is trusted. Names
// are cached because reading every /proc/<pid>/comm is the whole cost of a
// scan on a machine with thousands of processes, while PIDs are not reused
// quickly (pid_max is large) and a process rarely execs into DbServer.exe.
const fullRescanEvery = 2 * time.Minute

type linuxSource struct {
	mu       sync.Mutex
	names    map[int32]string
	lastFull time.Time
}

// NewSource returns the Linux process source, built on gopsutil.
func NewSource() (Source, error) {
	return &linuxSource{names: map[int32]string{}}, nil
}

func (s *linuxSource) Find(names []string) ([]Process, error) {
	ctx := context.Background()
	pids, err := process.PidsWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing /proc: %w", err)
	}

	s.mu.Lock()
	if time.Since(s.lastFull) > fullRescanEvery {
		clear(s.names)
		s.lastFull = time.Now()
	}
	seen := make(map[int32]string, len(pids))
	var matched []int32
	for _, pid := range pids {
		name, ok := s.names[pid]
		if !ok {
			p := &process.Process{Pid: pid}
			name, err = p.NameWithContext(ctx)
			if err != nil {
				continue // exited between the listing and the read
			}
		}
		seen[pid] = name
		if MatchName(name, names) {
			matched = append(matched, pid)
		}
	}
	s.names = seen
	s.mu.Unlock()

	out := make([]Process, 0, len(matched))
	for _, pid := range matched {
		if p, ok := readTimes(ctx, pid, seen[pid]); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *linuxSource) Refresh(procs []Process) ([]Process, error) {
	ctx := context.Background()
	out := make([]Process, 0, len(procs))
	for _, old := range procs {
		p, ok := readTimes(ctx, old.PID, old.Name)
		if ok && p.Started == old.Started {
			out = append(out, p)
		}
	}
	return out, nil
}

// readTimes reads /proc/<pid>/stat once for the start time and CPU times; ok
// is false when the process has exited.
func readTimes(ctx context.Context, pid int32, name string) (Process, bool) {
	p := &process.Process{Pid: pid}
	started, err := p.CreateTimeWithContext(ctx)
	if err != nil {
		return Process{}, false
	}
	t, err := p.TimesWithContext(ctx)
	if err != nil {
		return Process{}, false
	}
	return Process{PID: pid, Name: name, Started: started, User: t.User, System: t.System}, true
}

// Supported reports whether this OS has a process source; the process
// collectors are off by default where it has none.
const Supported = true
