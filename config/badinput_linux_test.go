package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/regularfile/regularfiletest"
)

// A FIFO, a device or a symlink loop given as --config.file must fail start-up
// at once, naming the file, never hang it.
func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	regularfiletest.RefusesNonFiles(t, func(path string) error {
		_, err := Load(path)
		return err
	})
}

// TestLoadUnreadableNamesTheFile reads a file with no read permission as an
// unprivileged user (root would read it anyway).
func TestLoadUnreadableNamesTheFile(t *testing.T) {
	regularfiletest.RefusesUnreadable(t, []byte(valid), func(path string) error {
		_, err := Load(path)
		return err
	})
}

// TestLoad100MBIsRefusedUnread: refused after reading MaxSize+1 bytes, not
// read whole. (Linux only: writing 100 MB takes seconds under Wine.)
func TestLoad100MBIsRefusedUnread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yml")
	if err := os.WriteFile(path, bytes.Repeat([]byte("# padding line of a config file\n"), 100<<20/32), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "larger than the 1048576 byte limit") {
		t.Fatalf("error %v, want one naming %s and the 1 MiB limit", err, path)
	}
}
