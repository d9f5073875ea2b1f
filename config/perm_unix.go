//go:build !windows

package config

import (
	"io/fs"
	"os"
	"syscall"
)

// keepPermissions gives the new file the old one's mode, owner and group
// (a new config file gets mode). Changing the owner needs the right to: an
// error then leaves the old file in place, rather than a file the exporter's
// account may no longer read.
func keepPermissions(tmp *os.File, _ string, mode fs.FileMode, old fs.FileInfo) error {
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if old == nil {
		return nil
	}
	was, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	st, err := tmp.Stat()
	if err != nil {
		return err
	}
	if now, ok := st.Sys().(*syscall.Stat_t); ok && (now.Uid != was.Uid || now.Gid != was.Gid) {
		return tmp.Chown(int(was.Uid), int(was.Gid))
	}
	return nil
}

// syncDir makes the rename durable; a folder that cannot be synced (some
// file systems) changes nothing about the result.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
