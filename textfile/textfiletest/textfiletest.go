// Package textfiletest checks written textfiles in tests.
package textfiletest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"
)

// Lint runs `promtool check metrics` over the file at path, the lint
// Prometheus' own tooling applies, and fails t on any complaint. promtool is
// found as tooltest.Find finds tools; a missing one fails the test.
func Lint(t testing.TB, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(tooltest.Find(t, "promtool"), "check", "metrics")
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics %s: %v\n%s", path, err, out)
	}
}
