// Package alerts generates the Prometheus recording and alerting rules that
// give the upgrade verdict, and holds the scenario table both the rules and
// the exporter's own evaluator are tested against.
//
// The rules live in one template, officescan.rules.yml.tmpl. The exporter's
// target selector (job="officescan" by default) and the agent selector are
// given once, to Render, so a site with another job name regenerates the file
// instead of editing a dozen expressions:
//
//	go run ./alerts/gen -job=my_officescan_job > officescan.rules.yml
package alerts

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

//go:generate go run ./gen -o officescan.rules.yml

//go:embed officescan.rules.yml.tmpl
var rulesTemplate string

// The database idle test from the vendor's upgrade note (Task Manager shows
// 00, i.e. under 0.5 % of all CPUs). Fixed by the contract, not a setting.
const (
	IdleRatio  = "0.005"
	IdleWindow = "5m"
)

// DefaultJob is the job the rules select exporter targets by.
const DefaultJob = "officescan"

// DefaultFor is each alert's `for` duration.
var DefaultFor = map[string]string{
	"OfficeScanUpgradeWindowOpen":               "15m",
	"OfficeScanExporterDown":                    "5m",
	"OfficeScanCollectorFailing":                "10m",
	"OfficeScanInputMissing":                    "10m",
	"OfficeScanDatabaseHistoryIncomplete":       "30m",
	"OfficeScanLoginScriptRunning":              "30m",
	"OfficeScanDatabaseBusy":                    "1h",
	"OfficeScanDatabaseNotRunning":              "10m",
	"OfficeScanFirewallDriverUpdateNotDeferred": "15m",
	"OfficeScanRestartNotificationOff":          "15m",
	"OfficeScanSettingUnknown":                  "15m",
	"OfficeScanAgentsWaitingForRestart":         "1d",
}

// DefaultRunbookBase is where runbook_url annotations point; each alert adds
// its own anchor.
const DefaultRunbookBase = "https://github.com/officescan-exporter/officescan_exporter/blob/main/docs/runbooks.md"

// Config is what a site may change in the rules.
type Config struct {
	// Selector picks the exporter targets: PromQL label matchers without
	// braces, e.g. `job="officescan"`. Required.
	Selector string
	// AgentSelector picks officescan_agent_reboot_pending series, e.g.
	// `job="officescan_agents"`; empty means every job, which suits both a
	// job scraping agents directly and windows_exporter's textfile collector.
	AgentSelector string
	// For overrides alerts' `for` durations by alert name (tests shorten them).
	For map[string]string
	// RunbookBase is the runbooks page URL; empty means DefaultRunbookBase.
	RunbookBase string
	// Args is shown in the generated file's header: how it was generated.
	Args string
}

// DefaultConfig returns the configuration of the committed rules file.
func DefaultConfig() Config {
	return Config{Selector: JobSelector(DefaultJob)}
}

// JobSelector returns the matcher for one job name.
func JobSelector(job string) string { return fmt.Sprintf("job=%q", job) }

// A selector is a comma-separated list of label matchers; this catches the
// usual mistakes (braces, a metric name, stray quotes) before Prometheus would.
var matchersRE = regexp.MustCompile(`^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*(,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*)*$`)

var durationRE = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)

// Render returns the rules file for c.
func Render(c Config) ([]byte, error) {
	if !matchersRE.MatchString(c.Selector) {
		return nil, fmt.Errorf("target selector %q: want label matchers such as job=\"officescan\"", c.Selector)
	}
	if c.AgentSelector != "" && !matchersRE.MatchString(c.AgentSelector) {
		return nil, fmt.Errorf("agent selector %q: want label matchers such as job=\"officescan_agents\", or nothing", c.AgentSelector)
	}
	forDur := map[string]string{}
	for k, v := range DefaultFor {
		forDur[k] = v
	}
	for k, v := range c.For {
		if _, ok := DefaultFor[k]; !ok {
			return nil, fmt.Errorf("for: unknown alert %q", k)
		}
		if !durationRE.MatchString(v) {
			return nil, fmt.Errorf("for %s: %q is not a Prometheus duration", k, v)
		}
		forDur[k] = v
	}
	base := c.RunbookBase
	if base == "" {
		base = DefaultRunbookBase
	}
	used := map[string]bool{}
	funcs := template.FuncMap{
		"sel": func(metric string, matchers ...string) string {
			return metric + "{" + strings.Join(append([]string{c.Selector}, matchers...), ", ") + "}"
		},
		"agents": func() string {
			if c.AgentSelector == "" {
				return "officescan_agent_reboot_pending"
			}
			return "officescan_agent_reboot_pending{" + c.AgentSelector + "}"
		},
		"for": func(alert string) (string, error) {
			d, ok := forDur[alert]
			if !ok {
				return "", fmt.Errorf("no for duration for alert %q", alert)
			}
			used[alert] = true
			return d, nil
		},
		"runbook": func(alert string) string { return base + "#" + strings.ToLower(alert) },
	}
	t, err := template.New("officescan.rules.yml.tmpl").Funcs(funcs).Option("missingkey=error").Parse(rulesTemplate)
	if err != nil {
		return nil, fmt.Errorf("parsing the rules template: %w", err)
	}
	var b strings.Builder
	err = t.Execute(&b, struct {
		Config
		Settings   []string
		IdleRatio  string
		IdleWindow string
	}{c, SettingNames, IdleRatio, IdleWindow})
	if err != nil {
		return nil, fmt.Errorf("rendering the rules template: %w", err)
	}
	var unused []string
	for k := range DefaultFor {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		return nil, fmt.Errorf("rules template: no alert uses the for durations of %s", strings.Join(unused, ", "))
	}
	return []byte(b.String()), nil
}
