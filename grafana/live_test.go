package grafana

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
)

// mustHaveData are the panels that must show data on a live server: the
// verdict, the database CPU and the Login Script.
var mustHaveData = []string{"Upgrade verdict", "DbServer.exe CPU (share of all logical CPUs)", "Login Script activity"}

// TestLiveQueriesAgainstPrometheus runs every query of the committed
// dashboard, as Grafana would, against a real Prometheus 3 that scrapes a
// real exporter and evaluates alerts/*.rules.yml.
//
// The simulated server: the console settings read as the upgrade wants them,
// an idle DbServer.exe, and a Login Script (AutoPcc.exe) running. So the
// verdict is BLOCKED and says why, which the test checks as well.
func TestLiveQueriesAgainstPrometheus(t *testing.T) {
	if os.Getenv("OSE_GRAFANA_LIVE") != "1" {
		t.Skip("live test: runs in scripts/test.d/45-grafana-live.sh (OSE_GRAFANA_LIVE=1, private PID namespace)")
	}
	prometheusBin := e2eutil.Tool(t, "prometheus")
	start := time.Now()

	srv := fixture.New(t, fixture.AllGood, fixture.Options{})
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	exp := e2eutil.StartExporter(t, append(srv.Args(),
		"--collector.dbserver.window=2s", "--collector.dbserver.rediscover=1s")...)
	instance := strings.TrimPrefix(exp.URL, "http://")

	ruleFiles, _ := loadRules(t)
	prom := startPrometheus(t, prometheusBin, instance, ruleFiles)
	t.Logf("exporter %s, Prometheus %s, rules %v", exp.URL, prom, ruleFiles)

	// Rule groups loaded and evaluating without error.
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
		if err := promAPI(prom, "/api/v1/rules", nil, &rules); err != nil {
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
	// Data for the panels that need it: the CPU ratio appears once the
	// exporter's first sampling window is complete.
	for _, q := range []string{"officescan:upgrade_window_safe", `officescan_dbserver_cpu_utilization_ratio{` + JobSelector + `}`, `officescan_autopcc_processes{` + JobSelector + `}`} {
		e2eutil.Eventually(t, 60*time.Second, func() error {
			res, err := instantValues(prom, q)
			if err != nil {
				return err
			}
			if len(res) == 0 {
				return fmt.Errorf("%s: no data yet", q)
			}
			return nil
		})
	}
	// A few more scrapes, so that range queries see more than one point.
	time.Sleep(3 * time.Second)
	t.Logf("data ready after %s", time.Since(start).Round(100*time.Millisecond))

	end := time.Now()
	results := map[string][]series{}
	panelPoints := map[string]int{}
	for _, q := range dashboardQueries(t) {
		expr, err := substitute(q.expr)
		if err != nil {
			t.Fatalf("%s: %v", q.where, err)
		}
		res, err := queryRange(prom, expr, end.Add(-time.Minute), end, time.Second)
		if err != nil {
			t.Errorf("%s fails on Prometheus: %v\n%s", q.where, err, expr)
			continue
		}
		results[q.where] = res
		points := 0
		for _, s := range res {
			points += len(s.Values)
		}
		panelPoints[q.panel] += points
		t.Logf("%-70s %2d series %4d points", q.where, len(res), points)
	}
	for _, title := range mustHaveData {
		if panelPoints[title] == 0 {
			t.Errorf("panel %q shows no data on a live exporter", title)
		}
	}

	// The panels tell the truth about the simulated server.
	last := func(where string) []series {
		res, ok := results[where]
		if !ok {
			t.Fatalf("no result for %s", where)
		}
		return res
	}
	expectLast(t, last(`panel "Upgrade verdict" query A`), map[string]string{"instance": instance}, 0)
	expectLast(t, last(`panel "Login Script activity" query A`), map[string]string{"instance": instance}, 1)
	expectLast(t, last(`panel "DbServer.exe processes" query A`), map[string]string{"instance": instance}, 1)
	expectLast(t, last(`panel "Agents waiting for a restart" query A`), nil, notMonitored)
	expectLast(t, last(`panel "Agents reporting" query A`), nil, 0)
	expectLast(t, last(`panel "Exporter reachable" query A`), map[string]string{"instance": instance}, 1)
	for _, s := range consoleSettings {
		expectLast(t, last(`panel "Console settings" query A`), map[string]string{"instance": instance, "setting": s}, 1)
	}
	expectLast(t, last(`panel "Active blockers" query A`), map[string]string{"instance": instance, "reason": "login_script_running"}, 1)

	// The instance variable lists the exporter.
	var values []string
	if err := promAPI(prom, "/api/v1/label/instance/values", url.Values{"match[]": {`officescan_exporter_build_info{` + JobSelector + `}`}}, &values); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(values, instance) {
		t.Errorf("instance variable values %v lack the exporter %s", values, instance)
	}

	checkLiveMetricNames(t, exp.URL+"/metrics")
	t.Logf("live test took %s", time.Since(start).Round(100*time.Millisecond))
}

// checkLiveMetricNames compares three lists: what the live exporter exposes,
// what the source scan finds, and what the dashboard reads.
func checkLiveMetricNames(t *testing.T, metricsURL string) {
	t.Helper()
	live := map[string]bool{}
	for name := range e2eutil.Metrics(t, metricsURL) {
		live[name] = true
	}
	source, _ := exporterSourceNames(t)
	for name := range live {
		if _, ok := source[name]; strings.HasPrefix(name, "officescan_") && !ok {
			t.Errorf("the live exporter exposes %s, which the source scan did not find: the scan is out of step with the code", name)
		}
	}
	recorded := recordedNames(t)
	var notLive []string
	for _, q := range dashboardQueries(t) {
		expr, _ := substitute(q.expr)
		parsed, err := promParser.ParseExpr(expr)
		if err != nil {
			t.Fatalf("%s: %v", q.where, err)
		}
		for _, name := range metricNames(parsed) {
			if live[name] || recorded[name] || prometheusNames[name] {
				continue
			}
			if where, ok := source[name]; ok {
				notLive = append(notLive, name+" (defined at "+where+")")
				continue
			}
			t.Errorf("%s reads %s: not exposed by the live exporter, not defined in its source, not recorded by the rules", q.where, name)
		}
	}
	slices.Sort(notLive)
	t.Logf("the exporter exposes %d metric families live; dashboard metrics not exposed in this run (collector off on this OS or by default): %v",
		len(live), slices.Compact(notLive))
}

func startPrometheus(t *testing.T, bin, target string, ruleFiles []string) string {
	t.Helper()
	dir := t.TempDir()
	abs := make([]string, len(ruleFiles))
	for i, f := range ruleFiles {
		a, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		abs[i] = strconv.Quote(a)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: [%s]
scrape_configs:
  - job_name: officescan
    static_configs:
      - targets: [%q]
`, strings.Join(abs, ", "), target)
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := e2eutil.FreeAddr(t)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	e2eutil.Start(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	base := "http://" + addr
	e2eutil.WaitHTTP(t, base+"/-/ready", 30*time.Second)
	return base
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// promAPI GETs a Prometheus API path and decodes its data field into out.
func promAPI(base, path string, params url.Values, out any) error {
	u := base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := httpClient.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  []string        `json:"warnings"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("GET %s: %s: decoding: %w", path, resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s: %s", path, resp.Status, body.ErrorType, body.Error)
	}
	if len(body.Warnings) > 0 {
		return fmt.Errorf("GET %s: warnings %v", path, body.Warnings)
	}
	return json.Unmarshal(body.Data, out)
}

// series is one series of a query result; Values holds [time, "value"]
// pairs (a range query) and Value one pair (an instant query).
type series struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
	Value  [2]any            `json:"value"`
}

func queryRange(base, expr string, start, end time.Time, step time.Duration) ([]series, error) {
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []series `json:"result"`
	}
	err := promAPI(base, "/api/v1/query_range", url.Values{
		"query": {expr},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}, &data)
	return data.Result, err
}

func instantValues(base, expr string) ([]series, error) {
	var data struct {
		Result []series `json:"result"`
	}
	err := promAPI(base, "/api/v1/query", url.Values{"query": {expr}}, &data)
	return data.Result, err
}

// expectLast checks the newest value of the one series whose labels include
// match.
func expectLast(t *testing.T, res []series, match map[string]string, want float64) {
	t.Helper()
	var found []series
	for _, s := range res {
		if subset(match, s.Metric) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Errorf("want one series with labels %v, got %d in %v", match, len(found), res)
		return
	}
	vals := found[0].Values
	if len(vals) == 0 {
		t.Errorf("series %v has no points", found[0].Metric)
		return
	}
	got, err := strconv.ParseFloat(fmt.Sprint(vals[len(vals)-1][1]), 64)
	if err != nil || got != want {
		t.Errorf("series %v: last value %v, want %v", found[0].Metric, vals[len(vals)-1][1], want)
	}
}

func subset(sub, of map[string]string) bool {
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}
