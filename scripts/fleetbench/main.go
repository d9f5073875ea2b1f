// Command fleetbench measures the rules and the dashboard at fleet scale
// with a real Prometheus: SERVERS OfficeScan servers, each an exporter
// target, and AGENTS agents (officescan_agent_reboot_pending and
// officescan_agent_info each), all simulated by this one process, with hours
// of history backfilled by `promtool tsdb create-blocks-from openmetrics`.
//
// It prints Markdown: every rule group's evaluation time
// (prometheus_rule_group_last_duration_seconds), the slowest rules, every
// dashboard query's time through the HTTP API (instant, as Grafana runs the
// panel's query, and over a 6-hour range at the dashboard's step), and
// Prometheus' memory. It checks the verdicts against the simulated fleet.
//
//	go run ./scripts/fleetbench -servers 1000 -agents 100000
//	bash scripts/fleet-bench.sh 1000 100000     # the same, from the repository root
//
// docs/scaling.md has the method and the results.
package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/internal/tooltest"
)

// Config is one run.
type Config struct {
	Servers, Agents int
	// History of the servers' series and of the agents', backfilled.
	History, AgentHistory time.Duration
	// HourlyWeeks of hourly shares backfilled, for the heatmaps.
	HourlyWeeks int
	// Scrape intervals and the rules' evaluation interval.
	Scrape, AgentScrape, Eval time.Duration
	// Evals is how many evaluations of each group are measured once every
	// target has been scraped and Settle has passed since the backfill's
	// end, so that instant queries (5 minutes back) no longer read the
	// backfilled blocks: as in a Prometheus that has run for a while, they
	// read only its head.
	Evals  int
	Settle time.Duration
	// Range and Step of the dashboard's range queries.
	Range, Step time.Duration
	// Repeat each query, keeping the median.
	Repeat int
	// The tools and the dashboard.
	Prometheus, Promtool, Dashboard string
	// Extra PromQL to time as instant queries (experiments).
	Extra []string
	// Dir holds everything; Keep leaves it.
	Dir  string
	Keep bool
	Out  io.Writer
	Log  io.Writer
}

// findTool is where scripts/deps.sh installs the tool, as the tests find
// it; the bare name (looked up when run) if it is nowhere.
func findTool(name string) string {
	if p, err := tooltest.Path(name); err == nil {
		return p
	}
	return name
}

func main() {
	c := Config{Out: os.Stdout, Log: os.Stderr}
	flag.IntVar(&c.Servers, "servers", 1000, "OfficeScan servers (exporter targets)")
	flag.IntVar(&c.Agents, "agents", 100000, "agents, each with officescan_agent_reboot_pending and officescan_agent_info")
	flag.DurationVar(&c.History, "history", 6*time.Hour, "history of the servers' series to backfill (every minute)")
	flag.DurationVar(&c.AgentHistory, "agent-history", 2*time.Hour, "history of the agents' series to backfill (every 2 minutes)")
	flag.IntVar(&c.HourlyWeeks, "hourly-weeks", 4, "weeks of hourly shares to backfill for the heatmaps")
	flag.DurationVar(&c.Scrape, "scrape", 30*time.Second, "scrape interval of the servers")
	flag.DurationVar(&c.AgentScrape, "agent-scrape", time.Minute, "scrape interval of the agents")
	flag.DurationVar(&c.Eval, "eval", 30*time.Second, "evaluation interval of the rules (both groups)")
	flag.IntVar(&c.Evals, "evals", 3, "evaluations of each rule group to measure")
	flag.DurationVar(&c.Settle, "settle", 6*time.Minute, "time from the backfill's end before measuring: instant queries then read the head only, not the backfilled blocks")
	flag.DurationVar(&c.Range, "range", 6*time.Hour, "time range of the dashboard's range queries")
	flag.DurationVar(&c.Step, "step", 30*time.Second, "step of the range queries (Grafana's for 6h on a ~1,000 px panel with a 30s scrape interval)")
	flag.IntVar(&c.Repeat, "repeat", 3, "runs of each query (the median is shown)")
	flag.StringVar(&c.Prometheus, "prometheus", findTool("prometheus"), "Prometheus 3 binary")
	flag.StringVar(&c.Promtool, "promtool", findTool("promtool"), "its promtool")
	flag.StringVar(&c.Dashboard, "dashboard", "grafana/officescan-upgrade.json", "the dashboard whose queries are timed")
	flag.StringVar(&c.Dir, "dir", "", "working folder (default: a new temporary one)")
	flag.BoolVar(&c.Keep, "keep", false, "keep the working folder (TSDB, configs, logs)")
	flag.Func("query", "an extra PromQL expression to time as an instant query (repeatable)", func(q string) error {
		c.Extra = append(c.Extra, q)
		return nil
	})
	smoke := flag.Bool("smoke", false, "a quick run for CI: 5 s intervals, 1 h of history, 1 week of hourly shares, 2 evaluations, one run per query")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "fleetbench: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if *smoke {
		c.History, c.AgentHistory, c.HourlyWeeks = time.Hour, 30*time.Minute, 1
		c.Scrape, c.AgentScrape, c.Eval, c.Evals, c.Repeat, c.Settle = 5*time.Second, 5*time.Second, 5*time.Second, 2, 1, 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

func (c Config) logf(format string, args ...any) {
	fmt.Fprintf(c.Log, "fleetbench: "+format+"\n", args...)
}

func run(ctx context.Context, c Config) error {
	if c.Servers < 1 || c.Agents < 0 {
		return fmt.Errorf("want at least one server and no negative number of agents")
	}
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "fleetbench-")
		if err != nil {
			return err
		}
		c.Dir = dir
	}
	if !c.Keep {
		defer os.RemoveAll(c.Dir)
	} else {
		defer c.logf("kept %s", c.Dir)
	}
	data := filepath.Join(c.Dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	start := time.Now()
	f := NewFleet(c.Servers, c.Agents, start.Add(-c.History-time.Hour))
	r := &Report{Config: c, Fleet: f, Start: start}
	r.Version = prometheusVersion(c.Prometheus)
	r.LoadStart = loadAverage()

	// History, backfilled before Prometheus starts.
	b := Backfill{End: start, Servers: c.History, Agents: c.AgentHistory, Step: time.Minute, AgentStep: 2 * time.Minute, HourlyWeeks: c.HourlyWeeks}
	t := time.Now()
	n, err := writeFile(filepath.Join(c.Dir, "history.om"), func(w io.Writer) (int, error) { return f.WriteHistory(w, b) })
	if err != nil {
		return err
	}
	m, err := writeFile(filepath.Join(c.Dir, "hourly.om"), func(w io.Writer) (int, error) { return f.WriteHourly(w, b) })
	if err != nil {
		return err
	}
	r.BackfillSamples = n + m
	c.logf("wrote %d samples of history in %s", n+m, time.Since(t).Round(time.Second))
	t = time.Now()
	for _, args := range [][]string{
		{"tsdb", "create-blocks-from", "openmetrics", "--quiet", filepath.Join(c.Dir, "history.om"), data},
		// Four weeks in blocks of a week, not 336 blocks of 2 hours.
		{"tsdb", "create-blocks-from", "--max-block-duration=162h", "openmetrics", "--quiet", filepath.Join(c.Dir, "hourly.om"), data},
	} {
		if out, err := exec.CommandContext(ctx, c.Promtool, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	r.BackfillTime = time.Since(t)
	c.logf("promtool made the blocks in %s", r.BackfillTime.Round(time.Second))
	os.Remove(filepath.Join(c.Dir, "history.om"))
	os.Remove(filepath.Join(c.Dir, "hourly.om"))

	// The simulated targets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	// The rules as shipped, the history group run as often as the verdict
	// so that its cost is measured too (its expression is the shipped one).
	rc := alerts.DefaultConfig()
	rc.HistoryInterval = c.Eval
	rc.Args = " (fleetbench: history group every " + alerts.Duration(c.Eval) + ")"
	rules, err := alerts.Render(rc)
	if err != nil {
		return err
	}
	r.Rules = rules
	rulesPath := filepath.Join(c.Dir, "officescan.rules.yml")
	if err := os.WriteFile(rulesPath, rules, 0o644); err != nil {
		return err
	}
	cfgPath := filepath.Join(c.Dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(prometheusConfig(c, f, ln.Addr().String(), rulesPath)), 0o644); err != nil {
		return err
	}
	p, err := startPrometheus(ctx, c, cfgPath, data)
	if err != nil {
		return err
	}
	defer p.stop()
	r.RulesFile = rulesPath

	if err := r.measure(ctx, p); err != nil {
		return err
	}
	r.Total = time.Since(start)
	r.LoadEnd = loadAverage()
	r.Write(c.Out)
	for _, ch := range r.Checks {
		if ch.Got != ch.Want {
			return fmt.Errorf("the rules' %s (%g) differ from the simulated fleet's (%g)", ch.What, ch.Got, ch.Want)
		}
	}
	return nil
}

// prometheusVersion names the binary's version: its --version line, or the
// Prometheus module it was built from (a `go install` build stamps no
// version of its own).
func prometheusVersion(bin string) string {
	if info, err := buildinfo.ReadFile(bin); err == nil {
		if info.Main.Path == "github.com/prometheus/prometheus" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			return "Prometheus built from github.com/prometheus/prometheus " + info.Main.Version
		}
	}
	out, _ := exec.Command(bin, "--version").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	return line
}

// loadAverage is the machine's 1-minute load average (Linux), or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func writeFile(path string, write func(io.Writer) (int, error)) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	n, err := write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// Handler serves /metrics?target=<server instance> and /agents?shard=<k>.
func (f *Fleet) Handler() http.Handler {
	index := map[string]int{}
	for i := 0; i < f.Servers; i++ {
		index[f.Instance(i)] = i
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		i, ok := index[r.URL.Query().Get("target")]
		if !ok {
			http.Error(w, "unknown target", http.StatusNotFound)
			return
		}
		if f.State(i) == Down {
			http.Error(w, "exporter down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		f.WriteServer(w, i, time.Now())
	})
	mux.HandleFunc("/agents", func(w http.ResponseWriter, r *http.Request) {
		k, err := strconv.Atoi(r.URL.Query().Get("shard"))
		if err != nil || k < 0 || k >= f.Shards() {
			http.Error(w, "unknown shard", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		f.WriteShard(w, k)
	})
	return mux
}

// prometheusConfig scrapes every server as its own target through the
// simulator (the blackbox exporter's pattern: the target's name becomes a
// parameter and the instance label), and the agents in shards whose series
// keep their own instance (honor_labels).
func prometheusConfig(c Config, f *Fleet, sim, rules string) string {
	var servers, shards []string
	for i := 0; i < f.Servers; i++ {
		servers = append(servers, strconv.Quote(f.Instance(i)))
	}
	for k := 0; k < f.Shards(); k++ {
		shards = append(shards, strconv.Quote(fmt.Sprintf("shard-%d", k)))
	}
	agents := ""
	if len(shards) > 0 {
		agents = fmt.Sprintf(`  - job_name: officescan_agents
    honor_labels: true
    scrape_interval: %s
    scrape_timeout: %s
    metrics_path: /agents
    static_configs:
      - targets: [%s]
    relabel_configs:
      - source_labels: [__address__]
        regex: 'shard-(.*)'
        target_label: __param_shard
      - source_labels: [__address__]
        target_label: instance
      - target_label: __address__
        replacement: %q
`, alerts.Duration(c.AgentScrape), alerts.Duration(min(c.AgentScrape, 20*time.Second)), strings.Join(shards, ", "), sim)
	}
	return fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
  evaluation_interval: %s
rule_files: [%q]
scrape_configs:
  - job_name: officescan
    static_configs:
      - targets: [%s]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__address__]
        target_label: instance
      - target_label: __address__
        replacement: %q
%s`, alerts.Duration(c.Scrape), alerts.Duration(min(c.Scrape, 10*time.Second)), alerts.Duration(c.Eval), rules,
		strings.Join(servers, ", "), sim, agents)
}

type prometheus struct {
	base string
	cmd  *exec.Cmd
	done chan struct{}
	c    Config
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startPrometheus(ctx context.Context, c Config, cfg, data string) (*prometheus, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(c.Dir, "prometheus.log"))
	if err != nil {
		return nil, err
	}
	retention := time.Duration(c.HourlyWeeks+2) * 7 * 24 * time.Hour
	cmd := exec.Command(c.Prometheus, "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time="+alerts.Duration(retention),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &prometheus{base: "http://" + addr, cmd: cmd, done: make(chan struct{}), c: c}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		resp, err := http.Get(p.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			log, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("prometheus exited: %s", log)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, errors.New("prometheus not ready after 5 minutes")
		}
	}
}

// stop ends the Prometheus this run started, by its process.
func (p *prometheus) stop() {
	if p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}
