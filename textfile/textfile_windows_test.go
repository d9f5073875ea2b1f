package textfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// windows_exporter opens the file without FILE_SHARE_DELETE while it reads
// it, which makes a rename over it fail. Write must wait for the reader.
func TestWriteWaitsForReader(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "officescan.prom")
	if err := os.WriteFile(path, []byte("old_metric 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(path) // Go opens without FILE_SHARE_DELETE, as windows_exporter does
	if err != nil {
		t.Fatal(err)
	}
	// Show that the open file really blocks a rename here, so the test
	// exercises the retry.
	probe := filepath.Join(dir, "probe.tmp")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(probe, path); err == nil || !isTransientRename(err) {
		reader.Close()
		t.Fatalf("rename over an open file: %v, want a sharing or access-denied error", err)
	}
	os.Remove(probe)

	release := time.AfterFunc(300*time.Millisecond, func() { reader.Close() })
	defer release.Stop()
	if err := Write(path, sampleGatherer()); err != nil {
		t.Fatalf("Write while a reader held the file for 300ms: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	onlyFile(t, dir, "officescan.prom")
}
