// Package stack runs the whole alerting path for real, on both Prometheus
// lines: officescan_exporter over a simulated server (a fixture PCCSRV folder
// and processes named DbServer.exe and AutoPcc.exe), a real Prometheus
// evaluating the rules, a real Alertmanager routing with the example
// configuration, and a webhook receiver owned by the test. Line "2" is
// Debian's Prometheus 2.42 with Alertmanager 0.25, line "3" Prometheus 3
// with Alertmanager 0.31 (e2eutil.StackLines).
//
// Run it with scripts/test.d/20-rules.sh, which sets OSE_STACK_E2E=1 and runs
// it in a private PID namespace so the exporter sees only the test's own
// processes.
//
// # Time
//
// The shipped rules prove the database idle from 5 minutes of its CPU
// counter and wait 15 minutes more before the window-open alert fires. The
// test does not fake that history: it renders its own copy of the rules
// with alerts.Render, with a 20-second idle window, the 1-second scrape
// interval it really uses, and short alert `for`s, and checks that the
// copy's expressions are the committed file's with only those numbers
// changed. Prometheus starts on empty storage and scrapes the live exporter
// every second, so every verdict is computed from live scrapes alone, and
// the database is proven idle by a whole (short) window of the real
// counter: no backfill. The verdict must not turn safe before a whole
// window of scrapes exists. About 40 seconds per line.
//
// The Linux exporter has no share collector, so the fixture's config file
// waives the share hazard with a reason, as a Linux server must; every other
// hazard is proven clear from the exporter's data.
package stack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/simulator"
)

// The test's time scale: Prometheus scrapes and evaluates every second; the
// database must be measured idle for idleWindow.
const (
	scrapeInterval = time.Second
	idleWindow     = 20 * time.Second
)

func TestAlertPathEndToEnd(t *testing.T) {
	if os.Getenv("OSE_STACK_E2E") != "1" {
		t.Skip("runs in scripts/test.d/20-rules.sh (OSE_STACK_E2E=1, private PID namespace)")
	}
	lines := e2eutil.StackLines(t)
	root := e2eutil.Root(t)
	rules := rulesCopy(t, root)
	for _, line := range e2eutil.Lines(lines) {
		t.Run("prometheus"+line, func(t *testing.T) { alertPath(t, root, lines[line], rules) })
	}
}

func alertPath(t *testing.T, root string, tools e2eutil.StackTools, rules []byte) {
	// The simulated server: settings that read clear, an idle database, the
	// share hazard waived (no share collector on Linux).
	srv := fixture.New(t, fixture.AllGood, fixture.Options{Waivers: fixture.WaiveShare()})
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	exp := e2eutil.StartExporter(t, append(srv.Args(),
		"--collector.dbserver.window=2s", "--collector.dbserver.rediscover=1s")...)
	var collectors []string
	e2eutil.Eventually(t, 30*time.Second, func() error {
		m := e2eutil.Metrics(t, exp.URL+"/metrics")
		if _, ok := e2eutil.Value(m, "officescan_dbserver_cpu_utilization_ratio"); !ok {
			return e2eutil.Errorf("no DbServer.exe utilization yet")
		}
		if v, ok := e2eutil.Value(m, "officescan_hazard_waived", "hazard=share", "reason="+fixture.ShareReason); !ok || v != 1 {
			return e2eutil.Errorf("the share waiver is not exported")
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
	amURL := startAlertmanager(t, tools.Alertmanager, root, hook.URL)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yml")
	writeFile(t, rulesPath, rules)
	prom := e2eutil.NewPrometheus(t, "prometheus "+tools.Line, tools.Prometheus, fmt.Sprintf(`global:
  scrape_interval: %s
  evaluation_interval: %s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: officescan
    static_configs:
      - targets: [%q]
`, alerts.Duration(scrapeInterval), alerts.Duration(scrapeInterval), rulesPath, strings.TrimPrefix(amURL, "http://"), target))
	started := time.Now()
	prom.Start(t)

	debug := func() {
		for _, q := range []string{"officescan:upgrade_window_safe", "officescan:upgrade_blocker", "ALERTS"} {
			t.Logf("%s:\n%s", q, e2eutil.Show(prom.Query(t, q, time.Time{})))
		}
	}

	// 1. Every hazard clear: the window-open notification reaches the
	// upgrade receiver, once a whole idle window of scrapes exists.
	if !hook.wait(90*time.Second, "upgrade", "OfficeScanUpgradeWindowOpen", "firing", target) {
		debug()
		t.Fatalf("no window-open notification; got %v", hook.all())
	}
	t.Logf("window-open notification %.1fs after Prometheus started", time.Since(started).Seconds())
	first := prom.Query(t, fmt.Sprintf("min_over_time(timestamp(up{instance=%q})[5m:])", target), time.Time{})
	if len(first) != 1 {
		t.Fatalf("first scrape: %v", first)
	}
	firstScrape := time.UnixMilli(int64(first[0].V * 1000))
	var safeAt time.Time
	// Every evaluation's own sample, not a range query's lookback.
	for _, p := range prom.Query(t, fmt.Sprintf("officescan:upgrade_window_safe[%ds]", int(time.Since(started).Seconds())+5), time.Time{}) {
		if p.V == 1 && (safeAt.IsZero() || p.T.Before(safeAt)) {
			safeAt = p.T
		}
	}
	if safeAt.IsZero() || safeAt.Before(firstScrape.Add(idleWindow)) {
		debug()
		t.Fatalf("verdict first safe at %s, want at least one idle window (%s) after the first scrape at %s",
			safeAt.Format("15:04:05.000"), idleWindow, firstScrape.Format("15:04:05.000"))
	}
	t.Logf("first scrape %s, first safe %s (%.1fs later)", firstScrape.Format("15:04:05.000"), safeAt.Format("15:04:05.000"), safeAt.Sub(firstScrape).Seconds())

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

// rulesCopy renders the test's rules: the idle window and scrape interval of
// the test, short `for`s. It checks that the expressions are the committed
// file's but for the numbers those settings give: the window (5m -> 20s),
// the CPU-seconds budget over it (0.005 x 300 = 1.5 -> 0.005 x 20 = 0.1) and
// the staleness bound (1.5 scrape intervals: 90 -> 1.5).
func rulesCopy(t *testing.T, root string) []byte {
	t.Helper()
	c := alerts.DefaultConfig()
	c.ScrapeInterval = scrapeInterval
	c.IdleWindow = idleWindow
	c.For = map[string]time.Duration{"OfficeScanUpgradeWindowOpen": 3 * time.Second, "OfficeScanLoginScriptRunning": time.Second}
	short, err := alerts.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, "alerts", "officescan.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	num := func(f float64) string { return fmt.Sprint(f) }
	shipped := map[string]string{
		// Each token is mapped once, so the two 1.5s do not mix.
		num(hazard.MaxSampleAge(scrapeInterval).Seconds()): num(hazard.MaxSampleAge(hazard.ScrapeInterval).Seconds()),
		num(hazard.IdleRatio * idleWindow.Seconds()):       num(hazard.IdleCPUSecondsPerCPU()),
		alerts.Duration(idleWindow):                        alerts.Duration(hazard.IdleWindow),
	}
	token := regexp.MustCompile(`[0-9][0-9.]*[a-z]*`)
	a, b := exprs(t, committed), exprs(t, short)
	if len(a) < 20 || len(a) != len(b) {
		t.Fatalf("the test copy has %d rules, alerts/officescan.rules.yml %d", len(b), len(a))
	}
	mapped := map[string]bool{}
	for i := range a {
		back := token.ReplaceAllStringFunc(b[i], func(s string) string {
			if r, ok := shipped[s]; ok {
				mapped[s] = true
				return r
			}
			return s
		})
		if back != a[i] {
			t.Fatalf("rule %d: the test copy's expression differs from alerts/officescan.rules.yml by more than the window, budget and staleness bound:\n%s\n--- committed:\n%s", i, b[i], a[i])
		}
	}
	if len(mapped) != len(shipped) {
		t.Fatalf("the test copy's expressions use only %v of the numbers %v: the check above proves less than it says", mapped, shipped)
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
	return e2eutil.StartAlertmanager(t, "alertmanager", bin, out)
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
