package exporter_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/exporter"
)

// TestEvaluateAgreesWithScenarios runs the Go evaluator over every row of
// alerts/scenarios.yaml, the table the Prometheus rules are tested against
// with promtool, and requires the same verdict and the same blockers.
func TestEvaluateAgreesWithScenarios(t *testing.T) {
	scenarios, err := alerts.LoadScenarios(filepath.Join("..", "alerts", "scenarios.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	evaluated := 0
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			if *sc.Input.Up == 0 {
				// The evaluator runs inside the exporter, which is up by
				// definition: a down target is the rules' case alone.
				t.Logf("up=0: only the rules can see a down exporter")
				return
			}
			evaluated++
			v := exporter.Evaluate(exporter.Observation{Families: families(sc.Input)}, exporter.EvaluateOptions{})
			wantSafe := *sc.Expect.Safe == 1
			if v.Safe != wantSafe {
				t.Errorf("safe = %v, want %v (%s)\n%s", v.Safe, wantSafe, sc.Description, checklist(v))
			}
			if got, want := blockers(v), expected(sc.Expect.Blockers); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("blockers\n got  %v\n want %v\n%s", got, want, checklist(v))
			}
			if !v.Safe && v.Outcome == exporter.OutcomeSafe {
				t.Errorf("outcome %q with safe=false", v.Outcome)
			}
		})
	}
	if evaluated < 20 {
		t.Fatalf("only %d scenarios evaluated; the table shrank or failed to load", evaluated)
	}
}

// families turns a scenario's input into the metric families one scrape
// of the exporter would hold.
func families(in alerts.Input) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	gauge := func(name string, values []float64, labels ...[]string) {
		f := &dto.MetricFamily{Name: proto.String(name), Type: dto.MetricType_GAUGE.Enum()}
		for i, v := range values {
			m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
			if i < len(labels) {
				for j := 0; j+1 < len(labels[i]); j += 2 {
					m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i][j]), Value: proto.String(labels[i][j+1])})
				}
			}
			f.Metric = append(f.Metric, m)
		}
		out = append(out, f)
	}
	one := func(name string, p *float64) {
		if p != nil {
			gauge(name, []float64{*p})
		}
	}
	byLabel := func(name, label string, m map[string]float64) {
		var vals []float64
		var labels [][]string
		for _, k := range sortedKeys(m) {
			vals = append(vals, m[k])
			labels = append(labels, []string{label, k})
		}
		if len(vals) > 0 {
			gauge(name, vals, labels...)
		}
	}
	byLabel("officescan_scrape_collector_success", "collector", in.Collectors)
	one("officescan_dbserver_processes", in.DbserverProcesses)
	one("officescan_dbserver_cpu_utilization_ratio", in.DbserverCPUUtilization)
	one("officescan_autopcc_processes", in.AutopccProcesses)
	one("officescan_share_login_script_open_files", in.ShareLoginScriptOpenFiles)
	byLabel("officescan_setting_enabled", "setting", in.Settings)
	if len(in.AgentRebootPending) > 0 {
		// One series per agent, as Prometheus holds them (each agent is its
		// own target).
		var labels [][]string
		for i := range in.AgentRebootPending {
			labels = append(labels, []string{"instance", fmt.Sprintf("agent%d:9745", i)})
		}
		gauge("officescan_agent_reboot_pending", in.AgentRebootPending, labels...)
	}
	return out
}

func sortedKeys(m map[string]float64) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// blockers are the distinct blocker label sets of the blocked and unknown
// checks, as the rules' officescan:upgrade_blocker series would be.
func blockers(v exporter.Verdict) []string {
	set := map[string]bool{}
	for _, c := range v.Checks {
		if c.State == exporter.StateBlocked || c.State == exporter.StateUnknown {
			if c.Blocker == nil {
				set["<no blocker labels on "+c.Name+">"] = true
				continue
			}
			set[alerts.Blocker(c.Blocker).String()] = true
		}
	}
	return sortedSet(set)
}

func expected(bs []alerts.Blocker) []string {
	set := map[string]bool{}
	for _, b := range bs {
		set[b.String()] = true
	}
	return sortedSet(set)
}

func sortedSet(set map[string]bool) []string {
	out := []string{}
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checklist(v exporter.Verdict) string {
	s := ""
	for _, c := range v.Checks {
		s += fmt.Sprintf("  %-8s %-36s %s\n", c.State, c.Name, c.Evidence)
	}
	return s
}
