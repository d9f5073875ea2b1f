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
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"
)

// TestCommittedRulesMatchGenerator fails when officescan.rules.yml was edited
// by hand or the template changed without `go generate ./alerts`.
func TestCommittedRulesMatchGenerator(t *testing.T) {
	want, err := alerts.Render(alerts.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("officescan.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("alerts/officescan.rules.yml differs from the generator's output; run `go generate ./alerts`\n%s", firstDiff(string(got), string(want)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n committed: %s\n generated: %s", i+1, x, y)
		}
	}
	return ""
}

type rulesDoc struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Record string            `yaml:"record"`
			Alert  string            `yaml:"alert"`
			Expr   string            `yaml:"expr"`
			For    string            `yaml:"for"`
			Labels map[string]string `yaml:"labels"`
			Annot  map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func parseRules(t *testing.T, data []byte) rulesDoc {
	t.Helper()
	var d rulesDoc
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("parsing rules: %v", err)
	}
	return d
}

// TestSelectorWrittenOnce: a site's job name reaches every expression that
// reads an exporter series, and the default job name appears nowhere else.
func TestSelectorWrittenOnce(t *testing.T) {
	out, err := alerts.Render(alerts.Config{Selector: `job="os_prod", env="prod"`, AgentSelector: `job="os_agents"`})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), `job="officescan"`) {
		t.Fatal(`job="officescan" is still in rules rendered for another job`)
	}
	d := parseRules(t, out)
	// Every use of an exporter series, as a whole name (not part of a
	// recorded series' name) followed by its selector.
	uses := regexp.MustCompile(`(?:^|[^:_a-zA-Z0-9])(up|officescan_scrape_collector_success|officescan_dbserver_processes|` +
		`officescan_dbserver_cpu_seconds_total|officescan_dbserver_cpu_utilization_ratio|officescan_logical_cpus|` +
		`officescan_autopcc_processes|officescan_share_login_script_open_files|officescan_setting_enabled|` +
		`officescan_hazard_waived|officescan_server_address_info)\b(\{[^}]*\})?`)
	checked := 0
	for _, g := range d.Groups {
		for _, r := range g.Rules {
			for _, m := range uses.FindAllStringSubmatch(r.Expr, -1) {
				checked++
				if !strings.HasPrefix(m[2], `{job="os_prod", env="prod"`) {
					t.Errorf("rule %s%s: %s used without the target selector: %s", r.Record, r.Alert, m[1], r.Expr)
				}
			}
			for _, agent := range []string{"officescan_agent_reboot_pending", "officescan_agent_info"} {
				n := strings.Count(r.Expr, agent)
				if n > 0 && strings.Count(r.Expr, agent+`{job="os_agents"}`) != n-strings.Count(r.Expr, agent+`{job="os_prod", env="prod"}`) {
					t.Errorf("rule %s: %s without the agent selector: %s", r.Record, agent, r.Expr)
				}
			}
		}
	}
	if checked < 25 {
		t.Fatalf("only %d selector uses checked", checked)
	}
	promtool := tooltest.Find(t, "promtool")
	path := filepath.Join(t.TempDir(), "site.rules.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on a site's rules: %v\n%s", err, b)
	}
}

// TestShortenedForKeepsExpressions: the end-to-end test shortens `for`
// durations; nothing else may change.
func TestShortenedForKeepsExpressions(t *testing.T) {
	base, err := alerts.Render(alerts.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	c := alerts.DefaultConfig()
	c.For = map[string]time.Duration{"OfficeScanUpgradeWindowOpen": 2 * time.Second}
	short, err := alerts.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	a, b := parseRules(t, base), parseRules(t, short)
	fors := 0
	for gi, g := range a.Groups {
		for ri, r := range g.Rules {
			s := b.Groups[gi].Rules[ri]
			if r.Expr != s.Expr {
				t.Errorf("%s%s: expression changed", r.Record, r.Alert)
			}
			if r.Alert == "OfficeScanUpgradeWindowOpen" {
				fors++
				if r.For != "15m" || s.For != "2s" {
					t.Errorf("for: %s -> %s, want 15m -> 2s", r.For, s.For)
				}
			}
		}
	}
	if fors != 1 {
		t.Fatalf("found %d OfficeScanUpgradeWindowOpen alerts", fors)
	}
}

// TestAlertConventions: every alert follows the mixin conventions and links
// to an anchor that docs/runbooks.md has.
func TestAlertConventions(t *testing.T) {
	data, err := os.ReadFile("officescan.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	runbooks, err := os.ReadFile(filepath.Join("..", "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	alertsSeen := 0
	for _, g := range parseRules(t, data).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alertsSeen++
			if !strings.HasPrefix(r.Alert, "OfficeScan") {
				t.Errorf("%s: name lacks the OfficeScan prefix", r.Alert)
			}
			if r.For == "" {
				t.Errorf("%s: no for", r.Alert)
			}
			switch r.Labels["severity"] {
			case "info", "warning", "critical":
			default:
				t.Errorf("%s: severity %q", r.Alert, r.Labels["severity"])
			}
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if r.Annot[k] == "" {
					t.Errorf("%s: no %s annotation", r.Alert, k)
				}
			}
			if !strings.Contains(r.Annot["description"], "$labels") && !strings.Contains(r.Annot["description"], "$value") {
				t.Errorf("%s: description names no label or value", r.Alert)
			}
			want := alerts.DefaultRunbookBase + "#" + strings.ToLower(r.Alert)
			if r.Annot["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annot["runbook_url"], want)
			}
			if !strings.Contains(string(runbooks), "\n## "+r.Alert+"\n") {
				t.Errorf("docs/runbooks.md has no section \"## %s\"", r.Alert)
			}
		}
	}
	if want := len(hazard.AllAlerts(hazard.Table)) + 1; alertsSeen != want {
		t.Fatalf("%d alerts in the rules, %d in the table of hazards", alertsSeen, want)
	}
}

func TestRenderRejectsBadConfig(t *testing.T) {
	for name, c := range map[string]alerts.Config{
		"braces":          {Selector: `{job="officescan"}`},
		"metric name":     {Selector: `up{job="officescan"}`},
		"empty":           {Selector: ``},
		"bad agents":      {Selector: `job="a"`, AgentSelector: `job=a`},
		"unknown alert":   {Selector: `job="a"`, For: map[string]time.Duration{"OfficeScanNope": time.Minute}},
		"bad duration":    {Selector: `job="a"`, For: map[string]time.Duration{"OfficeScanDatabaseBusy": 1500 * time.Millisecond}},
		"bad label":       {Selector: `job="a"`, TargetLabels: []string{"in-stance"}},
		"negative agents": {Selector: `job="a"`, AgentTolerance: -1},
		"ratio of one":    {Selector: `job="a"`, AgentToleranceRatio: 1},
		"unquoted value":  {Selector: `job=officescan`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := alerts.Render(c); err == nil {
				t.Fatalf("Render(%+v) accepted", c)
			}
		})
	}
}

// TestPromtoolRuleTests checks the rules and runs the hand-written unit
// tests in alerts/tests with the real promtool of both Prometheus lines.
func TestPromtoolRuleTests(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("tests", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test files in alerts/tests")
	}
	for line, promtool := range tooltest.Promtools(t) {
		t.Run("prometheus_"+line, func(t *testing.T) {
			if b, err := exec.Command(promtool, "check", "rules", "officescan.rules.yml").CombinedOutput(); err != nil {
				t.Fatalf("promtool check rules: %v\n%s", err, b)
			}
			b, err := exec.Command(promtool, append([]string{"test", "rules"}, files...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool test rules: %v\n%s", err, b)
			}
		})
	}
}

// TestAlertmanagerExample checks the example configuration with amtool and
// that it routes the way docs and rules assume.
func TestAlertmanagerExample(t *testing.T) {
	amtool := tooltest.Find(t, "amtool")
	if b, err := exec.Command(amtool, "check-config", "alertmanager.yml").CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, b)
	}
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{[]string{"alertname=OfficeScanUpgradeWindowOpen", "severity=info", "instance=s:9745"}, "upgrade"},
		{[]string{"alertname=OfficeScanDatabaseBusy", "severity=warning", "instance=s:9745"}, "operations"},
		{[]string{"alertname=OfficeScanExporterDown", "severity=warning", "instance=s:9745"}, "operations"},
	} {
		args := append([]string{"config", "routes", "test", "--config.file=alertmanager.yml"}, tc.labels...)
		b, err := exec.Command(amtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("amtool %v: %v\n%s", args, err, b)
		}
		if got := strings.TrimSpace(string(b)); got != tc.want {
			t.Errorf("%v routes to %q, want %q", tc.labels, got, tc.want)
		}
	}
}

// TestNewHazardReachesRules: a hazard added only to a copy of the table gets
// its proof, its blockers, its alert and its place in the verdict, and the
// result still loads in promtool.
func TestNewHazardReachesRules(t *testing.T) {
	table := append(append([]hazard.Hazard(nil), hazard.Table...), hazard.Hazard{
		Name: "update_agent_busy", Kind: hazard.KindZero, Title: "No update agent is deploying",
		Collectors: []string{"updateagent"}, Metrics: []string{"officescan_update_agent_deployments"}, Waivable: true,
		Reasons: []hazard.Reason{hazard.ReasonCollectorOff, hazard.ReasonCollectorFailed, hazard.ReasonInputMissing,
			{Name: "update_agent_deploying", Summary: "an update agent deploys"}},
		Alerts: []hazard.Alert{{Name: "OfficeScanUpdateAgentBusy", Severity: "warning", For: time.Hour, Reasons: []string{"update_agent_deploying"}}},
	})
	c := alerts.DefaultConfig()
	c.Hazards = table
	out, err := alerts.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`hazard: "update_agent_busy"`,
		`reason: "update_agent_deploying"`,
		`officescan_update_agent_deployments{job="officescan"}`,
		`collector="updateagent"`,
		`hazard="update_agent_busy"`, // its waiver
		"alert: OfficeScanUpdateAgentBusy",
		fmt.Sprintf("(officescan:hazard_clear == 1) == %d)", len(table)),
	} {
		if !strings.Contains(s, want) {
			t.Errorf("rules with a new hazard lack %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "new.rules.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	for line, promtool := range tooltest.Promtools(t) {
		if b, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
			t.Errorf("promtool %s check rules: %v\n%s", line, err, b)
		}
	}
}
