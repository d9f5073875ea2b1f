//go:build unix

// Package asuser runs part of a test as an unprivileged user.
//
// Root reads a file whatever its permission bits say, and CI runs the tests
// as root, so a test that wants to see "permission denied" runs that part
// again in a copy of its own test binary as the user nobody. Run as another
// user, the check proves what it claims; run as root, it would pass or fail
// for the wrong reason.
package asuser

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const (
	envVar = "OSE_ASUSER"
	// nobody is the user and group the check runs as when the tests run as root.
	nobody = 65534
)

// Child reports whether this test binary is the copy Run started: the test
// then does its unprivileged check and nothing else.
func Child() bool { return os.Getenv(envVar) == "1" }

// Dir returns a new folder that the user nobody may enter, for the files the check
// reads; it is removed when the test ends.
func Dir(t testing.TB) string {
	t.Helper()
	// Not t.TempDir: its parent folder is closed to other users.
	dir, err := os.MkdirTemp("", "ose-asuser-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Run runs the test named name again, in a copy of this test binary, with
// env added to its environment: as nobody when this process is root, as the
// same user otherwise. It fails t unless that run passed the test.
func Run(t *testing.T, name string, env ...string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	// The go command builds test binaries in a folder only root may enter.
	bin := filepath.Join(Dir(t), filepath.Base(self))
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(append(os.Environ(), envVar+"=1"), env...)
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s as an unprivileged user: %v\n%s", name, err, out)
	}
}
