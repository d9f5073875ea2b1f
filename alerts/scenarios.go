package alerts

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Scenario is one row of scenarios.yaml: the inputs of one exporter instance
// at one moment and the verdict they must give. The file's header documents
// the format; both the rules and the exporter's own evaluator are tested
// against it.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Input       Input  `yaml:"input"`
	Expect      Expect `yaml:"expect"`
}

// Input holds the samples. A nil pointer, a nil slice or a name missing from
// a map means the series does not exist.
type Input struct {
	Up                        *float64           `yaml:"up"`
	Collectors                map[string]float64 `yaml:"collectors"`
	DbserverProcesses         *float64           `yaml:"dbserver_processes"`
	DbserverCPUUtilization    *float64           `yaml:"dbserver_cpu_utilization"`
	AutopccProcesses          *float64           `yaml:"autopcc_processes"`
	ShareLoginScriptOpenFiles *float64           `yaml:"share_login_script_open_files"`
	Settings                  map[string]float64 `yaml:"settings"`
	AgentRebootPending        []float64          `yaml:"agent_reboot_pending"`
}

// Expect is the verdict.
type Expect struct {
	Safe     *float64  `yaml:"safe"`
	Blockers []Blocker `yaml:"blockers"`
}

// Blocker is the label set of one officescan:upgrade_blocker series besides
// the target's own labels: "reason", and "collector", "setting" or "metric"
// where the reason names one.
type Blocker map[string]string

// String renders the blocker as PromQL-style labels, sorted, e.g.
// {reason="setting_unknown",setting="firewall"}.
func (b Blocker) String() string {
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, b[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Reasons every blocker may carry, with the extra label each one needs.
var blockerLabels = map[string]string{
	"exporter_down":                       "",
	"collector_failed":                    "collector",
	"input_missing":                       "metric",
	"login_script_running":                "",
	"login_script_share_sessions":         "",
	"database_not_running":                "",
	"database_busy":                       "",
	"database_history_incomplete":         "",
	"firewall_driver_update_not_deferred": "",
	"restart_notification_off":            "",
	"setting_unknown":                     "setting",
	"agents_reboot_pending":               "",
}

// SettingNames are the settings the verdict reads (the contract's names).
var SettingNames = []string{
	"firewall",
	"firewall_driver_update_after_reboot",
	"kernel_driver_restart_notification",
}

// LoadScenarios reads and validates a scenario file.
func LoadScenarios(path string) ([]Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenarios: %w", err)
	}
	return ParseScenarios(path, data)
}

// ParseScenarios validates scenario data read from path. Unknown keys,
// duplicate names and impossible inputs are errors naming the scenario.
func ParseScenarios(path string, data []byte) ([]Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var list []Scenario
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("scenarios %s: %w", path, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("scenarios %s: no scenario", path)
	}
	seen := map[string]bool{}
	for i, s := range list {
		if s.Name == "" {
			return nil, fmt.Errorf("scenarios %s: entry %d has no name", path, i+1)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("scenarios %s: name %q used twice", path, s.Name)
		}
		seen[s.Name] = true
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("scenarios %s: scenario %q: %w", path, s.Name, err)
		}
	}
	return list, nil
}

func (s Scenario) validate() error {
	in := s.Input
	if in.Up == nil || (*in.Up != 0 && *in.Up != 1) {
		return fmt.Errorf("input.up must be 0 or 1")
	}
	if *in.Up == 0 && (in.Collectors != nil || in.DbserverProcesses != nil || in.DbserverCPUUtilization != nil ||
		in.AutopccProcesses != nil || in.ShareLoginScriptOpenFiles != nil || in.Settings != nil) {
		return fmt.Errorf("a target that is down exposes nothing: only up and agent_reboot_pending may be given")
	}
	for name := range in.Settings {
		if !contains(SettingNames, name) {
			return fmt.Errorf("input.settings: unknown setting %q (known: %s)", name, strings.Join(SettingNames, ", "))
		}
	}
	if s.Expect.Safe == nil || (*s.Expect.Safe != 0 && *s.Expect.Safe != 1) {
		return fmt.Errorf("expect.safe must be 0 or 1")
	}
	if (*s.Expect.Safe == 1) != (len(s.Expect.Blockers) == 0) {
		return fmt.Errorf("expect.safe is %v but %d blockers are listed", *s.Expect.Safe, len(s.Expect.Blockers))
	}
	seen := map[string]bool{}
	for _, b := range s.Expect.Blockers {
		extra, ok := blockerLabels[b["reason"]]
		if !ok {
			return fmt.Errorf("expect.blockers: unknown reason %q", b["reason"])
		}
		want := 1
		if extra != "" {
			want = 2
			if b[extra] == "" {
				return fmt.Errorf("expect.blockers: reason %q needs a %q label", b["reason"], extra)
			}
		}
		if len(b) != want {
			return fmt.Errorf("expect.blockers: %s has labels other than reason and %q", b, extra)
		}
		if seen[b.String()] {
			return fmt.Errorf("expect.blockers: %s listed twice", b)
		}
		seen[b.String()] = true
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
