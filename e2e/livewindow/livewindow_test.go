//go:build linux

// Package livewindow proves, live, that the rules measure the database idle
// from its CPU counter over a whole window, not from samples of its
// utilization: the real exporter, a real process named DbServer.exe whose
// bursts of work the test times, and real Prometheus servers of both lines
// (Debian's 2.42 and Prometheus 3, e2eutil.StackLines) scraping the same
// exporter side by side and evaluating the rules rendered by alerts.Render.
//
// Time is scaled down: a 30 s (or 15 s) idle window instead of 5 minutes,
// scrapes every 3 s (or 1 s). Only alerts.Render's IdleWindow and
// ScrapeInterval change; every expression is the generator's.
//
// DbServer.exe is tools/fakeproc spinning on one core, held stopped with
// SIGSTOP: it is idle while stopped and burns a core while the test lets it
// run (SIGCONT), so the test decides to the millisecond when the database
// works. The exporter averages the utilization gauge over 0.5 s, so a gauge
// read between bursts reads 0 while the counter keeps every CPU-second.
//
// Run with scripts/test.d/20-rules.sh (OSE_STACK_E2E=1, in a private PID
// namespace so that the exporter sees only this test's DbServer.exe). About
// 100 seconds for both tests.
package livewindow

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// ratioWindow is the exporter's utilization window in these tests, and
// sampleInterval its CPU sampling interval.
const (
	ratioWindow    = 500 * time.Millisecond
	sampleInterval = 100 * time.Millisecond
)

// rig is one exporter over a fixture server whose only hazard in play is
// the database, and one Prometheus per line scraping it.
type rig struct {
	exporter string // URL
	target   string
	db       *database
	proms    map[string]*e2eutil.Prometheus
	lines    []string
	window   time.Duration
}

// database is DbServer.exe, stopped unless the test lets it work.
type database struct {
	t   *testing.T
	pid int
}

func (d *database) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := syscall.Kill(d.pid, sig); err != nil {
		d.t.Fatalf("DbServer.exe (pid %d): %v: %v", d.pid, sig, err)
	}
}

// work lets DbServer.exe burn a core for d, then stops it again.
func (d *database) work(dur time.Duration) {
	d.signal(syscall.SIGCONT)
	time.Sleep(dur)
	d.signal(syscall.SIGSTOP)
}

func newRig(t *testing.T, scrape, window time.Duration) *rig {
	t.Helper()
	if os.Getenv("OSE_STACK_E2E") != "1" {
		t.Skip("runs in scripts/test.d/20-rules.sh (OSE_STACK_E2E=1, private PID namespace)")
	}
	lines := e2eutil.StackLines(t)
	// Every hazard but the database is proven clear from the exporter's
	// data, except share: the Linux exporter has no share collector, so the
	// config file waives it, as on a real Linux server.
	srv := fixture.New(t, fixture.AllGood, fixture.Options{Waivers: fixture.WaiveShare()})
	proc := e2eutil.FakeProcess(t, "DbServer.exe", true)
	db := &database{t: t, pid: proc.Process.Pid}
	db.signal(syscall.SIGSTOP)
	exp := e2eutil.StartExporter(t, append(srv.Args(),
		"--collector.dbserver.window="+ratioWindow.String(),
		"--collector.dbserver.interval="+sampleInterval.String(),
		"--collector.dbserver.rediscover=1s")...)
	e2eutil.Eventually(t, 20*time.Second, func() error {
		m := e2eutil.Metrics(t, exp.URL+"/metrics")
		if n, _ := e2eutil.Value(m, "officescan_dbserver_processes"); n != 1 {
			return e2eutil.Errorf("%v DbServer.exe processes, want 1", n)
		}
		if _, ok := e2eutil.Value(m, "officescan_dbserver_cpu_utilization_ratio"); !ok {
			return e2eutil.Errorf("no utilization yet")
		}
		return nil
	})

	rc := alerts.DefaultConfig()
	rc.ScrapeInterval, rc.IdleWindow = scrape, window
	rulesPath := e2eutil.RulesFile(t, rc)
	r := &rig{exporter: exp.URL, target: strings.TrimPrefix(exp.URL, "http://"), db: db, proms: map[string]*e2eutil.Prometheus{},
		lines: e2eutil.Lines(lines), window: window}
	cfg := fmt.Sprintf(`global:
  scrape_interval: %s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: officescan
    static_configs:
      - targets: [%q]
`, alerts.Duration(scrape), rulesPath, r.target)
	for _, line := range r.lines {
		p := e2eutil.NewPrometheus(t, "prometheus "+line, lines[line].Prometheus, cfg)
		p.Start(t)
		r.proms[line] = p
	}
	return r
}

// cpuSeconds reads DbServer.exe's CPU counter from the exporter itself.
func (r *rig) cpuSeconds(t *testing.T) float64 {
	t.Helper()
	m := e2eutil.Metrics(t, r.exporter+"/metrics")
	user, ok1 := e2eutil.Value(m, hazard.MetricDBCPUSeconds, "mode=user")
	system, ok2 := e2eutil.Value(m, hazard.MetricDBCPUSeconds, "mode=system")
	if !ok1 || !ok2 {
		t.Fatalf("the exporter shows no %s", hazard.MetricDBCPUSeconds)
	}
	return user + system
}

// budget is the CPU-seconds DbServer.exe may use over the window and still
// be idle, on this machine.
func (r *rig) budget(t *testing.T, p *e2eutil.Prometheus) float64 {
	t.Helper()
	cpus := p.Query(t, hazard.MetricLogicalCPUs, time.Time{})
	if len(cpus) != 1 {
		t.Fatalf("%s: %v", hazard.MetricLogicalCPUs, cpus)
	}
	return hazard.IdleRatio * r.window.Seconds() * cpus[0].V
}

// used is what the rules compute: DbServer.exe's CPU-seconds over the
// window ending at at.
func (r *rig) used(t *testing.T, p *e2eutil.Prometheus, at time.Time) float64 {
	t.Helper()
	q := fmt.Sprintf("sum(%[1]s) - sum(%[1]s offset %[2]s)", hazard.MetricDBCPUSeconds, alerts.Duration(r.window))
	v := p.Query(t, q, at)
	if len(v) != 1 {
		t.Fatalf("%s at %s: %v", q, at.Format("15:04:05"), v)
	}
	return v[0].V
}

// blockers returns the reasons the verdict is blocked at at, as
// "hazard/reason".
func blockers(t *testing.T, p *e2eutil.Prometheus, at time.Time) []string {
	t.Helper()
	var out []string
	for _, s := range p.Query(t, "officescan:upgrade_blocker", at) {
		out = append(out, s.Metric["hazard"]+"/"+s.Metric["reason"])
	}
	sort.Strings(out)
	return out
}

// evaluations returns every evaluation's own sample of the verdict from
// from to now (a range selector: raw samples, no lookback).
func evaluations(t *testing.T, p *e2eutil.Prometheus, from time.Time) []e2eutil.Sample {
	t.Helper()
	secs := int(time.Since(from).Seconds()) + 2
	var out []e2eutil.Sample
	for _, s := range p.Query(t, fmt.Sprintf("officescan:upgrade_window_safe[%ds]", secs), time.Time{}) {
		if !s.T.Before(from) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T.Before(out[j].T) })
	return out
}

func ms(t time.Time) string { return t.Format("15:04:05.000") }

// TestBurstsBetweenScrapesNeverSafe is the first case, scaled ten
// times down: DbServer.exe works 0.3 s of every 3 s (5 % of this 2-core
// machine, ten times the idle threshold), Prometheus scrapes every 3 s, the
// idle window is 30 s. The bursts are timed to end at least 1 s before
// every scrape of either Prometheus, so the utilization gauge reads 0 at
// every scrape: rules that sampled the gauge would call this database idle.
// The rules' verdict stays 0 at every evaluation of the whole run, on both
// lines, and once a whole window has passed the only blocker is
// dbserver/database_busy, from the counter.
func TestBurstsBetweenScrapesNeverSafe(t *testing.T) {
	const (
		scrape = 3 * time.Second
		burst  = 300 * time.Millisecond
	)
	r := newRig(t, scrape, 30*time.Second)

	// Each Prometheus scrapes at a fixed phase of the 3 s cycle; find them.
	var phases []int64
	for _, line := range r.lines {
		p := r.proms[line]
		var ts []e2eutil.Sample
		e2eutil.Eventually(t, 15*time.Second, func() error {
			if ts = p.Query(t, fmt.Sprintf("timestamp(up{instance=%q})", r.target), time.Time{}); len(ts) != 1 {
				return e2eutil.Errorf("prometheus %s: no scrape yet", line)
			}
			return nil
		})
		phases = append(phases, int64(ts[0].V*1000+0.5)%scrape.Milliseconds())
	}
	// A burst starting at phase b ends at b+300 ms; the gauge then forgets
	// it within the ratio window plus a sampling interval (and a window may
	// span 1.5 intervals more). Every scrape must fall 1.3 s to 2.9 s after
	// a burst's start: after the gauge forgot it, before the next burst.
	lo, hi := (burst + ratioWindow + 2*sampleInterval + 300*time.Millisecond).Milliseconds(), (scrape - 100*time.Millisecond).Milliseconds()
	best, bestSlack := int64(-1), int64(-1)
	for b := int64(0); b < scrape.Milliseconds(); b += 10 {
		slack := int64(1 << 62)
		for _, p := range phases {
			d := ((p-b)%scrape.Milliseconds() + scrape.Milliseconds()) % scrape.Milliseconds()
			slack = min(slack, d-lo, hi-d)
		}
		if slack > bestSlack {
			best, bestSlack = b, slack
		}
	}
	if bestSlack < 0 {
		t.Fatalf("no burst phase keeps clear of the scrapes at phases %v ms", phases)
	}
	t.Logf("scrape phases %v ms of %s; bursts start at phase %d ms (%d ms to spare)", phases, scrape, best, bestSlack)

	// Bursts for a whole window and 15 s more.
	runStart := time.Now()
	period := scrape.Milliseconds()
	next := (time.Now().UnixMilli()/period+1)*period + best
	bursts := 0
	for time.Since(runStart) < r.window+15*time.Second {
		time.Sleep(time.Until(time.UnixMilli(next)))
		r.db.work(burst)
		bursts++
		next += period
	}
	time.Sleep(2 * time.Second) // the last evaluations
	runEnd := time.Now()
	t.Logf("%d bursts of %s from %s to %s", bursts, burst, ms(runStart), ms(runEnd))

	for _, line := range r.lines {
		t.Run("prometheus"+line, func(t *testing.T) {
			p := r.proms[line]
			// Every evaluation's own sample: 0, and one a second (never absent).
			evals := evaluations(t, p, runStart)
			// A loaded machine may skip an evaluation now and then.
			if want := int(runEnd.Sub(runStart).Seconds() * 0.8); len(evals) < want {
				t.Errorf("%d evaluations of the verdict during the %s run, want at least %d", len(evals), runEnd.Sub(runStart).Round(time.Second), want)
			}
			for _, s := range evals {
				if s.V != 0 {
					t.Errorf("verdict %v at %s, want 0 at every evaluation", s.V, ms(s.T))
				}
			}
			// The same through query_range, as a dashboard reads it.
			series := p.QueryRange(t, "officescan:upgrade_window_safe", runStart, runEnd, time.Second)
			if len(series) != 1 {
				t.Fatalf("query_range: %d series, want 1", len(series))
			}
			if n, want := len(series[0].Samples), int(runEnd.Sub(runStart).Seconds()); n < want {
				t.Errorf("query_range: %d points, want %d: the verdict was absent at some step", n, want)
			}
			for _, s := range series[0].Samples {
				if s.V != 0 {
					t.Errorf("query_range: verdict %v at %s, want 0", s.V, ms(s.T))
				}
			}

			// The gauge read 0 at the scrapes: sampled, the database looked idle.
			ratios := p.Query(t, fmt.Sprintf("%s[%ds]", hazard.MetricDBUtilization, int(runEnd.Sub(runStart).Seconds())), runEnd)
			under := 0
			for _, s := range ratios {
				if s.V < hazard.IdleRatio {
					under++
				}
			}
			t.Logf("utilization gauge under %g at %d of %d scrapes", hazard.IdleRatio, under, len(ratios))
			if under == 0 {
				t.Fatalf("the utilization gauge never read under %g: the bursts were not between scrapes, so this run proves nothing about sampling", hazard.IdleRatio)
			}
			sampled := p.Query(t, fmt.Sprintf("max_over_time(%s[%s]) < %g", hazard.MetricDBUtilization, alerts.Duration(r.window), hazard.IdleRatio), runEnd)
			if len(sampled) != 1 {
				t.Errorf("some scrape of the last %s read the gauge at %g or more (%v): the old sampled rules would not have said safe either, so the run is weaker than intended", r.window, hazard.IdleRatio, sampled)
			}

			// The counter saw the work, and only the database blocks.
			used, budget := r.used(t, p, runEnd), r.budget(t, p)
			t.Logf("CPU-seconds over the last %s: %.3f (idle budget %.3f)", r.window, used, budget)
			if used <= budget {
				t.Errorf("the counter shows %.3f CPU-seconds over the window, not over the idle budget %.3f: the bursts did not make the database busy, so this run proves nothing", used, budget)
			}
			if got := blockers(t, p, runEnd); strings.Join(got, " ") != "dbserver/database_busy" {
				t.Errorf("blockers %v after a whole window, want only dbserver/database_busy", got)
			}
		})
	}
}

// TestPrometheusDownDuringBusySpell is the second case: the database
// is idle and the verdict safe; Prometheus stops (SIGTERM); DbServer.exe
// works (1.5 CPU-seconds, ten times the idle budget) and goes idle again; Prometheus starts again on the same
// storage. Every scrape after the restart reads an idle database, but the
// counter kept the work Prometheus did not see. The verdict is 0 at every
// evaluation from the restart until a whole window after it (until the
// first scrape for want of fresh data, then with the blocker
// dbserver/database_busy), and 1 within a few seconds once a whole window
// of scrapes after the restart exists. Both lines run side by side, stopped
// and started together.
func TestPrometheusDownDuringBusySpell(t *testing.T) {
	const window = 15 * time.Second
	r := newRig(t, time.Second, window)

	for _, line := range r.lines {
		p := r.proms[line]
		e2eutil.Eventually(t, window+30*time.Second, func() error {
			if v := p.Query(t, "officescan:upgrade_window_safe", time.Time{}); len(v) != 1 || v[0].V != 1 {
				return e2eutil.Errorf("prometheus %s: verdict %v (blockers %v), want 1", line, v, blockers(t, p, time.Time{}))
			}
			return nil
		})
	}
	t.Logf("idle database: verdict 1 on lines %v", r.lines)

	for _, line := range r.lines {
		r.proms[line].Stop(t)
	}
	stopped := time.Now()
	// DbServer.exe works until it has used 1.5 CPU-seconds (ten times the
	// window's idle budget on 2 CPUs): about 1.5 s on an idle machine,
	// longer while other work shares the cores.
	before := r.cpuSeconds(t)
	r.db.signal(syscall.SIGCONT)
	for end := time.Now().Add(20 * time.Second); r.cpuSeconds(t)-before < 1.5 && time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond)
	}
	r.db.signal(syscall.SIGSTOP)
	busy := time.Since(stopped)
	time.Sleep(ratioWindow + 3*sampleInterval) // the gauge reads idle again
	spell := r.cpuSeconds(t) - before
	t.Logf("Prometheus stopped at %s; DbServer.exe worked %.1fs and the exporter's counter rose by %.3f CPU-seconds while it was down",
		ms(stopped), busy.Seconds(), spell)
	if spell < 1.5 {
		t.Fatalf("DbServer.exe's counter rose by only %.3f CPU-seconds in a %s busy spell", spell, busy.Round(time.Millisecond))
	}
	restart := map[string]time.Time{}
	for _, line := range r.lines {
		restart[line] = time.Now()
		r.proms[line].Start(t)
	}

	// The first scrape after the restart (target discovery takes a few
	// seconds), then a whole window of scrapes and a little more.
	firstScrape := map[string]time.Time{}
	for _, line := range r.lines {
		p := r.proms[line]
		e2eutil.Eventually(t, 30*time.Second, func() error {
			for _, s := range p.Query(t, fmt.Sprintf("up{instance=%q}[1m]", r.target), time.Time{}) {
				if !s.T.Before(restart[line]) {
					firstScrape[line] = s.T
					return nil
				}
			}
			return e2eutil.Errorf("prometheus %s: no scrape since the restart", line)
		})
	}
	var last time.Time
	for _, ts := range firstScrape {
		if ts.After(last) {
			last = ts
		}
	}
	time.Sleep(time.Until(last.Add(window + 6*time.Second)))

	for _, line := range r.lines {
		t.Run("prometheus"+line, func(t *testing.T) {
			p, from, scraped := r.proms[line], restart[line], firstScrape[line]
			t.Logf("restarted %s, first scrape %s (%.1fs later)", ms(from), ms(scraped), scraped.Sub(from).Seconds())
			// Every evaluation since the restart: 0 until a whole window
			// of scrapes exists, then 1 and staying 1.
			var early []e2eutil.Sample
			var settled time.Time
			zeros := 0
			for _, s := range evaluations(t, p, from) {
				switch {
				case s.V == 1 && s.T.Before(from.Add(window)):
					early = append(early, s)
				case s.V == 1 && settled.IsZero():
					settled = s.T
				case s.V == 0 && settled.IsZero():
					zeros++
				case s.V != 1:
					t.Errorf("verdict %v at %s after it had settled at 1 (%s)", s.V, ms(s.T), ms(settled))
				}
			}
			if len(early) > 0 {
				first, last := early[0].T, early[len(early)-1].T
				own := len(p.Query(t, fmt.Sprintf("officescan:up:fresh[%dms]", last.Sub(from).Milliseconds()+1), last))
				t.Errorf("verdict 1 at %d evaluations less than a whole window (%s) after the restart at %s, from %s to %s (first scrape %s); "+
					"officescan:up:fresh has %d samples of its own from the restart to then, so the verdict read the recorded series of before the stop",
					len(early), window, ms(from), ms(first), ms(last), ms(scraped), own)
			}
			switch {
			case settled.IsZero():
				t.Errorf("the verdict did not turn 1 after the restart (%d evaluations at 0)", zeros)
			case settled.After(scraped.Add(window + 5*time.Second)):
				t.Errorf("verdict first 1 at %s, more than %s after the first scrape since the restart (%s)", ms(settled), window+5*time.Second, ms(scraped))
			default:
				t.Logf("verdict 0 at %d evaluations since the restart, then 1 from %s (%.1fs after the restart)", zeros, ms(settled), settled.Sub(from).Seconds())
			}
			if want := int(scraped.Add(window).Sub(from).Seconds()*0.8) - len(early); zeros < want {
				t.Errorf("%d evaluations at 0 between the restart and the first 1, want at least %d: the verdict was absent", zeros, want)
			}
			// Half a window after the first scrape, the only reason is the
			// CPU the counter kept while Prometheus was down; the gauge
			// reads idle.
			mid := scraped.Add(window / 2)
			if got := blockers(t, p, mid); strings.Join(got, " ") != "dbserver/database_busy" {
				t.Errorf("blockers at %s (half a window after the first scrape) %v, want only dbserver/database_busy", ms(mid), got)
			}
			if ratio := p.Query(t, hazard.MetricDBUtilization, mid); len(ratio) != 1 || ratio[0].V >= hazard.IdleRatio {
				t.Errorf("utilization gauge at %s: %v, want under %g (every scrape after the restart reads idle)", ms(mid), ratio, hazard.IdleRatio)
			}
			used, budget := r.used(t, p, mid), r.budget(t, p)
			t.Logf("at %s the window's CPU-seconds, reaching back before the stop: %.3f (idle budget %.3f)", ms(mid), used, budget)
			if used < 1 {
				t.Errorf("the window at %s holds %.3f CPU-seconds, want the busy spell's (%.3f)", ms(mid), used, spell)
			}
		})
	}
}
