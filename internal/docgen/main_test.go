package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// TestDocsMatchTable fails when a committed doc's generated blocks differ
// from the table of hazards; `go run ./internal/docgen` mends it.
func TestDocsMatchTable(t *testing.T) {
	used := map[string]bool{}
	for _, name := range Docs {
		blocks := Blocks(hazard.Table, runbooksLink(name))
		data, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		out, err := Apply(name, data, blocks)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(data) {
			t.Errorf("%s differs from the table of hazards; run `go run ./internal/docgen`", name)
		}
		for _, m := range blockRE.FindAllSubmatch(data, -1) {
			used[string(m[2])] = true
		}
	}
	for name := range Blocks(hazard.Table, "") {
		if !used[name] {
			t.Errorf("block %q is in no doc", name)
		}
	}
}

// TestNewHazardReachesDocs: a hazard added only to a copy of the table
// appears in every generated block, with its reasons and waiver key.
func TestNewHazardReachesDocs(t *testing.T) {
	table := append(append([]hazard.Hazard(nil), hazard.Table...), hazard.Hazard{
		Name: "update_agent_busy", Kind: hazard.KindZero, Title: "No update agent is deploying",
		Collectors: []string{"updateagent"}, Metrics: []string{"officescan_update_agent_deployments"}, Waivable: true,
		Why:     "Test hazard.",
		Reasons: []hazard.Reason{hazard.ReasonCollectorOff, {Name: "update_agent_deploying", Summary: "an update agent deploys", Action: "Wait."}},
		Alerts:  []hazard.Alert{{Name: "OfficeScanUpdateAgentBusy", Severity: "warning", Reasons: []string{"update_agent_deploying"}}},
	})
	b := Blocks(table, "")
	for block, want := range map[string][]string{
		"hazard_list": {"`update_agent_busy`", "No update agent is deploying", "collector `updateagent`", "waivers: {update_agent_busy"},
		"hazards":     {"### Hazard: update-agent-busy", "`update_agent_deploying`", "an update agent deploys", "officescan_update_agent_deployments"},
		"reasons":     {"| `update_agent_busy` | `update_agent_deploying` |", "[OfficeScanUpdateAgentBusy](#officescanupdateagentbusy)"},
	} {
		for _, w := range want {
			if !strings.Contains(b[block], w) {
				t.Errorf("block %s lacks %q", block, w)
			}
		}
	}
}

func TestApplyRefusesUnknownOrMismatchedBlocks(t *testing.T) {
	for doc, want := range map[string]string{
		"<!-- BEGIN generated:nope -->\nx\n<!-- END generated:nope -->":       `no generated block is called "nope"`,
		"<!-- BEGIN generated:reasons -->\nx\n<!-- END generated:hazards -->": `block "reasons" ends as "hazards"`,
	} {
		_, err := Apply("x.md", []byte(doc), Blocks(hazard.Table, ""))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Apply(%q) = %v, want %q", doc, err, want)
		}
	}
}
