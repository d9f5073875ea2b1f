package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
	"github.com/officescan-exporter/officescan_exporter/textfile/textfiletest"
)

// runAgent runs `officescan_exporter agent ARGS...` in-process.
func runAgent(t *testing.T, args ...string) (int, error) {
	t.Helper()
	a := newApp()
	c := newAgentCommand(a)
	cmd, err := a.parse(append([]string{"agent", "--log.level=error"}, args...))
	if err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	if cmd != c.clause().FullCommand() {
		t.Fatalf("parsed command %q", cmd)
	}
	return c.run(context.Background())
}

// The file is replaced on every run, also when the collector fails: a stale
// "nothing pending" left from an earlier run must not outlive the failure.
func TestAgentWritesTextfile(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "officescan.prom")
	if err := os.WriteFile(path, []byte("officescan_agent_reboot_pending 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, err := runAgent(t, "--textfile="+path)
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	got := string(data)
	wantLines := []string{`officescan_exporter_build_info{`, `officescan_scrape_collector_duration_seconds{collector="reboot"} `}
	if runtime.GOOS == "windows" {
		if code != 0 || err != nil {
			t.Fatalf("exit %d, %v; want 0\n%s", code, err, got)
		}
		wantLines = append(wantLines, `officescan_scrape_collector_success{collector="reboot"} 1`, "officescan_agent_reboot_pending ")
	} else {
		if code != agentExitCollectorFailed || err == nil || !strings.Contains(err.Error(), "not supported on this OS") {
			t.Fatalf("exit %d, %v; want %d and the reason", code, err, agentExitCollectorFailed)
		}
		wantLines = append(wantLines, `officescan_scrape_collector_success{collector="reboot"} 0`)
		if strings.Contains(got, "officescan_agent_reboot_pending") {
			t.Errorf("the old reboot_pending survived a failed run:\n%s", got)
		}
		textfiletest.Lint(t, path)
	}
	for _, l := range wantLines {
		if !strings.Contains(got, l) {
			t.Errorf("file lacks %q:\n%s", l, got)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d files, want only the textfile", len(entries))
	}
}

func TestAgentFileNotWritten(t *testing.T) {
	dir := testdir.New(t)
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "officescan.txt"), "only read *.prom files"},
		{filepath.Join(dir, "no such folder", "officescan.prom"), "no such folder"},
	} {
		code, err := runAgent(t, "--textfile="+tc.path)
		if code != agentExitNotWritten || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--textfile=%s: exit %d, %v; want %d and an error containing %q", tc.path, code, err, agentExitNotWritten, tc.want)
		}
	}
}

func TestAgentNeedsTextfile(t *testing.T) {
	a := newApp()
	newAgentCommand(a)
	if _, err := a.parse([]string{"agent"}); err == nil || !strings.Contains(err.Error(), "textfile") {
		t.Fatalf("parse without --textfile: %v, want an error naming the flag", err)
	}
}
