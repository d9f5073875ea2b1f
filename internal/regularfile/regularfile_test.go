package regularfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

func TestReadsWholeFileWithinTheLimit(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, info, err := Read(path, 5)
	if err != nil || string(data) != "12345" || info.Size() != 5 {
		t.Fatalf("Read = %q, %v, %v; want the 5 bytes", data, info, err)
	}
	if _, _, err := Read(path, 4); err == nil || !strings.Contains(err.Error(), "larger than the 4 byte limit") {
		t.Fatalf("over the limit: %v, want the limit named", err)
	}
	if _, _, err := Read(dir, 5); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("a directory: %v", err)
	}
}
