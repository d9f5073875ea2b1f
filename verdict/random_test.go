//go:build !windows

package verdict

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts/scenario"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// Random histories find the cases nobody wrote down: a healthy server whose
// series are perturbed (missed scrapes, staleness markers, NaN, resets,
// values at and around each threshold, waivers, agents of this server, of
// another, of none), each compared minute by minute with promtool.
//
//	VERDICT_RANDOM_CASES=300 VERDICT_RANDOM_SEED=7 go test -run TestRandomHistoriesAgainstPromtool ./verdict

const randomMinutes = 34

func TestRandomHistoriesAgainstPromtool(t *testing.T) {
	if testing.Short() {
		t.Skip("runs promtool")
	}
	n, seed := 16, int64(1)
	if v, err := strconv.Atoi(os.Getenv("VERDICT_RANDOM_CASES")); err == nil {
		n = v
	}
	if v, err := strconv.ParseInt(os.Getenv("VERDICT_RANDOM_SEED"), 10, 64); err == nil {
		seed = v
	}
	comparePromtool(t, randomCases(seed, n), Options{})
}

// TestRandomHistoriesOtherSettingsAgainstPromtool: the rules generated for
// another site (a tolerance of waiting agents, an agent job, a slower
// scrape) against the evaluator given the same settings.
func TestRandomHistoriesOtherSettingsAgainstPromtool(t *testing.T) {
	if testing.Short() {
		t.Skip("runs promtool")
	}
	n, seed := 8, int64(101)
	if v, err := strconv.Atoi(os.Getenv("VERDICT_RANDOM_CASES")); err == nil {
		n = v
	}
	o := Options{AgentTolerance: 1, AgentToleranceRatio: 0.3, AgentSelector: map[string]string{"job": "officescan_agents"},
		ScrapeInterval: 2 * time.Minute}
	comparePromtool(t, randomCases(seed, n), o,
		"-agent-tolerance=1", "-agent-tolerance-ratio=0.3", `-agent-selector=job="officescan_agents"`, "-scrape-interval=2m")
}

func randomCases(seed int64, n int) []promCase {
	var cases []promCase
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewSource(seed*1_000_003 + int64(i)))
		cases = append(cases, promCase{name: fmt.Sprintf("random_%d_%d", seed, i), series: randomHistory(r), end: randomMinutes + 6})
	}
	return cases
}

// gen builds one random history.
type gen struct {
	r      *rand.Rand
	series []scenario.Series
	// gaps are minutes every series of a server misses (Prometheus missed
	// the scrape).
	gaps map[string]map[int]bool
}

func randomHistory(r *rand.Rand) []scenario.Series {
	g := &gen{r: r, gaps: map[string]map[int]bool{}}
	servers := []string{"srv1:9745"}
	if r.Intn(4) == 0 {
		servers = append(servers, "srv2:9745")
	}
	for _, inst := range servers {
		g.server(inst)
	}
	g.agents(servers)
	return g.series
}

func (g *gen) p(prob float64) bool { return g.r.Float64() < prob }

// add writes a series whose value at minute i is f(i); ok(i) false skips it.
func (g *gen) add(metric string, labels map[string]string, f func(i int) (float64, bool)) {
	s := scenario.Series{Metric: metric, Labels: labels}
	for i := 0; i <= randomMinutes; i++ {
		if v, ok := f(i); ok {
			s.Points = append(s.Points, scenario.Point{At: time.Duration(i) * scenario.Interval, Value: v})
		}
	}
	// Now and then the series ends with a staleness marker and comes back.
	if g.p(0.08) && len(s.Points) > 2 {
		k := 1 + g.r.Intn(len(s.Points)-1)
		s.Points[k] = scenario.Point{At: s.Points[k].At, Stale: true}
	}
	g.series = append(g.series, s)
}

// perturb returns a value function: base most of the time, then for a
// random burst one of alts, a NaN or no sample.
func (g *gen) perturb(base float64, alts ...float64) func(i int) (float64, bool) {
	if !g.p(0.3) {
		return func(int) (float64, bool) { return base, true }
	}
	from := g.r.Intn(randomMinutes)
	to := from + 1 + g.r.Intn(8)
	if g.p(0.15) {
		from, to = 0, randomMinutes+1 // the whole history
	}
	alt := math.NaN()
	missing := g.p(0.25)
	if len(alts) > 0 && g.p(0.8) {
		alt = alts[g.r.Intn(len(alts))]
	}
	return func(i int) (float64, bool) {
		if i >= from && i < to {
			return alt, !missing
		}
		return base, true
	}
}

func (g *gen) server(inst string) {
	target := func(extra ...string) map[string]string {
		l := map[string]string{"job": hazard.DefaultJob, "instance": inst}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	gaps := map[int]bool{}
	if g.p(0.3) {
		from := g.r.Intn(randomMinutes)
		for i := from; i < from+1+g.r.Intn(4); i++ {
			gaps[i] = true
		}
	}
	g.gaps[inst] = gaps
	// Every series of the server skips the server's missed scrapes.
	scraped := func(f func(int) (float64, bool)) func(int) (float64, bool) {
		return func(i int) (float64, bool) {
			if gaps[i] {
				return 0, false
			}
			return f(i)
		}
	}
	upOnlyGap := map[int]bool{}
	if g.p(0.1) {
		upOnlyGap[g.r.Intn(randomMinutes)] = true
	}
	up := g.perturb(1, 0)
	g.add(hazard.MetricUp, target(), scraped(func(i int) (float64, bool) {
		if upOnlyGap[i] {
			return 0, false
		}
		return up(i)
	}))
	// Now and then an exporter in agent mode scraped in the server job.
	agentMode := g.p(0.05)
	if agentMode {
		g.add(hazard.MetricAgentRebootPending, target(), scraped(g.perturb(0, 1)))
	}
	for _, c := range []string{"dbserver", "autopcc", "share", "settings"} {
		if agentMode || g.p(0.05) {
			continue // the collector is off
		}
		g.add(hazard.MetricCollectorSuccess, target("collector", c), scraped(g.perturb(1, 0)))
	}
	if g.p(0.15) {
		g.add(hazard.MetricCollectorSuccess, target("collector", "serverinfo"), scraped(g.perturb(1, 0)))
	}
	if !g.p(0.05) {
		g.add(hazard.MetricDBProcesses, target(), scraped(g.perturb(1, 0, 2)))
	}
	g.counters(target, scraped)
	ratioFrom := 0
	if g.p(0.2) {
		ratioFrom = g.r.Intn(6) // absent until the first sampling window
	}
	ratio := g.perturb(0.001, 0.005, 0.0049, 0.02, 0)
	g.add(hazard.MetricDBUtilization, target(), scraped(func(i int) (float64, bool) {
		if i < ratioFrom {
			return 0, false
		}
		return ratio(i)
	}))
	cpus := float64(1 + g.r.Intn(4))
	if !g.p(0.05) {
		g.add(hazard.MetricLogicalCPUs, target(), scraped(g.perturb(cpus, 0, 1)))
	}
	g.add(hazard.MetricAutoPccProcesses, target(), scraped(g.perturb(0, 1, 2)))
	if !g.p(0.1) {
		g.add(hazard.MetricShareOpenFiles, target(), scraped(g.perturb(0, 1, 3)))
	}
	for _, s := range hazard.SettingNames() {
		if g.p(0.08) {
			continue // unknown: no series
		}
		base := 1.0
		if s == hazard.SettingFirewall && g.p(0.3) {
			base = 0
		}
		g.add(hazard.MetricSettingEnabled, target("setting", s), scraped(g.perturb(base, 0, 1, 2)))
	}
	for _, h := range hazard.WaivableNames() {
		if g.p(0.07) {
			g.add(hazard.MetricHazardWaived, target("hazard", h, "reason", "random"), scraped(g.perturb(1, 0)))
		}
	}
	if g.p(0.5) {
		g.add(hazard.MetricServerAddressInfo, target("address", inst[:4]), scraped(g.perturb(1)))
	}
}

// counters writes the CPU counter: one or two mode series, rising at a
// random pace (some at the budget's edge), with resets and jumps.
func (g *gen) counters(target func(...string) map[string]string, scraped func(func(int) (float64, bool)) func(int) (float64, bool)) {
	if g.p(0.05) {
		return
	}
	modes := [][]string{{}}
	if g.p(0.5) {
		modes = [][]string{{"mode", "user"}, {"mode", "system"}}
	}
	for _, m := range modes {
		// Per minute; 1.2 a minute is 6 CPU-seconds in 5 minutes, the
		// budget of 4 CPUs.
		rate := []float64{0, 0.05, 0.1, 0.3, 1, 1.2, 2}[g.r.Intn(7)]
		start := float64(g.r.Intn(1000))
		resetAt, jumpAt := -1, -1
		if g.p(0.2) {
			resetAt = 1 + g.r.Intn(randomMinutes)
		}
		if g.p(0.2) {
			jumpAt = 1 + g.r.Intn(randomMinutes)
		}
		g.add(hazard.MetricDBCPUSeconds, target(m...), scraped(func(i int) (float64, bool) {
			v := start + rate*float64(i)
			if jumpAt >= 0 && i >= jumpAt {
				v += 10
			}
			if resetAt >= 0 && i >= resetAt {
				v -= start + rate*float64(resetAt)
			}
			return v, true
		}))
	}
}

// agents writes 0-3 agents: waiting or not (or NaN), reporting to a server
// target's address, to another name, or with no info.
func (g *gen) agents(servers []string) {
	n := g.r.Intn(4)
	for k := 0; k < n; k++ {
		l := map[string]string{"job": "officescan_agents", "instance": fmt.Sprintf("pc%d:9745", k)}
		g.add(hazard.MetricAgentRebootPending, l, g.perturb(0, 1))
		if g.p(0.8) {
			server := []string{"srv1", "srv2", "elsewhere"}[g.r.Intn(3)]
			info := copyLabels(l)
			info["server"], info["version"] = server, "11.0"
			g.add(hazard.MetricAgentInfo, info, g.perturb(1))
		}
	}
}
