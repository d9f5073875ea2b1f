//go:build !windows

// promtool is a Linux binary; the Windows build's agent file is linted by
// scripts/test.d/32-agent-wine.sh.

package reboot

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/textfile"
	"github.com/officescan-exporter/officescan_exporter/textfile/textfiletest"
)

// Every metric the collector can emit, with the scrape's own, as the agent
// command writes them, passes promtool's lint.
func TestTextfileLints(t *testing.T) {
	f := withAgent(wowAgentKey)
	f.set(SessionManagerKey, queue1, encodeMultiSZ(tmtdiReplacement...))
	f.set(CBSRebootPendingKey, "", nil)
	f.set(wowAgentKey, agentServerValue, `osce01\"quoted"`)
	spec := Spec(&Options{DriverPatterns: DefaultDriverPatterns})
	spec.New = func(context.Context, *slog.Logger) (exporter.Collector, error) {
		return New(f, Options{DriverPatterns: DefaultDriverPatterns}, discard)
	}
	reg := exporter.NewRegistry(spec)
	if err := reg.Enable("reboot", true); err != nil {
		t.Fatal(err)
	}
	s := reg.Build(context.Background(), discard, exporter.ScrapeOptions{})
	g := prometheus.NewRegistry()
	g.MustRegister(s.Collector(context.Background()))

	path := filepath.Join(t.TempDir(), "officescan.prom")
	if err := textfile.Write(path, g); err != nil {
		t.Fatal(err)
	}
	textfiletest.Lint(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"officescan_agent_reboot_pending 1",
		`officescan_agent_windows_reboot_required{reason="component_based_servicing"} 1`,
		`officescan_agent_info{build="12345",server="osce01\\\"quoted\"",version="14.0"} 1`,
		`officescan_scrape_collector_success{collector="reboot"} 1`,
	} {
		if !strings.Contains(string(data), line+"\n") {
			t.Errorf("file lacks %q:\n%s", line, data)
		}
	}
}
