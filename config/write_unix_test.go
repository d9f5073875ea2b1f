//go:build !windows

package config

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

func owner(t *testing.T, path string) (uint32, uint32, os.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	return s.Uid, s.Gid, st.Mode()
}

// The new file keeps the old one's mode, owner and group, and so does the
// backup: a config file readable only by the exporter's account stays so.
func TestWriteSettingKeepsModeAndOwner(t *testing.T) {
	path := writeConfig(t, handWritten)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	if os.Getuid() == 0 {
		// root can give the file away, as an admin's sudo would find it.
		uid, gid = 1234, 5678
		if err := os.Chown(path, int(uid), int(gid)); err != nil {
			t.Fatal(err)
		}
	}
	w, err := WriteSetting(path, "kernel_driver_restart_notification", kernel, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, w.Backup} {
		if u, g, m := owner(t, p); u != uid || g != gid || m != 0o640 {
			t.Errorf("%s: owner %d:%d mode %v, want %d:%d -rw-r-----", p, u, g, m, uid, gid)
		}
	}
}

func TestWriteSettingNewFileIsReadable(t *testing.T) {
	path := filepath.Join(testdir.New(t), "config.yml")
	if _, err := WriteSetting(path, "kernel_driver_restart_notification", kernel, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, m := owner(t, path); m != 0o644 {
		t.Errorf("mode %v, want -rw-r--r--", m)
	}
}

// A config file that is a symbolic link stays one: the file it points to
// is replaced, its backup made beside it.
func TestWriteSettingThroughASymlink(t *testing.T) {
	real := writeConfig(t, handWritten)
	link := filepath.Join(testdir.New(t), "config.yml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	w, err := WriteSetting(link, "kernel_driver_restart_notification", kernel, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, m := owner(t, link); m&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file")
	}
	if w.Path != real || filepath.Dir(w.Backup) != filepath.Dir(real) {
		t.Errorf("Written = %+v, want %s written and its backup beside it", w, real)
	}
	if cfg, err := Load(link); err != nil || cfg.Settings["kernel_driver_restart_notification"].Key != kernel.Key {
		t.Errorf("through the link: %v", err)
	}
}
