//go:build linux

package procs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeProc is a /proc tree in a temporary directory.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T) *fakeProc {
	return &fakeProc{t: t, root: t.TempDir()}
}

// set writes the files the source reads for one process: comm, and a stat
// line whose comm, utime, stime and starttime are given. A name longer than
// the kernel keeps is truncated in comm and stat, and kept whole in the
// status and cmdline files gopsutil reads for long names.
func (f *fakeProc) set(pid int32, name string, utime, stime, start uint64) {
	f.t.Helper()
	comm := truncateComm(name)
	dir := filepath.Join(f.root, fmt.Sprint(pid))
	stat := fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 %d %d 0 0 20 0 1 0 %d 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		pid, comm, pid, pid, utime, stime, start)
	for file, content := range map[string]string{
		"comm":    comm + "\n",
		"stat":    stat,
		"status":  "Name:\t" + comm + "\nState:\tS (sleeping)\n",
		"cmdline": "/opt/" + name + "\x00-x\x00",
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fakeProc) remove(pid int32) {
	f.t.Helper()
	if err := os.RemoveAll(filepath.Join(f.root, fmt.Sprint(pid))); err != nil {
		f.t.Fatal(err)
	}
}

func pids(ps []Process) []int32 {
	var out []int32
	for _, p := range ps {
		out = append(out, p.PID)
	}
	slices.Sort(out)
	return out
}

func TestParseStat(t *testing.T) {
	p, comm, err := parseStat([]byte("42 (my (odd) name) R 1 42 42 0 -1 4194560 1 0 0 0 250 75 0 0 20 0 3 0 123456 1000 10 18446744073709551615\n"))
	if err != nil {
		t.Fatal(err)
	}
	if comm != "my (odd) name" || p.User != 2.5 || p.System != 0.75 || p.Started != 123456 {
		t.Fatalf("parsed %+v comm %q, want user 2.5 system 0.75 started 123456 comm %q", p, comm, "my (odd) name")
	}
	for name, line := range map[string]string{
		"no comm":       "42 R 1 42",
		"short":         "42 (x) R 1 42 42 0 -1 4194560 1 0 0 0 250 75",
		"not a number":  "42 (x) R 1 42 42 0 -1 4194560 1 0 0 0 2x0 75 0 0 20 0 3 0 123456 1000",
		"empty":         "",
		"bad starttime": "42 (x) R 1 42 42 0 -1 4194560 1 0 0 0 250 75 0 0 20 0 3 0 -5 1000",
	} {
		if _, _, err := parseStat([]byte(line)); err == nil {
			t.Errorf("%s: parsed %q without error", name, line)
		}
	}
}

func TestLinuxSourceFindsNamesIgnoringCaseWithTimes(t *testing.T) {
	f := newFakeProc(t)
	f.set(1, "init", 5, 5, 1)
	f.set(10, "DbServer.exe", 250, 50, 1000)
	f.set(11, "dbserver.EXE", 0, 0, 2000)
	f.set(12, "DbServer.exe.bak", 0, 0, 3000)
	f.set(13, "sh", 0, 0, 4000)
	s := newLinuxSource(f.root)
	got, err := s.Find([]string{"DbServer.exe"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pids(got), []int32{10, 11}) {
		t.Fatalf("found %v, want PIDs 10 and 11", got)
	}
	for _, p := range got {
		if p.PID == 10 && (p.Name != "DbServer.exe" || p.User != 2.5 || p.System != 0.5 || p.Started != 1000) {
			t.Fatalf("PID 10 = %+v, want DbServer.exe, user 2.5 s, system 0.5 s, started 1000", p)
		}
	}
}

// A name longer than the kernel's 15-byte comm only matches through the full
// name, and a 15-byte prefix alone never matches.
func TestLinuxSourceLongNames(t *testing.T) {
	f := newFakeProc(t)
	f.set(20, "OfficeScanMasterService.exe", 1, 0, 10)
	f.set(21, "OfficeScanMasterOther.exe", 1, 0, 11) // same first 15 bytes
	s := newLinuxSource(f.root)
	got, err := s.Find([]string{"officescanmasterservice.exe"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PID != 20 || got[0].Name != "OfficeScanMasterService.exe" {
		t.Fatalf("found %+v, want only PID 20 with its full name", got)
	}
	if got, _ := s.Find([]string{"OfficeScanMaste"}); len(got) != 0 {
		t.Fatalf("a truncated comm matched a 15-byte name: %+v", got)
	}
}

func TestLinuxSourceCachesNamesButSeesNewExitedAndReusedPIDs(t *testing.T) {
	f := newFakeProc(t)
	f.set(10, "DbServer.exe", 1, 0, 100)
	f.set(11, "other", 1, 0, 110)
	s := newLinuxSource(f.root)
	for range 2 { // the second scan confirms the names of new PIDs
		if got, _ := s.Find([]string{"DbServer.exe"}); !slices.Equal(pids(got), []int32{10}) {
			t.Fatalf("scan found %v, want [10]", pids(got))
		}
	}

	// A confirmed name is not read again: without its comm file, PID 11 is
	// still known by name and not dropped.
	if err := os.Remove(filepath.Join(f.root, "11", "comm")); err != nil {
		t.Fatal(err)
	}
	s.Find(nil)
	if i := slices.IndexFunc(s.cache, func(e entry) bool { return e.pid == 11 }); i < 0 || s.cache[i].comm != "other" {
		t.Fatalf("cache after second scan = %v, want PID 11 still named other", s.cache)
	}

	// PID 10 exits and its PID goes to a shell before the next scan; a new
	// DbServer.exe starts as PID 12. The stale cached name must not count.
	f.set(10, "sh", 0, 0, 900)
	f.set(12, "DbServer.exe", 0, 0, 910)
	got, err := s.Find([]string{"DbServer.exe"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pids(got), []int32{12}) {
		t.Fatalf("after PID reuse found %v, want only the new PID 12", pids(got))
	}
	f.remove(11)
	s.Find(nil)
	if len(s.cache) != 2 || s.cache[0].pid != 10 || s.cache[0].comm != "sh" || s.cache[1].pid != 12 {
		t.Fatalf("cache = %v, want PID 10 (now sh) and 12; exited 11 dropped", s.cache)
	}
}

// A process seen between fork and exec carries its parent's name; the next
// scan reads the name of a new PID once more and finds it.
func TestLinuxSourceConfirmsNewPIDsNames(t *testing.T) {
	f := newFakeProc(t)
	f.set(30, "bash", 0, 0, 300)
	s := newLinuxSource(f.root)
	if got, _ := s.Find([]string{"AutoPcc.exe"}); len(got) != 0 {
		t.Fatalf("found %+v before the exec", got)
	}
	f.set(30, "AutoPcc.exe", 0, 0, 300)
	if got, _ := s.Find([]string{"AutoPcc.exe"}); !slices.Equal(pids(got), []int32{30}) {
		t.Fatalf("scan after the exec found %v, want [30]", pids(got))
	}
}

// Cached names are re-read a share at a time, in proportion to the time
// since the last scan, so that all are re-read once per fullRescanEvery and
// no single scan pays for all of them.
func TestLinuxSourceSweepSpreadsRereads(t *testing.T) {
	f := newFakeProc(t)
	for pid := int32(100); pid < 200; pid++ {
		f.set(pid, "idle", 0, 0, uint64(pid))
	}
	s := newLinuxSource(f.root)
	s.Find(nil)
	s.Find(nil) // confirms the new PIDs' names
	// Every process execs into DbServer.exe; only re-read names can tell.
	for pid := int32(100); pid < 200; pid++ {
		f.set(pid, "DbServer.exe", 0, 0, uint64(pid))
	}
	var found []int
	for range 4 {
		s.lastFind = time.Now().Add(-fullRescanEvery / 4)
		got, err := s.Find([]string{"DbServer.exe"})
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, len(got))
	}
	// Each scan re-reads a quarter (rounded up, and the clock moves on a
	// little), and four scans cover everything.
	for i, n := range found {
		if lo := 25 * (i + 1); n < lo || n > lo+4 || found[3] != 100 {
			t.Fatalf("found %v after scans a quarter interval apart, want about [25 50 75 100]", found)
		}
	}
}

func TestLinuxSourceRefresh(t *testing.T) {
	f := newFakeProc(t)
	f.set(10, "DbServer.exe", 100, 10, 1000)
	f.set(11, "DbServer.exe", 100, 10, 1100)
	f.set(12, "DbServer.exe", 100, 10, 1200)
	f.set(13, "DbServer.exe", 100, 10, 1300)
	s := newLinuxSource(f.root)
	known, err := s.Find([]string{"DbServer.exe"})
	if err != nil || len(known) != 4 {
		t.Fatalf("Find = %v, %v; want 4 processes", known, err)
	}
	f.set(10, "DbServer.exe", 300, 20, 1000) // used 2.1 s more
	f.set(11, "DbServer.exe", 0, 0, 5000)    // PID reused by a new DbServer.exe
	f.remove(12)                             // exited
	f.set(13, "bash", 100, 10, 1300)         // exec'd into something else
	got, err := s.Refresh(known)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PID != 10 || got[0].User != 3 || got[0].System != 0.2 || got[0].Name != "DbServer.exe" {
		t.Fatalf("Refresh = %+v, want only PID 10 with user 3 s, system 0.2 s", got)
	}
}

func TestLinuxSourceListingErrorNamesTheDirectory(t *testing.T) {
	s := newLinuxSource(filepath.Join(t.TempDir(), "missing"))
	if _, err := s.Find([]string{"DbServer.exe"}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Find over a missing tree: err = %v, want one naming the tree", err)
	}
}

// The real /proc: this test process finds itself by name, with a start time
// and CPU time, and Refresh follows it.
func TestLinuxSourceRealProcFindsItself(t *testing.T) {
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
	} // use some CPU so the times are not zero
	me := filepath.Base(os.Args[0])
	src, err := NewSource()
	if err != nil {
		t.Fatal(err)
	}
	found, err := src.Find([]string{strings.ToUpper(me)})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(found, func(p Process) bool { return p.PID == int32(os.Getpid()) })
	if i < 0 {
		t.Fatalf("Find(%q) = %+v, does not include this process %d", me, found, os.Getpid())
	}
	p := found[i]
	if p.Started <= 0 || p.User+p.System <= 0 || !strings.EqualFold(p.Name, me) {
		t.Fatalf("this process = %+v, want a start time, CPU time and name %q", p, me)
	}
	again, err := src.Refresh([]Process{p})
	if err != nil || len(again) != 1 || again[0].Started != p.Started || again[0].User+again[0].System < p.User+p.System {
		t.Fatalf("Refresh = %+v, %v; want the same process with times not gone back", again, err)
	}
}

// StartedNow reads the clock /proc/<pid>/stat's starttime is given by: this
// process started before it, and a child started after a reading has a
// Started not before it. The sampler relies on this to count a process that
// starts while it watches from its start.
func TestLinuxSourceStartedNowIsTheStarttimeClock(t *testing.T) {
	src, err := NewSource()
	if err != nil {
		t.Fatal(err)
	}
	me := filepath.Base(os.Args[0])
	mark := src.StartedNow()
	found, err := src.Find([]string{me})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(found, func(p Process) bool { return p.PID == int32(os.Getpid()) })
	if i < 0 {
		t.Fatalf("Find(%q) does not include this process", me)
	}
	if self := found[i].Started; self > mark {
		t.Fatalf("this process started at %d, after the reading %d taken while it runs", self, mark)
	}

	time.Sleep(20 * time.Millisecond) // two clock ticks apart
	mark = src.StartedNow()
	child := exec.Command("sleep", "10")
	if err := child.Start(); err != nil {
		t.Skipf("no sleep to start: %v", err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	found, err = src.Find([]string{"sleep"})
	if err != nil {
		t.Fatal(err)
	}
	i = slices.IndexFunc(found, func(p Process) bool { return p.PID == int32(child.Process.Pid) })
	if i < 0 {
		t.Fatalf("Find(sleep) does not include the child %d", child.Process.Pid)
	}
	after := src.StartedNow()
	if s := found[i].Started; s < mark || s > after {
		t.Fatalf("a child started between readings %d and %d has Started %d", mark, after, s)
	}
	// In ticks: a reading a second later is about 100 ticks on.
	time.Sleep(time.Second)
	if d := src.StartedNow() - after; d < 90 || d > 150 {
		t.Fatalf("StartedNow moved by %d in a second, want about %d clock ticks", d, userHZ)
	}
}
