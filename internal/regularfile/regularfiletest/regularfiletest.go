//go:build linux

// Package regularfiletest checks that a reader refuses what is not a file.
package regularfiletest

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

// RefusesNonFiles gives read a FIFO, a character device and a symlink loop,
// and checks that each read returns at once with an error naming the path
// and saying why. Opening a FIFO waits for a writer and a device may never
// end, so a reader that does not look before it opens would hang.
func RefusesNonFiles(t *testing.T, read func(path string) error) {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path string
		want func(error) bool
	}{
		"fifo":          {fifo, says("not a regular file")},
		"character dev": {"/dev/zero", says("not a regular file")},
		"symlink loop":  {loop, func(err error) bool { return errors.Is(err, syscall.ELOOP) }},
	} {
		done := make(chan error, 1)
		go func() { done <- read(tc.path) }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.path) || !tc.want(err) {
				t.Errorf("%s: error %v, want one naming %s and saying why", name, err, tc.path)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: reading %s still blocked after 5 s", name, tc.path)
		}
	}
}

func says(s string) func(error) bool {
	return func(err error) bool { return strings.Contains(err.Error(), s) }
}

const unreadableEnv = "OSE_TEST_UNREADABLE"

// RefusesUnreadable writes content to a file nobody may read and checks, as
// an unprivileged user (root reads any file), that read fails with
// "permission denied" naming the file. Call it as the whole of a test: the
// test runs again in a child process (internal/asuser), where only the check
// is done.
func RefusesUnreadable(t *testing.T, content []byte, read func(path string) error) {
	t.Helper()
	if asuser.Child() {
		path := os.Getenv(unreadableEnv)
		if err := read(path); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("error %v, want permission denied naming %s", err, path)
		}
		return
	}
	path := filepath.Join(asuser.Dir(t), "unreadable")
	if err := os.WriteFile(path, content, 0o000); err != nil {
		t.Fatal(err)
	}
	asuser.Run(t, t.Name(), unreadableEnv+"="+path)
}
