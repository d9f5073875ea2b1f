package linux

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
)

// run runs the real binary and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(e2eutil.Build(t, "cmd/officescan_exporter"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("running the exporter: %v", err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestPlainWordsOnTheCommandLine: help is what was asked for (standard
// output, exit 0); a bad flag value names the flag, the value and what is
// expected, in the one format every fatal error has; --version is never
// empty; on Linux nothing talks about the registry.
func TestPlainWordsOnTheCommandLine(t *testing.T) {
	e2eutil.Require(t)
	code, out, errOut := run(t, "--help")
	if code != 0 || !strings.Contains(out, "usage: officescan_exporter") || errOut != "" {
		t.Errorf("--help: exit %d, stdout %.80q, stderr %q; want 0, the usage on stdout, nothing on stderr", code, out, errOut)
	}
	for _, tc := range []struct{ arg, want string }{
		{"--collector.timeout=abc", `officescan_exporter: --collector.timeout="abc" is not a duration: use a number and a unit, such as 500ms, 30s, 5m or 1h`},
		{"--web.max-requests=x", `officescan_exporter: --web.max-requests="x" is not a whole number of 0 or more, such as 40`},
	} {
		code, _, errOut := run(t, tc.arg)
		if code != 2 || strings.TrimSpace(errOut) != tc.want {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.arg, code, errOut, tc.want)
		}
		for _, internal := range []string{"strconv", "time: invalid", "ParseFloat"} {
			if strings.Contains(errOut, internal) {
				t.Errorf("%s: stderr shows a Go internal: %q", tc.arg, errOut)
			}
		}
	}
	// A failure after the flags are parsed: the same one-line format.
	code, _, errOut = run(t, "--web.listen-address=256.0.0.1:1", "--log.level=error")
	if code == 0 || !strings.HasPrefix(errOut, "officescan_exporter: ") || strings.Contains(errOut, "level=") {
		t.Errorf("a listen address that cannot be bound: exit %d, stderr %q; want the plain one-line format", code, errOut)
	}
	code, out, _ = run(t, "--version")
	if code != 0 || strings.Contains(out, "version  (") {
		t.Errorf("--version: exit %d, %q; want a version, never empty", code, out)
	}
	// The settings collector's start-up line, on Linux, with no server folder.
	_, _, errOut = run(t, "--web.listen-address=256.0.0.1:1")
	if strings.Contains(errOut, "registry") {
		t.Errorf("on Linux the exporter talks about the registry:\n%s", errOut)
	}
}
