package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/asuser"
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
	if asuser.Child() {
		path := os.Getenv("OSE_TEST_CONFIG")
		_, err := Load(path)
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("error %v, want permission denied naming %s", err, path)
		}
		return
	}
	path := filepath.Join(asuser.Dir(t), "officescan.yml")
	if err := os.WriteFile(path, []byte(valid), 0o000); err != nil {
		t.Fatal(err)
	}
	asuser.Run(t, "TestLoadUnreadableNamesTheFile", "OSE_TEST_CONFIG="+path)
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
