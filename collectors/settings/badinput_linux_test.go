package settings_test

import (
	"bytes"
	"os"
	"syscall"
	"testing"
)

func TestBadSettingsFileOnLinuxFailsOnlyItsCollector(t *testing.T) {
	replaceBy := func(make func(path string) error) func(f *fixture) {
		return func(f *fixture) {
			if err := os.Remove(f.ini); err != nil {
				t.Fatal(err)
			}
			if err := make(f.ini); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(f.ini) })
		}
	}
	t.Run("100 MB", func(t *testing.T) {
		badSettingsFile(t, func(f *fixture) {
			f.write(bytes.Repeat([]byte("[Example_Global_Setting]\r\nExample_Firewall_Enabled=1\r\n"), 100<<20/52))
		}, "larger than the 16777216 byte limit")
	})
	t.Run("fifo", func(t *testing.T) {
		badSettingsFile(t, replaceBy(func(p string) error { return syscall.Mkfifo(p, 0o644) }), "not a regular file")
	})
	t.Run("symlink loop", func(t *testing.T) {
		badSettingsFile(t, replaceBy(func(p string) error { return os.Symlink(p, p) }), "too many levels of symbolic links")
	})
}
