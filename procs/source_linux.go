//go:build linux

package procs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/process"
	"golang.org/x/sys/unix"
)

const (
	// fullRescanEvery bounds how long a cached PID->name entry is trusted.
	// Names are cached because reading every process's name is the whole
	// cost of a scan on a machine with thousands of processes, while PIDs are
	// not reused quickly and a process rarely execs into DbServer.exe. The
	// re-reading is spread over the interval (see sweepBudget), so no single
	// scrape pays for a whole rescan.
	fullRescanEvery = 2 * time.Minute

	// commLen is how much of a name /proc/<pid>/comm and stat hold: the
	// kernel's TASK_COMM_LEN (16) less the terminating NUL.
	commLen = 15

	// userHZ is the unit of the times in /proc/<pid>/stat. The kernel scales
	// them to USER_HZ, which is 100 on every architecture Go supports,
	// whatever the kernel's internal HZ.
	userHZ = 100
)

// The source lists /proc and resolves names longer than comm through
// gopsutil. The per-process reads that run on every scan (comm for a new
// PID, stat for a matched one) are raw open/read/close into a reused buffer:
// measured at 5,000 processes, gopsutil's Name and Times+CreateTime cost
// 7 and 14 system calls per process (fstat, fcntl, epoll registration, a
// second read of stat, /proc/stat for the boot time, getpriority) where 3 do.

type entry struct {
	pid  int32
	comm string
	// fresh marks a name read in the last scan for a PID seen for the first
	// time. It is read once more in the next scan: a process caught between
	// fork and exec still carries its parent's name.
	fresh bool
}

type linuxSource struct {
	root string          // "/proc"; tests point it at a fixture tree
	ctx  context.Context // carries root to gopsutil

	mu sync.Mutex
	// cache holds the comm of every process of the last listing, by
	// ascending PID; next is the other half of a double buffer, so that a
	// scan allocates no new table.
	cache, next []entry
	// sweepFrom is the lowest PID whose cached name is due to be re-read.
	sweepFrom int32
	lastFind  time.Time
	buf       []byte
	path      []byte
}

// NewSource returns the Linux process source over /proc, or over
// $HOST_PROC as gopsutil has it (a host's /proc mounted into a container).
func NewSource() (Source, error) {
	root := os.Getenv("HOST_PROC")
	if root == "" {
		root = "/proc"
	}
	return newLinuxSource(root), nil
}

func newLinuxSource(root string) *linuxSource {
	return &linuxSource{
		root: root,
		ctx:  context.WithValue(context.Background(), common.EnvKey, common.EnvMap{common.HostProcEnvKey: root}),
		buf:  make([]byte, 4096), // /proc/<pid>/stat is well under 1 KiB
	}
}

func (s *linuxSource) Find(names []string) ([]Process, error) {
	pids, err := process.PidsWithContext(s.ctx)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", s.root, err)
	}
	if !slices.IsSorted(pids) { // /proc lists in PID order; a fixture tree need not
		slices.Sort(pids)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	budget := s.sweepBudget(len(pids), now)
	if budget >= len(pids) {
		s.sweepFrom = 0
	}
	s.lastFind = now

	old, next := s.cache, s.next[:0]
	var out []Process
	i := 0
	for _, pid := range pids {
		for i < len(old) && old[i].pid < pid {
			i++
		}
		e := entry{pid: pid}
		cached := i < len(old) && old[i].pid == pid && !old[i].fresh
		if cached {
			e.comm = old[i].comm
			if budget > 0 && pid >= s.sweepFrom {
				cached = false
				budget--
				s.sweepFrom = pid + 1
			}
		}
		if !cached {
			c, err := s.readFile(pid, "comm")
			if err != nil {
				continue // exited between the listing and the read
			}
			e.fresh = i >= len(old) || old[i].pid != pid
			if e.comm = string(bytes.TrimSuffix(c, []byte("\n"))); !e.fresh && e.comm == old[i].comm {
				e.comm = old[i].comm // keep one copy of the string
			}
		}
		comm := e.comm
		next = append(next, e)

		name, ok := s.match(pid, comm, names)
		if !ok {
			continue
		}
		p, statComm, ok := s.readStat(pid)
		if !ok {
			continue
		}
		if statComm != comm {
			// The PID changed hands (or the process exec'd) since its name
			// was cached: take the name the kernel has now.
			next[len(next)-1].comm = statComm
			if name, ok = s.match(pid, statComm, names); !ok {
				continue
			}
		}
		p.Name = name
		out = append(out, p)
	}
	if budget > 0 {
		s.sweepFrom = 0 // the sweep passed the highest PID: start over
	}
	clear(old) // drop the strings of exited processes
	s.cache, s.next = next, old[:0]
	return out, nil
}

// sweepBudget is how many cached names to re-read in a scan of n processes,
// so that all of them are re-read once per fullRescanEvery, in proportion to
// the time since the last scan.
func (s *linuxSource) sweepBudget(n int, now time.Time) int {
	if s.lastFind.IsZero() {
		return 0 // nothing cached yet: every name is read anyway
	}
	elapsed := now.Sub(s.lastFind)
	if elapsed >= fullRescanEvery {
		return n
	}
	return int((int64(n)*int64(elapsed) + int64(fullRescanEvery) - 1) / int64(fullRescanEvery))
}

// match reports whether the process with this comm has one of names, and
// its full name. comm holds only the first commLen bytes of a longer name;
// then, and only when one of names starts that way, the whole name is read.
func (s *linuxSource) match(pid int32, comm string, names []string) (string, bool) {
	if len(comm) < commLen {
		return comm, MatchName(comm, names)
	}
	for _, n := range names {
		if len(n) >= commLen && strings.EqualFold(n[:commLen], comm) {
			full, err := (&process.Process{Pid: pid}).NameWithContext(s.ctx)
			return full, err == nil && MatchName(full, names)
		}
	}
	return "", false
}

func (s *linuxSource) Refresh(procs []Process) ([]Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Process, 0, len(procs))
	for _, old := range procs {
		p, comm, ok := s.readStat(old.PID)
		if ok && p.Started == old.Started && comm == truncateComm(old.Name) {
			p.Name = old.Name
			out = append(out, p)
		}
	}
	return out, nil
}

// StartedNow reads CLOCK_BOOTTIME, the clock the kernel gives each
// process's starttime from (in clock ticks since boot, suspend included).
// Neither moves when the wall clock is set.
func (s *linuxSource) StartedNow() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		// Linux has had CLOCK_BOOTTIME since 2.6.39: this does not happen.
		// Claim the latest time, so that no process reads as started later.
		return math.MaxInt64
	}
	return ts.Nano() / (int64(time.Second) / userHZ)
}

func truncateComm(name string) string {
	if len(name) > commLen {
		return name[:commLen]
	}
	return name
}

// readStat reads /proc/<pid>/stat once for the comm, start time and CPU
// times; ok is false when the process has exited or the file is not as
// proc(5) describes it.
func (s *linuxSource) readStat(pid int32) (p Process, comm string, ok bool) {
	b, err := s.readFile(pid, "stat")
	if err != nil {
		return Process{}, "", false
	}
	p, comm, err = parseStat(b)
	if err != nil {
		return Process{}, "", false
	}
	p.PID = pid
	return p, comm, true
}

// parseStat takes comm (field 2), utime and stime (14, 15) and starttime
// (22, in clock ticks since boot: a PID's identity that no clock change can
// move) out of a /proc/<pid>/stat line. comm may hold spaces and
// parentheses, so the fields after it are counted from the last ')'.
func parseStat(b []byte) (Process, string, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Process{}, "", fmt.Errorf("stat %q: no (comm)", b)
	}
	rest := b[end+1:]
	var field [23]uint64 // by proc(5) number; fields 3 on follow comm
	n := 2
	for len(rest) > 0 && n < 22 {
		rest = bytes.TrimLeft(rest, " ")
		tok := rest
		if sp := bytes.IndexByte(rest, ' '); sp >= 0 {
			tok, rest = rest[:sp], rest[sp:]
		} else {
			rest = nil
		}
		if len(tok) == 0 {
			break
		}
		n++
		switch n {
		case 14, 15, 22:
			v, err := strconv.ParseUint(string(tok), 10, 64)
			if err != nil {
				return Process{}, "", fmt.Errorf("stat field %d %q: %w", n, tok, err)
			}
			field[n] = v
		}
	}
	if n < 22 {
		return Process{}, "", fmt.Errorf("stat %q: %d fields, want at least 22", b, n)
	}
	return Process{
		Started: int64(field[22]),
		User:    float64(field[14]) / userHZ,
		System:  float64(field[15]) / userHZ,
	}, string(b[open+1 : end]), nil
}

// readFile reads <root>/<pid>/<file> into s.buf with three system calls.
// The result is valid until the next call.
func (s *linuxSource) readFile(pid int32, file string) ([]byte, error) {
	s.path = append(strconv.AppendInt(append(append(s.path[:0], s.root...), '/'), int64(pid), 10), '/')
	s.path = append(s.path, file...)
	path := string(s.path)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for errors.Is(err, unix.EINTR) {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, s.buf)
	for errors.Is(err, unix.EINTR) {
		n, err = unix.Read(fd, s.buf)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if n == len(s.buf) {
		return nil, fmt.Errorf("reading %s: longer than %d bytes", path, len(s.buf))
	}
	return s.buf[:n], nil
}

// Supported reports whether this OS has a process source; the process
// collectors are off by default where it has none.
const Supported = true
