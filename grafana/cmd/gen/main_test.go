package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// TestNoFlagsWritesTheCommittedDashboard: the committed file is the
// generator's default (job="officescan", agents from any job).
func TestNoFlagsWritesTheCommittedDashboard(t *testing.T) {
	var out bytes.Buffer
	if err := run(nil, &out); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "officescan-upgrade.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Error("gen with no flags does not write grafana/officescan-upgrade.json; run `go generate ./grafana`")
	}
}

// TestFlags: -job, -selector and -agent-selector mean what they mean for
// alerts/gen, and reach the queries.
func TestFlags(t *testing.T) {
	gen := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(args, &out); err != nil {
			t.Fatalf("gen %q: %v", args, err)
		}
		return out.String()
	}
	prod := gen("-job=osc_prod")
	if !strings.Contains(prod, `officescan:upgrade_window_safe{job=\"osc_prod\", instance=~\"$instance\"}`) ||
		!strings.Contains(prod, `label_values(officescan_exporter_build_info{job=\"osc_prod\"}, instance)`) {
		t.Error(`-job=osc_prod does not reach the verdict and the Server variable`)
	}
	if strings.Contains(prod, `job=\"officescan\"`) {
		t.Error(`-job=osc_prod leaves job="officescan" in the dashboard`)
	}
	sel := gen("-job=ignored", `-selector=job="osc",env="prod"`)
	if !strings.Contains(sel, `officescan:hazard_clear{job=\"osc\",env=\"prod\", instance=~\"$instance\"`) || strings.Contains(sel, "ignored") {
		t.Error("-selector does not replace -job")
	}
	agents := gen(`-agent-selector=job="osc_agents"`)
	if !strings.Contains(agents, `officescan_agent_reboot_pending{job=\"osc_agents\"} != 0`) ||
		!strings.Contains(agents, `officescan_agent_info{job=\"osc_agents\"}`) {
		t.Error("-agent-selector does not reach the agents table")
	}
	if strings.Contains(gen(), "officescan_agent_info{") {
		t.Error("with no -agent-selector the agents' series are not read from any job")
	}

	path := filepath.Join(testdir.New(t), "d.json")
	if err := run([]string{"-job=osc_prod", "-o", path}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != prod {
		t.Errorf("-o wrote something else than standard output: %v", err)
	}
	for _, bad := range [][]string{{`-selector={job="x"}`}, {`-agent-selector=job=x`}, {"-job="}, {"extra"}, {"-nope"}} {
		if err := run(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("gen %q succeeded", bad)
		}
	}
}
