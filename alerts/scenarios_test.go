//go:build !windows

// The rules are the same whatever OS the exporter runs on, and these tests
// run promtool and amtool, Linux programs here; stage 30 builds every other
// package's tests for Windows and runs them under Wine.

package alerts_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
)

const (
	instance = "server-a:9745"
	job      = "officescan"
)

// promtool's unit-test file format, the parts used here.
type ruleTestFile struct {
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	Tests              []ruleTestG `yaml:"tests"`
}

type ruleTestG struct {
	Name        string        `yaml:"name,omitempty"`
	Interval    string        `yaml:"interval"`
	InputSeries []inputSeries `yaml:"input_series"`
	PromQL      []promqlTest  `yaml:"promql_expr_test"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type promqlTest struct {
	Expr       string      `yaml:"expr"`
	EvalTime   string      `yaml:"eval_time"`
	ExpSamples []expSample `yaml:"exp_samples"`
}

type expSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// scenarioSeries turns a scenario's input into promtool input series, steady
// for 10 minutes at a 30 s scrape interval.
func scenarioSeries(in alerts.Input) []inputSeries {
	var out []inputSeries
	target := fmt.Sprintf("instance=%q, job=%q", instance, job)
	add := func(metric, extra string, v float64) {
		labels := target
		if extra != "" {
			labels += ", " + extra
		}
		out = append(out, inputSeries{Series: fmt.Sprintf("%s{%s}", metric, labels), Values: fmt.Sprintf("%vx20", v)})
	}
	add("up", "", *in.Up)
	if *in.Up == 1 {
		// Every scrape of an officescan_exporter has its build info.
		add("officescan_exporter_build_info", `version="1.0.0"`, 1)
	}
	for _, c := range sortedKeys(in.Collectors) {
		add("officescan_scrape_collector_success", fmt.Sprintf("collector=%q", c), in.Collectors[c])
	}
	opt := func(metric string, v *float64) {
		if v != nil {
			add(metric, "", *v)
		}
	}
	opt("officescan_dbserver_processes", in.DbserverProcesses)
	opt("officescan_dbserver_cpu_utilization_ratio", in.DbserverCPUUtilization)
	opt("officescan_autopcc_processes", in.AutopccProcesses)
	opt("officescan_share_login_script_open_files", in.ShareLoginScriptOpenFiles)
	for _, s := range sortedKeys(in.Settings) {
		add("officescan_setting_enabled", fmt.Sprintf("setting=%q", s), in.Settings[s])
	}
	for i, v := range in.AgentRebootPending {
		out = append(out, inputSeries{
			Series: fmt.Sprintf(`officescan_agent_reboot_pending{instance="agent-%d:9745", job="officescan_agents"}`, i+1),
			Values: fmt.Sprintf("%vx20", v),
		})
	}
	return out
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scenarioTest is the promtool test group of one scenario: the verdict and
// the exact set of blockers at 10 minutes.
func scenarioTest(sc alerts.Scenario) ruleTestG {
	target := fmt.Sprintf("instance=%q, job=%q", instance, job)
	var blockers []expSample
	for _, b := range sc.Expect.Blockers {
		labels := target
		keys := make([]string, 0, len(b))
		for k := range b {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			labels += fmt.Sprintf(", %s=%q", k, b[k])
		}
		blockers = append(blockers, expSample{Labels: "officescan:upgrade_blocker{" + labels + "}", Value: 1})
	}
	return ruleTestG{
		Name:        sc.Name,
		Interval:    "30s",
		InputSeries: scenarioSeries(sc.Input),
		PromQL: []promqlTest{
			{
				Expr:       "officescan:upgrade_window_safe",
				EvalTime:   "10m",
				ExpSamples: []expSample{{Labels: "officescan:upgrade_window_safe{" + target + "}", Value: *sc.Expect.Safe}},
			},
			{Expr: "officescan:upgrade_blocker", EvalTime: "10m", ExpSamples: blockers},
		},
	}
}

// TestScenariosAgainstRules runs every row of scenarios.yaml through the real
// promtool against the committed rules file.
func TestScenariosAgainstRules(t *testing.T) {
	promtool := e2eutil.Tool(t, "promtool")
	rules, err := filepath.Abs("officescan.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	scenarios, err := alerts.LoadScenarios("scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(scenarios) < 20 {
		t.Fatalf("only %d scenarios; the table shrank", len(scenarios))
	}
	dir := t.TempDir()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			f := ruleTestFile{RuleFiles: []string{rules}, EvaluationInterval: "30s", Tests: []ruleTestG{scenarioTest(sc)}}
			data, err := yaml.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, sc.Name+".yml")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
			if err != nil {
				t.Errorf("%s\npromtool test rules: %v\n%s\ntest file:\n%s", sc.Description, err, out, data)
			}
		})
	}
}

// TestScenariosCoverEveryReason keeps the table and the rules in step: every
// reason the rules can record appears in some scenario, and no scenario
// expects a reason the rules never record.
func TestScenariosCoverEveryReason(t *testing.T) {
	data, err := os.ReadFile("officescan.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	inRules := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+reason: (\S+)$`).FindAllStringSubmatch(string(data), -1) {
		inRules[m[1]] = true
	}
	scenarios, err := alerts.LoadScenarios("scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	for _, sc := range scenarios {
		for _, b := range sc.Expect.Blockers {
			inTable[b["reason"]] = true
		}
	}
	for r := range inRules {
		if !inTable[r] {
			t.Errorf("reason %q is recorded by the rules but no scenario expects it", r)
		}
	}
	for r := range inTable {
		if !inRules[r] {
			t.Errorf("reason %q is expected by a scenario but the rules never record it", r)
		}
	}
	if len(inRules) < 10 {
		t.Fatalf("found only %d reasons in the rules file: %v", len(inRules), inRules)
	}
}

func TestParseScenariosRejectsBadTables(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":     {"- name: a\n  inputs: {}\n", "field inputs not found"},
		"no up":           {"- name: a\n  input: {}\n  expect: {safe: 1}\n", "input.up must be 0 or 1"},
		"down with data":  {"- name: a\n  input: {up: 0, autopcc_processes: 0}\n  expect: {safe: 0, blockers: [{reason: exporter_down}]}\n", "exposes nothing"},
		"unknown setting": {"- name: a\n  input: {up: 1, settings: {fw: 1}}\n  expect: {safe: 1}\n", `unknown setting "fw"`},
		"safe with blockers": {"- name: a\n  input: {up: 1}\n  expect: {safe: 1, blockers: [{reason: database_busy}]}\n",
			"safe is 1 but 1 blockers"},
		"unknown reason":  {"- name: a\n  input: {up: 1}\n  expect: {safe: 0, blockers: [{reason: busy}]}\n", `unknown reason "busy"`},
		"missing label":   {"- name: a\n  input: {up: 1}\n  expect: {safe: 0, blockers: [{reason: collector_failed}]}\n", `needs a "collector" label`},
		"duplicate names": {"- name: a\n  input: {up: 1}\n  expect: {safe: 1}\n- name: a\n  input: {up: 1}\n  expect: {safe: 1}\n", "used twice"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := alerts.ParseScenarios("x.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
