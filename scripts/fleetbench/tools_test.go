//go:build !windows

// promtool is a Linux program here.

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"
)

// TestToolsAcceptWhatItWrites: Prometheus 3's promtool checks the
// configuration (with the rules it names) and turns the history and the
// hourly shares into blocks with every sample.
func TestToolsAcceptWhatItWrites(t *testing.T) {
	promtool := tooltest.Find(t, "promtool")
	dir := t.TempDir()
	end := time.Now().Truncate(time.Minute)
	f := NewFleet(20, 2000, end.Add(-3*time.Hour))
	rules, err := alerts.Render(alerts.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rulesPath := filepath.Join(dir, "officescan.rules.yml")
	cfgPath := filepath.Join(dir, "prometheus.yml")
	c := Config{Scrape: 30 * time.Second, AgentScrape: time.Minute, Eval: 30 * time.Second}
	if err := os.WriteFile(rulesPath, rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(prometheusConfig(c, f, "127.0.0.1:1", rulesPath)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	// Every agent shard is a target of its own: their `up` series differ.
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "regex: 'shard-(.*)'\n        target_label: __param_shard\n      - source_labels: [__address__]\n        target_label: instance") {
		t.Errorf("the agent shards are not told apart by instance:\n%s", cfg)
	}
	b := Backfill{End: end, Servers: time.Hour, Agents: 20 * time.Minute, Step: time.Minute, AgentStep: 2 * time.Minute, HourlyWeeks: 1}
	for name, write := range map[string]func(*os.File) (int, error){
		"history": func(w *os.File) (int, error) { return f.WriteHistory(w, b) },
		"hourly":  func(w *os.File) (int, error) { return f.WriteHourly(w, b) },
	} {
		path := filepath.Join(dir, name+".om")
		w, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := write(w)
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", path, filepath.Join(dir, name)).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool create-blocks-from openmetrics %s: %v\n%s", name, err, out)
		}
		// promtool lists each block with its samples; they add up to n.
		total := 0
		for _, line := range strings.Split(string(out), "\n")[1:] {
			if fields := strings.Fields(line); len(fields) >= 5 {
				var s int
				if _, err := fmt.Sscan(fields[4], &s); err == nil {
					total += s
				}
			}
		}
		if total != n {
			t.Errorf("%s: promtool made blocks of %d samples, %d written:\n%s", name, total, n, out)
		}
	}
}
