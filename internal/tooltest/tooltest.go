// Package tooltest finds the real tools tests run (promtool, amtool,
// prometheus, alertmanager) where scripts/deps.sh installs them. A missing
// tool fails the test: a skipped test would hide it.
package tooltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CacheBin is where scripts/deps.sh installs the Prometheus 3 line's tools
// unless TOOLS_BIN says otherwise.
const CacheBin = "/var/cache/officescan_exporter/bin"

// Find returns the path of the tool name: from TOOLS_BIN, the cache, then PATH.
func Find(t testing.TB, name string) string {
	t.Helper()
	for _, dir := range []string{os.Getenv("TOOLS_BIN"), CacheBin} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s not found; scripts/deps.sh installs it", name)
	return ""
}

// Promtools returns the promtool of each Prometheus line the rules must hold
// on: Debian's 2.x package and the 3.x build, by line ("2", "3").
func Promtools(t testing.TB) map[string]string {
	t.Helper()
	const debian = "/usr/bin/promtool" // Debian's prometheus package, 2.42 on Debian 12
	if _, err := os.Stat(debian); err != nil {
		t.Fatalf("%s (Prometheus 2.x) not found; scripts/deps.sh installs Debian's prometheus package", debian)
	}
	return map[string]string{"2": debian, "3": Find(t, "promtool")}
}
