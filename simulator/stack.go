package simulator

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/alerts"
)

// DemoFor shortens the alerts' `for` in the demo's copy of the rules so a
// walk-through takes minutes, not hours. Only `for` and the scrape interval
// the rules assume (demoScrapeInterval) change: every expression, the
// 5-minute idle window among them, is the shipped one.
var DemoFor = map[string]time.Duration{
	"OfficeScanLoginScriptRunning": 10 * time.Second,
	"OfficeScanDatabaseBusy":       10 * time.Second,
	"OfficeScanUpgradeWindowOpen":  time.Minute,
}

// demoScrapeInterval is the demo Prometheus' scrape interval, with room for
// a late scrape (the rules call evidence older than 1.5 intervals stale).
const demoScrapeInterval = 2 * time.Second

// StackConfig places the demo's Prometheus and Alertmanager.
type StackConfig struct {
	// Dir receives prometheus.yml, officescan.rules.yml and alertmanager.yml.
	Dir string
	// Exporter and Alertmanager are host:port addresses.
	Exporter, Alertmanager string
	// Webhook is the receiver's base URL; each receiver posts to Webhook/NAME.
	Webhook string
	// ExampleAlertmanager is the shipped alerts/alertmanager.yml.
	ExampleAlertmanager string
}

// WriteStack writes the demo's configuration files.
func WriteStack(c StackConfig) error {
	rc := alerts.DefaultConfig()
	rc.For = DemoFor
	rc.ScrapeInterval = demoScrapeInterval
	rules, err := alerts.Render(rc)
	if err != nil {
		return fmt.Errorf("rendering the rules: %w", err)
	}
	if err := writeAtomic(filepath.Join(c.Dir, "officescan.rules.yml"), rules); err != nil {
		return err
	}
	example, err := os.ReadFile(c.ExampleAlertmanager)
	if err != nil {
		return fmt.Errorf("reading the example Alertmanager config: %w", err)
	}
	am, err := LocalAlertmanagerConfig(example, c.Webhook)
	if err != nil {
		return fmt.Errorf("%s: %w", c.ExampleAlertmanager, err)
	}
	if err := writeAtomic(filepath.Join(c.Dir, "alertmanager.yml"), am); err != nil {
		return err
	}
	prom := fmt.Sprintf(`# Demo Prometheus: scrapes the exporter every second and evaluates the rules.
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [officescan.rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: [%q]}]
scrape_configs:
  - job_name: officescan
    static_configs: [{targets: [%q]}]
`, c.Alertmanager, c.Exporter)
	return writeAtomic(filepath.Join(c.Dir, "prometheus.yml"), []byte(prom))
}

// LocalAlertmanagerConfig keeps the example's routes, grouping and
// inhibitions but delivers every receiver to webhookBase/NAME, drops the
// SMTP settings, shortens the group waits to a second, and lifts the
// maintenance-window restrictions so notifications flow on any day.
func LocalAlertmanagerConfig(example []byte, webhookBase string) ([]byte, error) {
	var cfg map[string]any
	if err := yaml.Unmarshal(example, &cfg); err != nil {
		return nil, err
	}
	delete(cfg, "global")
	receivers, _ := cfg["receivers"].([]any)
	if len(receivers) == 0 {
		return nil, fmt.Errorf("no receivers")
	}
	for i, r := range receivers {
		m, _ := r.(map[string]any)
		name, _ := m["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("receiver %d has no name", i)
		}
		receivers[i] = map[string]any{"name": name, "webhook_configs": []any{map[string]any{
			"url": webhookBase + "/" + url.PathEscape(name), "send_resolved": true,
		}}}
	}
	route, ok := cfg["route"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no route")
	}
	var walk func(route map[string]any)
	walk = func(route map[string]any) {
		delete(route, "active_time_intervals")
		delete(route, "mute_time_intervals")
		route["group_wait"] = "1s"
		route["group_interval"] = "1s"
		children, _ := route["routes"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(route)
	return yaml.Marshal(cfg)
}
