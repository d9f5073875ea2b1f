package verdict

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts/scenario"
)

// The scenarios are the shared truth: the same cases run through promtool
// against the rules (alerts) and through this evaluator. Ours are in
// testdata; the rules' own file is read too once it is in the new format.

// epoch is the scenarios' time 0, promtool's too.
var epoch = time.Unix(0, 0).UTC()

const (
	ownScenarios   = "testdata/scenarios.yaml"
	rulesScenarios = "../alerts/scenarios.yaml"
)

// scenarioFiles returns the scenario files to run: ours, and the rules' when
// it parses (the other engineer is writing it; a file in the old format is
// reported, not failed on).
func scenarioFiles(t *testing.T) map[string][]scenario.Scenario {
	t.Helper()
	out := map[string][]scenario.Scenario{}
	own, err := scenario.Load(ownScenarios)
	if err != nil {
		t.Fatal(err)
	}
	out[ownScenarios] = own
	if theirs, err := scenario.Load(rulesScenarios); err == nil {
		out[rulesScenarios] = theirs
	} else {
		t.Logf("not run: %v", err)
	}
	return out
}

// historyOf turns a scenario's series into a History: point i at i minutes
// from the epoch.
func historyOf(series []scenario.Series) History {
	var h History
	for _, s := range series {
		hs := Series{Metric: s.Metric, Labels: s.Labels}
		for _, p := range s.Points {
			hs.Samples = append(hs.Samples, Sample{T: epoch.Add(p.At), V: p.Value, Stale: p.Stale})
		}
		h.Series = append(h.Series, hs)
	}
	return h
}

func blockerStrings(bs []Blocker) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = scenario.Blocker(b).String()
	}
	sort.Strings(out)
	return out
}

func expectedStrings(bs []scenario.Blocker) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.String()
	}
	sort.Strings(out)
	return out
}

func TestScenarios(t *testing.T) {
	for file, scenarios := range scenarioFiles(t) {
		for _, sc := range scenarios {
			t.Run(strings.TrimSuffix(file, ".yaml")+"/"+sc.Name, func(t *testing.T) {
				series, err := sc.Expand()
				if err != nil {
					t.Fatal(err)
				}
				h := historyOf(series)
				for _, e := range sc.Expect {
					at := epoch.Add(e.Time())
					vs, err := Evaluate(h, at, Options{})
					if err != nil {
						t.Fatal(err)
					}
					var v *TargetVerdict
					for i := range vs {
						if vs[i].Target["instance"] == e.Target() {
							v = &vs[i]
						}
					}
					if v == nil {
						t.Errorf("at %s: no target %s (targets: %d)", e.At, e.Target(), len(vs))
						continue
					}
					if got := boolInt(v.Safe); got != e.Safe {
						t.Errorf("at %s %s: safe %d, want %d; blockers %v", e.At, e.Target(), got, e.Safe, blockerStrings(v.Blockers))
					}
					if e.Blockers != nil {
						got, want := blockerStrings(v.Blockers), expectedStrings(e.Blockers)
						if strings.Join(got, " ") != strings.Join(want, " ") {
							t.Errorf("at %s %s: blockers\n got %v\nwant %v", e.At, e.Target(), got, want)
						}
					}
					if e.WindowOpen != nil {
						open, err := WindowOpen(h, at, Options{}, map[string]string{"instance": e.Target()})
						if err != nil {
							t.Fatal(err)
						}
						if open != *e.WindowOpen {
							t.Errorf("at %s %s: window open %v, want %v", e.At, e.Target(), open, *e.WindowOpen)
						}
					}
				}
			})
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
