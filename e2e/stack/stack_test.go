// Package stack runs the whole alerting path for real: officescan_exporter
// over a simulated server (a fixture PCCSRV folder and processes named
// DbServer.exe and AutoPcc.exe), a real Prometheus 3 evaluating the rules,
// a real Alertmanager routing with the example configuration, and a webhook
// receiver owned by the test.
//
// Run it with scripts/test.d/20-rules.sh, which sets OSE_STACK_E2E=1 and runs
// it in a private PID namespace so the exporter sees only the test's own
// processes.
//
// # Time
//
// The database counts as idle only after 5 minutes of unbroken, idle CPU
// samples, and the window-open alert waits 15 minutes more. The test keeps
// the rules' expressions byte for byte and changes only the alerts' `for`
// (in a copy it renders itself with alerts.Render). For the 5-minute
// history it does not wait either: before Prometheus starts, it backfills
// the 6 minutes before "now" with `promtool tsdb create-blocks-from
// openmetrics` — `up` and the DbServer.exe utilization of the exporter's
// target at 1-second steps, as a 1 s scrape of an idle database would
// have recorded them — and Prometheus starts on that storage. The rules are
// loaded only once Prometheus scrapes the exporter live, so every verdict
// is computed from live series plus that history. Everything after that
// (scrapes, rule evaluation, alert delivery, resolution) is live.
// The whole test takes about 30 seconds instead of 6 minutes.
package stack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
	"github.com/officescan-exporter/officescan_exporter/simulator"
)

func TestAlertPathEndToEnd(t *testing.T) {
	if os.Getenv("OSE_STACK_E2E") != "1" {
		t.Skip("runs in scripts/test.d/20-rules.sh (OSE_STACK_E2E=1, private PID namespace)")
	}
	prometheus := e2eutil.Tool(t, "prometheus")
	promtool := e2eutil.Tool(t, "promtool")
	alertmanager := e2eutil.Tool(t, "alertmanager")
	root := e2eutil.Root(t)

	// The simulated server: settings that read clear, an idle database.
	srv := fixture.New(t, fixture.AllGood, fixture.Options{})
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	exp := e2eutil.StartExporter(t, append(srv.Args(),
		"--collector.dbserver.window=2s", "--collector.dbserver.rediscover=1s")...)
	var collectors []string
	e2eutil.Eventually(t, 30*time.Second, func() error {
		m := e2eutil.Metrics(t, exp.URL+"/metrics")
		if _, ok := e2eutil.Value(m, "officescan_dbserver_cpu_utilization_ratio"); !ok {
			return e2eutil.Errorf("no DbServer.exe utilization yet")
		}
		collectors = collectors[:0]
		for _, s := range m["officescan_scrape_collector_success"].GetMetric() {
			name := s.GetLabel()[0].GetValue()
			if s.GetGauge().GetValue() != 1 {
				return e2eutil.Errorf("collector %s fails", name)
			}
			collectors = append(collectors, name)
		}
		return nil
	})
	t.Logf("collectors on: %v", collectors)
	target := strings.TrimPrefix(exp.URL, "http://")

	hook := newReceiver(t)
	amURL := startAlertmanager(t, alertmanager, root, hook.URL)
	dataDir := backfill(t, promtool, target, 6*time.Minute)
	rules := filepath.Join(t.TempDir(), "rules.yml")
	writeFile(t, rules, []byte("groups: []\n"))
	prom := startPrometheus(t, prometheus, dataDir, target, amURL, rules)
	promURL := prom.url

	// The backfilled `up` alone would look like a server whose collectors
	// are all off, so the rules start only once Prometheus scrapes the
	// exporter live: then every series they read is current.
	e2eutil.Eventually(t, 30*time.Second, func() error {
		if got := query(promURL, `officescan_scrape_collector_success{collector="dbserver"}`); !strings.Contains(got, "=1") {
			return e2eutil.Errorf("no live scrape of the exporter yet: %q", got)
		}
		return nil
	})
	writeFile(t, rules, rulesCopy(t, root))
	if err := prom.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e2eutil.Eventually(t, 10*time.Second, func() error {
		if b := e2eutil.Get(t, promURL+"/api/v1/rules"); !strings.Contains(string(b), "officescan:upgrade_window_safe") {
			return e2eutil.Errorf("rules not loaded yet")
		}
		return nil
	})

	debug := func() {
		for _, q := range []string{"officescan:upgrade_window_safe", "officescan:upgrade_blocker", "ALERTS"} {
			t.Logf("%s: %s", q, query(promURL, q))
		}
	}

	// 1. Every hazard clear: the window-open notification reaches the upgrade receiver.
	if !hook.wait(60*time.Second, "upgrade", "OfficeScanUpgradeWindowOpen", "firing", target) {
		debug()
		t.Fatalf("no window-open notification; got %v", hook.all())
	}

	// 2. A Login Script starts: the blocker alert reaches operations.
	autopcc := e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	if !hook.wait(60*time.Second, "operations", "OfficeScanLoginScriptRunning", "firing", target) {
		debug()
		t.Fatalf("no Login Script notification; got %v", hook.all())
	}
	// The window closes at once, and the upgrade receiver is told.
	if !hook.wait(30*time.Second, "upgrade", "OfficeScanUpgradeWindowOpen", "resolved", target) {
		debug()
		t.Fatalf("window-open not resolved while the Login Script runs; got %v", hook.all())
	}

	// 3. The Login Script ends: the blocker alert is resolved.
	e2eutil.Stop(autopcc)
	if !hook.wait(60*time.Second, "operations", "OfficeScanLoginScriptRunning", "resolved", target) {
		debug()
		t.Fatalf("Login Script alert not resolved; got %v", hook.all())
	}
}

// rulesCopy renders the rules with short `for` durations and checks that
// nothing but `for` differs from the committed file.
func rulesCopy(t *testing.T, root string) []byte {
	t.Helper()
	c := alerts.DefaultConfig()
	c.For = map[string]string{"OfficeScanUpgradeWindowOpen": "3s", "OfficeScanLoginScriptRunning": "1s"}
	short, err := alerts.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, "alerts", "officescan.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := exprs(t, committed), exprs(t, short)
	if len(a) < 20 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("the test copy's expressions differ from alerts/officescan.rules.yml (%d vs %d rules)", len(a), len(b))
	}
	return short
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func exprs(t *testing.T, data []byte) []string {
	t.Helper()
	var doc struct {
		Groups []struct {
			Rules []struct {
				Expr string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			out = append(out, r.Expr)
		}
	}
	return out
}

// backfill writes span of history before now for the target, as an idle
// database's 1 s scrapes would have left it, and returns a TSDB folder that
// holds it as blocks.
func backfill(t *testing.T, promtool, target string, span time.Duration) string {
	t.Helper()
	end := time.Now().Add(-time.Second)
	labels := fmt.Sprintf(`{instance=%q,job="officescan"}`, target)
	var om strings.Builder
	for _, family := range []struct{ name, value string }{
		{"up", "1"},
		{"officescan_dbserver_cpu_utilization_ratio", "0"},
	} {
		fmt.Fprintf(&om, "# TYPE %s gauge\n", family.name)
		for ts := end.Add(-span); !ts.After(end); ts = ts.Add(time.Second) {
			fmt.Fprintf(&om, "%s%s %s %.3f\n", family.name, labels, family.value, float64(ts.UnixMilli())/1000)
		}
	}
	om.WriteString("# EOF\n")
	dir := t.TempDir()
	in := filepath.Join(dir, "history.om")
	if err := os.WriteFile(in, []byte(om.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if b, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", in, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, b)
	}
	return data
}

type prometheusProc struct {
	url string
	cmd *exec.Cmd
}

func startPrometheus(t *testing.T, bin, data, target, amURL, rules string) prometheusProc {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: officescan
    static_configs:
      - targets: [%q]
`, rules, strings.TrimPrefix(amURL, "http://"), target)
	path := filepath.Join(dir, "prometheus.yml")
	writeFile(t, path, []byte(cfg))
	addr := e2eutil.FreeAddr(t)
	cmd := exec.Command(bin, "--config.file="+path, "--storage.tsdb.path="+data,
		"--web.listen-address="+addr, "--log.level=warn")
	logTo(t, cmd, "prometheus")
	e2eutil.Start(t, cmd)
	e2eutil.WaitHTTP(t, "http://"+addr+"/-/ready", 30*time.Second)
	return prometheusProc{url: "http://" + addr, cmd: cmd}
}

// startAlertmanager runs Alertmanager with the example configuration's
// routes, grouping and inhibitions. Only what cannot work in a test
// changes: every receiver delivers to the test's webhook (named after the
// receiver), the group timers are 1 s, and the weekend time intervals are
// not applied (the test must pass on any day).
func startAlertmanager(t *testing.T, bin, root, hookURL string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "alerts", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The example's routes, grouping and inhibitions, delivered to the test's
	// receiver; the demo uses the same derivation.
	out, err := simulator.LocalAlertmanagerConfig(data, hookURL)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := e2eutil.FreeAddr(t)
	cmd := exec.Command(bin, "--config.file="+path, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	logTo(t, cmd, "alertmanager")
	e2eutil.Start(t, cmd)
	e2eutil.WaitHTTP(t, "http://"+addr+"/-/ready", 30*time.Second)
	return "http://" + addr
}

// logTo keeps a tool's output and shows it when the test fails.
func logTo(t *testing.T, cmd *exec.Cmd, name string) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			t.Logf("%s log:\n%s", name, b)
		}
		f.Close()
	})
}

func query(promURL, q string) string {
	resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err.Error()
	}
	var parts []string
	for _, r := range body.Data.Result {
		parts = append(parts, fmt.Sprintf("%v=%v", r.Metric, r.Value[1]))
	}
	return strings.Join(parts, "; ")
}

// notification is one alert of one webhook delivery.
type notification struct {
	Receiver, Status, Alertname, Instance string
}

type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []notification
	more chan struct{}
}

// newReceiver is the webhook every Alertmanager receiver delivers to, the
// receiver's name as the path.
func newReceiver(t *testing.T) *receiver {
	r := &receiver{more: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var msg struct {
			Receiver string `json:"receiver"`
			Alerts   []struct {
				Status string            `json:"status"`
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.NewDecoder(req.Body).Decode(&msg); err != nil {
			t.Errorf("webhook: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if path := strings.TrimPrefix(req.URL.Path, "/"); path != msg.Receiver {
			t.Errorf("webhook: delivery for receiver %q arrived at /%s", msg.Receiver, path)
		}
		r.mu.Lock()
		for _, a := range msg.Alerts {
			r.got = append(r.got, notification{msg.Receiver, a.Status, a.Labels["alertname"], a.Labels["instance"]})
		}
		r.mu.Unlock()
		select {
		case r.more <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// wait reports whether a matching notification arrives within timeout.
func (r *receiver) wait(timeout time.Duration, recv, alertname, status, instance string) bool {
	want := notification{recv, status, alertname, instance}
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		for _, n := range r.got {
			if n == want {
				r.mu.Unlock()
				return true
			}
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			return false
		}
	}
}

func (r *receiver) all() []notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notification(nil), r.got...)
}
