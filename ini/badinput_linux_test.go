package ini

import (
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

// Files that are not files: each must give an error naming the path at once,
// never a hang and never an empty file read as "no such key".
func TestReadFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.ini")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.ini")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path string
		want []string
		is   error
	}{
		// Opening a FIFO waits for a writer: it would hang the collector.
		"fifo":          {fifo, []string{fifo, "not a regular file"}, nil},
		"character dev": {"/dev/zero", []string{"/dev/zero", "not a regular file"}, nil},
		"symlink loop":  {loop, []string{loop}, syscall.ELOOP},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(tc.path); done <- err }()
		select {
		case err := <-done:
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %v does not contain %q", name, err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%s: error %v is not %v", name, err, tc.is)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadFile(%s) still blocked after 5 s", name, tc.path)
		}
	}
}

// TestReadFileUnreadableNamesTheFile reads a file with no read permission as
// an unprivileged user (root would read it anyway).
func TestReadFileUnreadableNamesTheFile(t *testing.T) {
	if asuser.Child() {
		path := os.Getenv("OSE_TEST_INI")
		_, err := ReadFile(path)
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("error %v, want permission denied naming %s", err, path)
		}
		return
	}
	path := filepath.Join(asuser.Dir(t), "Ofcscan.ini")
	if err := os.WriteFile(path, []byte("[S]\r\nK=1\r\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	asuser.Run(t, "TestReadFileUnreadableNamesTheFile", "OSE_TEST_INI="+path)
}
