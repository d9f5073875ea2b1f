package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/internal/asuser"
)

func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.yml")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path, want string
	}{
		// Opening a FIFO waits for a writer: it would hang the start-up.
		"fifo":          {fifo, "not a regular file"},
		"character dev": {"/dev/zero", "not a regular file"},
		"symlink loop":  {loop, "too many levels of symbolic links"},
	} {
		done := make(chan error, 1)
		go func() { _, err := Load(tc.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want one naming %s and containing %q", name, err, tc.path, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Load(%s) still blocked after 5 s", name, tc.path)
		}
	}
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
