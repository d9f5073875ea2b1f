// Package tooltest finds the real tools tests run (promtool, amtool,
// prometheus, alertmanager) where scripts/deps.sh installs them. A missing
// tool fails the test: a skipped test would hide it.
package tooltest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CacheBin is where scripts/deps.sh installs the Prometheus 3 line's tools
// unless TOOLS_BIN says otherwise.
const CacheBin = "/var/cache/officescan_exporter/bin"

// Path returns where the tool name is: in TOOLS_BIN, the cache, then on
// PATH (the cache before PATH because Debian's prometheus package puts the
// 2.x line's prometheus and promtool on PATH). Programs use it too (the fleet
// benchmark's defaults), so it reports rather than fails.
func Path(name string) (string, error) {
	for _, dir := range []string{os.Getenv("TOOLS_BIN"), CacheBin} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found; scripts/deps.sh installs it", name)
}

// Find is Path for a test: a missing tool fails it.
func Find(t testing.TB, name string) string {
	t.Helper()
	p, err := Path(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
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
