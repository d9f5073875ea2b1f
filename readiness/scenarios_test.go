package readiness

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts/scenario"
	"github.com/officescan-exporter/officescan_exporter/verdict"
)

// epoch is where scenario time 0 lies.
var epoch = time.Unix(1_700_000_000, 0)

// scenarioHistory is a scenario's series as an exporter would record them:
// the scenario's default server becomes this exporter's own target.
func scenarioHistory(t *testing.T, sc scenario.Scenario, instance string) verdict.History {
	t.Helper()
	series, err := sc.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var h verdict.History
	for _, s := range series {
		labels := map[string]string{}
		for k, v := range s.Labels {
			labels[k] = v
		}
		if labels["job"] == scenario.Job && labels["instance"] == instance {
			for k, v := range Target {
				labels[k] = v
			}
		}
		vs := verdict.Series{Metric: s.Metric, Labels: labels}
		for _, p := range s.Points {
			vs.Samples = append(vs.Samples, verdict.Sample{T: epoch.Add(p.At), V: p.Value, Stale: p.Stale})
		}
		h.Series = append(h.Series, vs)
	}
	return h
}

// TestScenariosThroughCheck runs every expectation of alerts/scenarios.yaml
// through `check` itself: a running exporter (an HTTP server) serves the
// scenario's history as it would serve its own, and check must give the
// verdict, the blockers and a fitting exit code the rules give in promtool.
func TestScenariosThroughCheck(t *testing.T) {
	scenarios, err := scenario.Load("../alerts/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, sc := range scenarios {
		for _, e := range sc.Expect {
			h := scenarioHistory(t, sc, e.Target())
			at := epoch.Add(e.Time())
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != PathHistory {
					http.NotFound(w, r)
					return
				}
				_ = json.NewEncoder(w).Encode(EncodeHistory(h, at, scenario.Interval, 0, Context{}))
			}))
			rep, err := RunCheck(context.Background(), CheckOptions{ExporterURL: srv.URL})
			srv.Close()
			if err != nil {
				t.Fatalf("%s at %s: %v", sc.Name, e.At, err)
			}
			name := sc.Name + " at " + e.At + " for " + e.Target()
			if rep.Safe != (e.Safe == 1) {
				t.Errorf("%s: check says safe=%v, want %d: %+v", name, rep.Safe, e.Safe, rep.Rows)
			}
			switch {
			case rep.Safe && rep.ExitCode != 0, !rep.Safe && rep.ExitCode == 0:
				t.Errorf("%s: exit code %d with safe=%v", name, rep.ExitCode, rep.Safe)
			}
			if e.Blockers != nil {
				var want, got []string
				for _, b := range e.Blockers {
					want = append(want, BlockerString(verdict.Blocker(b)))
				}
				for _, row := range rep.Rows {
					got = append(got, row.Reasons...)
				}
				sort.Strings(want)
				sort.Strings(got)
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("%s: check names blockers %v, want %v", name, got, want)
				}
			}
			if e.WindowOpen != nil && *e.WindowOpen != (rep.SafeForSeconds >= rep.WindowOpenForSeconds) {
				t.Errorf("%s: safe for %gs, want the window open=%v", name, rep.SafeForSeconds, *e.WindowOpen)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d expectations checked", checked)
	}
}
