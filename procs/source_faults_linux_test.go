package procs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLinuxSourceProcessesVanishingMidScan: processes exit while a scan is
// under way, leaving /proc entries that the listing saw but whose files are
// gone by the time they are read (comm, then stat), and a stat cut short.
// The scan reports the processes it could read, without an error and
// without a half-read process.
func TestLinuxSourceProcessesVanishingMidScan(t *testing.T) {
	f := newFakeProc(t)
	f.set(10, "DbServer.exe", 100, 10, 1000)
	f.set(11, "DbServer.exe", 100, 10, 1100)
	f.set(12, "DbServer.exe", 100, 10, 1200)
	f.set(13, "DbServer.exe", 100, 10, 1300)
	remove := func(pid, file string) {
		if err := os.Remove(filepath.Join(f.root, pid, file)); err != nil {
			t.Fatal(err)
		}
	}
	remove("11", "comm") // exited between the listing and the name read
	remove("12", "stat") // exited between the name read and the times read
	// Exited while its stat was read: the kernel hands out what it has.
	if err := os.WriteFile(filepath.Join(f.root, "13", "stat"), []byte("13 (DbServer.exe) S 1 13 13 0 -1 4194560 100 0"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newLinuxSource(f.root)
	got, err := s.Find([]string{"DbServer.exe"})
	if err != nil {
		t.Fatalf("a process that vanished mid-scan failed the scan: %v", err)
	}
	if !slices.Equal(pids(got), []int32{10}) || got[0].User != 1 {
		t.Fatalf("found %+v, want only PID 10 with its times", got)
	}
	// The next sample's refresh of a process that is gone by then.
	f.remove(10)
	got, err = s.Refresh(got)
	if err != nil || len(got) != 0 {
		t.Fatalf("Refresh after the process exited = %+v, %v; want nothing and no error", got, err)
	}
}
