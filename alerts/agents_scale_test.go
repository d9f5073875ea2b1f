//go:build !windows

// parseRules lives in rules_test.go, built where promtool runs.

package alerts_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	promql "github.com/prometheus/prometheus/promql/parser"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// agentAggregates are the rules that may read the agents' own series: each
// collapses them into one series per server name (by server) or one for the
// whole fleet, so their cost grows with the agents once per evaluation and
// nothing per exporter target does.
var agentAggregates = []string{
	"officescan:agent_reboot_pending:agents_by_server",
	"officescan:agent_reboot_pending:count",
	"officescan:agent_reboot_pending:waiting",
	"officescan:agent_reboot_pending:waiting_by_server",
	"officescan:agent_reboot_pending:waiting_unmatched",
}

// TestOnlyAgentAggregatesReadAgentSeries: with 100,000 agents, an
// expression evaluated per exporter target that read the agents' series
// would cost agents × servers. In the rules, the agents' series
// (officescan_agent_reboot_pending, officescan_agent_info) are read only
// by the aggregates above, always inside an aggregation (count), and by the
// not_a_server blocker only under the target selector (an agent exporter
// scraped as a server). Every per-target rule reads the aggregates.
func TestOnlyAgentAggregatesReadAgentSeries(t *testing.T) {
	for name, c := range map[string]alerts.Config{
		"shipped":        alerts.DefaultConfig(),
		"agent selector": {Selector: `job="officescan"`, AgentSelector: `job="officescan_agents"`},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := alerts.Render(c)
			if err != nil {
				t.Fatal(err)
			}
			readers := map[string]bool{}
			byTarget := 0
			for _, g := range parseRules(t, out).Groups {
				for _, r := range g.Rules {
					expr, err := promql.NewParser(promql.Options{}).ParseExpr(r.Expr)
					if err != nil {
						t.Fatalf("%s%s: %v", r.Record, r.Alert, err)
					}
					readsAggregate := false
					promql.Inspect(expr, func(n promql.Node, path []promql.Node) error {
						vs, ok := n.(*promql.VectorSelector)
						if !ok {
							return nil
						}
						if strings.HasPrefix(vs.Name, "officescan:agent_reboot_pending:") {
							readsAggregate = true
						}
						if vs.Name != hazard.MetricAgentRebootPending && vs.Name != hazard.MetricAgentInfo {
							return nil
						}
						if underTargetSelector(vs) {
							if r.Labels["reason"] != "not_a_server" {
								t.Errorf("%s%s reads %s under the target selector; only the not_a_server blocker should", r.Record, r.Alert, vs)
							}
							return nil
						}
						readers[r.Record+r.Alert] = true
						if !insideAggregation(path) {
							t.Errorf("%s reads %s outside any aggregation:\n%s", r.Record, vs, r.Expr)
						}
						return nil
					})
					if readsAggregate && strings.HasSuffix(r.Record, "_by_target") {
						byTarget++
					}
				}
			}
			got := make([]string, 0, len(readers))
			for r := range readers {
				got = append(got, r)
			}
			sort.Strings(got)
			if !slices.Equal(got, agentAggregates) {
				t.Errorf("rules reading the agents' series: %v\nwant only the aggregates %v", got, agentAggregates)
			}
			if byTarget != 2 {
				t.Errorf("%d per-target agent rules read the aggregates, want waiting_by_target and agents_by_target", byTarget)
			}
		})
	}
}

// underTargetSelector: the selector carries the exporter targets' job.
func underTargetSelector(vs *promql.VectorSelector) bool {
	for _, m := range vs.LabelMatchers {
		if m.Name == "job" && m.Value == hazard.DefaultJob {
			return true
		}
	}
	return false
}

func insideAggregation(path []promql.Node) bool {
	for _, n := range path {
		if _, ok := n.(*promql.AggregateExpr); ok {
			return true
		}
	}
	return false
}
