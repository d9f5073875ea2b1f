package readiness

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// healthy is a server whose every hazard is clear, share waived.
func healthy() *fakeScrape {
	g := map[string]float64{
		hazard.MetricDBProcesses: 1, hazard.MetricDBCPUSeconds: 0, hazard.MetricDBUtilization: 0, hazard.MetricLogicalCPUs: 2,
		hazard.MetricAutoPccProcesses:                                               0,
		hazard.MetricHazardWaived + "|hazard=share":                                 1,
		hazard.MetricSettingEnabled + "|setting=firewall":                           0,
		hazard.MetricSettingEnabled + "|setting=kernel_driver_restart_notification": 1,
	}
	for _, c := range []string{"dbserver", "autopcc", "settings"} {
		g[hazard.MetricCollectorSuccess+"|collector="+c] = 1
	}
	return &fakeScrape{gauges: g}
}

// recordedWindow records f over a whole idle window ending now.
func recordedWindow(f *fakeScrape) *Recorder {
	rec := NewRecorder(f.observe, time.Minute, KeepFor(hazard.WindowOpenFor, time.Minute))
	now := time.Now()
	for i := 6; i >= 0; i-- {
		rec.Record(context.Background(), now.Add(-time.Duration(i)*time.Minute))
	}
	return rec
}

func page(t *testing.T, rec *Recorder) string {
	t.Helper()
	w := httptest.NewRecorder()
	rec.PageHandler(slog.New(slog.DiscardHandler), PageOptions{MetricsPath: "/metrics", RunbooksURL: "/runbooks", Version: "1.2.3"}).
		ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func rowState(body, hazardName string) string {
	m := regexp.MustCompile(`data-hazard="` + hazardName + `" data-state="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestPageSafeWithWaiverAndAgentsNotMonitored(t *testing.T) {
	f := healthy()
	f.gauges[hazard.MetricHazardWaived+"|hazard=share"] = 1
	body := page(t, recordedWindow(f))
	for _, want := range []string{`data-verdict="safe"`, "SAFE to upgrade", `href="/runbooks"`, "1.2.3"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for h, want := range map[string]string{"dbserver": "clear", "autopcc": "clear", "share": "waived", "firewall_driver": "clear",
		"restart_notification": "clear", "agents": "not monitored"} {
		if got := rowState(body, h); got != want {
			t.Errorf("row %s is %q, want %q", h, got, want)
		}
	}
	if !strings.Contains(body, "agents not monitored") {
		t.Error("the agents row does not say agents are not monitored")
	}
}

// TestPageNeverSafeOnAFailingCollector, and every value from outside is
// escaped: the collector's error carries markup.
func TestPageNeverSafeOnAFailingCollector(t *testing.T) {
	f := healthy()
	f.gauges[hazard.MetricCollectorSuccess+"|collector=settings"] = 0
	delete(f.gauges, hazard.MetricSettingEnabled+"|setting=firewall")
	delete(f.gauges, hazard.MetricSettingEnabled+"|setting=kernel_driver_restart_notification")
	f.errs = map[string]error{"settings": errors.New(`reading C:\PCCSRV\Ofcscan.ini: <script>alert(1)</script>`)}
	body := page(t, recordedWindow(f))
	if !strings.Contains(body, `data-verdict="unknown"`) || strings.Contains(body, "SAFE to upgrade") {
		t.Fatal("the page does not say it could not tell with a failing collector")
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Error("the collector's error is not escaped")
	}
	if rowState(body, "firewall_driver") != StateUnknown || !strings.Contains(body, `Ofcscan.ini`) {
		t.Errorf("firewall_driver row %q, or the error is not shown", rowState(body, "firewall_driver"))
	}
}

func TestJSONMatchesPage(t *testing.T) {
	rec := recordedWindow(healthy())
	w := httptest.NewRecorder()
	rec.JSONHandler(slog.New(slog.DiscardHandler)).ServeHTTP(w, httptest.NewRequest("GET", PathJSON, nil))
	var rep Report
	if err := json.NewDecoder(w.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Safe || rep.ExitCode != 0 || rep.Outcome != OutcomeSafe || len(rep.Rows) != len(hazard.Table) {
		t.Fatalf("JSON report %+v", rep)
	}
}

// TestNewHazardReachesPageAndCheck: a hazard added only to a copy of the
// table gets its row in the checklist, judged from its own metric.
func TestNewHazardReachesPageAndCheck(t *testing.T) {
	fake := hazard.Hazard{
		Name: "update_agent_busy", Kind: hazard.KindZero, Title: "No update agent is deploying",
		Collectors: []string{"updateagent"}, Metrics: []string{"officescan_update_agent_deployments"}, Waivable: true,
		Reasons: []hazard.Reason{hazard.ReasonCollectorOff, hazard.ReasonCollectorFailed, hazard.ReasonInputMissing,
			{Name: "update_agent_deploying", Summary: "an update agent deploys", Action: "Wait for the deployment."}},
	}
	table := append(append([]hazard.Hazard(nil), hazard.Table...), fake)
	f := healthy()
	f.gauges[hazard.MetricCollectorSuccess+"|collector=updateagent"] = 1
	f.gauges["officescan_update_agent_deployments"] = 2
	rec := recordedWindow(f)
	o := rec.Options()
	o.Hazards = table
	rep, err := Judge(rec.History(), time.Now(), o, Target, rec.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := WriteChecklist(&out, rep); err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 1 || !strings.Contains(out.String(), "blocked        update_agent_busy") || !strings.Contains(out.String(), "Wait for the deployment.") {
		t.Fatalf("exit %d; the new hazard's row is missing or not blocked:\n%s", rep.ExitCode, out.String())
	}
}
