// Package dashboard runs the committed Grafana dashboard's queries live: a
// real exporter, two simulated agents and real Prometheus servers of both
// lines evaluating the rules alerts.Render writes. It is the e2e side of the
// dashboard's tests; package grafana's unit tests check the same queries
// statically, and both read them with grafana/grafanatest.
//
// Run with scripts/test.d/45-grafana-live.sh (OSE_GRAFANA_LIVE=1, in a
// private PID namespace, so that the exporter sees only the test's
// processes).
package dashboard

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
	"github.com/officescan-exporter/officescan_exporter/grafana"
	"github.com/officescan-exporter/officescan_exporter/grafana/grafanatest"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// livePrometheus are the Prometheus servers every dashboard query must run
// on: the current major version and the 2.x that Debian 12 ships. An
// environment variable may point to another binary.
var livePrometheus = []struct{ name, env, bin string }{
	{"prometheus3", "OSE_PROMETHEUS3", "/var/cache/officescan_exporter/bin/prometheus"},
	{"prometheus2", "OSE_PROMETHEUS2", "/usr/bin/prometheus"},
}

const (
	// liveWaiver is the share hazard's waiver in the simulated server's
	// config file (the share collector does not run on Linux).
	liveWaiver = "no client of this server uses the Login Script"
	// liveAgentVersion is the version the simulated agents report.
	liveAgentVersion = "14.0.12345"
)

// TestLiveQueriesAgainstPrometheus runs every query of the committed
// dashboard, as Grafana would, against real Prometheus servers, 3.x and
// 2.42, each scraping a real exporter and two simulated agents every second
// and evaluating the rules alerts.Render writes for a 2 s scrape interval
// and a 20 s idle window.
//
// The simulated server: the console settings read as the upgrade wants them,
// an idle DbServer.exe, a Login Script (AutoPcc.exe) running, and the share
// hazard waived in the config file. Two agents report to it, one waiting for
// a restart; they answer with no series until the test has seen the agents
// panels say "agents not monitored". So the verdict is BLOCKED and says why
// (login_script_running, then agents_reboot_pending too), which the test
// checks on both Prometheus versions.
func TestLiveQueriesAgainstPrometheus(t *testing.T) {
	if os.Getenv("OSE_GRAFANA_LIVE") != "1" {
		t.Skip("live test: runs in scripts/test.d/45-grafana-live.sh (OSE_GRAFANA_LIVE=1, private PID namespace)")
	}
	start := time.Now()

	srv := fixture.New(t, fixture.AllGood, fixture.Options{})
	appendToFile(t, srv.Config, fmt.Sprintf("waivers:\n  share: %q\n", liveWaiver))
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	exp := e2eutil.StartExporter(t, append(srv.Args(),
		"--collector.dbserver.window=2s", "--collector.dbserver.rediscover=1s")...)
	instance := strings.TrimPrefix(exp.URL, "http://")

	// The agents report to one of the names the exporter says its server is
	// known by; without that series they match no server, which blocks
	// every server: the same verdict for the one server here.
	address := "unmatched.example"
	if mf, ok := e2eutil.Metrics(t, exp.URL+"/metrics")[hazard.MetricServerAddressInfo]; ok && len(mf.GetMetric()) > 0 {
		for _, l := range mf.GetMetric()[0].GetLabel() {
			if l.GetName() == "address" {
				address = l.GetValue()
			}
		}
	} else {
		t.Logf("the exporter exposes no %s: the agents match no server", hazard.MetricServerAddressInfo)
	}
	var agentsOn atomic.Bool
	waitingAgent := startAgent(t, &agentsOn, 1, address)
	idleAgent := startAgent(t, &agentsOn, 0, address)

	root := e2eutil.Root(t)
	rules := liveRules(t)
	type server struct {
		name string
		prom *e2eutil.Prometheus
	}
	var proms []server
	for _, p := range livePrometheus {
		bin := p.bin
		if v := os.Getenv(p.env); v != "" {
			bin = v
		}
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s: %v (set %s to its path; scripts/deps.sh installs Prometheus 3, the Debian package prometheus the 2.x)", p.name, err, p.env)
		}
		version, _ := exec.Command(bin, "--version").CombinedOutput()
		first, _, _ := strings.Cut(string(version), "\n")
		prom := startPrometheus(t, p.name, bin, instance, []string{waitingAgent, idleAgent}, rules)
		t.Logf("%s: %s at %s", p.name, first, prom.URL)
		proms = append(proms, server{p.name, prom})
	}
	t.Logf("exporter %s (known as %s), agents %s (waiting) and %s, rules %s", exp.URL, address, waitingAgent, idleAgent, rules)

	queries := dashboardQueries(t, root)
	expr := func(t *testing.T, where string) string {
		t.Helper()
		for _, q := range queries {
			if q.Where == where {
				s, err := grafanatest.Substitute(q.Expr)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
		t.Fatalf("the dashboard has no %s", where)
		return ""
	}
	target := map[string]string{"instance": instance}

	// Before any agent reports: the rules load and evaluate, the verdict,
	// hazards and blockers have data, and the agents panels say "agents not
	// monitored" (the stand-in -1), never 0.
	for _, p := range proms {
		t.Run(p.name+"_agents_not_monitored", func(t *testing.T) {
			waitRules(t, p.prom)
			for _, q := range []string{
				`officescan:upgrade_window_safe{instance="` + instance + `"}`,
				`officescan:upgrade_blocker{instance="` + instance + `", reason="login_script_running"}`,
				`count(officescan:hazard_clear{instance="` + instance + `"}) == ` + strconv.Itoa(len(hazard.Table)),
				`officescan_dbserver_cpu_utilization_ratio{instance="` + instance + `"}`,
			} {
				e2eutil.Eventually(t, 60*time.Second, func() error {
					res, err := p.prom.Instant(q, time.Time{})
					if err == nil && len(res) == 0 {
						err = fmt.Errorf("%s: no data yet", q)
					}
					return err
				})
			}
			for _, where := range []string{
				`panel "Agents of the server waiting for a restart" query A`,
				`panel "Agents waiting for a restart (all servers)" query A`,
				`panel "Agents reporting" query A`,
			} {
				res, err := p.prom.Instant(expr(t, where), time.Time{})
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				expectInstant(t, where, res, nil, grafanatest.NotMonitored)
			}
			res, err := p.prom.Instant(expr(t, `panel "agents: state per server" query A`), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			// Agent monitoring is optional: no agent data does not block.
			expectInstant(t, "agents: state per server", res, target, 1)
		})
	}
	t.Logf("no-agent checks done after %s", time.Since(start).Round(100*time.Millisecond))

	agentsOn.Store(true)
	for _, p := range proms {
		t.Run(p.name, func(t *testing.T) {
			// Both agents scraped and the rules evaluated on them; then one
			// more evaluation, so that every recorded series has seen them.
			for _, q := range []string{
				`officescan:upgrade_blocker{instance="` + instance + `", reason="agents_reboot_pending"}`,
				`officescan:agent_reboot_pending:count == 2`,
			} {
				e2eutil.Eventually(t, 30*time.Second, func() error {
					res, err := p.prom.Instant(q, time.Time{})
					if err == nil && len(res) == 0 {
						err = fmt.Errorf("%s: no data yet", q)
					}
					return err
				})
			}
			time.Sleep(1500 * time.Millisecond)
			runEveryQuery(t, p.prom, queries, instance, address, waitingAgent)
		})
	}
	checkLiveMetricNames(t, root, queries, exp.URL+"/metrics")
	t.Logf("live test took %s", time.Since(start).Round(100*time.Millisecond))
}

// runEveryQuery runs every dashboard query over the last minute, as a
// Grafana range query, and checks what the panels show about the server.
func runEveryQuery(t *testing.T, prom *e2eutil.Prometheus, queries []grafanatest.Query, instance, address, waitingAgent string) {
	end := time.Now()
	results := map[string][]e2eutil.Series{}
	panelSeries := map[string]int{}
	for _, q := range queries {
		expr, err := grafanatest.Substitute(q.Expr)
		if err != nil {
			t.Fatalf("%s: %v", q.Where, err)
		}
		res, err := prom.Range(expr, end.Add(-time.Minute), end, time.Second)
		if err != nil {
			t.Errorf("%s fails on Prometheus: %v\n%s", q.Where, err, expr)
			continue
		}
		results[q.Where] = res
		points := 0
		for _, s := range res {
			points += len(s.Samples)
		}
		panelSeries[q.Panel] += len(res)
		t.Logf("%-75s %2d series %4d points", q.Where, len(res), points)
	}
	// The verdict, every hazard's state and the blockers have data.
	mustHaveData := []string{"Upgrade verdict", "Hazards", "Active blockers", "DbServer.exe CPU (share of all logical CPUs)"}
	for _, h := range hazard.Table {
		mustHaveData = append(mustHaveData, h.Name+": state per server")
	}
	for _, title := range mustHaveData {
		if panelSeries[title] == 0 {
			t.Errorf("panel %q shows no data", title)
		}
	}

	lastOf := func(panel, ref string) []e2eutil.Series {
		where := fmt.Sprintf("panel %q query %s", panel, ref)
		res, ok := results[where]
		if !ok {
			t.Fatalf("no result for %s", where)
		}
		return res
	}
	last := func(panel string) []e2eutil.Series { return lastOf(panel, "A") }
	target := map[string]string{"instance": instance}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"instance": instance}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	expectLast(t, last("Upgrade verdict"), target, 0)
	expectLast(t, last("Hazards"), with("hazard", "autopcc"), 0)
	expectLast(t, last("Hazards"), with("hazard", "share", "waiver", "waived: "+liveWaiver), 1)
	expectLast(t, last("Hazards"), with("hazard", "firewall_driver"), 1)
	expectLast(t, last("Hazards"), with("hazard", "restart_notification"), 1)
	expectLast(t, last("Hazards"), with("hazard", "agents"), 0)
	expectLast(t, last("share: state per server"), with("waiver", "waived: "+liveWaiver), 1)
	expectLast(t, last("autopcc: state per server"), target, 0)
	expectLast(t, last("Active blockers"), with("hazard", "autopcc", "reason", "login_script_running", "action", "login_script_running"), 1)
	expectLast(t, last("Active blockers"), with("hazard", "agents", "reason", "agents_reboot_pending"), 1)
	expectLast(t, last("autopcc: blockers"), with("reason", "login_script_running"), 1)
	expectLast(t, last("agents: blockers"), with("reason", "agents_reboot_pending"), 1)
	for _, s := range last("Active blockers") {
		if s.Metric["hazard"] == "share" {
			t.Errorf("the waived share hazard blocks: %v", s.Metric)
		}
	}
	expectLast(t, last("AutoPcc.exe / AutoPccP.exe processes on the server"), target, 1)
	expectLast(t, last("DbServer.exe processes"), target, 1)
	expectLast(t, last("Agents of the server waiting for a restart"), target, 1)
	expectLast(t, last("Agents waiting for a restart (all servers)"), nil, 1)
	expectLast(t, last("Agents reporting"), nil, 2)
	expectLast(t, last("Agents that wait for a restart"),
		map[string]string{"instance": waitingAgent, "server": address, "version": liveAgentVersion}, 1)
	if address != "unmatched.example" {
		expectLast(t, last("Names the server is known by"), with("address", address), 1)
	}
	expectLast(t, last("Exporter reachable"), target, 1)
	for _, h := range hazard.Table {
		for _, s := range h.Settings {
			expectLast(t, last("Console settings: "+strings.Join(h.Settings, ", ")), with("setting", s), 1)
		}
	}
	// The fleet row: one server, blocked by the Login Script and a waiting
	// agent, linked by its instance.
	expectLast(t, lastOf("Servers by verdict", "A"), nil, 0)
	expectLast(t, lastOf("Servers by verdict", "B"), nil, 1)
	expectLast(t, lastOf("Servers by verdict", "C"), nil, 0)
	expectLast(t, last("Most common blockers"), map[string]string{"hazard": "autopcc", "reason": "login_script_running", "action": "login_script_running"}, 1)
	expectLast(t, last("Most common blockers"), map[string]string{"hazard": "agents", "reason": "agents_reboot_pending"}, 1)
	expectLast(t, last("Agents waiting for a restart, per server"), target, 1)
	expectLast(t, lastOf("Servers", "A"), target, 0)
	expectLast(t, lastOf("Servers", "C"), target, 1)
	if res := lastOf("Servers", "B"); len(res) != 1 || len(res[0].Samples) == 0 {
		t.Errorf("servers table: blockers %v, want one row", res)
	} else if n := res[0].Samples[len(res[0].Samples)-1].V; n < 2 {
		t.Errorf("servers table: %v blockers, want at least the Login Script and the waiting agent", n)
	}
	// The heatmaps run; their cells need whole past hours of verdicts, which
	// a fresh Prometheus has not (their values: TestWindowHeatmapsWithPromtool).
	for _, title := range []string{"When the window is usually open: all servers (${utc_offset:text})", "When the window is usually open: $instance (${utc_offset:text})"} {
		if _, ok := results[fmt.Sprintf("panel %q query A", title)]; !ok {
			t.Errorf("the heatmap %q did not run", title)
		}
	}

	if res := last("dbserver: state per server"); len(res) == 1 && len(res[0].Samples) > 0 {
		t.Logf("dbserver hazard now: %v (1 once DbServer.exe has been measured idle for the 20 s window)", res[0].Samples[len(res[0].Samples)-1].V)
	}

	// The instance variable lists the exporter.
	var values []string
	if err := prom.API("label/instance/values", url.Values{"match[]": {`officescan_exporter_build_info{job="officescan"}`}}, &values); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(values, instance) {
		t.Errorf("instance variable values %v lack the exporter %s", values, instance)
	}
}

// liveRules writes the rules for the live test's fast scrapes.
func liveRules(t *testing.T) string {
	t.Helper()
	cfg := alerts.DefaultConfig()
	cfg.ScrapeInterval = 2 * time.Second
	cfg.IdleWindow = 20 * time.Second
	// The history group runs every second here, so that waitRules sees it
	// evaluated; its expression is the shipped one.
	cfg.HistoryInterval = time.Second
	cfg.Args = " (grafana live test: 2 s scrape interval, 20 s idle window, history every 1 s)"
	return e2eutil.RulesFile(t, cfg)
}

// startAgent serves one agent's series, as the exporter's reboot collector
// would, once on is set; until then a valid page with no series.
func startAgent(t *testing.T, on *atomic.Bool, pending int, server string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if !on.Load() {
			return
		}
		fmt.Fprintf(w, "# TYPE %[1]s gauge\n%[1]s %[2]d\n# TYPE %[3]s gauge\n%[3]s{version=%[4]q,build=\"1\",server=%[5]q} 1\n",
			hazard.MetricAgentRebootPending, pending, hazard.MetricAgentInfo, liveAgentVersion, server)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func appendToFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitRules waits until the rule groups are loaded and every rule
// evaluates without error.
func waitRules(t *testing.T, prom *e2eutil.Prometheus) {
	t.Helper()
	e2eutil.Eventually(t, 30*time.Second, func() error {
		var rules struct {
			Groups []struct {
				Name  string
				Rules []struct {
					Name      string
					Health    string
					LastError string
				}
			}
		}
		if err := prom.API("rules", nil, &rules); err != nil {
			return err
		}
		if len(rules.Groups) == 0 {
			return fmt.Errorf("no rule group loaded")
		}
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if r.Health != "ok" {
					return fmt.Errorf("rule %s in %s: health %q %s", r.Name, g.Name, r.Health, r.LastError)
				}
			}
		}
		return nil
	})
}

// checkLiveMetricNames compares three lists: what the live exporter exposes,
// what the source scan finds, and what the dashboard reads.
func checkLiveMetricNames(t *testing.T, root string, queries []grafanatest.Query, metricsURL string) {
	t.Helper()
	live := map[string]bool{}
	for name := range e2eutil.Metrics(t, metricsURL) {
		live[name] = true
	}
	source, _, err := grafanatest.ExporterSourceNames(root)
	if err != nil {
		t.Fatal(err)
	}
	for name := range live {
		if _, ok := source[name]; strings.HasPrefix(name, "officescan_") && !ok {
			t.Errorf("the live exporter exposes %s, which the source scan did not find: the scan is out of step with the code", name)
		}
	}
	recorded, err := grafanatest.RecordedNames(root)
	if err != nil {
		t.Fatal(err)
	}
	var notLive []string
	for _, q := range queries {
		expr, _ := grafanatest.Substitute(q.Expr)
		parsed, err := grafanatest.ParseExpr(expr)
		if err != nil {
			t.Fatalf("%s: %v", q.Where, err)
		}
		for _, name := range grafanatest.MetricNames(parsed) {
			if live[name] || recorded[name] || grafanatest.PrometheusNames[name] {
				continue
			}
			if where, ok := source[name]; ok {
				notLive = append(notLive, name+" (defined at "+where+")")
				continue
			}
			t.Errorf("%s reads %s: not exposed by the live exporter, not defined in its source, not recorded by the rules", q.Where, name)
		}
	}
	slices.Sort(notLive)
	t.Logf("the exporter exposes %d metric families live; dashboard metrics not exposed in this run (collector off on this OS or by default): %v",
		len(live), slices.Compact(notLive))
}

// dashboardQueries lists every query of the committed dashboard.
func dashboardQueries(t *testing.T, root string) []grafanatest.Query {
	t.Helper()
	qs, err := grafanatest.ReadQueries(filepath.Join(root, "grafana", grafana.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// startPrometheus runs the Prometheus at bin scraping the exporter at
// target and the agents every second and evaluating rules every second.
func startPrometheus(t *testing.T, name, bin, target string, agents []string, rules string) *e2eutil.Prometheus {
	t.Helper()
	quoted := make([]string, len(agents))
	for i, a := range agents {
		quoted[i] = strconv.Quote(a)
	}
	p := e2eutil.NewPrometheus(t, name, bin, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: officescan
    static_configs:
      - targets: [%q]
  - job_name: officescan_agents
    static_configs:
      - targets: [%s]
`, rules, target, strings.Join(quoted, ", ")))
	p.Start(t)
	return p
}

// expectInstant checks the value of the one sample of an instant query's
// result whose labels include match.
func expectInstant(t *testing.T, where string, res []e2eutil.Sample, match map[string]string, want float64) {
	t.Helper()
	var found []e2eutil.Sample
	for _, s := range res {
		if subset(match, s.Metric) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Errorf("%s: want one series with labels %v, got %d in\n%s", where, match, len(found), e2eutil.Show(res))
		return
	}
	if found[0].V != want {
		t.Errorf("%s: series %v: value %v, want %v", where, found[0].Metric, found[0].V, want)
	}
}

// expectLast checks the newest value of the one series of a range query's
// result whose labels include match.
func expectLast(t *testing.T, res []e2eutil.Series, match map[string]string, want float64) {
	t.Helper()
	var newest []e2eutil.Sample
	for _, s := range res {
		if len(s.Samples) > 0 {
			newest = append(newest, s.Samples[len(s.Samples)-1])
		} else if subset(match, s.Metric) {
			t.Errorf("series %v has no points", s.Metric)
			return
		}
	}
	expectInstant(t, "newest value", newest, match, want)
}

func subset(sub, of map[string]string) bool {
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}
