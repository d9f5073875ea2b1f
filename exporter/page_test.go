package exporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/officescan-exporter/officescan_exporter/config"
)

const hostile = `<script>document.title="pwned"</script>`

func pageServer(t *testing.T, s *Scraper) *httptest.Server {
	t.Helper()
	r := NewReadiness(s, EvaluateOptions{
		DatabaseWindow: 10 * time.Second,
		Settings: map[string]config.Setting{
			"firewall": {File: "Ofcscan.ini", Section: hostile, Key: `k"&'`, Source: "cfg.yml:3"},
		},
	})
	mux := http.NewServeMux()
	logger := promslog.NewNopLogger()
	mux.Handle("/readiness", r.JSONHandler(logger))
	mux.Handle("/", r.PageHandler(logger, PageOptions{MetricsPath: "/metrics", ReadinessPath: "/readiness", DocsURL: "https://example.org/docs/check.md", Version: "1.2.3", Refresh: 15 * time.Second}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestPageListsEveryHazardWithItsStateAndEscapesValues(t *testing.T) {
	srv := pageServer(t, build(
		spec("dbserver", true, idleDB),
		spec("autopcc", true, gauges(map[string]float64{metricAutoPccProcesses: 1})),
		spec("settings", true, gauges(map[string]float64{metricSettingEnabled + "{setting=firewall}": 0})),
	))
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q: want no script or remote load allowed", csp)
	}
	rows := map[string]string{}
	for _, m := range regexp.MustCompile(`<tr data-hazard="([^"]+)" data-state="([^"]+)">`).FindAllStringSubmatch(body, -1) {
		rows[m[1]] = m[2]
	}
	want := map[string]string{
		"DbServer": "clear", "AutoPcc": "blocked", "LoginScriptShare": "off", "firewall": "clear",
		"firewall_driver_update_after_reboot": "unknown", "kernel_driver_restart_notification": "unknown", "RebootPending": "off",
	}
	for name, state := range want {
		if rows[name] != state {
			t.Errorf("row %s: state %q, want %q (rows %v)", name, rows[name], state, rows)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("rows %v, want exactly %v", rows, want)
	}
	if strings.Contains(body, hostile) || !strings.Contains(body, "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;") {
		t.Errorf("the section name from the config file is not escaped:\n%s", body)
	}
	if !strings.Contains(body, "k&#34;&amp;&#39;") {
		t.Errorf("the key name is not escaped")
	}
	for _, want := range []string{`data-verdict="blocked"`, `href="/metrics"`, `href="/readiness"`, `href="https://example.org/docs/check.md"`,
		`<meta http-equiv="refresh" content="15">`, "measured over the last 10s here", "1.2.3"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?i)<(script|link|img)\b|src=|https?://[^"]*\.(js|css)`).MatchString(body) {
		t.Errorf("page loads something or runs a script:\n%s", body)
	}
	if resp, _ := get(t, srv.URL+"/favicon.ico"); resp.StatusCode != 404 {
		t.Errorf("/favicon.ico: %d, want 404, not the page", resp.StatusCode)
	}
}

func TestReadinessJSONIsTheCheckReport(t *testing.T) {
	srv := pageServer(t, build(spec("dbserver", true, idleDB), spec("autopcc", true, gauges(map[string]float64{metricAutoPccProcesses: 0}))))
	resp, body := get(t, srv.URL+"/readiness")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var rep Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if rep.Outcome != OutcomeSafe || !rep.Safe || rep.ExitCode != 0 || len(rep.Checks) != 7 || rep.DatabaseWindowSeconds != 10 {
		t.Errorf("report %+v", rep)
	}
}

func TestPageLoadsShareScrapes(t *testing.T) {
	var calls atomic.Int64
	counting := fn(func(ctx context.Context, ch chan<- prometheus.Metric) error {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return gauges(map[string]float64{metricAutoPccProcesses: 0})(ctx, ch)
	})
	srv := pageServer(t, build(spec("autopcc", true, counting)))
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := get(t, srv.URL+"/")
			// Concurrent loads must never see "previous run has not finished".
			if resp.StatusCode != 200 || !strings.Contains(body, `data-hazard="AutoPcc" data-state="clear"`) {
				t.Errorf("status %d:\n%s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("10 page loads within a second ran the collector %d times, want 1", n)
	}
}
