package readiness

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts/scenario"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// scenarioServer serves a scenario's history at `at` as a running exporter.
func scenarioServer(t *testing.T, name, at string) *httptest.Server {
	t.Helper()
	scenarios, err := scenario.Load("../alerts/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		if sc.Name != name {
			continue
		}
		h := scenarioHistory(t, sc, scenario.Instance)
		d, _ := time.ParseDuration(at)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(EncodeHistory(h, epoch.Add(d), scenario.Interval, 0, Context{}))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	t.Fatalf("no scenario %s", name)
	return nil
}

func TestCheckWithoutExporterCannotTell(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	var out bytes.Buffer
	rep, err := RunCheck(context.Background(), CheckOptions{ExporterURL: url, Settle: hazard.WindowOpenFor, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 2 || rep.Safe {
		t.Fatalf("exit %d safe %v without an exporter, want 2", rep.ExitCode, rep.Safe)
	}
	for _, want := range []string{"COULD NOT TELL", url, "--wait=21m", "never says safe on less than one whole measured idle window"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCheckRefusesWhatIsNoHistory(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"time":"x"}`) }))
	defer srv.Close()
	rep, err := RunCheck(context.Background(), CheckOptions{ExporterURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 2 || !strings.Contains(rep.Rows[0].Evidence, "reading the history") {
		t.Fatalf("exit %d, %+v", rep.ExitCode, rep.Rows)
	}
}

func TestCheckOnceSafeBlockedAndJSON(t *testing.T) {
	for _, tc := range []struct {
		scenario, at string
		exit         int
		words        []string
	}{
		{"all_clear", "25m", 0, []string{"SAFE to upgrade (exit code 0)", "Safe at every evaluation for 15m", "clear          dbserver"}},
		{"busy_between_samples", "10m", 1, []string{"BLOCKED (exit code 1)", "blocked        dbserver", "To do: Wait until the database is idle"}},
		{"every_collector_off", "10m", 2, []string{"COULD NOT TELL (exit code 2)", "the dbserver collector is off"}},
		{"dbserver_waived_collector_off", "10m", 0, []string{"waived         dbserver", "waived: database is SQL Server"}},
		{"all_clear", "10m", 0, []string{"not monitored  agents"}},
	} {
		srv := scenarioServer(t, tc.scenario, tc.at)
		var out bytes.Buffer
		rep, err := RunCheck(context.Background(), CheckOptions{ExporterURL: srv.URL, Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		if rep.ExitCode != tc.exit {
			t.Errorf("%s at %s: exit %d, want %d\n%s", tc.scenario, tc.at, rep.ExitCode, tc.exit, out.String())
		}
		for _, w := range tc.words {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s at %s: output lacks %q:\n%s", tc.scenario, tc.at, w, out.String())
			}
		}
		out.Reset()
		if _, err := RunCheck(context.Background(), CheckOptions{ExporterURL: srv.URL, Out: &out, JSON: true}); err != nil {
			t.Fatal(err)
		}
		var doc Report
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.ExitCode != tc.exit || len(doc.Rows) == 0 {
			t.Errorf("%s: JSON %v exit %d rows %d:\n%s", tc.scenario, err, doc.ExitCode, len(doc.Rows), out.String())
		}
	}
}

// TestCheckWaitSettles: --wait returns 0 as soon as the history shows the
// verdict safe for --settle, and gives up with 1 when it never is.
func TestCheckWaitSettles(t *testing.T) {
	var progress bytes.Buffer
	rep, err := RunCheck(context.Background(), CheckOptions{ExporterURL: scenarioServer(t, "all_clear", "12m").URL,
		Wait: time.Second, Settle: 5 * time.Minute, Interval: 10 * time.Millisecond, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 0 || !strings.Contains(progress.String(), "safe at every evaluation for 5m: done") {
		t.Fatalf("exit %d, progress %q", rep.ExitCode, progress.String())
	}
	// Safe at 12m but only since 5m: not for 15 minutes.
	progress.Reset()
	rep, err = RunCheck(context.Background(), CheckOptions{ExporterURL: scenarioServer(t, "all_clear", "12m").URL,
		Wait: 50 * time.Millisecond, Settle: 15 * time.Minute, Interval: 10 * time.Millisecond, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 1 || rep.Safe || !strings.Contains(progress.String(), "safe for only 7m of the 15m settle time") {
		t.Fatalf("exit %d safe %v, progress %q", rep.ExitCode, rep.Safe, progress.String())
	}
}

// TestCheckMeasuresHereWhenNoExporter: with time for a whole window, check
// records this machine itself; interrupted before that, it never says safe.
func TestCheckMeasuresHereWhenNoExporter(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	f := &fakeScrape{gauges: map[string]float64{hazard.MetricAutoPccProcesses: 0}}
	started := false
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var progress bytes.Buffer
	rep, err := RunCheck(ctx, CheckOptions{
		ExporterURL: url, Wait: MeasureFor(time.Minute), Settle: time.Minute, Interval: time.Second, Progress: &progress,
		Local: func(ctx context.Context, interval, keep time.Duration) *Recorder {
			started = true
			r := NewRecorder(f.observe, interval, keep)
			go r.Run(ctx)
			return r
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !started || !strings.Contains(progress.String(), "measuring here instead") {
		t.Fatalf("check did not measure here: %q", progress.String())
	}
	if rep.Safe || rep.ExitCode == 0 || !strings.Contains(progress.String(), "interrupted") {
		t.Fatalf("exit %d safe %v after 1.5 s of measuring; progress %q", rep.ExitCode, rep.Safe, progress.String())
	}
}
