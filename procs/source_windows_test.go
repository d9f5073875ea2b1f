//go:build windows

package procs

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// These tests run under Wine in scripts/test.d/30-windows.sh and on real
// Windows with plain go test.

// synthProc is one entry of a synthetic process table.
type synthProc struct {
	pid                  uintptr
	name                 string
	created, user, kernl int64
	threads              int // entries of SYSTEM_THREAD_INFORMATION (80 bytes) after the process entry
}

const threadInfoSize = 80

// synthTable lays out procs the way Windows does: each entry, then its
// threads, then its image name, the next entry 8-byte aligned after that.
func synthTable(t testing.TB, procs ...synthProc) []byte {
	t.Helper()
	return layTable(align8, procs)
}

// wineTable lays out procs the way Wine 8 does: the next entry right after
// the name, at a 2-byte offset.
func wineTable(t testing.TB, procs ...synthProc) []byte {
	t.Helper()
	return layTable(func(n int) int { return n }, procs)
}

func layTable(align func(int) int, procs []synthProc) []byte {
	size := 0
	for _, p := range procs {
		size += align(entrySize + p.threads*threadInfoSize + 2*len(p.name) + 2)
	}
	size = align8(size)
	words := make([]uint64, size/8)
	table := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	off := 0
	for i, p := range procs {
		e := (*windows.SYSTEM_PROCESS_INFORMATION)(unsafe.Pointer(&table[off]))
		e.UniqueProcessID = p.pid
		e.CreateTime, e.UserTime, e.KernelTime = p.created, p.user, p.kernl
		e.NumberOfThreads = uint32(p.threads)
		nameOff := off + entrySize + p.threads*threadInfoSize
		if p.name != "" {
			u := windows.StringToUTF16(p.name) // with its NUL, as the kernel writes it
			copy(unsafe.Slice((*uint16)(unsafe.Pointer(&table[nameOff])), len(u)), u)
			e.ImageName.Buffer = (*uint16)(unsafe.Pointer(&table[nameOff]))
			e.ImageName.Length = uint16(2 * (len(u) - 1))
			e.ImageName.MaximumLength = uint16(2 * len(u))
		}
		next := align(nameOff + 2*len(p.name) + 2)
		if i < len(procs)-1 {
			e.NextEntryOffset = uint32(next - off)
		}
		off = next
	}
	return table
}

func align8(n int) int { return (n + 7) &^ 7 }

type walked struct {
	pid          int32
	name         string
	started      int64
	user, system float64
}

func walkAll(table []byte) ([]walked, error) {
	var got []walked
	err := walkProcessTable(table, func(e *windows.SYSTEM_PROCESS_INFORMATION, name []uint16) {
		p := processOf(e, windows.UTF16ToString(name))
		got = append(got, walked{p.PID, p.Name, p.Started, p.User, p.System})
	})
	return got, err
}

func TestWalkProcessTable(t *testing.T) {
	for layout, lay := range map[string]func(testing.TB, ...synthProc) []byte{"windows": synthTable, "wine": wineTable} {
		t.Run(layout, func(t *testing.T) { testWalk(t, lay) })
	}
}

func testWalk(t *testing.T, lay func(testing.TB, ...synthProc) []byte) {
	table := lay(t,
		synthProc{pid: 0, name: "", created: 0, user: 0, kernl: 9_000_000_000, threads: 2}, // Idle: no name
		synthProc{pid: 4, name: "System", created: 1, kernl: 50_000_000, threads: 100},
		synthProc{pid: 1234, name: "DbServer.exe", created: 133_700_000_000_000_000, user: 25_000_000, kernl: 5_000_000, threads: 7},
		synthProc{pid: 4321, name: "AutoPcc.exe", created: 133_700_000_000_000_001, user: 1, threads: 1},
	)
	got, err := walkAll(table)
	if err != nil {
		t.Fatal(err)
	}
	want := []walked{
		{0, "", 0, 0, 900},
		{4, "System", 1, 0, 5},
		{1234, "DbServer.exe", 133_700_000_000_000_000, 2.5, 0.5},
		{4321, "AutoPcc.exe", 133_700_000_000_000_001, 1e-7, 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("walked\n%v\nwant\n%v", got, want)
	}
}

func TestWalkProcessTableRejectsBrokenTables(t *testing.T) {
	twoProcs := func() []byte {
		return synthTable(t, synthProc{pid: 4, name: "System", threads: 1}, synthProc{pid: 8, name: "DbServer.exe", threads: 1})
	}
	entry := func(table []byte, off int) *windows.SYSTEM_PROCESS_INFORMATION {
		return (*windows.SYSTEM_PROCESS_INFORMATION)(unsafe.Pointer(&table[off]))
	}
	elsewhere := windows.StringToUTF16("elsewhere.exe")
	second := int(entry(twoProcs(), 0).NextEntryOffset) // where PID 8's entry starts
	cases := []struct {
		name  string
		table func() []byte
		want  string
	}{
		{"empty", func() []byte { return nil }, "process table is empty"},
		{"shorter than one entry", func() []byte { return twoProcs()[:entrySize-8] },
			fmt.Sprintf("entry at offset 0: %d bytes left, an entry needs %d", entrySize-8, entrySize)},
		{"last entry cut off", func() []byte {
			b := twoProcs()
			return b[:second+entrySize/2]
		}, fmt.Sprintf("entry at offset %d: %d bytes left", second, entrySize/2)},
		{"link past the end", func() []byte {
			b := twoProcs()
			entry(b, 0).NextEntryOffset = uint32(len(b) + 8)
			return b
		}, fmt.Sprintf("entry at offset 0 (PID 4): next entry offset %d is not a forward link", len(twoProcs())+8)},
		{"link into its own entry", func() []byte {
			b := twoProcs()
			entry(b, 0).NextEntryOffset = 8
			return b
		}, "next entry offset 8 is not a forward link"},
		{"name outside the table", func() []byte {
			b := twoProcs()
			entry(b, second).ImageName.Buffer = &elsewhere[0]
			return b
		}, fmt.Sprintf("entry at offset %d (PID 8): image name of 24 bytes at", second)},
		{"name running past the end", func() []byte {
			b := twoProcs()
			entry(b, second).ImageName.Length = 4000
			return b
		}, "image name of 4000 bytes"},
		{"odd name length", func() []byte {
			b := twoProcs()
			entry(b, 0).ImageName.Length = 3
			return b
		}, "entry at offset 0 (PID 4): image name of 3 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := walkAll(c.table())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestSourceFindsItselfAndItsCPUTime reads the real table: this test binary
// must be listed by its image name, with CPU times that grow while it works.
func TestSourceFindsItselfAndItsCPUTime(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource()
	if err != nil {
		t.Fatal(err)
	}
	me := self(t, src, strings.ToUpper(filepath.Base(exe)))
	if !strings.EqualFold(me.Name, filepath.Base(exe)) || me.Started == 0 {
		t.Fatalf("own entry %+v: want name %s and a start time", me, filepath.Base(exe))
	}

	// Work until this process has used 300 ms more CPU by its own account
	// (GetProcessTimes is right about the calling process, under Wine too),
	// however long a busy machine makes that take.
	before := ownCPUSeconds(t)
	for deadline := time.Now().Add(30 * time.Second); ownCPUSeconds(t)-before < 0.3; {
		if time.Now().After(deadline) {
			t.Fatal("did not get 300 ms of CPU in 30 s")
		}
		spin(10 * time.Millisecond)
	}
	after, err := src.Refresh([]Process{me})
	if err != nil {
		t.Fatal(err)
	}
	own := ownCPUSeconds(t)
	if len(after) != 1 || after[0].PID != me.PID || after[0].Started != me.Started || after[0].Name != me.Name {
		t.Fatalf("Refresh(%+v) = %+v, want the same process", me, after)
	}
	if used := after[0].User + after[0].System - me.User - me.System; used < 0.25 {
		t.Fatalf("CPU time grew by %.3f s while this process used 300 ms, want at least 0.25 s", used)
	}
	// Both read the same kernel counters, a moment apart.
	if read := after[0].User + after[0].System; math.Abs(read-own) > 0.1 {
		t.Fatalf("the table says this process used %.3f s of CPU, GetProcessTimes says %.3f s", read, own)
	}

	gone := []Process{
		{PID: me.PID, Name: me.Name, Started: me.Started + 1}, // same PID, other process
		{PID: 0x7ffffff0, Name: "ghost.exe", Started: me.Started},
	}
	if got, err := src.Refresh(gone); err != nil || len(got) != 0 {
		t.Fatalf("Refresh of a reused PID and an absent one = %+v, %v; want none", got, err)
	}
}

// TestSourceGrowsItsBuffer starts with a buffer too small for one entry:
// the source must grow it from STATUS_INFO_LENGTH_MISMATCH and still read the table.
func TestSourceGrowsItsBuffer(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src := newWindowsSource(64)
	self(t, src, filepath.Base(exe))
	if len(src.buf)*8 <= 64 {
		t.Fatalf("buffer is still %d bytes", len(src.buf)*8)
	}
	grown := len(src.buf)
	self(t, src, filepath.Base(exe))
	if len(src.buf) != grown {
		t.Fatalf("buffer changed from %d to %d words on a second read; want it reused", grown, len(src.buf))
	}
}

func self(t *testing.T, src Source, name string) Process {
	t.Helper()
	found, err := src.Find([]string{"no-such-process.exe", name})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range found {
		if int(p.PID) == os.Getpid() {
			return p
		}
	}
	t.Fatalf("Find(%s) = %+v, want one with this test's PID %d", name, found, os.Getpid())
	return Process{}
}

// ownCPUSeconds is this process's user and kernel time by GetProcessTimes.
func ownCPUSeconds(t *testing.T) float64 {
	t.Helper()
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &created, &exited, &kernel, &user); err != nil {
		t.Fatal(err)
	}
	ticks := func(f windows.Filetime) float64 {
		return float64(uint64(f.HighDateTime)<<32|uint64(f.LowDateTime)) / 1e7
	}
	return ticks(kernel) + ticks(user)
}

func spin(d time.Duration) {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 100_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if x == 42 {
		panic("unreachable")
	}
}

// BenchmarkFind measures one read of the real table; run it under Wine with
// GOOS=windows go test -exec "$WINE" -run '^$' -bench . ./procs/
func BenchmarkFind(b *testing.B) {
	src, err := NewSource()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		found, err := src.Find([]string{"DbServer.exe"})
		if err != nil {
			b.Fatal(err)
		}
		n = len(found)
	}
	_ = n
	b.ReportMetric(float64(countProcesses(b, src.(*windowsSource))), "processes")
}

func countProcesses(b *testing.B, s *windowsSource) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	table, err := s.read()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	if err := walkProcessTable(table, func(*windows.SYSTEM_PROCESS_INFORMATION, []uint16) { n++ }); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkWalk5000 measures the parsing alone over a synthetic table the
// size of a busy terminal server: 5,000 processes of 20 threads each.
func BenchmarkWalk5000(b *testing.B) {
	procs := make([]synthProc, 5000)
	for i := range procs {
		procs[i] = synthProc{pid: uintptr(4 * (i + 1)), name: fmt.Sprintf("process%04d.exe", i), created: int64(i), threads: 20}
	}
	procs[4321].name = "DbServer.exe"
	table := synthTable(b, procs...)
	names := []string{"DbServer.exe"}
	b.SetBytes(int64(len(table)))
	for b.Loop() {
		found := 0
		err := walkProcessTable(table, func(e *windows.SYSTEM_PROCESS_INFORMATION, name []uint16) {
			if MatchName(windows.UTF16ToString(name), names) {
				found++
			}
		})
		if err != nil || found != 1 {
			b.Fatalf("found %d, err %v", found, err)
		}
	}
}

// StartedNow reads the clock CreateTime is stamped with: this process
// started before a reading taken while it runs, and not long before.
func TestSourceStartedNowIsTheCreateTimeClock(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource()
	if err != nil {
		t.Fatal(err)
	}
	me := self(t, src, filepath.Base(exe))
	now := src.StartedNow()
	if me.Started > now {
		t.Fatalf("this process was created at %d, after the reading %d taken while it runs", me.Started, now)
	}
	// 100 ns units: the test binary has run for well under ten minutes.
	if age := time.Duration(now-me.Started) * 100; age > 10*time.Minute {
		t.Fatalf("this process was created %s before StartedNow; the clocks differ", age)
	}
}
