//go:build linux

package install

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The systemd unit docs/install-linux.md gives (where ErrNotWindows sends
// Linux users) is one systemd accepts: systemd-analyze verify reports no
// unknown key and no error. It needs systemd-analyze, not a running systemd.
func TestLinuxDocUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	doc, err := os.ReadFile("../docs/install-linux.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```ini\n# systemd: unit\n")
	unit, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/install-linux.md has no ```ini block marked # systemd: unit")
	}
	// verify checks that ExecStart's program exists: point it at a stand-in.
	dir := t.TempDir()
	exe := filepath.Join(dir, "officescan_exporter")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	const docExe = "/usr/local/bin/officescan_exporter"
	if !strings.Contains(unit, "ExecStart="+docExe+" ") {
		t.Fatalf("the unit does not run %s:\n%s", docExe, unit)
	}
	unit = strings.Replace(unit, "ExecStart="+docExe, "ExecStart="+exe, 1)
	path := filepath.Join(dir, "officescan_exporter.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s\n--- unit ---\n%s", err, out, unit)
	}
}
