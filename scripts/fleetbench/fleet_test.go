package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func parseText(t *testing.T, b []byte) map[string]int {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, b)
	}
	out := map[string]int{}
	for name, mf := range mfs {
		out[name] = len(mf.GetMetric())
	}
	return out
}

// TestServerExposition: a simulated server exposes the contract's server
// series, parseable, with its three names and six collectors.
func TestServerExposition(t *testing.T) {
	f := NewFleet(20, 0, time.Now().Add(-time.Hour))
	var b bytes.Buffer
	f.WriteServer(&b, 7, time.Now())
	got := parseText(t, b.Bytes())
	for name, want := range map[string]int{
		"officescan_dbserver_processes":                1,
		"officescan_dbserver_cpu_seconds_total":        2,
		"officescan_dbserver_cpu_utilization_ratio":    1,
		"officescan_logical_cpus":                      1,
		"officescan_autopcc_processes":                 1,
		"officescan_share_login_script_open_files":     1,
		"officescan_setting_enabled":                   3,
		"officescan_server_address_info":               3,
		"officescan_scrape_collector_success":          6,
		"officescan_scrape_collector_duration_seconds": 6,
		"officescan_exporter_build_info":               1,
	} {
		if got[name] != want {
			t.Errorf("%s: %d series, want %d", name, got[name], want)
		}
	}
	if !strings.Contains(b.String(), `officescan_dbserver_cpu_utilization_ratio 0.1`) {
		t.Errorf("server 7 (database busy) does not read 10 %% of its CPUs:\n%s", b.String())
	}
}

// TestFleetStates: the mix of states, the waiting agents (3 in 1,000, all
// of AgentsWaiting servers) and the agents of a retired server (never
// waiting: one would block every server).
func TestFleetStates(t *testing.T) {
	f := NewFleet(1000, 100000, time.Now())
	count := map[State]int{}
	for i := 0; i < f.Servers; i++ {
		count[f.State(i)]++
	}
	if count[Safe] != 600 || count[Down] != 10 || count[AgentsWaiting] != 90 || count[LoginScript] != 100 {
		t.Errorf("states %v", count)
	}
	if n := f.WaitingAgents(); n != 300 {
		t.Errorf("%d agents wait, want 300", n)
	}
	retired := 0
	for a := 0; a < f.Agents; a++ {
		s, ok := f.AgentServer(a)
		if !ok {
			retired++
			if f.Waiting(a) {
				t.Fatalf("agent %d of a retired server waits", a)
			}
			continue
		}
		if f.Waiting(a) && f.State(s) != AgentsWaiting {
			t.Fatalf("agent %d waits but its server %d is %s", a, s, f.State(s))
		}
		if name := f.AgentServerName(a); name != f.Host(s) && name != f.FQDN(s) && name != f.IP(s) {
			t.Fatalf("agent %d reports to %q, none of server %d's names", a, name, s)
		}
	}
	if retired != 100 {
		t.Errorf("%d agents of a retired server, want 100", retired)
	}
	if f.Shards() != 100 {
		t.Errorf("%d shards", f.Shards())
	}
	var b bytes.Buffer
	f.WriteShard(&b, 99)
	if got := parseText(t, b.Bytes()); got["officescan_agent_reboot_pending"] != 1000 || got["officescan_agent_info"] != 1000 {
		t.Errorf("shard 99: %v", got)
	}
	if !strings.Contains(b.String(), `officescan_agent_info{instance="pc099999.corp.example:9182",job="officescan_agents",`) {
		t.Error("the last shard lacks the last agent, with its own instance and job")
	}
}

// TestBackfillCounts: the history has every series at every step, counters
// grow at their rate, and the hourly shares are written after the hour they
// describe.
func TestBackfillCounts(t *testing.T) {
	end := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	f := NewFleet(100, 1000, end.Add(-3*time.Hour))
	b := Backfill{End: end, Servers: time.Hour, Agents: 30 * time.Minute, Step: time.Minute, AgentStep: 2 * time.Minute, HourlyWeeks: 1}
	var out bytes.Buffer
	n, err := f.WriteHistory(&out, b)
	if err != nil {
		t.Fatal(err)
	}
	up := 0
	for i := 0; i < f.Servers; i++ {
		if f.State(i) != Down {
			up++
		}
	}
	perServer := len(f.ServerSeries(0, end))
	want := 60*f.Servers /* up */ + 60*up*perServer + 60*f.Servers /* verdict */ + 15*2*f.Agents + f.Servers /* one hourly share */
	if n != want {
		t.Errorf("%d samples of history, want %d", n, want)
	}
	s := out.String()
	if !strings.HasSuffix(s, "# EOF\n") || strings.Count(s, "# TYPE officescan_setting_enabled ") != 1 {
		t.Error("not one block per family ending in # EOF")
	}
	// Server 7's user CPU counter, 3 hours from its start and a minute
	// before: 0.4 CPU-s/s, 0.8 of it user.
	last := `officescan_dbserver_cpu_seconds_total{instance="srv0007.corp.example:9745",job="officescan",mode="user"} 3456 ` + stamp(end)
	prev := `officescan_dbserver_cpu_seconds_total{instance="srv0007.corp.example:9745",job="officescan",mode="user"} 3436.8 ` + stamp(end.Add(-time.Minute))
	if !strings.Contains(s, last) || !strings.Contains(s, prev) {
		t.Errorf("server 7's counter: want\n%s\n%s", prev, last)
	}
	out.Reset()
	n, err = f.WriteHourly(&out, b)
	if err != nil {
		t.Fatal(err)
	}
	if n+f.Servers != f.Servers*7*24 {
		t.Errorf("%d hourly shares and %d in the history, want a week of them per server", n, f.Servers)
	}
	// The hour 11:00-12:00 of Wednesday, written at 12:10: server 0 is safe,
	// a weekday morning reads 0.1. (12:00-13:00, written at 13:10, is in
	// the history's span.)
	if !strings.Contains(out.String(), `officescan:upgrade_window_safe:avg1h{instance="srv0000.corp.example:9745",job="officescan"} 0.1 `+stamp(end.Add(-110*time.Minute))) {
		t.Error("the share of 11:00-12:00 is not written at 12:10")
	}
}

func stamp(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }
